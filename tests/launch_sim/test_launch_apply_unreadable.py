"""An EC2 write whose answer cannot be read (issue 16 item 3): EC2 took the call, so the outcome is
unknown (``DrsOutcomeUnknown``), never "nothing changed"; the apply resends it with its ClientToken or
leaves the server for a resume, and the resume ends with one new version per template, verified.

The EC2 client is botocore's own against the simulator; only its answer to CreateLaunchTemplateVersion
is dropped after EC2 has carried the call out (what a proxy or a truncated body does)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.errors import DrsOutcomeUnknown
from drs_desktop.domain.ec2 import LaunchTemplateData
from drs_desktop.services.launch_apply import resume_apply, run_apply, start_apply
from drs_desktop.services.launch_state import preview_plan
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.launch_applies import ApplyStatus, ServerStep

from .test_launch_apply_sim import ids, shop_plan, stored, template_of, version_count

pytestmark = pytest.mark.timeout(120)


class _UnreadableCreates:
    """botocore's EC2 client, but the next ``count`` CreateLaunchTemplateVersion answers come back empty
    after EC2 made the version."""

    def __init__(self, client: Any, count: int) -> None:
        self._client = client
        self.left = count

    def create_launch_template_version(self, **params: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._client.create_launch_template_version(**params)
        if self.left > 0:
            self.left -= 1
            return {"ResponseMetadata": answer.get("ResponseMetadata", {})}
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs.sqlite3") as database:
        yield database


def _target(sim: EmbeddedSimulator) -> AwsTarget:
    return AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)


def _unreadable_ec2(sim: EmbeddedSimulator, count: int) -> tuple[Ec2Gateway, _UnreadableCreates]:
    client = _UnreadableCreates(boto3.client("ec2", **sim.client_kwargs()), count)
    return Ec2Gateway(_target(sim), client_factory=lambda: client), client


def test_an_unreadable_answer_to_a_template_write_is_an_unknown_outcome(sim: EmbeddedSimulator) -> None:
    drs = DrsGateway(_target(sim))
    ec2, _ = _unreadable_ec2(sim, 1)
    try:
        template = template_of(drs, sim.backend.server_id_of("shop-web-01"))
        with pytest.raises(DrsOutcomeUnknown) as raised:
            ec2.create_template_version(
                template, LaunchTemplateData(instance_type="m5.large"), source_version=1, client_token="t-1"
            )
        assert raised.value.definite is False and raised.value.transient
        assert raised.value.code == "MalformedResponse"
        assert version_count(ec2, template) == 2  # EC2 made it: "nothing changed" would have been wrong
        again = ec2.create_template_version(
            template, LaunchTemplateData(instance_type="m5.large"), source_version=1, client_token="t-1"
        )
        assert again.version == 2 and version_count(ec2, template) == 2  # the resend finds it
    finally:
        drs.close()
        ec2.close()


def test_an_apply_whose_version_answers_are_unreadable_resumes_with_one_version_per_template(
    sim: EmbeddedSimulator, db: Database
) -> None:
    drs = DrsGateway(_target(sim))
    plain = Ec2Gateway(_target(sim))
    # Three unreadable answers in a row: the first server's every send (WRITE_ATTEMPTS) is unclear.
    ec2, client = _unreadable_ec2(sim, 3)
    try:
        plan = stored(db, shop_plan(sim, plain))
        preview, _ = preview_plan(plan, drs.inventory(), drs, plain)
        record = start_apply(db, plan, preview, drs)
        templates = {sid: template_of(drs, sid) for sid in ids(sim).values()}
        left = run_apply(db, record, drs, ec2, workers=1)
        assert client.left == 0
        assert left.status is ApplyStatus.RUNNING  # not finished, and not called failed
        (unclear,) = left.half_changed
        assert unclear.pending_step == "create_version"
        assert unclear.step is ServerStep.CHECKED
        assert "may have been created" in unclear.half_changed()
        assert version_count(plain, templates[unclear.server_id]) == 2  # made once, for all three sends

        final = resume_apply(db, record.apply_id, drs, plain, workers=2)
        assert final.status is ApplyStatus.DONE and not final.half_changed
        assert [s.step for s in final.servers] == [ServerStep.VERIFIED] * len(templates)
        for sid, template_id in templates.items():  # one new version per template, never two
            assert version_count(plain, template_id) == 2, sid
        resumed = {s.server_id: s for s in final.servers}[unclear.server_id]
        assert resumed.new_version == 2
        assert Counter(sim.backend.request_counts())["ec2:CreateLaunchTemplateVersion"] == len(templates) + 3
    finally:
        drs.close()
        plain.close()
        ec2.close()
