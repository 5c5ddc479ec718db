"""Where the application talks to AWS, and with which credentials: targets, sessions, clients, profiles.

boto3 sessions are not thread-safe (DESIGN §3), so no session or client is shared: every thread calls
``make_session`` and builds its own clients. What every session shares is botocore's data loader
(``shared_data_loader``): the service models and endpoint data it parses from JSON, read-only once
parsed. Two client flavours exist for DRS because StartRecovery and
TerminateRecoveryInstances have no idempotency token and botocore would otherwise resend them after a
429, a 5xx or a dropped connection (reference §2.3, §9.1): a second drill launch. Those calls go out on a
client with exactly one attempt; reads get a modest retry budget.

Credentials come from a named profile (SSO included), from keys an operator typed (``AccessKeyPair``,
supplied by the secrets layer), from an IAM role assumed with a source profile's credentials
(``RoleToAssume``, refreshed before they expire: ``aws.assume_role``), or, for the local simulator on a
loopback URL without a profile, dummy keys. Secrets never reach a log line or a ``repr``.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3.session
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import ProfileNotFound

from drs_desktop.aws import config_files
from drs_desktop.aws.assume_role import MfaPrompter, RoleCredentials, RoleProvider, RoleToAssume
from drs_desktop.domain.connection import AccessKeyPair
from drs_desktop.domain.drs.errors import DrsAuthError
from drs_desktop.domain.errors import DrsDesktopError

logger = logging.getLogger(__name__)

#: Seconds to open a TCP/TLS connection; a DRS endpoint that cannot be reached in this is down.
CONNECT_TIMEOUT = 10.0
#: Seconds to wait for an answer. Generous: a read timeout on StartRecovery leaves its outcome unknown.
READ_TIMEOUT = 60.0
#: Attempts (first one included) for read calls; botocore's standard mode backs off between them.
READ_MAX_ATTEMPTS = 3
#: Dummy keys for the simulator, which never checks signatures; never real AWS.
SIMULATOR_KEY = "drs-desktop-simulator"
USER_AGENT_EXTRA = "drs-desktop"


class EndpointUrlError(DrsDesktopError):
    """An endpoint URL that cannot be used: not http(s), or carrying a user name, password, query string
    or fragment (where credentials hide). The message never repeats the refused parts."""


def check_endpoint_url(url: str) -> str:
    """``url`` if it is a plain ``http(s)://host[:port][/path]``; else EndpointUrlError (one line).

    Why refuse rather than strip: an endpoint is stored with each execution (SQLite), shown in the
    window and written to logs and reports, so a secret inside it would leak everywhere; refusing tells
    the operator, who can then put the credentials where they belong (an AWS profile or the keyring).
    """
    shown = redact_endpoint_url(url)
    if "@" in url:  # a password may hold "/", so look at the whole URL, not only urlsplit's netloc
        raise EndpointUrlError(
            f"endpoint {shown} must not carry a user name or password: keep credentials in an AWS profile "
            "or the keyring, never in the URL"
        )
    if "?" in url or "#" in url:
        raise EndpointUrlError(
            f"endpoint {shown} must not carry a query string or fragment (tokens hide there): give "
            "scheme://host[:port][/path]"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        raise EndpointUrlError(f"endpoint {shown} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise EndpointUrlError(f"endpoint {shown} is not an http:// or https:// URL with a host")
    return url


def redact_endpoint_url(url: str) -> str:
    """``url`` as it may be shown or logged: user info, query string and fragment replaced by ``***``.

    Everything before the last ``@`` is hidden, whatever characters a password holds (``/``, ``?``, ...).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    hidden = "@" in rest
    if hidden:
        rest = rest.rpartition("@")[2]
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=-1)
    shown = f"{scheme}{sep}{'***@' if hidden else ''}{rest if cut < 0 else rest[:cut]}"
    if cut >= 0:
        shown += f"{rest[cut]}***"
    return shown


