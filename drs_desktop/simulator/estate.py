"""``Estate``: every (account, region) world of a scenario on one virtual clock, and who answers a request.

A single-account scenario is one world (the ``DrsBackend`` it always was) that answers every request,
whatever its key or region. A scenario with ``accounts:`` builds one ``DrsBackend`` per account and
region, each with its own servers, jobs, instances, plans, IDs, ARNs, quotas and counters, so the limits
of one account never touch another's. A request's account comes from its access key (``identities``),
its region from the SigV4 credential scope. Real DRS can be initialized in any region, so a region the
account's scenario does not list gets an empty world, uninitialized, at its first request: it answers
UninitializedAccountException, as DRS does in a region nobody initialized, until InitializeService, after
which it answers with no servers.

The default account's default region keeps the scenario's seed (its IDs are those a single-account run
would draw); every other world draws from a seed derived from (seed, account, region).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from drs_desktop.simulator import errors, sts
from drs_desktop.simulator.backend import DrsBackend, ScenarioSource
from drs_desktop.simulator.clock import VirtualClock
from drs_desktop.simulator.contract import SimulatorError, TransportFault
from drs_desktop.simulator.ec2_network import Network
from drs_desktop.simulator.ec2_sources import SourceInstance, place_sources
from drs_desktop.simulator.extended import EXTENSION_OPERATIONS, MIRRORED_OPERATIONS, Extensions
from drs_desktop.simulator.identities import (
    AuthError,
    Credential,
    Identities,
    Principal,
    Session,
    credential_of,
)
from drs_desktop.simulator.ids import stable_hex
from drs_desktop.simulator.protocol import HttpResponse
from drs_desktop.simulator.scenario import AccountSpec, FaultSpec, FleetSpec, Scenario
from drs_desktop.simulator.scenario_schema import load_scenario
from drs_desktop.simulator.sns import SnsTopics

logger = logging.getLogger(__name__)
#: What an AWS region name looks like (us-east-1, ap-southeast-2, us-gov-west-1).
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")

#: DRS's REST-JSON error types for refused credentials (``x-amzn-ErrorType``), HTTP 403.
REST_AUTH_ERRORS = {
    "ExpiredToken": "ExpiredTokenException",
    "InvalidClientTokenId": "UnrecognizedClientException",
}


@dataclass(frozen=True)
class Target:
    """One request's world: the backend of (account, region) and the principal calling it. It is the
    server's ``contract.Backend`` for that request; the cross-account operations go to ``Extensions``."""

    estate: Estate
    backend: DrsBackend
    account_id: str
    region: str
    principal: Principal

    @property
    def clock(self) -> VirtualClock:
        return self.backend.clock

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.estate.multi and operation in EXTENSION_OPERATIONS:
            return self.estate.extensions.handle(self, operation, params)
        if self.estate.multi and operation in MIRRORED_OPERATIONS:
            # Extended servers share their staging server's replication: read it now (extended.py).
            self.estate.extensions.mirror(self)
        return self.backend.handle(operation, params)

    def transport_fault(self, operation: str) -> TransportFault | None:
        return self.backend.transport_fault(operation)

    def caller_identity(self) -> dict[str, str]:
        return self.estate.caller_identity(self.principal)


