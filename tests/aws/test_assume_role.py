"""Targets reached through an IAM role in another account, against the two-account simulator with the real
boto3 client: the role's account answers, a wrong external ID is a clear auth error, the credentials renew
themselves when the role's session expires, an MFA role asks for a code (and says so without a prompter),
and the gateway reports when its credentials expire. Also: a profile on the simulator's endpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from drs_desktop.aws.assume_role import EXPIRED_CODES
from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.plan_targets import aws_target_of
from drs_desktop.aws.session import SIMULATOR_KEY, AwsTarget, RoleToAssume, make_session
from drs_desktop.domain.connection import MfaChallenge
from drs_desktop.domain.drs.errors import DrsAuthError
from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.simulator.embedded import EmbeddedSimulator
from tests.simulator import accounts_scenario
from tests.simulator.accounts_scenario import (
    EXTERNAL_ID,
    MFA_CODE,
    MFA_SERIAL,
    RECOVERY,
    RECOVERY_KEY,
    STAGING,
    STAGING_KEY,
    TWO_ACCOUNTS,
)

OPERATOR = f"arn:aws:iam::{RECOVERY}:role/Operator"
BREAK_GLASS = f"arn:aws:iam::{RECOVERY}:role/BreakGlass"

sim = accounts_scenario.two_accounts_sim


@pytest.fixture(autouse=True)
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A staging user's keys (the source profile) and the recovery account's, as an operator writes them."""
    (tmp_path / "credentials").write_text(
        f"[staging]\naws_access_key_id = {STAGING_KEY}\naws_secret_access_key = secret\n"
        f"[recovery]\naws_access_key_id = {RECOVERY_KEY}\naws_secret_access_key = secret\n",
        encoding="utf-8",
    )
    (tmp_path / "config").write_text("[profile staging]\nregion = us-east-1\n", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def _role_target(
    sim: EmbeddedSimulator,
    *,
    role_arn: str = OPERATOR,
    source_profile: str = "staging",
    external_id: str = EXTERNAL_ID,
    mfa_serial: str = "",
) -> AwsTarget:
    role = RoleToAssume(role_arn, source_profile, external_id=external_id, mfa_serial=mfa_serial)
    return AwsTarget(profile=None, region="us-east-1", endpoint_url=sim.endpoint_url, role=role)


def _sts_expiry(sim: EmbeddedSimulator, access_key: str) -> datetime:
    (issued,) = [s for s in sim.estate.identities.sessions() if s.access_key == access_key]
    return datetime.fromtimestamp(int(issued.expiration_real), UTC)


def _access_key(gateway: DrsGateway) -> str:
    return str(gateway._session().get_credentials().get_frozen_credentials().access_key)


def test_a_role_in_another_account_answers_as_that_account(sim: EmbeddedSimulator) -> None:
    gateway = DrsGateway(_role_target(sim))
    as_staging = DrsGateway(AwsTarget(profile="staging", region="us-east-1", endpoint_url=sim.endpoint_url))

    identity = gateway.caller_identity()
    servers = gateway.describe_source_servers()

    assert identity.account == RECOVERY
    assert identity.arn == f"arn:aws:sts::{RECOVERY}:assumed-role/Operator/drs-desktop"
    assert len(servers) == 3 and all(s.hostname.startswith("rec") for s in servers)
    assert as_staging.caller_identity().account == STAGING  # the source profile alone is the staging user
    assert len(as_staging.describe_source_servers()) == 4
    assert OPERATOR in gateway.target.describe() and "secret" not in gateway.target.describe()
    assert not gateway.refresh_needs_person


def test_a_wrong_external_id_is_a_clear_auth_error(sim: EmbeddedSimulator) -> None:
    gateway = DrsGateway(_role_target(sim, external_id="ext-wrong"))
    with pytest.raises(DrsAuthError) as refused:
        gateway.describe_source_servers()
    text = str(refused.value)
    assert refused.value.code == "AccessDenied" and refused.value.definite
    assert f"Could not assume the role {OPERATOR} with the credentials of profile 'staging'" in text
    assert "external ID" in text and "ext-wrong" not in text


def test_a_missing_source_profile_is_named(sim: EmbeddedSimulator) -> None:
    gateway = DrsGateway(_role_target(sim, source_profile="nobody"))
    with pytest.raises(DrsAuthError, match="source profile 'nobody' of the role") as refused:
        gateway.caller_identity()
    assert refused.value.code == "ProfileNotFound"


def test_credentials_renew_themselves_when_the_roles_session_expires(sim: EmbeddedSimulator) -> None:
    """The manual clock stands still in real time, so botocore sees an hour left; moving the virtual clock
    past the hour expires the session in the simulator. The gateway assumes the role again and the read
    goes through, and the reported expiry is the new session's. A second gateway of the same target
    shares the credentials: no second AssumeRole."""
    target = _role_target(sim)
    gateway = DrsGateway(target)
    other_thread = gateway.for_another_thread()
    assert len(gateway.describe_source_servers()) == 3
    first_key = _access_key(gateway)
    first_expiry = gateway.credentials_expire_at()
    assert len(other_thread.describe_source_servers()) == 3
    assert len(sim.estate.identities.sessions()) == 1

    sim.clock.advance(3600)
    servers = gateway.describe_source_servers()
    jobs = other_thread.describe_jobs([])  # already renewed by the first gateway: no third session
    second_key = _access_key(gateway)

    assert len(servers) == 3 and jobs == []
    assert second_key != first_key
    assert [s.access_key for s in sim.estate.identities.sessions()] == [first_key, second_key]
    assert first_expiry == _sts_expiry(sim, first_key)
    assert gateway.credentials_expire_at() == _sts_expiry(sim, second_key)
    assert other_thread.credentials_expire_at() == gateway.credentials_expire_at()


def test_credentials_refresh_before_they_expire_on_a_running_clock() -> None:
    """At 60x a one-hour session lasts a real minute, inside botocore's refresh window: every call assumes
    the role again before it is signed, across three virtual hours, without one expired answer."""
    with EmbeddedSimulator(TWO_ACCOUNTS, seed=3, time_scale=60) as running:
        gateway = DrsGateway(_role_target(running), read_max_attempts=1)
        keys = []
        for _ in range(9):  # 9 x 20 virtual minutes
            assert len(gateway.describe_source_servers()) == 3
            keys.append(_access_key(gateway))
            running.clock.advance(20 * 60)
    assert len(set(keys)) > 3


def test_an_mfa_role_asks_the_prompter_at_each_assume_role_and_never_in_place_of_a_renewal(
    sim: EmbeddedSimulator,
) -> None:
    """Expired, an MFA role's session is not assumed again by whichever call meets the expiry (a run's
    loop would wait there for a person): the call fails as expired, and the renewal the operator asks
    for (new credentials, as ``TargetSessions.forget`` makes) asks for the next code."""
    asked: list[MfaChallenge] = []

    def prompter(challenge: MfaChallenge) -> str:
        asked.append(challenge)
        return MFA_CODE

    target = _role_target(sim, role_arn=BREAK_GLASS, external_id="", mfa_serial=MFA_SERIAL)
    gateway = DrsGateway(target, mfa_prompter=prompter)
    assert gateway.caller_identity().account == RECOVERY
    sim.clock.advance(3600)
    with pytest.raises(DrsAuthError) as expired:
        gateway.describe_source_servers()
    assert expired.value.code in EXPIRED_CODES
    assert len(asked) == 1

    fresh = _role_target(sim, role_arn=BREAK_GLASS, external_id="", mfa_serial=MFA_SERIAL)
    renewed = DrsGateway(fresh, mfa_prompter=prompter)
    assert len(renewed.describe_source_servers()) == 3
    assert asked == [MfaChallenge(profile="staging", mfa_serial=MFA_SERIAL, role_arn=BREAK_GLASS)] * 2
    assert gateway.refresh_needs_person


def test_an_mfa_role_without_a_prompter_says_a_code_is_required(sim: EmbeddedSimulator) -> None:
    target = _role_target(sim, role_arn=BREAK_GLASS, external_id="", mfa_serial=MFA_SERIAL)
    with pytest.raises(DrsAuthError, match="needs a code from the MFA device") as refused:
        DrsGateway(target).describe_source_servers()
    wrong = DrsGateway(target, mfa_prompter=lambda _: "000000")
    with pytest.raises(DrsAuthError, match="MFA code") as denied:
        wrong.describe_source_servers()
    assert refused.value.code == "MfaRequired"
    assert denied.value.code == "AccessDenied"
    assert sim.estate.identities.sessions() == []


def test_a_profile_on_the_simulators_endpoint_signs_with_its_own_keys(sim: EmbeddedSimulator) -> None:
    staging = make_session(AwsTarget(profile="staging", region="us-east-1", endpoint_url=sim.endpoint_url))
    missing = make_session(AwsTarget(profile="absent", region="us-east-1", endpoint_url=sim.endpoint_url))
    demo = make_session(AwsTarget(profile=None, region="us-east-1", endpoint_url=sim.endpoint_url))
    long_lived = DrsGateway(AwsTarget(profile="recovery", region="us-east-1", endpoint_url=sim.endpoint_url))

    assert staging.get_credentials().get_frozen_credentials().access_key == STAGING_KEY
    assert missing.get_credentials().get_frozen_credentials().access_key == SIMULATOR_KEY
    assert demo.get_credentials().get_frozen_credentials().access_key == SIMULATOR_KEY
    assert long_lived.caller_identity().account == RECOVERY
    assert long_lived.credentials_expire_at() is None and not long_lived.refresh_needs_person


def test_plan_targets_map_to_profiles_and_roles(sim: EmbeddedSimulator) -> None:
    by_profile = aws_target_of(
        PlanTarget(name="rec", account=RECOVERY, region="us-west-2", profile="recovery"), endpoint_url=None
    )
    by_role = aws_target_of(
        PlanTarget(
            name="ops",
            account=RECOVERY,
            region="us-east-1",
            role_arn=BREAK_GLASS,
            source_profile="staging",
            external_id="x-1",
            mfa_serial=MFA_SERIAL,
        ),
        endpoint_url=sim.endpoint_url,
    )
    assert (by_profile.profile, by_profile.region, by_profile.role, by_profile.endpoint_url) == (
        "recovery",
        "us-west-2",
        None,
        None,
    )
    assert by_role.role == RoleToAssume(BREAK_GLASS, "staging", external_id="x-1", mfa_serial=MFA_SERIAL)
    assert (by_role.profile, by_role.endpoint_url) == (None, sim.endpoint_url)
    with pytest.raises(ValueError, match=r"target 'bad'.*source profile"):
        aws_target_of(PlanTarget(name="bad", region="us-east-1", role_arn=OPERATOR), endpoint_url=None)


def test_a_profile_that_assumes_a_role_with_mfa_becomes_that_role_never_a_terminal_prompt(
    tmp_path: Path,
) -> None:
    """botocore would ask for its code with getpass on a terminal (from a worker thread); the
    application assumes the role itself and asks its own prompter."""
    with (tmp_path / "config").open("a", encoding="utf-8") as config:
        config.write(f"[profile glass]\nrole_arn = {BREAK_GLASS}\nmfa_serial = {MFA_SERIAL}\n")
        config.write("source_profile = staging\n")
    target = aws_target_of(
        PlanTarget(name="g", account=RECOVERY, region="us-east-1", profile="glass"), endpoint_url=None
    )
    assert target.profile is None
    assert target.role == RoleToAssume(BREAK_GLASS, "staging", mfa_serial=MFA_SERIAL)
