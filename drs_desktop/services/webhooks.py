"""Alerts to HTTPS webhooks: Slack, Microsoft Teams (Workflows) and plain JSON. No AWS here.

The URL of a webhook is its secret (whoever has it may post to the channel), so it comes from the OS
keyring at the moment of sending, and nothing here logs it or puts it in an error: every message is
built from the status, the exception's type, or a text the URL is scrubbed from.

Transport rules: HTTPS with certificate verification (the system's trust store, or a context a test
gives), http only to a loopback address (tests, a local relay); a short timeout; one redirect at most and
only to the same scheme, host and port (a webhook that redirects elsewhere could hand the alert, and the
path that carries the token, to a third party); any status but 2xx is a failure with the status named.

Formats (``build_body``):

- **Slack** incoming webhook: ``text`` (the fallback line notifications show) and ``blocks`` (a header
  and a section with the detail, and a context line with the kind, level and time).
- **Teams**: the Workflows ("Post to a channel when a webhook request is received", Power Automate)
  format, which replaced the Office 365 connectors being retired: a ``message`` whose one attachment is
  an Adaptive Card (``application/vnd.microsoft.card.adaptive``, card version 1.4). Workflows accept
  Adaptive Cards only, not the connectors' MessageCard; they answer 202 Accepted.
- **JSON**: the alert's own fields (``kind``, ``level``, ``plan``, ``title``, ``detail``,
  ``execution_id``, ``at``, ``source``), for a relay or a tool of the team's own.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

from drs_desktop.domain.alert_events import Alert, AlertLevel
from drs_desktop.domain.alert_routes import RouteError, RouteKind

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_TIMEOUT", "WebhookError", "build_body", "check_webhook_url", "post_webhook"]

#: Seconds to connect and to wait for the answer: an alert must never hold anything up for long.
DEFAULT_TIMEOUT = 10.0
_MAX_ANSWER = 64 * 1024
_LEVEL_COLOUR = {AlertLevel.INFO: "good", AlertLevel.WARNING: "warning", AlertLevel.CRITICAL: "attention"}
_LEVEL_EMOJI = {
    AlertLevel.INFO: ":information_source:",
    AlertLevel.WARNING: ":warning:",
    AlertLevel.CRITICAL: ":red_circle:",
}


class WebhookError(Exception):
    """A webhook that did not take the alert; the message never contains the URL."""


@dataclass(frozen=True)
class _Url:
    parts: SplitResult

    @property
    def host(self) -> str:
        return self.parts.hostname or ""

    @property
    def port(self) -> int:
        return self.parts.port or (443 if self.parts.scheme == "https" else 80)

    @property
    def target(self) -> str:
        path = self.parts.path or "/"
        return f"{path}?{self.parts.query}" if self.parts.query else path


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_webhook_url(url: str) -> str:
    """``url`` stripped, if it is one a webhook may have: https (http only to a loopback address), a
    host, no user or password in it. RouteError otherwise; the message does not repeat the URL."""
    cleaned = url.strip()
    try:
        parts = urlsplit(cleaned)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise RouteError("the webhook URL cannot be read as a URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RouteError("a webhook URL starts with https:// and names a host")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise RouteError("a webhook URL must use https (http only to a loopback address, for a local relay)")
    if parts.username or parts.password:
        raise RouteError("a webhook URL must not carry a user name or password")
    if any(c in cleaned for c in " \r\n\t"):
        raise RouteError("a webhook URL has no spaces or line breaks")
    return cleaned


def build_body(kind: RouteKind, alert: Alert) -> dict[str, Any]:
    """The JSON document a webhook of ``kind`` is sent for ``alert``."""
    at = alert.at.strftime("%Y-%m-%d %H:%M:%S UTC")
    context = f"{alert.kind.value} · {alert.level.value} · plan {alert.plan_name} · {at}"
    if alert.execution_id:
        context += f" · execution {alert.execution_id}"
    if kind is RouteKind.SLACK:
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150], "emoji": True}}
        ]
        if alert.detail:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": alert.detail[:3000]}})
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
        return {"text": f"{_LEVEL_EMOJI[alert.level]} {alert.title}", "blocks": blocks}
    if kind is RouteKind.TEAMS:
        body: list[dict[str, Any]] = [
            {
                "type": "TextBlock",
                "text": alert.title,
                "size": "Medium",
                "weight": "Bolder",
                "wrap": True,
                "color": _LEVEL_COLOUR[alert.level],
            }
        ]
        if alert.detail:
            body.append({"type": "TextBlock", "text": alert.detail, "wrap": True})
        facts = [
            {"title": "Kind", "value": alert.kind.value},
            {"title": "Level", "value": alert.level.value},
            {"title": "Plan", "value": alert.plan_name},
            {"title": "When", "value": at},
        ]
        if alert.execution_id:
            facts.append({"title": "Execution", "value": alert.execution_id})
        body.append({"type": "FactSet", "facts": facts})
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        }
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card,
                }
            ],
        }
    if kind is RouteKind.JSON:
        return {
            "source": "drs-desktop",
            "kind": alert.kind.value,
            "level": alert.level.value,
            "plan": alert.plan_name,
            "title": alert.title,
            "detail": alert.detail,
            "execution_id": alert.execution_id,
            "at": alert.at.isoformat(),
        }
    raise ValueError(f"{kind.value} is not a webhook")


def post_webhook(
    kind: RouteKind,
    url: str,
    alert: Alert,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ssl_context: ssl.SSLContext | None = None,
) -> int:
    """Send ``alert`` to the webhook at ``url`` in ``kind``'s format; the 2xx status it answered.
    WebhookError (without the URL) for a refused URL, no connection, a timeout, a certificate that
    does not verify, a redirect elsewhere, or any other status."""
    try:
        location = _Url(urlsplit(check_webhook_url(url)))
    except RouteError as exc:
        raise WebhookError(str(exc)) from None
    payload = json.dumps(build_body(kind, alert)).encode("utf-8")
    context = ssl_context or ssl.create_default_context()
    for _hop in range(2):
        status, redirect = _post(location, payload, timeout, context, url)
        if redirect is None:
            return status
        try:
            moved = _Url(urlsplit(urljoin(location.parts.geturl(), redirect)))
            moved.port  # noqa: B018 - a port that is not a number raises here
        except ValueError:
            raise WebhookError(f"the webhook answered a redirect ({status}) that cannot be read") from None
        same = (moved.parts.scheme, moved.host, moved.port) == (
            location.parts.scheme,
            location.host,
            location.port,
        )
        if not same:
            raise WebhookError(f"the webhook answered a redirect ({status}) to another host; not followed")
        location = moved
    raise WebhookError("the webhook redirected more than once; not followed")


def _post(
    location: _Url, payload: bytes, timeout: float, context: ssl.SSLContext, url: str
) -> tuple[int, str | None]:
    """One POST: (status, None) for a 2xx, (status, Location) for a redirect; WebhookError otherwise."""
    connection: http.client.HTTPConnection
    if location.parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            location.host, location.port, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection(location.host, location.port, timeout=timeout)
    try:
        connection.request(
            "POST",
            location.target,
            body=payload,
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "drs-desktop-alerts"},
        )
        response = connection.getresponse()
        answer = response.read(_MAX_ANSWER)
        status = response.status
        if 200 <= status < 300:
            return status, None
        if status in (301, 302, 303, 307, 308):
            where = response.getheader("Location")
            if not where:
                raise WebhookError(f"the webhook answered a redirect ({status}) without a Location")
            return status, where
        snippet = (
            _scrub(answer.decode("utf-8", errors="replace").strip().splitlines()[0][:200], url)
            if answer.strip()
            else ""
        )
        raise WebhookError(f"the webhook answered HTTP {status}" + (f": {snippet}" if snippet else ""))
    except WebhookError:
        raise
    except ssl.SSLCertVerificationError as exc:
        raise WebhookError(
            f"the webhook's certificate does not verify: {_scrub(exc.verify_message or '', url)}"
        ) from None
    except TimeoutError:
        raise WebhookError(f"the webhook did not answer within {timeout:g} s") from None
    except ConnectionRefusedError:
        raise WebhookError("the webhook's host refused the connection") from None
    except socket.gaierror:
        raise WebhookError("the webhook's host name does not resolve") from None
    except (OSError, http.client.HTTPException) as exc:
        raise WebhookError(f"the webhook could not be reached: {type(exc).__name__}") from None
    finally:
        connection.close()


def _scrub(text: str, url: str) -> str:
    """``text`` without the URL or its path and query (which carry the webhook's token)."""
    parts = urlsplit(url)
    for secret in (url, parts.path, parts.query):
        if secret and len(secret) > 1:
            text = text.replace(secret, "<webhook>")
    return text
