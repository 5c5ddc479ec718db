"""Who is calling: the SigV4 credential scope, access keys mapped to accounts, roles and STS sessions.

The simulator never verifies a signature: it reads the ``Authorization`` header's credential scope
(``Credential=KEY/DATE/REGION/SERVICE/aws4_request``) for the access key ID and the region. A key the
scenario maps (exactly, or by a prefix ending in ``*``) reaches that account; a session key this
simulator issued (AssumeRole) reaches the role's account until it expires on the VIRTUAL clock; any other
key reaches the default account, so clients signing with arbitrary keys keep working.

The ``Expiration`` an AssumeRole answer carries is in REAL time, because botocore decides when to refresh
by comparing it with the machine's clock: ``real now + remaining virtual seconds / scale`` on a running
clock, ``real now + remaining virtual seconds`` on a manual or frozen one (which real time never moves).
So on a running clock botocore refreshes before the simulator expires the session, as against AWS;
moving the virtual clock by hand (``advance``) past the expiry expires it early, like a laptop that slept.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from drs_desktop.simulator.clock import VirtualClock
from drs_desktop.simulator.ids import stable_hex
from drs_desktop.simulator.scenario import AccountSpec, RoleSpec, Scenario
from drs_desktop.simulator.scenario_accounts import ROLE_NAME_RE

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[0-9]{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_ROLE_ARN = re.compile(r"^arn:aws:iam::([0-9]{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$")
DEFAULT_USER = "drs-desktop-simulator"
#: A session assumed with another session's credentials (role chaining) lasts one hour at most (IAM).
CHAINED_SESSION_SECONDS = 3600


@dataclass(frozen=True)
class Credential:
    """What a request says about its signer: access key ID, region and service of the scope, token."""

    access_key: str | None = None
    region: str | None = None
    service: str | None = None
    token: str | None = None


def credential_of(headers: Mapping[str, str], query: Mapping[str, list[str]]) -> Credential:
    """The SigV4 credential of a request (lower-case ``headers``), from the header or a presigned URL."""
    scope = headers.get("authorization", "")
    token = headers.get("x-amz-security-token")
    if not scope and "X-Amz-Credential" in query:
        scope = "Credential=" + query["X-Amz-Credential"][0]
        token = token or next(iter(query.get("X-Amz-Security-Token", [])), None)
    match = _CREDENTIAL.search(scope)
    if match is None:
        return Credential(token=token)
    return Credential(match.group(1), match.group(2), match.group(3), token)


class AuthError(Exception):
    """A refused caller or AssumeRole, with STS's code (``ExpiredToken``, ``AccessDenied``...)."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass
class Session:
    """Temporary credentials AssumeRole issued; they expire at ``expires_ts`` on the virtual clock."""

    access_key: str
    secret_key: str
    token: str
    account_id: str
    role_arn: str
    arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session name>
    role_id: str  # AROA...:<session name>
    issued_ts: float
    expires_ts: float
    expiration_real: float  # what the answer told the client (real POSIX seconds)

    def document(self, now: float) -> dict[str, object]:
        return {
            "access_key_id": self.access_key,
            "account_id": self.account_id,
            "arn": self.arn,
            "expires": datetime.fromtimestamp(self.expires_ts, UTC).isoformat(),
            "expired": now >= self.expires_ts,
        }


@dataclass(frozen=True)
class Principal:
    """The caller behind a request: its account, and the session when it signed with one."""

    account_id: str
    arn: str
    user_id: str
    session: Session | None = None


