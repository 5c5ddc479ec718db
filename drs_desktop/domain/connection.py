"""Where the application connects and how the operator signs in, as values the GUI can show.

These are the answers of the settings pane's tasks and the inputs of ``services.connection``. They
carry names, regions and flags, never a secret: a stored access key is described by its last four
characters only, and an IAM Identity Center sign-in by its verification address and user code (which
the operator must see) but not by its device code or client secret.

The one exception is ``AccessKeyPair``, the keys themselves (typed by the operator, kept by ``secrets``,
or issued by STS after an MFA code, signing ``aws`` sessions): it lives here, where both ``secrets`` and
``aws`` may import it, and its ``repr`` and ``str`` show only the key ID's last four characters, so a
log line or a traceback that formats it cannot leak a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.plan_target import PlanTarget

__all__ = [
    "DEFAULT_PROFILE_LABEL",
    "AccessKeyError",
    "AccessKeyPair",
    "AwsProfileInfo",
    "ConnectionSettings",
    "KeyringStatus",
    "MfaChallenge",
    "SettingsSnapshot",
    "SsoDeviceAuthorization",
    "SsoLoginResult",
    "StoredKeyInfo",
    "key_label",
]

#: The keyring label of typed keys when no profile is chosen (the "(default)" entry of the profile list).
DEFAULT_PROFILE_LABEL = "default"


def key_label(profile: str) -> str:
    """The label typed keys are stored under for ``profile`` ("" is the default profile)."""
    return profile.strip() or DEFAULT_PROFILE_LABEL


class AccessKeyError(DrsDesktopError):
    """A key pair that is not well formed (a blank field, spaces, a session token over two lines). The
    message names the field, never its value."""


@dataclass(frozen=True)
class AccessKeyPair:
    """An access key ID, its secret and an optional session token. ``repr`` and ``str`` hide the secrets
    and all but the key ID's last four characters."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name, value in (
            ("access key ID", self.access_key_id),
            ("secret access key", self.secret_access_key),
        ):
            if not value or value != value.strip() or any(c.isspace() for c in value):
                raise AccessKeyError(f"the {name} must be filled in, without spaces")
        if self.session_token is not None and (not self.session_token.strip() or "\n" in self.session_token):
            raise AccessKeyError("the session token must be one line, or left empty")

    @property
    def masked_key_id(self) -> str:
        return "…" + self.access_key_id[-4:] if len(self.access_key_id) > 4 else "…"

    def __repr__(self) -> str:
        token = "'***'" if self.session_token else "None"
        return (
            f"AccessKeyPair(access_key_id={self.masked_key_id!r}, secret_access_key='***', "
            f"session_token={token})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class ConnectionSettings:
    """The settings that decide which AWS account and region the application talks to.

    ``use_typed_keys``: sign with the access keys saved (in the OS keyring) under ``key_label`` rather
    than with the profile's own credentials. ``demo``: talk to the built-in simulator.
    """

    profile: str = ""
    region: str = "us-east-1"
    demo: bool = False
    use_typed_keys: bool = False

    @property
    def key_label(self) -> str:
        return key_label(self.profile)


@dataclass(frozen=True)
class AwsProfileInfo:
    """One profile of the AWS config files, with what the settings page needs to offer for it."""

    name: str
    region: str | None = None
    sso: bool = False
    mfa_serial: str | None = None

    @property
    def needs_mfa(self) -> bool:
        return bool(self.mfa_serial)


@dataclass(frozen=True)
class KeyringStatus:
    """Whether typed keys survive a restart (an OS keyring) or live only in this process's memory."""

    persistent: bool
    backend: str
    message: str


@dataclass(frozen=True)
class StoredKeyInfo:
    """What may be shown about a saved key pair: its label and the key ID's last four characters."""

    label: str
    masked_key_id: str
    has_session_token: bool
    persistent: bool


@dataclass(frozen=True)
class SettingsSnapshot:
    """Everything the settings page shows, read in one go on the settings worker's thread."""

    connection: ConnectionSettings
    poll_interval_seconds: int
    profiles: tuple[AwsProfileInfo, ...]
    keyring: KeyringStatus
    stored_keys: StoredKeyInfo | None = None
    targets: tuple[PlanTarget, ...] = ()  # the settings' target list, besides the connected target

    def profile(self, name: str) -> AwsProfileInfo | None:
        for profile in self.profiles:
            if profile.name == name:
                return profile
        return None


@dataclass(frozen=True)
class MfaChallenge:
    """A profile that assumes a role with MFA needs a one-time code from the device ``mfa_serial``."""

    profile: str
    mfa_serial: str
    role_arn: str


@dataclass(frozen=True)
class SsoDeviceAuthorization:
    """An IAM Identity Center sign-in waiting for the operator: open ``verification_uri`` (or the
    complete one, which carries the code) in a browser and confirm ``user_code``."""

    profile: str
    verification_uri: str
    verification_uri_complete: str
    user_code: str
    expires_at: datetime
    interval_seconds: int


@dataclass(frozen=True)
class SsoLoginResult:
    """A finished sign-in: the token is cached where botocore's SSO providers read it."""

    profile: str
    expires_at: datetime
    cache_file: str
