"""STS for the simulator's HTTP server (query protocol in, XML out): GetCallerIdentity and AssumeRole.

The app calls GetCallerIdentity to show which account a profile reaches, and botocore's assume-role
provider calls AssumeRole for a profile with ``role_arn``. Who the caller is and what a role demands
belongs to ``identities``; this module only reads the form and writes STS's documents and errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from drs_desktop.simulator.identities import AuthError, Session
from drs_desktop.simulator.protocol import HttpResponse

logger = logging.getLogger(__name__)

STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
#: HTTP status of STS's error codes (the rest are 400).
# ExpiredToken for the request's own credentials is a 403, as STS answers it (the modeled
# ExpiredTokenException, 400, is about a SAML or web-identity token passed as a parameter).
_STATUS = {"AccessDenied": 403, "InvalidClientTokenId": 403, "ExpiredToken": 403, "ValidationError": 400}


def respond(
    form: dict[str, list[str]],
    request_id: str,
    caller_identity: Callable[[], dict[str, str]],
    assume_role: Callable[[dict[str, str]], Session] | None = None,
) -> HttpResponse:
    """The answer to an STS form with an ``Action``. ``caller_identity`` and ``assume_role`` may raise
    ``AuthError`` (an expired session, a refused role), answered as STS's error document."""
    action = form["Action"][0]
    try:
        if action == "GetCallerIdentity":
            return _document(action, _fields(caller_identity(), ("Arn", "UserId", "Account")), request_id)
        if action == "AssumeRole" and assume_role is not None:
            params = {key: values[0] for key, values in form.items() if values}
            return _document(action, _assumed(assume_role(params)), request_id)
    except AuthError as exc:
        return error(request_id, exc.code, exc.message, status=_STATUS.get(exc.code, exc.status))
    except Exception:
        logger.exception("STS %s failed (request %s)", action, request_id)
        return error(request_id, "InternalFailure", "An internal error occurred", status=500, sender=False)
    return error(request_id, "InvalidAction", f"Could not find operation {action} for version 2011-06-15")


def _fields(values: dict[str, str], keys: tuple[str, ...]) -> str:
    return "".join(f"<{key}>{escape(str(values.get(key, '')))}</{key}>" for key in keys)


def _assumed(session: Session) -> str:
    expiration = datetime.fromtimestamp(session.expiration_real, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    credentials = _fields(
        {
            "AccessKeyId": session.access_key,
            "SecretAccessKey": session.secret_key,
            "SessionToken": session.token,
            "Expiration": expiration,
        },
        ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"),
    )
    user = _fields({"AssumedRoleId": session.role_id, "Arn": session.arn}, ("AssumedRoleId", "Arn"))
    return f"<Credentials>{credentials}</Credentials><AssumedRoleUser>{user}</AssumedRoleUser>"


def _document(action: str, result: str, request_id: str) -> HttpResponse:
    xml = (
        f'<{action}Response xmlns="{STS_NAMESPACE}">'
        f"<{action}Result>{result}</{action}Result>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )
    return HttpResponse(200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], xml.encode())


def error(
    request_id: str, code: str, message: str, *, status: int = 400, sender: bool = True
) -> HttpResponse:
    """An STS error document."""
    xml = (
        f'<ErrorResponse xmlns="{STS_NAMESPACE}"><Error>'
        f"<Type>{'Sender' if sender else 'Receiver'}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return HttpResponse(
        status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], xml.encode()
    )
