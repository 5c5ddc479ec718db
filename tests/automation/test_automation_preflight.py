"""Preflight checks what a plan's automation steps need, against the simulator (DRS, EC2, SSM and Lambda in
one world, loopback HTTP, real boto3) and real files: each check passing and failing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.ec2 import LaunchTemplateData
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.launch.isolation import DrillProfile
from drs_desktop.domain.plan.automation import (
    HealthCheckStep,
    LambdaStep,
    Probe,
    Reach,
    RunIn,
    ScriptStep,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.plan.model import RecoveryPlan, Step, Wave
from drs_desktop.domain.preflight.automation import (
    HEALTH_REACH,
    LAMBDA_FUNCTIONS,
    SCRIPTS,
    SSM_AGENT,
    SSM_DOCUMENTS,
    VPC_ENDPOINTS,
)
from drs_desktop.domain.preflight.checks import PreflightReport
from drs_desktop.services.executions import RunRequest, prepare_execution
from drs_desktop.services.preflight import preflight
from drs_desktop.services.script_trust import ScriptTrustService
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import shipped_path
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

pytestmark = pytest.mark.timeout(120)

NAMES = (SSM_DOCUMENTS, LAMBDA_FUNCTIONS, SCRIPTS, SSM_AGENT, HEALTH_REACH, VPC_ENDPOINTS)
SSM_SERVICES = ("ssm", "ssmmessages", "ec2messages")


def scenario() -> dict[str, Any]:
    data = yaml.safe_load(shipped_path("small").read_text(encoding="utf-8"))
    data["automation"] = {
        "ssm_documents": [
            {"name": "Team-Smoke", "platforms": ["Linux"], "parameters": ["url"]},
            {"name": "Team-Secret", "platforms": ["Linux"], "denied": True},
        ],
        "lambda_functions": [
            {"name": "dns-cutover", "behaviour": "ok"},
            {"name": "probe-in-vpc", "behaviour": "ok"},
            {"name": "payroll", "behaviour": "ok", "denied": True},
        ],
    }
    data["ec2"] = {
        "vpcs": [
            {
                "name": "production",
                "cidr": "10.20.0.0/16",
                "subnets": ["10.20.0.0/17", "10.20.128.0/17"],
                "routes": [{"destination": "0.0.0.0/0", "target": "internet-gateway"}],
            },
            {"name": "drill-closed", "cidr": "10.99.0.0/16", "subnets": ["10.99.0.0/20"]},
            {
                "name": "drill-endpoints",
                "cidr": "10.98.0.0/16",
                "subnets": ["10.98.0.0/20"],
                "endpoints": [*SSM_SERVICES, "s3"],
            },
            {
                "name": "drill-partial",
                "cidr": "10.97.0.0/16",
                "subnets": ["10.97.0.0/20"],
                "endpoints": ["ssm"],
            },
        ],
        "launch_vpc": "production",
    }
    return dict(data)


@pytest.fixture(scope="module")
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator(scenario(), seed=7) as simulator:
        yield simulator


@pytest.fixture
def target(sim: EmbeddedSimulator) -> AwsTarget:
    return AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)


@pytest.fixture
def drs(target: AwsTarget) -> Iterator[DrsGateway]:
    gateway = DrsGateway(target)
    yield gateway
    gateway.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs.sqlite3") as database:
        yield database


def script(folder: Path, name: str = "announce.sh", *, executable: bool = True) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\necho announced\n", encoding="utf-8")
    path.chmod(0o755 if executable else 0o644)
    return path


def subnet_of(target: AwsTarget, prefix: str) -> str:
    ec2 = Ec2Gateway(target)
    try:
        return next(s.subnet_id for s in ec2.subnets() if s.cidr.startswith(prefix))
    finally:
        ec2.close()


def check(
    db: Database,
    drs: DrsGateway,
    sim: EmbeddedSimulator,
    *,
    before: tuple[Step, ...] = (),
    after: tuple[Step, ...] = (),
    drill_subnet: str | None = None,
    mode: Mode = Mode.DRILL,
) -> PreflightReport:
    """Preflight of a two-wave plan (db, then web with the steps under test)."""
    s = sim.backend.server_id_of
    profile = (
        DrillProfile(subnets=(drill_subnet,), production_cidrs=("10.20.0.0/16",)) if drill_subnet else None
    )
    plan = RecoveryPlan(
        name="Shop",
        waves=(
            Wave(name="db", servers=(s("shop-db-01"),)),
            Wave(name="web", servers=(s("shop-web-01"), s("shop-web-02")), before=before, after=after),
        ),
        drill_profile=profile,
    )
    save_plan(db, plan)
    request = RunRequest(plan_name="Shop", mode=mode)
    return preflight(db, drs, prepare_execution(db, drs, request), request, now=sim.clock.now())


def found(report: PreflightReport, name: str) -> list[tuple[str, str]]:
    return [(c.status.value, c.message) for c in report.checks if c.name == name]


def test_steps_that_have_what_they_need_pass_each_check_with_one_read_per_document_and_function(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator, target: AwsTarget, tmp_path: Path
) -> None:
    path = script(tmp_path)
    ScriptTrustService(db).trust(str(path))
    smoke = SsmStep(name="Smoke", document="Team-Smoke", parameters={"url": ("http://localhost/",)})
    steps: tuple[Step, ...] = (
        smoke,
        SsmStep(name="Smoke again", document="Team-Smoke"),
        LambdaStep(name="DNS", function="dns-cutover"),
        ScriptStep(name="Announce", path=str(path)),
        HealthCheckStep(name="Web", probe=Probe.HTTP, port=80, reach=Reach.LAMBDA, via="probe-in-vpc"),
    )
    before = sim.backend.request_counts()
    report = check(db, drs, sim, after=steps, drill_subnet=subnet_of(target, "10.98."))
    counts = sim.backend.request_counts()
    for name in NAMES:
        statuses = [status for status, _ in found(report, name)]
        assert statuses == ["PASS"], (name, found(report, name))
    assert found(report, SSM_DOCUMENTS) == [("PASS", "1 SSM document(s) exist and may be used")]
    assert found(report, LAMBDA_FUNCTIONS) == [("PASS", "2 Lambda function(s) exist and may be used")]
    assert "has the VPC endpoints SSM needs" in found(report, VPC_ENDPOINTS)[0][1]
    assert report.trustable_scripts == ()
    # one DescribeDocument for the two steps of one document; one read per function
    assert counts.get("ssm:DescribeDocument", 0) - before.get("ssm:DescribeDocument", 0) == 1
    reads = counts.get("lambda:GetFunctionConfiguration", 0) - before.get(
        "lambda:GetFunctionConfiguration", 0
    )
    assert reads == 2


def test_a_missing_or_denied_document_or_function_fails_naming_the_step_and_the_reason(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    steps: tuple[Step, ...] = (
        SsmStep(name="Ghost run", document="No-Such-Document"),
        SsmStep(name="Secret run", document="Team-Secret"),
        LambdaStep(name="Ghost call", function="no-such-function"),
        LambdaStep(name="Payroll", function="payroll"),
    )
    report = check(db, drs, sim, before=steps)
    documents = found(report, SSM_DOCUMENTS)
    functions = found(report, LAMBDA_FUNCTIONS)
    assert [s for s, _ in documents] == ["FAIL", "FAIL"] and [s for s, _ in functions] == ["FAIL", "FAIL"]
    assert "'No-Such-Document' does not exist" in documents[0][1] and "'Ghost run'" in documents[0][1]
    assert "'Team-Secret' may not be used" in documents[1][1] and "AccessDenied" in documents[1][1]
    assert "'no-such-function' does not exist" in functions[0][1]
    assert "'payroll' may not be used" in functions[1][1] and "AccessDenied" in functions[1][1]
    assert not report.ok
    # the steps' wave is named, for the dialog's Wave column
    assert {c.wave for c in report.checks if c.name in (SSM_DOCUMENTS, LAMBDA_FUNCTIONS)} == {"web"}


def test_a_script_that_would_not_run_fails_and_the_trustable_ones_are_offered(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    untrusted = script(tmp_path, "untrusted.sh")
    changed = script(tmp_path, "changed.sh")
    ScriptTrustService(db).trust(str(changed))
    changed.write_text("#!/bin/sh\necho something else\n", encoding="utf-8")
    plain = script(tmp_path, "plain.sh", executable=False)
    steps: tuple[Step, ...] = (
        ScriptStep(name="Untrusted", path=str(untrusted)),
        ScriptStep(name="Changed", path=str(changed)),
        ScriptStep(name="Gone", path=str(tmp_path / "gone.sh")),
        ScriptStep(name="Plain", path=str(plain)),
    )
    report = check(db, drs, sim, after=steps)
    scripts = found(report, SCRIPTS)
    assert [s for s, _ in scripts] == ["FAIL"] * 4
    assert f"{untrusted} is not trusted on this desktop" in scripts[0][1] and "Trust…" in scripts[0][1]
    assert f"{changed} changed since it was trusted" in scripts[1][1]
    assert "does not exist" in scripts[2][1] and "Trust…" not in scripts[2][1]
    assert "is not executable" in scripts[3][1] and "Trust…" not in scripts[3][1]
    assert [s.path for s in report.trustable_scripts] == [str(untrusted), str(changed)]

    ScriptTrustService(db).trust(str(untrusted))  # what the dialog's Trust… does; the check again passes it
    again = check(db, drs, sim, after=steps[:1])
    assert [s for s, _ in found(again, SCRIPTS)] == ["PASS"] and again.trustable_scripts == ()


def test_the_ssm_agent_is_expected_only_where_post_launch_actions_are_on(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    web = sim.backend.server_id_of("shop-web-01")
    client = boto3.client("drs", **sim.client_kwargs())
    client.update_launch_configuration(sourceServerID=web, postLaunchEnabled=False)
    try:
        steps: tuple[Step, ...] = (
            SsmStep(name="Smoke", document="AWS-RunShellScript", policy=StepPolicy(timeout_seconds=600)),
            HealthCheckStep(
                name="Inside", probe=Probe.TCP, port=5432, reach=Reach.SSM, via="i-0123456789abcdef0"
            ),
        )
        report = check(db, drs, sim, after=steps)
        agents = found(report, SSM_AGENT)
        assert [s for s, _ in agents] == ["WARN", "WARN"]
        assert web in agents[0][1] and "the SSM agent may not be on the recovered instance" in agents[0][1]
        assert "SendCommand will wait for it until the step's timeout (600 s)" in agents[0][1]
        assert sim.backend.server_id_of("shop-web-02") not in agents[0][1]
        assert "i-0123456789abcdef0" in agents[1][1] and "not online" in agents[1][1]
    finally:
        client.update_launch_configuration(sourceServerID=web, postLaunchEnabled=True)
    report = check(db, drs, sim, after=steps[:1])
    assert [s for s, _ in found(report, SSM_AGENT)] == ["PASS"]


def test_health_checks_the_desktop_may_not_reach_warn(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator, target: AwsTarget
) -> None:
    private = HealthCheckStep(name="Private", probe=Probe.TCP, port=5432)
    drill = subnet_of(target, "10.98.")
    warned = found(check(db, drs, sim, after=(private,), drill_subnet=drill), HEALTH_REACH)
    assert [s for s, _ in warned] == ["WARN"] and "reach lambda" in warned[0][1]
    # a recovery, or a drill without a drill network, probes the production network as usual
    assert [s for s, _ in found(check(db, drs, sim, after=(private,), mode=Mode.RECOVERY), HEALTH_REACH)] == [
        "PASS"
    ]

    public = HealthCheckStep(name="Public", probe=Probe.HTTP, port=80, reach=Reach.PUBLIC)
    web1, web2 = sim.backend.server_id_of("shop-web-01"), sim.backend.server_id_of("shop-web-02")
    warned = found(check(db, drs, sim, after=(public,)), HEALTH_REACH)
    assert [s for s, _ in warned] == ["WARN"] and "does not associate a public IP" in warned[0][1]
    assert web1 in warned[0][1] and web2 in warned[0][1]
    ec2 = Ec2Gateway(target)
    try:  # both templates made to associate a public IP: nothing to warn about
        for server in (web1, web2):
            template = drs.launch_configuration(server).ec2_launch_template_id
            made = ec2.create_template_version(
                template, LaunchTemplateData(associate_public_ip=True), source_version=1
            )
            ec2.set_default_version(template, made.version)
    finally:
        ec2.close()
    assert [s for s, _ in found(check(db, drs, sim, after=(public,)), HEALTH_REACH)] == ["PASS"]


def test_a_drill_subnet_without_a_route_out_needs_the_ssm_endpoints(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator, target: AwsTarget
) -> None:
    smoke = SsmStep(name="Smoke", document="AWS-RunShellScript")
    region = sim.region
    closed = found(
        check(db, drs, sim, after=(smoke,), drill_subnet=subnet_of(target, "10.99.")), VPC_ENDPOINTS
    )
    assert [s for s, _ in closed] == ["FAIL"]
    for service in SSM_SERVICES:
        assert f"com.amazonaws.{region}.{service}" in closed[0][1]
    partial = found(
        check(db, drs, sim, after=(smoke,), drill_subnet=subnet_of(target, "10.97.")), VPC_ENDPOINTS
    )
    assert [s for s, _ in partial] == ["FAIL"]
    assert f"com.amazonaws.{region}.ssm," not in partial[0][1] + ","  # the one it has is not listed
    assert f"com.amazonaws.{region}.ssmmessages" in partial[0][1]
    routed = found(
        check(db, drs, sim, after=(smoke,), drill_subnet=subnet_of(target, "10.20.0.")), VPC_ENDPOINTS
    )
    assert [s for s, _ in routed] == ["PASS"] and "routes out (igw-" in routed[0][1]
    # no step through SSM: the endpoints are not looked at; a recovery does not use the drill network
    lambda_only = (LambdaStep(name="DNS", function="dns-cutover"),)
    assert (
        found(check(db, drs, sim, after=lambda_only, drill_subnet=subnet_of(target, "10.99.")), VPC_ENDPOINTS)
        == []
    )
    recovery = check(
        db, drs, sim, after=(smoke,), drill_subnet=subnet_of(target, "10.99."), mode=Mode.RECOVERY
    )
    assert found(recovery, VPC_ENDPOINTS) == []


def test_only_the_steps_that_run_in_this_mode_are_checked(
    db: Database, drs: DrsGateway, sim: EmbeddedSimulator
) -> None:
    recovery_only = SsmStep(
        name="Cutover", document="No-Such-Document", policy=StepPolicy(run_in=RunIn.RECOVERY)
    )
    assert all(found(check(db, drs, sim, after=(recovery_only,)), name) == [] for name in NAMES)
    failed = found(check(db, drs, sim, after=(recovery_only,), mode=Mode.RECOVERY), SSM_DOCUMENTS)
    assert [s for s, _ in failed] == ["FAIL"]
