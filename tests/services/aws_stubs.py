"""Tiny loopback stand-ins for the two AWS APIs the sign-ins use and the simulator does not serve:
``sso-oidc`` (REST-JSON: register, device authorization, token polling) and STS ``AssumeRole`` (query
protocol, XML). The real botocore clients talk to them, so request and response formats are botocore's.
Each runs on 127.0.0.1 with a free port, in a thread, and records the requests it got.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERIFICATION_URI = "https://device.sso.us-east-1.amazonaws.com/"
USER_CODE = "WXYZ-1234"
ACCESS_TOKEN = "sso-access-token-0123456789"
REFRESH_TOKEN = "sso-refresh-token-0123456789"
CLIENT_ID = "stub-client-id"
CLIENT_SECRET = "stub-client-secret"
ASSUMED_KEY_ID = "ASIASTUBASSUMED00001"
ASSUMED_SECRET = "stub/assumed/secret/key/0123456789abcdef"
ASSUMED_TOKEN = "stub-assumed-session-token"


@dataclass
class OidcBehaviour:
    """How the sso-oidc stub answers CreateToken: ``pending`` times "pending" (with "slow down" at the
    poll numbers in ``slow_down_at``), then ``outcome``: token, denied or expired."""

    pending: int = 2
    slow_down_at: tuple[int, ...] = ()
    outcome: str = "token"
    expires_in: int = 600
    interval: int = 1
    token_polls: int = 0
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class StsBehaviour:
    """What the STS stub got: the form fields of each AssumeRole call."""

    calls: list[dict[str, str]] = field(default_factory=list)
    refuse: bool = False


def _handler(oidc: OidcBehaviour | None, sts: StsBehaviour | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return None

        def _reply(self, status: int, body: bytes, content_type: str, error_type: str = "") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if sts is not None:
                self._sts(raw)
            elif oidc is not None:
                self._oidc(json.loads(raw or b"{}"))

        def _oidc(self, body: dict[str, Any]) -> None:
            assert oidc is not None
            path = self.path.split("?")[0]
            oidc.requests.append((path, body))
            if path == "/client/register":
                document: dict[str, Any] = {
                    "clientId": CLIENT_ID,
                    "clientSecret": CLIENT_SECRET,
                    "clientIdIssuedAt": 1767600000,
                    "clientSecretExpiresAt": 1775376000,
                }
            elif path == "/device_authorization":
                document = {
                    "deviceCode": "stub-device-code",
                    "userCode": USER_CODE,
                    "verificationUri": VERIFICATION_URI,
                    "verificationUriComplete": f"{VERIFICATION_URI}?user_code={USER_CODE}",
                    "expiresIn": oidc.expires_in,
                    "interval": oidc.interval,
                }
            elif path == "/token":
                oidc.token_polls += 1
                if oidc.token_polls in oidc.slow_down_at:
                    return self._oidc_error("SlowDownException", "slow_down")
                if oidc.token_polls <= oidc.pending:
                    return self._oidc_error("AuthorizationPendingException", "authorization_pending")
                if oidc.outcome == "denied":
                    return self._oidc_error("AccessDeniedException", "access_denied")
                if oidc.outcome == "expired":
                    return self._oidc_error("ExpiredTokenException", "expired_token")
                document = {
                    "accessToken": ACCESS_TOKEN,
                    "tokenType": "Bearer",
                    "expiresIn": 28800,
                    "refreshToken": REFRESH_TOKEN,
                }
            else:
                return self._oidc_error("InvalidRequestException", "invalid_request", status=404)
            self._reply(200, json.dumps(document).encode(), "application/json")

        def _oidc_error(self, code: str, error: str, status: int = 400) -> None:
            body = json.dumps({"error": error, "error_description": code}).encode()
            self._reply(status, body, "application/json", error_type=code)

        def _sts(self, raw: bytes) -> None:
            assert sts is not None
            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
            sts.calls.append(form)
            ns = "https://sts.amazonaws.com/doc/2011-06-15/"
            if sts.refuse or form.get("Action") != "AssumeRole":
                xml = (
                    f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type><Code>AccessDenied</Code>'
                    "<Message>MultiFactorAuthentication failed with invalid MFA one time pass code.</Message>"
                    "</Error><RequestId>r-1</RequestId></ErrorResponse>"
                )
                return self._reply(403, xml.encode(), "text/xml")
            xml = (
                f'<AssumeRoleResponse xmlns="{ns}"><AssumeRoleResult><Credentials>'
                f"<AccessKeyId>{ASSUMED_KEY_ID}</AccessKeyId><SecretAccessKey>{ASSUMED_SECRET}</SecretAccessKey>"
                f"<SessionToken>{ASSUMED_TOKEN}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>"
                "</Credentials><AssumedRoleUser><AssumedRoleId>AROASTUB:drs</AssumedRoleId>"
                "<Arn>arn:aws:sts::123456789012:assumed-role/DrsOperator/drs</Arn></AssumedRoleUser>"
                "</AssumeRoleResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata>"
                "</AssumeRoleResponse>"
            )
            self._reply(200, xml.encode(), "text/xml")

    return Handler


@contextmanager
def serve(oidc: OidcBehaviour | None = None, sts: StsBehaviour | None = None) -> Iterator[str]:
    """Run one stub until the block ends; yields its endpoint URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(oidc, sts))
    thread = threading.Thread(target=server.serve_forever, name="aws-stub", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
