"""STS GetCallerIdentity for the simulator's HTTP server (query protocol in, XML out).

The app calls it to show which account a profile reaches; nothing else of STS is simulated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from xml.sax.saxutils import escape

from drs_desktop.simulator.protocol import HttpResponse

logger = logging.getLogger(__name__)

STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"


def respond(
    form: dict[str, list[str]], request_id: str, caller_identity: Callable[[], dict[str, str]]
) -> HttpResponse:
    """The answer to an STS form with an ``Action``; ``caller_identity`` is the backend's."""
    action = form["Action"][0]
    if action != "GetCallerIdentity":
        return error(request_id, "InvalidAction", f"Could not find operation {action} for version 2011-06-15")
    try:
        identity = caller_identity()
    except Exception:
        logger.exception("caller_identity failed (request %s)", request_id)
        return error(request_id, "InternalFailure", "An internal error occurred", status=500, sender=False)
    fields = "".join(
        f"<{key}>{escape(str(identity.get(key, '')))}</{key}>" for key in ("Arn", "UserId", "Account")
    )
    xml = (
        f'<GetCallerIdentityResponse xmlns="{STS_NAMESPACE}">'
        f"<GetCallerIdentityResult>{fields}</GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
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
