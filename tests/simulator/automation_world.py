"""A small world with recovered instances whose SSM agents are online, for the SSM, Lambda and listener
tests (simulator and gateways alike): the ``small`` scenario without DRS's lags, three Linux servers and
one Windows server drilled, the clock moved past their boot."""

from __future__ import annotations

from typing import Any

import boto3
import yaml
from botocore.config import Config

from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import shipped_path

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=30)
DRILLED = ("shop-web-01", "shop-web-02", "shop-app-01", "shop-db-01")


def automation_scenario(**automation: Any) -> dict[str, Any]:
    data = yaml.safe_load(shipped_path("small").read_text(encoding="utf-8"))
    data["behaviour"] = {"missing_instance_id_fraction": 0}
    data["timings"] = {
        "instance_listed": [0, 0],
        "server_pending": [0, 0],
        "server_stagger": [0, 0],
        "boot": [600, 600],  # agents seen 10 minutes after the launch (Linux launches within 9.2 min)
    }
    data["automation"] = automation
    return dict(data)


def client(sim: EmbeddedSimulator, service: str) -> Any:
    return boto3.client(service, config=NO_RETRY, **sim.client_kwargs())


def drill(sim: EmbeddedSimulator, *hostnames: str, boot: bool = True) -> dict[str, str]:
    """Launch a drill of ``hostnames`` and move the clock until it launched (and, with ``boot``, until
    every agent was seen); hostname -> recovery instance ID."""
    drs = client(sim, "drs")
    ids = [sim.backend.server_id_of(h) for h in hostnames]
    drs.start_recovery(sourceServers=[{"sourceServerID": i} for i in ids], isDrill=True)
    sim.clock.advance(12 * 60 if not boot else 40 * 60)
    items = drs.describe_recovery_instances()["items"]
    by_server = {i["sourceServerID"]: i["ec2InstanceID"] for i in items}
    return {h: by_server[i] for h, i in zip(hostnames, ids, strict=True) if i in by_server}