class Identities:
    """Access keys, roles and sessions of a scenario; thread-safe."""

    def __init__(self, scenario: Scenario, clock: VirtualClock, *, default_identity_arn: str) -> None:
        self.scenario = scenario
        self.clock = clock
        self.default_account = scenario.account_id
        self._default_arn = default_identity_arn
        self.accounts: dict[str, AccountSpec] = {a.account_id: a for a in scenario.accounts}
        self._exact: dict[str, str] = {}
        self._prefixes: list[tuple[str, str]] = []
        #: A user's keys (``accounts[].users``): the key (or prefix) -> the user's ARN.
        self._user_arns: dict[str, str] = {}
        for account in scenario.accounts:
            keys = [(key, "") for key in account.access_keys]
            for user in account.users:
                arn = f"arn:aws:iam::{account.account_id}:user/{user.name}"
                keys.extend((key, arn) for key in user.access_keys)
            for key, arn in keys:
                if arn:
                    self._user_arns[key.rstrip("*")] = arn
                if key.endswith("*"):
                    self._prefixes.append((key[:-1], account.account_id))
                else:
                    self._exact[key] = account.account_id
        self._prefixes.sort(key=lambda p: len(p[0]), reverse=True)  # the longest prefix wins
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._issued = 0

    # -- callers ---------------------------------------------------------------------------------

    def account_of_key(self, access_key: str | None) -> str:
        """The account a long-term key reaches (sessions aside): mapped, else the default account."""
        return self._key_match(access_key)[0]

    def _key_match(self, access_key: str | None) -> tuple[str, str]:
        """(account, the matched key or prefix) of a long-term key; the default account and "" if none."""
        if access_key:
            if access_key in self._exact:
                return self._exact[access_key], access_key
            for prefix, account in self._prefixes:
                if access_key.startswith(prefix):
                    return account, prefix
        return self.default_account, ""

    def principal(self, credential: Credential) -> Principal:
        """The caller of a request; AuthError ``ExpiredToken`` once its session expired (virtual clock),
        ``InvalidClientTokenId`` when a session key comes without its token or with another one."""
        key = credential.access_key
        with self._lock:
            session = self._sessions.get(key) if key else None
        if session is not None:
            # A temporary key is only valid with its own token: without it, or with another, AWS refuses.
            if credential.token != session.token:
                raise AuthError(
                    "InvalidClientTokenId", "The security token included in the request is invalid."
                )
            if self.clock.now_ts() >= session.expires_ts:
                raise AuthError("ExpiredToken", "The security token included in the request is expired")
            return Principal(session.account_id, session.arn, session.role_id, session)
        account, matched = self._key_match(key)
        arn = self._user_arns.get(matched) or self._user_arn(account)
        return Principal(account, arn, "AIDA" + stable_hex(arn, length=17).upper())

    def _user_arn(self, account_id: str) -> str:
        spec = self.accounts.get(account_id)
        if spec is not None and spec.identity_arn:
            return spec.identity_arn
        if account_id == self.default_account:
            return self._default_arn
        return f"arn:aws:iam::{account_id}:user/{DEFAULT_USER}"

    # -- AssumeRole ------------------------------------------------------------------------------

    def assume_role(self, caller: Principal, params: Mapping[str, str]) -> Session:
        """STS AssumeRole: check the role, its external ID and MFA, then issue a session."""
        role_arn = params.get("RoleArn", "")
        session_name = params.get("RoleSessionName", "")
        if not role_arn or not session_name:
            missing = "roleArn" if not role_arn else "roleSessionName"
            raise AuthError(
                "ValidationError",
                f"1 validation error detected: Value null at '{missing}' failed to satisfy constraint: "
                "Member must not be null",
                400,
            )
        if not ROLE_NAME_RE.match(session_name) or len(session_name) < 2:
            raise AuthError(
                "ValidationError",
                f"1 validation error detected: Value '{session_name}' at 'roleSessionName' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
                400,
            )
        duration = self._duration(params.get("DurationSeconds"))
        denied = AuthError(
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        )
        role = self._role(role_arn)
        if role is None:
            raise denied
        account_id, spec = role
        if spec.external_id is not None and params.get("ExternalId") != spec.external_id:
            raise denied
        if spec.mfa_serial is not None:
            if params.get("SerialNumber") != spec.mfa_serial or not params.get("TokenCode"):
                raise denied
            if params["TokenCode"] != spec.mfa_code:
                raise AuthError(
                    "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. "
                )
        if caller.session is not None and duration > CHAINED_SESSION_SECONDS:
            # Role chaining (the caller signs with a session STS issued): one hour at most, whatever the
            # role's MaxSessionDuration; STS's ValidationError, as botocore users report it verbatim.
            raise AuthError(
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
                "role chaining.",
                400,
            )
        if duration > spec.max_session_seconds:
            raise AuthError(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
                400,
            )
        return self._issue(account_id, role_arn, spec, session_name, duration)

    def _duration(self, text: str | None) -> int:
        if text is None or text == "":
            return 3600
        try:
            value = int(text)
        except ValueError:
            value = -1
        if not 900 <= value <= 43200:
            bound = "greater than or equal to 900" if value < 900 else "less than or equal to 43200"
            raise AuthError(
                "ValidationError",
                f"1 validation error detected: Value '{text}' at 'durationSeconds' failed to satisfy "
                f"constraint: Member must have value {bound}",
                400,
            )
        return value

    def _role(self, role_arn: str) -> tuple[str, RoleSpec] | None:
        match = _ROLE_ARN.match(role_arn)
        if match is None or match.group(1) not in self.accounts:
            return None
        account = self.accounts[match.group(1)]
        spec = next((r for r in account.roles if r.name == match.group(2)), None)
        return None if spec is None else (account.account_id, spec)

    def _issue(self, account_id: str, role_arn: str, role: RoleSpec, name: str, duration: int) -> Session:
        now = self.clock.now_ts()
        with self._lock:
            self._issued += 1
            n = self._issued
        digest = stable_hex(self.scenario.seed, role_arn, name, now, n, length=32).upper()
        scale = self.clock.scale
        rate = scale if scale else 1.0  # manual (None) or frozen (0): as if it ran in real time
        session = Session(
            access_key="ASIA" + digest[:16],
            secret_key=stable_hex("secret", digest, length=40),
            token="FwoGZXIvYXdzE" + stable_hex("token", digest, length=120),
            account_id=account_id,
            role_arn=role_arn,
            arn=f"arn:aws:sts::{account_id}:assumed-role/{role.name}/{name}",
            role_id=f"AROA{stable_hex(role_arn, length=17).upper()}:{name}",
            issued_ts=now,
            expires_ts=now + duration,
            expiration_real=time.time() + duration / rate,
        )
        with self._lock:
            self._sessions[session.access_key] = session
        return session

    # -- control ---------------------------------------------------------------------------------

    def expire(self, access_key: str | None = None) -> list[str]:
        """Expire one session (or every one) now on the virtual clock; the keys expired."""
        now = self.clock.now_ts()
        with self._lock:
            chosen = [s for k, s in self._sessions.items() if access_key in (None, k)]
            for session in chosen:
                session.expires_ts = min(session.expires_ts, now)
        if access_key is not None and not chosen:
            raise KeyError(access_key)
        return [s.access_key for s in chosen]

    def sessions(self) -> list[Session]:
        with self._lock:
            return list(self._sessions.values())
