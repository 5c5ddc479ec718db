"""The ``accounts:`` list of a scenario: several accounts, their regions, keys, roles and staging accounts.

Read with the same ``Node`` as the rest of the document (every error names the key path). The fleet and
quota readers come from ``scenario_schema`` as arguments, so this module never imports that one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from drs_desktop.simulator.scenario import (
    AccountSpec,
    ExtendSpec,
    FleetSpec,
    Quotas,
    RoleSpec,
    Scenario,
    ScenarioError,
    UserSpec,
)
from drs_desktop.simulator.scenario_node import ACCOUNT_RE, REGION_RE, Node

#: IAM role and role-session names: ``[\w+=,.@-]``, 1-64 characters.
ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
#: An access key ID, or a prefix of one ending in ``*``.
ACCESS_KEY_RE = re.compile(r"^[A-Z0-9]{4,128}\*?$")
MFA_SERIAL_RE = re.compile(r"^arn:aws:iam::[0-9]{12}:mfa/[\w+=,.@-]{1,64}$")
MFA_CODE_RE = re.compile(r"^[0-9]{6}$")


def read_accounts(
    root: Node,
    quotas: Quotas,
    *,
    fleet: Callable[[Node], FleetSpec],
    quotas_reader: Callable[[Node, Quotas], Quotas],
) -> tuple[AccountSpec, ...]:
    """The scenario's accounts (empty for the single-account shape); ``quotas`` are the top-level ones,
    which each account's ``quotas`` override key by key."""
    if not root.has("accounts"):
        return ()
    nodes = root.items("accounts")
    if not nodes:
        raise root.error("accounts", "must list at least one account")
    default_region = root.text("region", "us-east-1", pattern=REGION_RE) or "us-east-1"
    return tuple(_account(n, quotas, default_region, fleet, quotas_reader) for n in nodes)


def _account(
    node: Node,
    base_quotas: Quotas,
    default_region: str,
    fleet: Callable[[Node], FleetSpec],
    quotas_reader: Callable[[Node, Quotas], Quotas],
) -> AccountSpec:
    account_id = node.text("id", pattern=ACCOUNT_RE)
    if account_id is None:
        raise node.error("id", "is required (the 12-digit account ID)")
    account_fleet = fleet(node.child("fleet"))
    regions = _regions(node, account_fleet, default_region, fleet)
    for region, region_fleet in regions.items():
        if region_fleet.staging_accounts:
            raise node.error(
                f"regions.{region}.fleet.staging_accounts"
                if node.has("regions")
                else "fleet.staging_accounts",
                "list staging accounts on the account (accounts[].staging_accounts), as real accounts",
            )
    keys = node.strings("access_keys")
    for i, key in enumerate(keys):
        if not ACCESS_KEY_RE.match(key):
            raise node.error(f"access_keys[{i}]", f"{key!r} is not an access key ID or a prefix ending in *")
    staging = node.strings("staging_accounts")
    for i, other in enumerate(staging):
        if not ACCOUNT_RE.match(other):
            raise node.error(f"staging_accounts[{i}]", f"must be a 12-digit account ID, got {other!r}")
    extended = []
    for e in node.items("extended"):
        staging_account = e.text("staging_account", pattern=ACCOUNT_RE)
        if staging_account is None:
            raise e.error("staging_account", "is required")
        if staging_account not in staging:
            raise e.error("staging_account", f"{staging_account} is not in this account's staging_accounts")
        extended.append(ExtendSpec(staging_account, e.number("fraction", 1.0, high=1.0)))
        e.finish()
    spec = AccountSpec(
        account_id=account_id,
        name=node.text("name", f"account-{account_id}") or account_id,
        regions=regions,
        access_keys=keys,
        identity_arn=node.text("identity_arn"),
        quotas=quotas_reader(node.child("quotas"), base_quotas),
        staging_accounts=staging,
        extended=tuple(extended),
        roles=tuple(_role(r, account_id) for r in node.items("roles")),
        initialized=node.flag("initialized", True),
        users=tuple(_user(u) for u in node.items("users")),
    )
    users = [u.name for u in spec.users]
    if len(set(users)) != len(users):
        raise node.error("users", "user names must be unique in an account")
    names = [r.name for r in spec.roles]
    if len(set(names)) != len(names):
        raise node.error("roles", "role names must be unique in an account")
    node.finish()
    return spec