class Estate:
    """The worlds of a scenario. ``default`` is the default account's default region (``sim.backend``)."""

    def __init__(
        self,
        scenario: ScenarioSource = None,
        *,
        seed: int | None = None,
        clock: VirtualClock | None = None,
        world: DrsBackend | None = None,
    ) -> None:
        """``world``: an existing single-account backend to serve (its scenario and clock), not a new one."""
        if world is not None:
            scenario, clock = world.scenario, world.clock
        self.scenario: Scenario = load_scenario(scenario)
        self.seed = self.scenario.seed if seed is None else seed
        self.clock = clock if clock is not None else VirtualClock(self.scenario.start_time)
        self.multi = bool(self.scenario.accounts)
        self.worlds: dict[tuple[str, str], DrsBackend] = {}
        self._uninitialized_lock = threading.Lock()
        if not self.multi:
            self.default = world or DrsBackend(self.scenario, seed=seed, clock=self.clock)
            self.worlds[(self.scenario.account_id, self.scenario.region)] = self.default
        else:
            for account in self.scenario.accounts:
                for region in account.regions:
                    self.worlds[(account.account_id, region)] = self._world(account, region)
            self.default = self.worlds[(self.scenario.account_id, self.scenario.region)]
        self.identities = Identities(
            self.scenario, self.clock, default_identity_arn=self.default.caller_identity()["Arn"]
        )
        self.extensions = Extensions(self)
        #: SNS topics of every account and what was published to them (``simulator/sns.py``).
        self.sns = SnsTopics()
        for topic in self.scenario.sns_topics:
            self.sns.add_topic(topic.arn, publishers=topic.publishers, display_name=topic.display_name)
        if self.multi:
            self.extensions.extend_from_scenario()
        #: A single-account scenario's EC2 in a Region other than its own, made for the AWS-hosted
        #: servers whose instances run there (``ec2_sources.place_sources``); DRS still answers from
        #: ``default`` in every Region.
        self.ec2_worlds: dict[tuple[str, str], DrsBackend] = {}
        for (account_id, region), backend in list(self.worlds.items()):
            place_sources(backend.world.replicated, (account_id, region), self._origin_world)

    def _world(self, account: AccountSpec, region: str) -> DrsBackend:
        """The world of a region the account lists; any other region is an empty, uninitialized one."""
        s = self.scenario
        is_default = (account.account_id, region) == (s.account_id, s.region)
        listed = region in account.regions
        derived = replace(
            s,
            account_id=account.account_id,
            region=region,
            fleet=account.regions[region] if listed else FleetSpec(),
            quotas=account.quotas,
            identity_arn=account.identity_arn,
            initialized=account.initialized and listed,
            accounts=(),
            # The scenario's faults and outside jobs are the default world's; others start clean.
            faults=s.faults if is_default else FaultSpec(),
            outside_jobs=s.outside_jobs if is_default else (),
        )
        seed = (
            self.seed if is_default else int(stable_hex(self.seed, account.account_id, region, length=12), 16)
        )
        return DrsBackend(derived, seed=seed, clock=self.clock)

    def _origin_world(self, account_id: str, region: str) -> tuple[Network, dict[str, SourceInstance]] | None:
        """The network and listed instances of the EC2 world of (account, Region), made when missing; None
        for an account the scenario does not serve (nothing answers for it)."""
        backend = self.ec2_backend(account_id, region)
        return None if backend is None else (backend.world.network, backend.world.sources)

    def ec2_backend(self, account_id: str, region: str) -> DrsBackend | None:
        """The world whose EC2 answers (account, Region): a DRS world of the estate (a Region an account
        does not list gets its empty one, as at a first request), or for a single-account scenario its
        world in its own Region and an EC2 world of its own in any other; None for an account the
        scenario does not serve."""
        if self.multi:
            if (account_id, region) in self.worlds:
                return self.worlds[(account_id, region)]
            return self._unlisted_region(account_id, region) if self.account(account_id) else None
        if account_id != self.scenario.account_id:
            return None
        if region == self.scenario.region:
            return self.default
        backend = self.ec2_worlds.get((account_id, region))
        if backend is None:
            s = self.scenario
            derived = replace(s, region=region, fleet=FleetSpec(), faults=FaultSpec(), outside_jobs=())
            seed = int(stable_hex(self.seed, account_id, region, "ec2", length=12), 16)
            backend = DrsBackend(derived, seed=seed, clock=self.clock)
            self.ec2_worlds[(account_id, region)] = backend
        return backend

    # -- who answers ------------------------------------------------------------------------------

    def account(self, account_id: str) -> AccountSpec | None:
        return self.identities.accounts.get(account_id)

    def backend(self, account_id: str | None = None, region: str | None = None) -> DrsBackend:
        """The world of (account, region); the default account and region when not given. KeyError if
        the scenario has no such world."""
        return self.worlds[(account_id or self.scenario.account_id, region or self.scenario.region)]

    def target(self, headers: Mapping[str, str], query: Mapping[str, list[str]]) -> Target:
        """The world that answers a DRS request, or a SimulatorError (expired or foreign session token,
        a region the account has not initialized)."""
        credential = credential_of(headers, query)
        try:
            principal = self.identities.principal(credential)
        except AuthError as exc:
            raise SimulatorError(REST_AUTH_ERRORS.get(exc.code, exc.code), exc.message, status=403) from None
        return self._target(principal, credential)

    def ec2_target(self, headers: Mapping[str, str], query: Mapping[str, list[str]]) -> Target:
        """The world that answers an EC2 request: DRS's (``target``), except in a single-account
        scenario's other Regions that hold AWS-hosted servers' instances (``ec2_worlds``)."""
        target = self.target(headers, query)
        if self.multi:
            return target
        region = credential_of(headers, query).region or ""
        backend = self.ec2_worlds.get((target.account_id, region))
        return target if backend is None else replace(target, backend=backend, region=region)

    def _target(self, principal: Principal, credential: Credential) -> Target:
        if not self.multi:
            return Target(self, self.default, self.scenario.account_id, self.scenario.region, principal)
        region = credential.region or self.scenario.region
        backend = self.worlds.get((principal.account_id, region))
        if backend is None:
            backend = self._unlisted_region(principal.account_id, region)
        return Target(self, backend, principal.account_id, region, principal)

    def _unlisted_region(self, account_id: str, region: str) -> DrsBackend:
        """An empty, uninitialized world for a region the account's scenario does not list, made once."""
        account = self.account(account_id)
        if account is None or not _REGION.match(region):
            raise errors.uninitialized()
        with self._uninitialized_lock:
            backend = self.worlds.get((account_id, region))
            if backend is None:
                backend = self._world(account, region)
                self.worlds[(account_id, region)] = backend
                logger.info("Account %s: region %s, not in the scenario, starts empty", account_id, region)
            return backend

    def sts(
        self,
        form: dict[str, list[str]],
        headers: Mapping[str, str],
        query: Mapping[str, list[str]],
        request_id: str,
    ) -> HttpResponse:
        """STS GetCallerIdentity and AssumeRole for the caller of this request."""
        credential = credential_of(headers, query)

        def identity() -> dict[str, str]:
            return self.caller_identity(self.identities.principal(credential))

        def assume(params: dict[str, str]) -> Session:
            return self.identities.assume_role(self.identities.principal(credential), params)

        return sts.respond(form, request_id, identity, assume)

    def caller_identity(self, principal: Principal) -> dict[str, str]:
        return {"Account": principal.account_id, "Arn": principal.arn, "UserId": principal.user_id}

    # -- inspection (tests, the control API) ---------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        """Every account: its regions with their server counts, staging accounts, roles and keys."""
        out = []
        accounts = self.scenario.accounts or ()
        if not self.multi:
            return [
                {
                    "account_id": self.scenario.account_id,
                    "name": "default",
                    "default": True,
                    "regions": {self.scenario.region: len(self.default.world.servers)},
                    "staging_accounts": list(self.scenario.fleet.staging_accounts),
                    "roles": [],
                    "access_keys": [],
                }
            ]
        for account in accounts:
            regions = {
                region: len(backend.world.servers)
                for (owner, region), backend in list(self.worlds.items())
                if owner == account.account_id
            }
            out.append(
                {
                    "account_id": account.account_id,
                    "name": account.name,
                    "default": account.account_id == self.scenario.account_id,
                    "regions": regions,
                    "staging_accounts": list(account.staging_accounts),
                    "roles": [
                        {
                            "arn": f"arn:aws:iam::{account.account_id}:role/{r.name}",
                            "external_id": r.external_id is not None,
                            "mfa_serial": r.mfa_serial,
                        }
                        for r in account.roles
                    ],
                    "access_keys": list(account.access_keys),
                }
            )
        return out
