"""Extended source servers: list what a staging account can extend into the recovery account, extend it.

DRS replicates at most 300 servers per account, so a large estate replicates into staging accounts and
recovers in one recovery account. A staging server becomes recoverable here once it is *extended*
(CreateExtendedSourceServer): a source server of this account that mirrors the staging server's
replication. A plan then names it by its ID in this account, like any other server.

ListStagingAccounts only lists accounts that already have extended servers here, so the first extension
from an account needs its ID typed: every function takes a staging account ID and checks it (12 digits)
before anything is sent.

``extend_servers`` sends one CreateExtendedSourceServer per server and reports one outcome per server: a
refusal fails that server alone, a server extended before is reported as such (no call is sent for it),
and an answer lost on the way (the call has no idempotency token) is settled by looking for the server
rather than by sending again. The recovery account's inventory is then refreshed, so the new servers
appear in the Servers pane and the plan editor. Shared by the CLI (``servers extensible``/``extend``) and
the GUI (``ExtendedServersService`` on the ``aws`` task thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.errors import DrsError, DrsOutcomeUnknown, DrsRejected
from drs_desktop.domain.drs.extended import (
    ExtendOutcome,
    ExtendReport,
    ExtendStatus,
    ExtensibleListing,
    ExtensibleServer,
    account_problem,
)
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.inventory import Inventory, SourceServer, account_of_server_arn, server_id_of_arn
from drs_desktop.services.connection import ConnectionResolver, MfaPrompter
from drs_desktop.services.inventory import refresh_inventory
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

__all__ = [
    "ExtendedServersService",
    "ExtensionGateway",
    "StagingAccountError",
    "extend_servers",
    "list_extensible",
    "staging_accounts",
]

Progress = Callable[[str], None]


class StagingAccountError(DrsDesktopError):
    """The staging account typed is not a 12-digit AWS account ID: nothing was sent."""


class ExtensionGateway(Protocol):
    """What this module needs of ``aws.drs.DrsGateway``."""

    def list_staging_accounts(self) -> list[str]: ...

    def list_extensible_source_servers(self, staging_account_id: str) -> list[ExtensibleServer]: ...

    def extended_source_servers(self, staging_account_ids: Sequence[str]) -> list[SourceServer]: ...

    def create_extended_source_server(
        self, source_server_arn: str, tags: Mapping[str, str] | None = None
    ) -> SourceServer: ...

    def inventory(self) -> Inventory: ...


def _quiet(_: str) -> None:
    return None


def checked_account(staging_account_id: str) -> str:
    """``staging_account_id`` stripped, or ``StagingAccountError`` when it is not 12 digits."""
    text = staging_account_id.strip()
    problem = account_problem(text)
    if problem:
        raise StagingAccountError(f"Staging account: {problem}")
    return text


def staging_accounts(gateway: ExtensionGateway) -> tuple[str, ...]:
    """The staging accounts DRS lists for this account (those with servers extended here already)."""
    return tuple(gateway.list_staging_accounts())


def list_extensible(gateway: ExtensionGateway, staging_account_id: str) -> ExtensibleListing:
    """The servers ``staging_account_id`` can extend into this account, and those already extended."""
    account = checked_account(staging_account_id)
    extensible = sorted(
        gateway.list_extensible_source_servers(account), key=lambda s: (s.hostname.casefold(), s.arn)
    )
    extended = sorted(
        (s for s in gateway.extended_source_servers([account]) if s.staging_account_id == account),
        key=lambda s: (s.hostname.casefold(), s.source_server_id),
    )
    return ExtensibleListing(
        staging_account_id=account, extensible=tuple(extensible), extended=tuple(extended)
    )


def extend_servers(
    db: Database,
    gateway: ExtensionGateway,
    staging_account_id: str,
    servers: Iterable[str],
    *,
    tags: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> ExtendReport:
    """Extend each of ``servers`` (staging server IDs ``s-...`` or ARNs) of ``staging_account_id`` into
    this account, then refresh this account's inventory. One outcome per server, in the order given."""
    report = progress or _quiet
    account = checked_account(staging_account_id)
    wanted = list(dict.fromkeys(s.strip() for s in servers if s.strip()))
    if not wanted:
        raise StagingAccountError("Choose at least one server to extend")
    report(f"Reading the extensible servers of staging account {account}…")
    listing = list_extensible(gateway, account)
    extensible = {s.source_server_id: s for s in listing.extensible}
    done = {s.staging_server_id: s for s in listing.extended}
    outcomes: list[ExtendOutcome] = []
    to_check: dict[int, DrsError] = {}  # outcome index -> the error to settle by looking for the server
    for position, name in enumerate(wanted, 1):
        server_id = server_id_of_arn(name) if name.startswith("arn:") else name
        owner = account_of_server_arn(name) if name.startswith("arn:") else account
        if not server_id or owner != account:
            why = f"not a source server of staging account {account}"
            outcomes.append(ExtendOutcome(staging_server_id=name, status=ExtendStatus.FAILED, message=why))
            continue
        if server_id in done:
            server = done[server_id]
            outcomes.append(
                ExtendOutcome(
                    staging_server_id=server_id,
                    status=ExtendStatus.ALREADY_EXTENDED,
                    arn=server.staging_source_server_arn,
                    hostname=server.hostname,
                    server=server,
                )
            )
            continue
        source = extensible.get(server_id)
        if source is None:
            why = f"not an extensible server of staging account {account} in this Region"
            outcomes.append(
                ExtendOutcome(staging_server_id=server_id, status=ExtendStatus.FAILED, message=why)
            )
            continue
        report(f"Extending {source.hostname or server_id} ({position} of {len(wanted)})…")
        base = ExtendOutcome(staging_server_id=server_id, status=ExtendStatus.FAILED, arn=source.arn)
        try:
            created = gateway.create_extended_source_server(source.arn, tags)
        except (DrsOutcomeUnknown, DrsRejected) as exc:
            # Lost answer: it may exist. Refused: maybe extended meanwhile (DRS says so with a
            # ValidationException). Either way, what DRS lists settles it.
            to_check[len(outcomes)] = exc
            outcomes.append(_outcome(base, source, ExtendStatus.UNKNOWN, str(exc)))
            continue
        except DrsError as exc:
            outcomes.append(_outcome(base, source, ExtendStatus.FAILED, str(exc)))
            continue
        outcomes.append(_outcome(base, source, ExtendStatus.EXTENDED, "", created))
    if to_check:
        outcomes = _settle(gateway, account, outcomes, to_check)
    for outcome in outcomes:
        logger.info("extend from %s: %s", account, outcome.describe())
    report(f"Reading the source servers of this account again ({len(outcomes)} asked)…")
    try:
        inventory: Inventory | None = refresh_inventory(db, gateway, progress=report)
        refresh_error = ""
    except DrsDesktopError as exc:
        inventory, refresh_error = None, str(exc)
        logger.warning("inventory refresh after extending failed: %s", exc)
    return ExtendReport(
        staging_account_id=account, outcomes=tuple(outcomes), inventory=inventory, refresh_error=refresh_error
    )