def _regions(
    node: Node, account_fleet: FleetSpec, default_region: str, fleet: Callable[[Node], FleetSpec]
) -> dict[str, FleetSpec]:
    """``regions: [a, b]`` (each with the account's fleet) or ``regions: {a: {fleet: ...}, b: {}}``."""
    raw = node.data.get("regions")
    if raw is None:
        node.raw("regions")
        return {default_region: account_fleet}
    if isinstance(raw, list):
        names = node.strings("regions")
        if not names:
            raise node.error("regions", "must name at least one region")
        out = {}
        for i, name in enumerate(names):
            if not REGION_RE.match(name):
                raise node.error(f"regions[{i}]", f"{name!r} is not a region name")
            out[name] = account_fleet
        return out
    regions = node.child("regions")
    out = {}
    for name in list(regions.data):
        if not isinstance(name, str) or not REGION_RE.match(name):
            raise regions.error(str(name), "is not a region name")
        entry = regions.child(name)
        out[name] = fleet(entry.child("fleet")) if entry.has("fleet") else account_fleet
        entry.finish()
    regions.finish()
    if not out:
        raise node.error("regions", "must name at least one region")
    return out


def _role(node: Node, account_id: str) -> RoleSpec:
    name = node.text("name", pattern=ROLE_NAME_RE)
    if name is None:
        raise node.error("name", "is required")
    external_id = node.text("external_id")
    if external_id is not None and not 2 <= len(external_id) <= 1224:
        raise node.error("external_id", "must be 2 to 1224 characters")
    role = RoleSpec(
        name=name,
        external_id=external_id,
        mfa_serial=node.text("mfa_serial", pattern=MFA_SERIAL_RE),
        mfa_code=node.text("mfa_code", "123456", pattern=MFA_CODE_RE) or "123456",
        max_session_seconds=node.integer("max_session_seconds", 3600, low=3600, high=43200),
    )
    node.finish()
    return role


def _user(node: Node) -> UserSpec:
    name = node.text("name", pattern=ROLE_NAME_RE)
    if name is None:
        raise node.error("name", "is required")
    keys = node.strings("access_keys")
    for i, key in enumerate(keys):
        if not ACCESS_KEY_RE.match(key):
            raise node.error(f"access_keys[{i}]", f"{key!r} is not an access key ID or a prefix ending in *")
    node.finish()
    return UserSpec(name=name, access_keys=keys)


def check_accounts(scenario: Scenario) -> None:
    """What no single account can check: unique IDs and keys, the default account and region exist,
    staging accounts are accounts of the scenario, each region's fleet fits the account's quota."""
    source = scenario.source
    by_id: Mapping[str, AccountSpec] = {a.account_id: a for a in scenario.accounts}
    if len(by_id) != len(scenario.accounts):
        raise ScenarioError(source, "accounts", "account IDs must be unique")
    default = by_id.get(scenario.account_id)
    if default is None:
        raise ScenarioError(source, "account_id", f"{scenario.account_id} is not one of accounts[]")
    if scenario.region not in default.regions:
        raise ScenarioError(
            source, "region", f"the default account {scenario.account_id} has no region {scenario.region}"
        )
    claimed: dict[str, str] = {}
    for i, account in enumerate(scenario.accounts):
        for key in (*account.access_keys, *(k for user in account.users for k in user.access_keys)):
            if key in claimed:
                raise ScenarioError(
                    source, f"accounts[{i}].access_keys", f"{key} is also a key of account {claimed[key]}"
                )
            claimed[key] = account.account_id
        for other in account.staging_accounts:
            if other not in by_id or other == account.account_id:
                raise ScenarioError(
                    source,
                    f"accounts[{i}].staging_accounts",
                    f"{other} must be another account of this scenario (its servers are the extensible ones)",
                )
        for region, fleet in account.regions.items():
            if fleet.size > account.quotas.max_source_servers:
                raise ScenarioError(
                    source,
                    f"accounts[{i}].regions.{region}",
                    f"{fleet.size} source servers exceed quotas.max_source_servers "
                    f"({account.quotas.max_source_servers})",
                )
