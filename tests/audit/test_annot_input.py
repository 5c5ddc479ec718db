"""What an operator types for findings and sign-offs, the signer-is-the-operator rule, and the test type
of a new run: each with a clear refusal for what cannot be journaled."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from drs_desktop.domain.drs.views import CallerIdentity
from drs_desktop.domain.engine.annotation_events import FindingStatus, Severity, TestType
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.plan.model import TestBrief as Brief
from drs_desktop.domain.views.audit import audit_record
from drs_desktop.services import audit
from drs_desktop.services.audit_identity import same_identity
from drs_desktop.services.audit_input import (
    MAX_TEXT,
    AnnotationInputError,
    check_due,
    check_severity,
    check_status,
    check_text,
    new_finding_id,
)
from drs_desktop.services.run_test import test_recorded, test_type_of

T = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def who(account: str, arn: str, user_id: str = "") -> CallerIdentity:
    return CallerIdentity(account=account, arn=arn, user_id=user_id)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-02-30", "not a real date"),
        ("2026-2-3", "YYYY-MM-DD"),
        ("tomorrow", "YYYY-MM-DD"),
        ("2026-12-01T00:00", "YYYY-MM-DD"),
    ],
)
def test_a_due_date_must_be_a_real_iso_date(value: str, message: str) -> None:
    with pytest.raises(AnnotationInputError, match=message):
        check_due(value)


def test_good_entries_come_back_clean() -> None:
    assert check_due(" 2027-01-31 ") == "2027-01-31" and check_due("") == ""
    assert check_severity("HIGH") is Severity.HIGH
    assert check_status("In-Progress") is FindingStatus.IN_PROGRESS
    assert check_text("  line one\r\nline two  ", "text") == "line one\nline two"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_severity("urgent"), "severity 'urgent' is not one of low, medium, high, critical"),
        (lambda: check_status("done"), "status 'done' is not one of open, in progress, resolved, accepted"),
        (lambda: check_text("   ", "the finding's text"), "the finding's text is empty"),
        (lambda: check_text("x" * (MAX_TEXT + 1), "the review"), f"at most {MAX_TEXT}"),
        (lambda: check_text("bell\x07", "the comment"), "control character"),
    ],
)
def test_bad_entries_are_refused_by_name(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AnnotationInputError, match=message):
        call()


def test_finding_ids_are_short_and_unique_in_the_run() -> None:
    taken: set[str] = set()
    for _ in range(200):
        found = new_finding_id(taken)
        assert found not in taken and len(found) == 8 and found.startswith("F-")
        taken.add(found)


def test_an_update_names_a_known_finding_and_changes_something() -> None:
    added = audit.finding_added(audit_record([]), text="slow", severity="low", at=T)
    record = audit_record([added])
    with pytest.raises(AnnotationInputError, match="no finding 'F-000000'"):
        audit.finding_updated(record, "F-000000", status="resolved", at=T)
    with pytest.raises(AnnotationInputError, match="nothing to change"):
        audit.finding_updated(record, added.finding_id, severity="LOW", at=T)
    kept = audit.finding_updated(record, added.finding_id, owner="Lee", at=T)
    assert (kept.text, kept.severity, kept.owner, kept.status) == (
        "slow",
        Severity.LOW,
        "Lee",
        FindingStatus.OPEN,
    )


OPERATOR = {
    "account": "111122223333",
    "arn": "arn:aws:iam::111122223333:user/Dana",
    "user_id": "AIDAOPERATOR",
}
SSO_ALICE = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0a1b/alice@example.com"


@pytest.mark.parametrize(
    ("run", "signer", "same"),
    [
        (
            OPERATOR,
            who("111122223333", "arn:aws:iam::111122223333:user/dana", "AIDAOPERATOR"),
            True,
        ),
        (OPERATOR, who("111122223333", "arn:aws:iam::111122223333:user/ops/Dana", ""), True),
        (
            OPERATOR,
            who("111122223333", "arn:aws:iam::111122223333:user/auditor", "AIDAAUDIT"),
            False,
        ),
        (OPERATOR, who("999988887777", "arn:aws:iam::999988887777:user/Dana", "AIDAOTHER"), False),
        (
            {"account": "111122223333", "arn": SSO_ALICE, "user_id": "AROAX:alice@example.com"},
            who("111122223333", SSO_ALICE, "AROAX:alice@example.com"),
            True,
        ),
        (
            {"account": "111122223333", "arn": SSO_ALICE, "user_id": "AROAX:alice@example.com"},
            who("111122223333", SSO_ALICE.replace("alice", "bob"), "AROAX:bob@example.com"),
            False,
        ),
        (
            {
                "account": "1",
                "arn": "arn:aws:sts::1:assumed-role/Ops/drs-desktop",
                "user_id": "AROAO:drs-desktop",
            },
            who("1", "arn:aws:sts::1:assumed-role/Ops/botocore-session-17", "AROAO:botocore-session-17"),
            True,
        ),
        ({}, who("1", "arn:aws:iam::1:user/anyone", "AIDA1"), True),
        # A role's session name outside IAM Identity Center is whatever the caller's profile says
        # (role_session_name): the same role signing with another name shows no second person.
        (
            {
                "account": "1",
                "arn": "arn:aws:sts::1:assumed-role/Ops/botocore-session-9",
                "user_id": "AROAO:b",
            },
            who("1", "arn:aws:sts::1:assumed-role/Ops/bob", "AROAO:bob"),
            True,
        ),
        (
            {"account": "1", "arn": "arn:aws:sts::1:assumed-role/Ops/dana", "user_id": "AROAO:dana"},
            who("1", "arn:aws:sts::1:assumed-role/Ops/auditor", "AROAO:auditor"),
            True,
        ),
        (
            {"account": "1", "arn": "arn:aws:sts::1:assumed-role/Ops/dana", "user_id": "AROAO:dana"},
            who("1", "arn:aws:sts::1:assumed-role/Audit/dana", "AROAA:dana"),
            False,
        ),
    ],
)
def test_the_signer_is_the_operator_when_the_principal_is(run, signer, same) -> None:  # type: ignore[no-untyped-def]
    assert same_identity(run, signer) is same


def plan_of(*waves: Wave) -> RecoveryPlan:
    return RecoveryPlan(
        name="Shop", waves=waves, brief=Brief(scenario="Region loss", participants=(" Dana ", ""))
    )


def test_the_test_type_and_brief_of_a_new_run() -> None:
    plan = plan_of(Wave(name="db", servers=("s-1",)), Wave(name="web", groups=("web",)))
    whole = {"db": ("s-1",), "web": ("s-2",)}
    assert test_type_of(Mode.RECOVERY, plan, whole) is TestType.RECOVERY
    assert test_type_of(Mode.DRILL, plan, whole) is TestType.DRILL
    assert test_type_of(Mode.DRILL, plan, {"db": ("s-1",), "web": ()}) is TestType.PARTIAL
    own = test_recorded(Mode.DRILL, plan, whole, None, at=T, by="me")
    assert (own.scenario, own.participants) == ("Region loss", ("Dana",))  # the plan's brief, cleaned
    edited = test_recorded(Mode.DRILL, plan, whole, Brief(objectives=("RTO 1h",)), at=T, by="me")
    assert (edited.scenario, edited.objectives) == ("", ("RTO 1h",))  # the request's brief replaces it