def _outcome(
    base: ExtendOutcome,
    source: ExtensibleServer,
    status: ExtendStatus,
    message: str,
    server: SourceServer | None = None,
) -> ExtendOutcome:
    return ExtendOutcome(
        staging_server_id=base.staging_server_id,
        status=status,
        arn=base.arn,
        hostname=source.hostname,
        server=server,
        message=message,
    )


def _settle(
    gateway: ExtensionGateway, account: str, outcomes: list[ExtendOutcome], to_check: dict[int, DrsError]
) -> list[ExtendOutcome]:
    """Outcomes of calls that were refused or whose answer was lost, settled by what DRS lists now."""
    try:
        extended = {s.staging_source_server_arn: s for s in gateway.extended_source_servers([account])}
    except DrsError as exc:
        logger.warning("could not look for the servers whose extension is unclear: %s", exc)
        return [
            _with(
                o, ExtendStatus.UNKNOWN if isinstance(to_check[i], DrsOutcomeUnknown) else ExtendStatus.FAILED
            )
            if i in to_check
            else o
            for i, o in enumerate(outcomes)
        ]
    settled = list(outcomes)
    for index, error in to_check.items():
        outcome = outcomes[index]
        server = extended.get(outcome.arn)
        if server is None:  # not there: DRS did not make it, whatever the answer was
            settled[index] = _with(outcome, ExtendStatus.FAILED)
        elif isinstance(error, DrsOutcomeUnknown):  # the call made it; its answer was lost
            settled[index] = _with(outcome, ExtendStatus.EXTENDED, server=server, message="")
        else:  # refused because it was extended meanwhile (another operator, another window)
            settled[index] = _with(outcome, ExtendStatus.ALREADY_EXTENDED, server=server, message="")
    return settled


