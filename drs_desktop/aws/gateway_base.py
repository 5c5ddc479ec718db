"""What every typed AWS gateway of the app shares: its target, resolved late, and its clients' settings.

``DrsGateway`` and ``Ec2Gateway`` talk to one ``AwsTarget`` each, with the same knobs (botocore's attempt
budget for reads, timeouts, a page size, an MFA prompter) and the same rule for the target: a callable is
resolved on first use, on the calling (worker) thread, since building a target may read the keyring or
ask for an MFA code, which the GUI thread must never wait for. The boto3 session and clients stay the
subclass's own (DRS keeps three clients, EC2 one per gateway); this base builds them the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypedDict, Unpack

from drs_desktop.aws import session as aws_session
from drs_desktop.aws.services import USED
from drs_desktop.aws.session import AwsTarget, MfaPrompter


class GatewaySettings(TypedDict, total=False):
    """The settings every gateway takes by keyword (its own attempt budget and client factory aside)."""

    connect_timeout: float
    read_timeout: float
    page_size: int | None
    mfa_prompter: MfaPrompter | None


class GatewayBase:
    """The target and client settings of one gateway (which belongs to one thread, DESIGN §3.5).

    ``max_attempts`` is botocore's attempt budget for read calls (1 turns its retries off);
    ``page_size`` sets the page size of listings (None: the service's default); ``connect_timeout`` and
    ``read_timeout`` are seconds (``aws.session``'s defaults); ``mfa_prompter`` is asked for a code each
    time a target's MFA role is assumed (``aws.assume_role``)."""

    def __init__(
        self,
        target: AwsTarget | Callable[[], AwsTarget],
        *,
        max_attempts: int = aws_session.READ_MAX_ATTEMPTS,
        **settings: Unpack[GatewaySettings],
    ) -> None:
        page_size = settings.get("page_size")
        if page_size is not None and page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._target_source = target
        self._resolved: AwsTarget | None = target if isinstance(target, AwsTarget) else None
        self._resolve_lock = threading.Lock()
        self._max_attempts = max(1, max_attempts)
        self._connect_timeout = settings.get("connect_timeout", aws_session.CONNECT_TIMEOUT)
        self._read_timeout = settings.get("read_timeout", aws_session.READ_TIMEOUT)
        self._page_size = page_size
        self._mfa_prompter = settings.get("mfa_prompter")

    @property
    def read_timeout(self) -> float:
        """Seconds a client waits for an answer: past it, a call's outcome is unknown."""
        return self._read_timeout

    @property
    def target(self) -> AwsTarget:
        if self._resolved is None:
            with self._resolve_lock:
                if self._resolved is None:
                    source = self._target_source
                    self._resolved = source if isinstance(source, AwsTarget) else source()
        return self._resolved

    def settings(self) -> GatewaySettings:
        """The keyword arguments that build a gateway of the same settings (another thread's, another
        Region's): ``type(self)(target, **self.settings())``."""
        return GatewaySettings(
            connect_timeout=self._connect_timeout,
            read_timeout=self._read_timeout,
            page_size=self._page_size,
            mfa_prompter=self._mfa_prompter,
        )

    def __repr__(self) -> str:
        name = type(self).__name__
        if self._resolved is None:
            return f"{name}(target not resolved yet)"
        return f"{name}({self._resolved.describe()})"

    def _new_session(self) -> Any:
        """A boto3 session with the target's credentials (a role assumed, an SSO profile, typed keys)."""
        return aws_session.make_session(self.target, mfa_prompter=self._mfa_prompter)

    def _new_client(
        self, session: Any, service: str, *, retries: bool, region: str | None = None, local_only: bool
    ) -> Any:
        """A boto3 client of ``service`` with this gateway's timeouts and attempt budget (one attempt
        when ``retries`` is False). The target's endpoint serves it when the service is the endpoint's
        own, or (``local_only``) only when the endpoint is a loopback URL: the simulator serves every
        service the app calls, a custom endpoint for real DRS (a VPC endpoint) serves DRS only."""
        if service not in USED:  # the bundle carries botocore's models of these only (``aws.services``)
            raise ValueError(f"{service!r} is not a service the app calls: add it to aws.services.USED")
        target = self.target
        config = aws_session.client_config(
            retries=retries,
            connect_timeout=self._connect_timeout,
            read_timeout=self._read_timeout,
            max_attempts=self._max_attempts,
        )
        endpoint = target.endpoint_url if (target.is_local or not local_only) else None
        return session.client(
            service, region_name=region or target.region, endpoint_url=endpoint, config=config
        )
