"""The settings registry: every setting DRS Desktop knows, with its type, default and limits.

Declared in code so that a default can change with a release (only an operator's overrides are stored,
by ``storage.settings``) and so that the settings page, the CLI and the storage all validate the same
way. Pure: the GUI may import it to build its settings page.

Settings never hold secrets. A key that looks like one is refused when it is declared and when it is
set, and a value that looks like an AWS access key ID is refused too: keys belong in the OS keyring.
"""

from __future__ import annotations

import builtins
import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.settings.target_list import (
    TARGETS_KEY,
    TargetListError,
    check_targets,
    targets_to_json,
)

#: Days a finished execution is kept (issue 18); 0 keeps everything (``domain.views.retention``).
RETENTION_KEY = "retention.executions_days"

__all__ = ["RETENTION_KEY", "SETTINGS", "Setting", "SettingError", "looks_like_secret_key", "setting_for"]

_SECRET_WORDS = (
    "secret",
    "password",
    "passwd",
    "passphrase",
    "token",
    "access_key",
    "accesskey",
    "api_key",
    "apikey",
    "private_key",
    "credential",
)
_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingError(DrsDesktopError, ValueError):
    """An unknown setting, a value of the wrong type or out of range, or an attempt to store a secret."""


def looks_like_secret_key(key: str) -> bool:
    """True for keys such as ``aws.secret_access_key`` or ``sync.api-token``."""
    normalized = key.lower().replace("-", "_")
    return any(word in normalized for word in _SECRET_WORDS)