def _with(
    outcome: ExtendOutcome,
    status: ExtendStatus,
    *,
    server: SourceServer | None = None,
    message: str | None = None,
) -> ExtendOutcome:
    return ExtendOutcome(
        staging_server_id=outcome.staging_server_id,
        status=status,
        arn=outcome.arn,
        hostname=outcome.hostname,
        server=server if server is not None else outcome.server,
        message=outcome.message if message is None else message,
    )


class ExtendTargetChanged(DrsDesktopError):
    """The servers to extend were listed for another target than the one in force now."""


class ExtendedServersService:
    """The extend use cases for the one thread that owns it (the GUI's ``aws`` task thread): its own
    ``DrsGateway`` for the target in force, made on first use, closed by ``close`` on that thread."""

    def __init__(
        self,
        db: Database,
        resolver: ConnectionResolver,
        *,
        gateway_factory: Callable[[AwsTarget], DrsGateway] = DrsGateway,
    ) -> None:
        self._db = db
        self._resolver = resolver
        self._gateway_factory = gateway_factory
        self._drs: DrsGateway | None = None
        self._listed: AwsTarget | None = None  # where the servers the operator chooses from were listed

    def staging_accounts(self, mfa_prompter: MfaPrompter | None = None) -> tuple[str, ...]:
        return staging_accounts(self._gateway(mfa_prompter))

    def extensible(
        self, staging_account_id: str, mfa_prompter: MfaPrompter | None = None
    ) -> ExtensibleListing:
        account = checked_account(staging_account_id)  # before the target: a typo needs no keyring or MFA
        gateway = self._gateway(mfa_prompter)
        self._listed = gateway.target
        return list_extensible(gateway, account)

    def extend(
        self,
        staging_account_id: str,
        servers: Sequence[str],
        progress: Progress | None = None,
        mfa_prompter: MfaPrompter | None = None,
    ) -> ExtendReport:
        account = checked_account(staging_account_id)
        gateway = self._gateway(mfa_prompter)
        if self._listed is None or gateway.target != self._listed:
            # The application moved to another target since the list was shown (a switch queued before
            # this task): extending now would create the servers in an account nobody chose.
            raise ExtendTargetChanged(
                "DRS Desktop is connected to another target than the one these servers were listed for: "
                "list the staging account's servers again"
            )
        return extend_servers(self._db, gateway, account, servers, progress=progress)

    def close(self) -> None:
        gateway, self._drs = self._drs, None
        if gateway is not None:
            gateway.close()

    def _gateway(self, mfa_prompter: MfaPrompter | None) -> DrsGateway:
        target = self._resolver.target(mfa_prompter)
        if self._drs is None or self._drs.target != target:
            if self._drs is not None:
                self._drs.close()
            self._drs = self._gateway_factory(target)
        return self._drs
