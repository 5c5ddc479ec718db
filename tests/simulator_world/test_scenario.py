"""Scenario files: the shipped ones load, and bad ones fail with the file and the key in the message."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from drs_desktop.simulator.backend import DrsBackend
from drs_desktop.simulator.scenario import ScenarioError
from drs_desktop.simulator.scenario_schema import load_scenario


def test_demo_is_a_believable_estate() -> None:
    backend = DrsBackend("demo")
    servers = backend.handle("DescribeSourceServers", {})["items"]
    assert len(servers) == 60
    pairs = Counter((s["tags"]["Application"], s["tags"]["Tier"]) for s in servers)
    assert len({app for app, _ in pairs}) == 4
    assert len(pairs) == 12
    states = Counter(s["dataReplicationInfo"]["dataReplicationState"] for s in servers)
    assert states["CONTINUOUS"] >= 48
    assert set(states) <= {"CONTINUOUS", "STALLED", "INITIATING", "DISCONNECTED"}
    oses = {s["sourceProperties"]["os"]["fullString"].split()[0] for s in servers}
    assert "Microsoft" in oses and len(oses) > 1
    assert all(s["tags"]["Environment"] == "production" for s in servers)


def test_small_scenario_has_named_unhealthy_servers(small: DrsBackend) -> None:
    servers = {
        s["sourceProperties"]["identificationHints"]["hostname"]: s
        for s in small.handle("DescribeSourceServers", {})["items"]
    }
    assert len(servers) == 10
    assert servers["legacy-fax"]["dataReplicationInfo"]["dataReplicationState"] == "STALLED"
    assert servers["legacy-fax"]["dataReplicationInfo"]["lagDuration"] == "PT2H"
    assert servers["new-build"]["dataReplicationInfo"]["dataReplicationState"] == "INITIATING"
    assert "lagDuration" not in servers["new-build"]["dataReplicationInfo"]
    assert servers["retired-box"]["dataReplicationInfo"]["dataReplicationState"] == "DISCONNECTED"
    assert servers["shop-db-01"]["sourceProperties"]["os"]["fullString"].startswith("Microsoft Windows")


def test_scale_scenario_keeps_300_replicating_in_the_account() -> None:
    backend = DrsBackend("scale")
    servers = backend.world.servers.values()
    assert len(servers) == 4000
    local = [s for s in servers if s.staging_account is None]
    assert len(local) == 300
    per_account = Counter(s.staging_account for s in servers if s.staging_account)
    assert max(per_account.values()) <= 300


def test_same_seed_same_fleet_other_seed_other_ids() -> None:
    a = DrsBackend("small", seed=1).source_server_ids()
    b = DrsBackend("small", seed=1).source_server_ids()
    c = DrsBackend("small", seed=2).source_server_ids()
    assert a == b
    assert a != c


def _error(data: object) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)  # type: ignore[arg-type]
    return info.value


def test_unknown_keys_are_errors_naming_the_key() -> None:
    err = _error({"name": "x", "colour": "blue"})
    assert err.key == "colour" and "unknown key" in str(err) and str(err).startswith("<dict>:")
    err = _error({"fleet": {"applications": [{"name": "a", "tiers": [{"name": "web", "colour": 1}]}]}})
    assert err.key == "fleet.applications[0].tiers[0].colour"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (
            {"fleet": {"applications": [{"name": "a", "tiers": [{"name": "web", "count": "five"}]}]}},
            "fleet.applications[0].tiers[0].count",
        ),
        ({"account_id": "12345"}, "account_id"),
        ({"timestamp_format": "local"}, "timestamp_format"),
        ({"timings": {"conversion": {"linux": [10, 5]}}}, "timings.conversion.linux"),
        ({"fleet": {"replication": {"states": {"HEALTHY": 1}}}}, "fleet.replication.states"),
        (
            {"faults": {"transport": {"DescribeEverything": {"throttle_rate": 0.5}}}},
            "faults.transport.DescribeEverything",
        ),
        (
            {"faults": {"transport": {"DescribeJobs": {"throttle_rate": 1.5}}}},
            "faults.transport.DescribeJobs.throttle_rate",
        ),
        ({"faults": {"launch_failures": {"fraction": 2}}}, "faults.launch_failures.fraction"),
        (
            {"faults": {"transport": {"StartRecovery": {"drop_after_rate": -0.1}}}},
            "faults.transport.StartRecovery.drop_after_rate",
        ),
        (
            {"faults": {"transport": {"StartRecovery": {"hold_rate": 1, "hold_seconds": "90s"}}}},
            "faults.transport.StartRecovery.hold_seconds",
        ),
        ({"quotas": {"max_concurrent_jobs": 0}}, "quotas.max_concurrent_jobs"),
        ({"start_time": "yesterday"}, "start_time"),
        ({"fleet": {"servers": [{"os": "linux"}]}}, "fleet.servers[0].hostname"),
    ],
)
def test_bad_values_name_their_key(data: dict[str, object], key: str) -> None:
    assert _error(data).key == key


def test_fleet_must_fit_the_quotas() -> None:
    # Replication states are drawn when the world is built, so the replicating quota is checked there.
    with pytest.raises(ScenarioError, match="max_replicating_servers"):
        DrsBackend({"fleet": {"generated": {"count": 301}}})
    ok = DrsBackend({"fleet": {"generated": {"count": 301}, "staging_accounts": ["210000000001"]}})
    assert len(ok.source_server_ids()) == 301
    err = _error({"quotas": {"max_source_servers": 5}, "fleet": {"generated": {"count": 6}}})
    assert "max_source_servers" in str(err)
    with pytest.raises(ScenarioError, match="hostname 'a' is used by more than one server"):
        DrsBackend({"fleet": {"servers": [{"hostname": "a"}, {"hostname": "a"}]}})


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("fleet:\n  generated:\n    count: 3\n    flavour: x\n")
    err = _error(bad)
    assert str(err).startswith("broken.yaml: fleet.generated.flavour")
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("fleet: [unclosed\n")
    assert "invalid.yaml" in str(_error(invalid)) and "YAML" in str(_error(invalid))
    assert "missing.yaml" in str(_error(tmp_path / "missing.yaml"))
    good = tmp_path / "good.yaml"
    good.write_text("name: tiny\nfleet:\n  generated: {count: 4}\n")
    assert load_scenario(good).name == "tiny"
    assert len(DrsBackend(good).source_server_ids()) == 4


def test_after_action_faults_load_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "lossy.yaml"
    path.write_text(
        "fleet:\n  generated: {count: 2}\n"
        "faults:\n  transport:\n"
        "    StartRecovery: {drop_after_rate: 1.0, count: 1}\n"
        "    TerminateRecoveryInstances: {error_after_rate: 0.5, error_status: 503}\n"
        "    DescribeJobs: {hold_rate: 1.0, hold_seconds: 90}\n"
    )
    rules = load_scenario(path).faults.transport
    assert rules["StartRecovery"].drop_after_rate == 1.0 and rules["StartRecovery"].count == 1
    assert rules["TerminateRecoveryInstances"].error_after_rate == 0.5
    assert rules["TerminateRecoveryInstances"].error_status == 503
    assert rules["DescribeJobs"].hold_rate == 1.0 and rules["DescribeJobs"].hold_seconds == 90
    backend = DrsBackend(path)
    fault = backend.transport_fault("StartRecovery")
    assert fault is not None and fault.kind == "drop_after"
    assert backend.transport_fault("StartRecovery") is None  # count: 1


@pytest.mark.parametrize(
    ("rule", "key", "message"),
    [
        ({"hold_seconds": 90}, "hold_seconds", "needs hold_rate"),
        ({"hold_rate": 1.0}, "", "hold_rate needs hold_seconds > 0"),
        ({"drop_after_rate": 0.6, "throttle_rate": 0.6}, "", "must not exceed 1, got 1.2"),
        ({"error_after_rate": 1.5}, "error_after_rate", "between 0.0 and 1.0"),
        ({"hold_rate": 1, "hold_seconds": -5}, "hold_seconds", "must be a number >= 0"),
        ({"lose_rate": 1}, "lose_rate", "unknown key"),
    ],
)
def test_bad_after_action_faults_get_one_line_errors(rule: dict[str, object], key: str, message: str) -> None:
    err = _error({"faults": {"transport": {"StartRecovery": rule}}})
    assert err.key == "faults.transport.StartRecovery" + (f".{key}" if key else "")
    assert message in str(err) and "\n" not in str(err)
