"""Where what is on screen lives: the demo simulator, or an AWS account, Region and profile.

An operator must never wonder which estate a button acts on. Every view that shows servers or a run
names its target (``ui/target_badge.py`` draws it, in a colour of its own), and the application never
moves from one target to another without asking (``target_switch``: what a change of the settings page
would switch, in words for the confirmation). Plans will span several accounts later, so views take a
tuple of targets, and each target's colour comes from its own key, the same on every screen and at every
start (a stable hash, never Python's salted ``hash``).

Pure: the running target is given by the composition root, the stored settings by the settings page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from drs_desktop.domain.connection import ConnectionSettings

__all__ = [
    "DEMO_HUE",
    "DEMO_LABEL",
    "Target",
    "is_loopback_endpoint",
    "settings_target",
    "target_of_execution",
    "target_switch",
]

DEMO_LABEL = "DEMO"
#: The demo's fixed hue (purple); AWS targets' hues are kept out of the band around it.
DEMO_HUE = 285
_DEMO_BAND = 50  # degrees of hue either side of DEMO_HUE no AWS target gets


def is_loopback_endpoint(url: str | None) -> bool:
    """Whether ``url`` points at this machine (a simulator): localhost, 127.x, ::1."""
    if not url:
        return False
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return host in ("localhost", "::1") or host.startswith("127.")


@dataclass(frozen=True)
class Target:
    """One place actions land. ``account`` may be unknown ("") until DRS or STS answered."""

    demo: bool = False
    account: str = ""
    region: str = ""
    profile: str = ""
    endpoint: str = ""
    typed_keys: bool = False

    @property
    def key(self) -> str:
        """What tells targets apart (and picks the colour): the demo is one target whatever its port."""
        if self.demo:
            return DEMO_LABEL
        who = self.account or f"profile:{self.profile or 'default'}"
        return f"{who}/{self.region}/{self.endpoint}"

    @property
    def label(self) -> str:
        """The badge's short text: "DEMO · us-east-1" or "123456789012 · eu-west-1 · prod"."""
        if self.demo:
            return " · ".join(part for part in (DEMO_LABEL, self.region) if part)
        parts = [self.account or "account ?", self.region or "region ?", self.profile or "default profile"]
        if self.typed_keys:
            parts.append("typed keys")
        return " · ".join(parts)

    def describe(self) -> str:
        """A sentence's worth, for a confirmation: "the built-in DRS simulator (DEMO, us-east-1)"."""
        if self.demo:
            return f"the built-in DRS simulator ({DEMO_LABEL}{', ' + self.region if self.region else ''})"
        account = f"AWS account {self.account}" if self.account else "AWS"
        how = f"profile {self.profile}" if self.profile else "the default profile"
        if self.typed_keys:
            how += " with typed access keys"
        endpoint = f", endpoint {self.endpoint}" if self.endpoint else ""
        return f"{account} ({how}, {self.region or 'no region'}{endpoint})"

    @property
    def hue(self) -> int:
        """0-359, the same for the same key on every start; DEMO's own, fixed, and no AWS target near it."""
        if self.demo:
            return DEMO_HUE
        digest = int.from_bytes(hashlib.sha256(self.key.encode("utf-8")).digest()[:4], "big")
        span = 360 - 2 * _DEMO_BAND
        return (DEMO_HUE + _DEMO_BAND + digest % span) % 360

    def same_place(self, other: Target) -> bool:
        """Whether actions on ``other`` land where they land on this one (the account may be unknown on
        one side: a target read from the settings has none until it is reached)."""
        if self.demo or other.demo:
            return self.demo == other.demo
        return (self.profile, self.region, self.endpoint, self.typed_keys) == (
            other.profile,
            other.region,
            other.endpoint,
            other.typed_keys,
        ) and (not self.account or not other.account or self.account == other.account)


def settings_target(settings: ConnectionSettings, *, demo: bool, endpoint: str = "") -> Target:
    """The target the settings page describes (no account until it is reached)."""
    if demo:
        return Target(demo=True)
    return Target(
        region=settings.region.strip(),
        profile=settings.profile.strip(),
        endpoint=endpoint,
        typed_keys=settings.use_typed_keys,
    )


def target_switch(running: Target, wanted: Target) -> str | None:
    """None when ``wanted`` is where the application already is; else the question to ask first."""
    if running.same_place(wanted):
        return None
    return f"Switch from {running.describe()} to {wanted.describe()}?"


def target_of_execution(options: Mapping[str, Any], identity: Mapping[str, Any]) -> Target:
    """Where a recorded execution ran (its ``options["target"]`` and ``identity``): a loopback endpoint
    is a simulator, shown as the demo."""
    saved = options.get("target")
    target: Mapping[str, Any] = saved if isinstance(saved, Mapping) else {}
    endpoint = str(target.get("endpoint_url") or "")
    region = str(target.get("region") or "")
    if is_loopback_endpoint(endpoint):
        return Target(demo=True, region=region)
    return Target(
        account=str(identity.get("account") or ""),
        region=region,
        profile=str(target.get("profile") or ""),
        endpoint=endpoint,
    )
