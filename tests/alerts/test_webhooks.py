"""Webhooks for real over loopback: Slack's and Teams' bodies, HTTPS with a certificate the test trusts
(and refused without it), a 500, a timeout, redirects, and URLs a webhook may not have. The URL (the
secret) never appears in an error."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from drs_desktop.domain.alert_events import Alert, AlertKind, AlertLevel
from drs_desktop.domain.alert_routes import RouteError, RouteKind
from drs_desktop.services.webhooks import WebhookError, check_webhook_url, post_webhook
from tests.alerts.hook_server import HookServer

ALERT = Alert(
    kind=AlertKind.RUN_FAILED,
    level=AlertLevel.CRITICAL,
    plan_name="Shop",
    title="Shop: drill failed",
    detail="Failed wave(s): App.",
    execution_id="exec-1",
    at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
)
TOKEN = "s3cr3t-token-XYZ"


def test_slack_body_over_https_with_a_trusted_self_signed_certificate(tls_hook: HookServer) -> None:
    status = post_webhook(RouteKind.SLACK, tls_hook.url(), ALERT, ssl_context=tls_hook.client_context)
    assert status == 200
    (got,) = tls_hook.received
    assert got.path.endswith(TOKEN)
    assert got.content_type.startswith("application/json")
    assert got.body["text"].endswith("Shop: drill failed")
    header, section, context = got.body["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Shop: drill failed", "emoji": True},
    }
    assert section["text"] == {"type": "mrkdwn", "text": "Failed wave(s): App."}
    assert "run-failed" in context["elements"][0]["text"] and "exec-1" in context["elements"][0]["text"]


def test_teams_body_is_a_workflows_adaptive_card(tls_hook: HookServer) -> None:
    tls_hook.answers.append(202)  # what a Workflows trigger answers
    assert post_webhook(RouteKind.TEAMS, tls_hook.url(), ALERT, ssl_context=tls_hook.client_context) == 202
    body = tls_hook.received[0].body
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    title, detail, facts = card["body"]
    assert title["text"] == "Shop: drill failed" and title["color"] == "attention"
    assert detail["text"] == "Failed wave(s): App."
    assert {"title": "Execution", "value": "exec-1"} in facts["facts"]


def test_json_body_over_plain_http_to_loopback(hook: HookServer) -> None:
    assert post_webhook(RouteKind.JSON, hook.url(), ALERT) == 200
    body = hook.received[0].body
    assert body == {
        "source": "drs-desktop",
        "kind": "run-failed",
        "level": "critical",
        "plan": "Shop",
        "title": "Shop: drill failed",
        "detail": "Failed wave(s): App.",
        "execution_id": "exec-1",
        "at": "2026-01-05T09:30:00+00:00",
    }


def test_an_untrusted_certificate_is_refused(tls_hook: HookServer) -> None:
    with pytest.raises(WebhookError, match="certificate does not verify") as caught:
        post_webhook(RouteKind.SLACK, tls_hook.url(), ALERT)  # the system's trust store only
    assert TOKEN not in str(caught.value)
    assert tls_hook.received == []


def test_a_500_is_a_failure_naming_the_status_not_the_url(hook: HookServer) -> None:
    hook.answers.append(500)
    with pytest.raises(WebhookError, match="HTTP 500: internal trouble") as caught:
        post_webhook(RouteKind.SLACK, hook.url(), ALERT)
    assert TOKEN not in str(caught.value) and str(hook.port) not in str(caught.value)


def test_no_answer_within_the_timeout(hook: HookServer) -> None:
    hook.answers.append("hang")
    with pytest.raises(WebhookError, match=r"did not answer within 0.5 s"):
        post_webhook(RouteKind.JSON, hook.url(), ALERT, timeout=0.5)


def test_a_redirect_to_another_host_is_not_followed(hook: HookServer) -> None:
    hook.answers.append(("redirect", "https://collector.example.net/steal"))
    with pytest.raises(WebhookError, match="redirect \\(302\\) to another host; not followed"):
        post_webhook(RouteKind.JSON, hook.url(), ALERT)
    assert len(hook.received) == 1


def test_a_redirect_on_the_same_host_is_followed_once(hook: HookServer) -> None:
    hook.answers.append(("redirect", "/moved/here"))
    assert post_webhook(RouteKind.JSON, hook.url(), ALERT) == 200
    assert [r.path for r in hook.received] == [f"/hooks/T000/B000/{TOKEN}", "/moved/here"]


def test_nobody_listening(hook: HookServer) -> None:
    url = hook.url()
    hook.stop()
    with pytest.raises(WebhookError, match="refused the connection"):
        post_webhook(RouteKind.JSON, url, ALERT, timeout=2)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.slack.com/services/x", "must use https"),
        ("ftp://example.com/x", "starts with https://"),
        ("https://user:pw@example.com/x", "user name or password"),
        ("not a url", "starts with https://"),
        ("https://example.com:99999/x", "cannot be read"),
    ],
)
def test_urls_a_webhook_may_not_have(url: str, reason: str) -> None:
    with pytest.raises(RouteError, match=reason) as caught:
        check_webhook_url(url)
    assert url not in str(caught.value)


def test_loopback_http_and_https_are_accepted() -> None:
    assert check_webhook_url(" http://127.0.0.1:8080/relay ") == "http://127.0.0.1:8080/relay"
    assert (
        check_webhook_url("https://hooks.slack.com/services/T/B/x")
        == "https://hooks.slack.com/services/T/B/x"
    )


def test_the_url_is_not_logged(hook: HookServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    hook.answers.append(500)
    with pytest.raises(WebhookError):
        post_webhook(RouteKind.SLACK, hook.url(), ALERT)
    post_webhook(RouteKind.SLACK, hook.url(), ALERT)
    assert TOKEN not in caplog.text