@dataclass(frozen=True)
class Setting:
    """One setting: ``type`` is str, int, float or bool; ``minimum`` applies to numbers.

    A structured setting (``type`` tuple, such as the target list) gives ``check``, which turns the
    stored JSON (or the value itself) into the validated value, and ``encode``, its JSON form.
    """

    key: str
    type: builtins.type[object]
    default: object
    description: str
    choices: tuple[object, ...] | None = None
    minimum: int | float | None = None
    check: Callable[[object], object] | None = None
    encode: Callable[[object], object] | None = None

    def __post_init__(self) -> None:
        if looks_like_secret_key(self.key):
            raise ValueError(f"setting {self.key!r} looks like a secret; secrets belong in the OS keyring")
        if self.type not in (str, int, float, bool, tuple):
            raise ValueError(f"setting {self.key!r}: unsupported type {self.type.__name__}")
        if (self.type is tuple) != (self.check is not None and self.encode is not None):
            raise ValueError(f"setting {self.key!r}: a structured setting needs check and encode")
        self.validate(self.default)

    def to_json(self, value: object) -> object:
        """What is stored for ``value`` (already validated): its JSON form."""
        return self.encode(value) if self.encode is not None else value

    def validate(self, value: object) -> object:
        """``value`` if it fits this setting (an int is accepted for a float); SettingError if not."""
        if self.check is not None:
            try:
                return self.check(value)
            except (TargetListError, ValueError) as exc:
                raise self._error(str(exc)) from exc
        if self.type is bool:
            if not isinstance(value, bool):
                raise self._error(f"must be true or false, got {_shown(value)}")
        elif self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self._error(f"must be a whole number, got {_shown(value)}")
        elif self.type is float:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise self._error(f"must be a number, got {_shown(value)}")
            value = float(value)
        elif self.type is str:
            if not isinstance(value, str):
                raise self._error(f"must be text, got {_shown(value)}")
            if "\n" in value or "\r" in value:
                raise self._error("must be one line of text")
            if _AWS_KEY_ID.search(value):
                raise self._error("looks like an AWS access key; settings never hold secrets")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(repr(choice) for choice in self.choices)
            raise self._error(f"must be one of {allowed}, got {_shown(value)}")
        if self.minimum is not None and isinstance(value, int | float) and not isinstance(value, bool):
            if value < self.minimum:
                raise self._error(f"must be at least {self.minimum}, got {value}")
        return value

    def parse(self, text: str) -> object:
        """The value that ``text`` (as typed on a command line) means for this setting, validated."""
        raw = text.strip()
        value: object
        if self.type is tuple:
            try:
                value = json.loads(raw)
            except ValueError:
                raise self._error(f"must be JSON, got {_shown(text)}") from None
        elif self.type is bool:
            lowered = raw.lower()
            if lowered not in _TRUE | _FALSE:
                raise self._error(f"must be true or false, got {text!r}")
            value = lowered in _TRUE
        elif self.type is int:
            try:
                value = int(raw)
            except ValueError:
                raise self._error(f"must be a whole number, got {text!r}") from None
        elif self.type is float:
            try:
                value = float(raw)
            except ValueError:
                raise self._error(f"must be a number, got {text!r}") from None
        else:
            value = text
        return self.validate(value)

    def _error(self, message: str) -> SettingError:
        return SettingError(f"setting {self.key}: {message}")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_DECLARED = (
    Setting("aws.profile", str, "", "AWS profile (or IAM Identity Center profile) to use; empty: default"),
    Setting("aws.region", str, "us-east-1", "AWS Region where DRS replicates the source servers"),
    Setting(
        "aws.use_typed_keys",
        bool,
        False,
        "Sign in with the access keys saved in the OS keyring for the profile, not the profile's own",
    ),
    Setting(
        "engine.poll_interval_seconds",
        int,
        15,
        "Seconds between DRS status polls while an execution runs",
        minimum=1,
    ),
    Setting(
        "engine.wave_timeout_minutes",
        int,
        120,
        "Minutes a wave may take before it is reported as timed out",
        minimum=1,
    ),
    Setting(
        "engine.cancel_grace_minutes",
        int,
        45,
        "Minutes a cancelled or stopped run waits for a DRS job it no longer needs before it ends without "
        "it, noting the job as still running in DRS (DRS cannot cancel a job; its jobs take 12-31 minutes)",
        minimum=1,
    ),
    Setting(
        "aws.read_timeout_seconds",
        int,
        60,
        "Seconds to wait for a DRS answer; a launch whose answer does not come in time is looked for "
        "in DRS's records for this long plus 5 minutes before it is started again",
        minimum=1,
    ),
    Setting("ui.demo_mode", bool, False, "Start against the built-in simulator instead of AWS"),
    Setting(
        "inventory.max_age_minutes",
        int,
        60,
        "Minutes after which the cached inventory is shown as stale and refreshed",
        minimum=0,
    ),
    Setting(
        RETENTION_KEY,
        int,
        0,
        "Days a finished execution and its evidence are kept; 0 keeps everything. Nothing is deleted on "
        "its own: History's Apply retention (or executions prune) lists what would go and asks first",
        minimum=0,
    ),
    Setting(
        "sync.enabled",
        bool,
        False,
        "Sync with the team's table in the background (every minute, and soon after a local save); "
        "the table is set in Settings, Team sync",
    ),
    Setting(
        "sync.inventory",
        bool,
        False,
        "Share each target's cached inventory (its servers and when they were fetched) through the team's "
        "table, so a teammate's desktop can plan offline with it",
    ),
    Setting(
        TARGETS_KEY,
        tuple,
        (),
        "Targets read besides the connected one (account, Region, profile or role): the Servers pane "
        "shows every target's servers",
        check=check_targets,
        encode=targets_to_json,
    ),
)

#: Every setting DRS Desktop knows, by key.
SETTINGS: Mapping[str, Setting] = MappingProxyType({setting.key: setting for setting in _DECLARED})


def setting_for(key: str) -> Setting:
    """The declared setting ``key``; SettingError for a secret-looking or unknown key."""
    if looks_like_secret_key(key):
        raise SettingError(
            f"setting {key!r} looks like a secret; settings never hold secrets (use the OS keyring)"
        )
    found = SETTINGS.get(key)
    if found is None:
        close = difflib.get_close_matches(key, list(SETTINGS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SettingError(f"unknown setting {key!r}{hint}")
    return found