class CredentialCache:
    """The assumed-role credentials shared by every session built from one ``AwsTarget`` value (and the
    targets ``dataclasses.replace`` derives from it): one AssumeRole, and one MFA code, for all the
    gateways and threads of a run rather than one each. Filled by ``aws.assume_role``; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[tuple[object, ...], Any] = {}

    def __repr__(self) -> str:
        return "CredentialCache()"


@dataclass(frozen=True)
class AwsTarget:
    """One account/region to talk to. ``endpoint_url`` points DRS (and, when it is a loopback URL, STS
    too: the simulator serves GetCallerIdentity on the same port) somewhere other than AWS. ``role``:
    the credentials are the role's, assumed from its source profile (``profile`` is then unused)."""

    profile: str | None
    region: str
    endpoint_url: str | None = None
    credentials: AccessKeyPair | None = None
    role: RoleToAssume | None = None
    credential_cache: CredentialCache = field(default_factory=CredentialCache, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.region or not self.region.strip():
            raise ValueError("a region is required (DRS is regional)")
        if self.endpoint_url is not None:
            check_endpoint_url(self.endpoint_url)  # a secret in it would reach SQLite and the logs

    @property
    def is_local(self) -> bool:
        """True when the endpoint is a loopback URL (the simulator)."""
        return is_loopback_url(self.endpoint_url)

    def describe(self) -> str:
        """A log- and UI-safe one-liner: where, and which kind of credentials (never the secrets)."""
        if self.credentials is not None:
            who = f"keys {self.credentials.masked_key_id}"
        elif self.role is not None:
            who = f"role {self.role.role_arn} from profile {self.role.source_profile}"
        elif self.profile and (not self.is_local or profile_exists(self.profile)):
            who = f"profile {self.profile}"
        elif self.is_local:
            who = "simulator keys"
        else:
            who = f"profile {self.profile}" if self.profile else "default credentials"
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"{self.region} ({who}){where}"


def is_loopback_url(url: str | None) -> bool:
    """Whether ``url``'s host is localhost or a loopback address (127.0.0.0/8, ::1)."""
    if not url:
        return False
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def profile_exists(name: str) -> bool:
    """Whether profile ``name`` is in the AWS config or credentials file (read afresh)."""
    return bool(name) and name in config_files.full_config().get("profiles", {})


class _PathsOnce(list[str]):
    """A loader's search paths that keep each path once: every boto3 session appends boto3's own data
    path to its loader's, and the shared loader outlives thousands of sessions."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


_loader_lock = threading.Lock()
_loader: botocore.loaders.Loader | None = None


def shared_data_loader() -> botocore.loaders.Loader:
    """The process's botocore data loader, which every session ``make_session`` makes uses.

    Why: a new botocore session parses endpoints.json (1.2 MB) and each service model anew, 45-60 ms for
    a DRS client, most of it in ``json.loads``, one C call that holds the GIL throughout. A run across 10
    targets makes its sessions on the execution's loop thread while the GUI applies its first snapshots,
    and the GUI's event loop stalled for as long (tests/benchmarks/bench_progress.py --targets). Shared,
    each file is parsed once per process (a DRS client then takes 3-5 ms). What the loader returns is
    botocore's parsed data, which botocore reads and never changes; its cache is a dict, so two threads
    asking at once at worst parse a file twice. Extra model folders come from ``AWS_DATA_PATH`` (a
    ``data_path`` in a profile is not read).
    """
    global _loader
    with _loader_lock:
        if _loader is None:
            # AWS_DATA_PATH from the environment only: reading botocore's config variable would read the
            # AWS_PROFILE profile, and raise for every session when that profile does not exist.
            loader = botocore.loaders.create_loader(os.environ.get("AWS_DATA_PATH"))
            loader._search_paths = _PathsOnce(loader.search_paths)  # see _PathsOnce
            _loader = loader
        return _loader


def _core_session() -> botocore.session.Session:
    core = botocore.session.Session()
    core.register_component("data_loader", shared_data_loader())
    return core


def make_session(target: AwsTarget, *, mfa_prompter: MfaPrompter | None = None) -> boto3.session.Session:
    """A new boto3 session for ``target``; call it in the thread that will use it.

    Typed keys win; then a role (credentials assumed from its source profile and refreshed before they
    expire, ``aws.assume_role``; ``mfa_prompter`` gives the code of an MFA role at each AssumeRole);
    then, on a loopback endpoint (the simulator), a profile that exists in the AWS config files (the
    simulator tells accounts apart by access key) or else dummy keys (the demo: the profile may not exist
    on a demo machine); else the profile (or the default chain when it is None).
    Raises ``DrsAuthError`` for a profile that does not exist.
    """
    core = _core_session()
    if target.credentials is None and target.role is not None:
        credentials = role_credentials(target, mfa_prompter=mfa_prompter)
        core.get_component("credential_provider").insert_before("env", RoleProvider(credentials))
        logger.debug("New AWS session for %s", target.describe())
        return boto3.session.Session(botocore_session=core, region_name=target.region)
    kwargs: dict[str, Any] = {"region_name": target.region, "botocore_session": core}
    if target.credentials is not None:
        kwargs.update(
            aws_access_key_id=target.credentials.access_key_id,
            aws_secret_access_key=target.credentials.secret_access_key,
            aws_session_token=target.credentials.session_token,
        )
        if target.profile:
            kwargs["profile_name"] = target.profile
    elif target.is_local and not (target.profile and profile_exists(target.profile)):
        kwargs.update(aws_access_key_id=SIMULATOR_KEY, aws_secret_access_key=SIMULATOR_KEY)
    elif target.profile:
        kwargs["profile_name"] = target.profile
    try:
        session = boto3.session.Session(**kwargs)
        core.get_scoped_config()  # the profile's section: raises now for a profile that does not exist
    except ProfileNotFound as exc:
        named = repr(target.profile) if target.profile else f"{os.environ.get('AWS_PROFILE')!r} (AWS_PROFILE)"
        raise DrsAuthError(
            f"The AWS profile {named} does not exist in the AWS config files", code="ProfileNotFound"
        ) from exc
    logger.debug("New AWS session for %s", target.describe())
    return session


def role_credentials(target: AwsTarget, *, mfa_prompter: MfaPrompter | None = None) -> RoleCredentials:
    """The refreshable credentials of ``target.role``, shared through ``target.credential_cache`` (no
    network yet: the first request assumes the role)."""
    role = target.role
    if role is None:
        raise ValueError("the target assumes no role")
    cache = target.credential_cache
    key = (role, target.region, target.endpoint_url)
    with cache.lock:
        credentials = cache.entries.get(key)
        if not isinstance(credentials, RoleCredentials):
            source = AwsTarget(
                profile=role.source_profile, region=target.region, endpoint_url=target.endpoint_url
            )
            credentials = RoleCredentials(
                role, lambda retries: _source_sts(source, retries), prompter=mfa_prompter
            )
            cache.entries[key] = credentials
        elif mfa_prompter is not None:
            credentials.prompter = mfa_prompter
    return credentials


def _source_sts(source: AwsTarget, retries: bool) -> Any:
    """The STS client of a role's source profile, built afresh at each AssumeRole (in whichever thread
    refreshes: sessions are not shared across threads)."""
    assert source.profile is not None
    if not profile_exists(source.profile):
        raise DrsAuthError(
            f"The source profile {source.profile!r} of the role does not exist in the AWS config files",
            code="ProfileNotFound",
            operation="AssumeRole",
        )
    return sts_client(make_session(source), source, retries=retries)


def client_config(
    *,
    retries: bool,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    max_attempts: int = READ_MAX_ATTEMPTS,
) -> Config:
    """botocore client settings. ``retries=False``: exactly one attempt, whatever the environment says
    (``total_max_attempts`` wins over AWS_MAX_ATTEMPTS and the config files)."""
    attempts = max(1, max_attempts) if retries else 1
    return Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": attempts},
        user_agent_extra=USER_AGENT_EXTRA,
        tcp_keepalive=True,
    )


def drs_client(
    session: boto3.session.Session,
    target: AwsTarget,
    *,
    retries: bool,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    max_attempts: int = READ_MAX_ATTEMPTS,
) -> Any:
    """A DRS client on ``session``. Mutating calls that are not idempotent need ``retries=False``."""
    config = client_config(
        retries=retries, connect_timeout=connect_timeout, read_timeout=read_timeout, max_attempts=max_attempts
    )
    return session.client("drs", region_name=target.region, endpoint_url=target.endpoint_url, config=config)


def sts_client(
    session: boto3.session.Session,
    target: AwsTarget,
    *,
    retries: bool = True,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    max_attempts: int = READ_MAX_ATTEMPTS,
) -> Any:
    """An STS client. The DRS endpoint is reused only when it is a loopback URL (the simulator): a custom
    endpoint for real DRS (a VPC endpoint, say) does not serve STS."""
    config = client_config(
        retries=retries, connect_timeout=connect_timeout, read_timeout=read_timeout, max_attempts=max_attempts
    )
    endpoint = target.endpoint_url if target.is_local else None
    return session.client("sts", region_name=target.region, endpoint_url=endpoint, config=config)


# -- profiles ------------------------------------------------------------------------------------------


def is_sso_profile(name: str) -> bool:
    """Whether ``name`` signs in through IAM Identity Center (legacy ``sso_start_url`` or ``sso_session``)."""
    return bool(name) and config_files.signs_in_with_sso(config_files.profile_values(name))


def sso_login_hint(profile: str | None) -> str:
    """What to tell an operator whose SSO session expired."""
    if profile:
        return f"Sign in again: aws sso login --profile {profile}"
    return "Sign in again with aws sso login"
