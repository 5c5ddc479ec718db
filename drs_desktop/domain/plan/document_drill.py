"""The ``drill_profile`` part of a plan file (format 2): where the plan's drills launch, and the production
networks a drill must not reach (``domain.launch.isolation``; docs/plan-format.md, "Drill profile").

```yaml
drill_profile:
  subnets: [subnet-0a1b2c3d4e5f60718]
  security_groups: [sg-0a1b2c3d4e5f60718]
  production_networks: [10.20.0.0/16, 172.16.0.0/12]
  allowed_route_targets: [tgw-0a1b2c3d4e5f60718]   # optional: routes through these may leave the VPC
```
"""

from __future__ import annotations

from typing import Any

from drs_desktop.domain.launch.isolation import DrillProfile
from drs_desktop.domain.plan.document_base import ShapeReader, join_path
from drs_desktop.domain.plan.model import RecoveryPlan

PART = "drill_profile"
DRILL_KEYS = ("subnets", "security_groups", "production_networks", "allowed_route_targets")


def drill_profile_to_document(plan: RecoveryPlan) -> dict[str, Any] | None:
    """The part as written (None: the plan has no drill profile); empty lists are left out."""
    profile = plan.drill_profile
    if profile is None:
        return None
    values = (profile.subnets, profile.security_groups, profile.production_cidrs, profile.allowed_targets)
    return {key: list(value) for key, value in zip(DRILL_KEYS, values, strict=True) if value}


def read_drill_profile(reader: ShapeReader, value: object) -> DrillProfile | None:
    if value is None:
        return None
    fields = reader.mapping(value, PART, DRILL_KEYS, (), "a drill profile")
    if fields is None:
        return None
    lists = []
    for key in DRILL_KEYS:
        path = join_path(PART, key)
        items = reader.list_of(fields.get(key), path, "strings")
        lists.append(
            tuple(s for i, item in enumerate(items) if (s := reader.string(item, join_path(path, i))))
        )
    return DrillProfile(
        subnets=lists[0], security_groups=lists[1], production_cidrs=lists[2], allowed_targets=lists[3]
    )
