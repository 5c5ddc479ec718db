"""A simulated account whose drill networks test the isolation check's prefix lists and VPC CIDR blocks:
the ``small`` scenario's servers with the networks below (docs/simulator.md, "EC2").

- ``drill-sandbox``: routes the ``sandbox`` prefix list to a transit gateway, and its servers group lets
  the same list in: neither reaches production (isolated);
- ``drill-onprem``: routes the ``onprem`` prefix list (which holds 172.16.0.0/12, a production network)
  to a transit gateway, and lets it in on 443: production both ways;
- ``drill-foreign``: routes a prefix list of another account (``FOREIGN``), which this one cannot read;
- ``drill-secondary``: no route out at all, an ACL that lets in only its own primary block, but a
  secondary CIDR block 10.30.0.0/16 that is a production network: the VPC's local route reaches it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from drs_desktop.simulator.scenario_schema import shipped_path

#: The production networks every drill profile of these tests names.
PRODUCTION = ("10.20.0.0/16", "172.16.0.0/12", "10.30.0.0/16")
#: A prefix list ID no list of the account has (another account's, not shared).
FOREIGN = "pl-0f0e0d0c0b0a09080"

EC2: dict[str, Any] = {
    "prefix_lists": [
        {"name": "onprem", "cidrs": ["192.168.10.0/24", "172.16.0.0/12"]},
        {"name": "sandbox", "cidrs": ["192.168.200.0/24", "192.168.201.0/24"]},
    ],
    "vpcs": [
        {
            "name": "production",
            "cidr": "10.20.0.0/16",
            "subnets": ["10.20.0.0/17", "10.20.128.0/17"],
            "routes": [{"destination": "0.0.0.0/0", "target": "internet-gateway"}],
        },
        {
            "name": "drill-sandbox",
            "cidr": "10.99.0.0/16",
            "subnets": ["10.99.0.0/20"],
            "routes": [{"prefix_list": "sandbox", "target": "transit-gateway"}],
            "ingress": [{"cidr": "10.99.0.0/16"}, {"prefix_list": "sandbox"}],
            "nacl_ingress": ["10.99.0.0/16"],
        },
        {
            "name": "drill-onprem",
            "cidr": "10.98.0.0/16",
            "subnets": ["10.98.0.0/20"],
            "routes": [{"prefix_list": "onprem", "target": "transit-gateway"}],
            "ingress": [{"prefix_list": "onprem", "protocol": "tcp", "from_port": 443, "to_port": 443}],
            "nacl_ingress": ["10.98.0.0/16"],
        },
        {
            "name": "drill-foreign",
            "cidr": "10.97.0.0/16",
            "subnets": ["10.97.0.0/20"],
            "routes": [{"prefix_list": FOREIGN, "target": "peering"}],
            "ingress": [{"cidr": "10.97.0.0/16"}],
            "nacl_ingress": ["10.97.0.0/16"],
        },
        {
            "name": "drill-secondary",
            "cidr": "10.96.0.0/16",
            "secondary_cidrs": ["10.30.0.0/16"],
            "subnets": ["10.96.0.0/20", "10.30.5.0/24"],
            "ingress": [{"cidr": "10.96.0.0/16"}],
            "nacl_ingress": ["10.96.0.0/16"],
        },
    ],
    "launch_vpc": "production",
}


def scenario() -> dict[str, Any]:
    """The ``small`` scenario with the networks above."""
    data: dict[str, Any] = yaml.safe_load(Path(shipped_path("small")).read_text(encoding="utf-8"))
    return {**data, "ec2": EC2}
