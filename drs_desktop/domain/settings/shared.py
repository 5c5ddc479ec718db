"""Which settings a team shares through sync, and why each of the others stays on its desktop.

One place for the decision (docs/sync.md, kind ``SETTING``): storage queues a change of a shared key
for the team table, and the sync applies only shared keys it pulls. Every declared setting is in exactly
one of the two maps below (a test checks it), so a new setting cannot be added without deciding.

Shared: what the team agrees on about how an execution behaves, so that two operators running the same
plan get the same engine. Kept local: anything that names this desktop's AWS profiles or credentials
source, its network, its screen, or its own cache. Secrets are never settings at all (the OS keyring).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from drs_desktop.domain.settings.target_list import TARGETS_KEY

__all__ = ["LOCAL_SETTINGS", "SHARED_SETTINGS", "is_shared_setting"]

#: Settings a team shares, with the reason.
SHARED_SETTINGS: Mapping[str, str] = MappingProxyType(
    {
        "engine.poll_interval_seconds": "how often an execution polls DRS is team policy (API quotas)",
        "engine.wave_timeout_minutes": "when a wave counts as timed out must be the same for every operator",
        "engine.cancel_grace_minutes": "how long a cancelled run waits for DRS jobs is team policy",
        "sync.inventory": "whether the team's desktops exchange their inventory caches is one team "
        "decision: a desktop that pulls caches should also share its own",
    }
)

#: Settings that stay on this desktop, with the reason.
LOCAL_SETTINGS: Mapping[str, str] = MappingProxyType(
    {
        "aws.profile": "names a profile in this desktop's own AWS config (the connected profile)",
        "aws.region": "the Region this desktop is connected to, chosen by its operator",
        "aws.use_typed_keys": "where this desktop's credentials come from (its own keyring)",
        "aws.read_timeout_seconds": "fits this desktop's network link",
        "ui.demo_mode": "this desktop's own choice of the simulator",
        "inventory.max_age_minutes": "freshness of this desktop's own inventory cache",
        "retention.executions_days": "how long this desktop keeps history is applied by its operator, who "
        "confirms each deletion (a deletion then reaches the team as a tombstone)",
        "sync.enabled": "whether this desktop syncs in the background is its operator's choice",
        TARGETS_KEY: "the targets name profiles of this desktop's own AWS config",
    }
)


def is_shared_setting(key: str) -> bool:
    """True for a key the team shares; unknown keys (a newer version's) are never shared."""
    return key in SHARED_SETTINGS
