"""``Ec2Gateway``: the EC2 calls DRS Desktop makes (launch templates, networks, instances), typed.

DRS launches a recovery instance from its source server's EC2 launch template, at the template's
default version; launch settings at scale, drift and the drill profile read and write those templates,
and the drill isolation check reads the drill subnet's VPC, routes, ACLs, security groups and the managed
prefix lists they name. Answers are the
frozen values of ``domain.ec2``; failures are the ``DrsError`` family (``aws.errors.map_error``, with
EC2's own codes: ``...NotFound`` is ``DrsNotFound``, ``InvalidParameter...``/``...Malformed`` is
``DrsRejected``; a write whose answer cannot be read is ``DrsOutcomeUnknown``, as for DRS), so nothing
above the ``aws`` layer sees botocore.

EC2 takes the same credentials as DRS (one ``AwsTarget``). A loopback ``endpoint_url`` (the simulator)
serves EC2 too; any other endpoint is DRS's own, and EC2 then goes to AWS (or ``AWS_ENDPOINT_URL_EC2``).
CreateLaunchTemplateVersion always carries a ``ClientToken`` (the caller's, for a journaled apply that
may resend it after a crash, or a fresh one), so botocore's retries cannot create two versions; the
other calls are reads or idempotent (ModifyLaunchTemplate sets a default). Every listing follows every
page. A gateway belongs to one thread (DESIGN §3.5), like ``DrsGateway``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar, Unpack

from drs_desktop.aws import session as aws_session
from drs_desktop.aws.ec2_parse import (
    Ec2ParseError,
    parse_network_acl,
    parse_prefix_list,
    parse_prefix_list_entry,
    parse_reservation,
    parse_route_table,
    parse_security_group,
    parse_subnet,
    parse_template,
    parse_template_version,
    parse_vpc,
    parse_vpc_endpoint,
)
from drs_desktop.aws.errors import log_failure, map_service_error
from drs_desktop.aws.gateway_base import GatewayBase, GatewaySettings
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.errors import (
    DrsError,
    DrsNotFound,
    DrsRejected,
)
from drs_desktop.domain.ec2 import (
    InstanceView,
    LaunchTemplateData,
    LaunchTemplateVersionView,
    LaunchTemplateView,
    NetworkAclView,
    PrefixListView,
    RouteTableView,
    SecurityGroupView,
    SubnetView,
    VpcEndpointView,
    VpcView,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: IDs per call in the listings that take ID lists (EC2 allows more; this keeps requests small).
MAX_IDS_PER_CALL = 200
#: EC2's refusals of a request it could not accept as sent (nothing changed).
_REJECTED = frozenset(
    {
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "InvalidParameter",
        "MissingParameter",
        "UnknownParameter",
        "InvalidPaginationToken",
        "IdempotentParameterMismatch",
        "InvalidAction",
    }
)

ClientFactory = Callable[[], Any]


def map_ec2_error(exc: BaseException, operation: str, *, mutating: bool) -> DrsError:
    """``aws.errors.map_error`` with EC2's error codes and EC2 named where DRS's wording would say DRS; a
    write's answer that cannot be read says nothing of what EC2 did: the caller reads back."""
    return map_service_error(
        exc, "EC2", operation, mutating=mutating, unreadable=Ec2ParseError, reclassify=_ec2_class
    )


def _ec2_class(code: str) -> type[DrsError] | None:
    if code.endswith((".NotFound", ".NotFoundException", ".VersionNotFound")):
        return DrsNotFound
    if code in _REJECTED or code.endswith(".Malformed"):
        return DrsRejected
    return None


def _batches(ids: Sequence[str]) -> list[list[str]]:
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + MAX_IDS_PER_CALL] for i in range(0, len(unique), MAX_IDS_PER_CALL)]


def request_data(data: LaunchTemplateData) -> dict[str, Any]:
    """RequestLaunchTemplateData for the members ``data`` sets. EC2 replaces a member of the source
    version whole, so the network interface carries subnet, groups and address together."""
    out: dict[str, Any] = {}
    if data.instance_type:
        out["InstanceType"] = data.instance_type
    nic: dict[str, Any] = {}
    if data.subnet_id:
        nic["SubnetId"] = data.subnet_id
    if data.security_group_ids:
        nic["Groups"] = list(data.security_group_ids)
    if data.private_ip:
        nic["PrivateIpAddress"] = data.private_ip
    if data.associate_public_ip is not None:
        nic["AssociatePublicIpAddress"] = data.associate_public_ip
    if nic:
        out["NetworkInterfaces"] = [{"DeviceIndex": 0, "DeleteOnTermination": True, **nic}]
    if data.instance_tags:
        tags = [{"Key": k, "Value": v} for k, v in data.instance_tags]
        out["TagSpecifications"] = [{"ResourceType": "instance", "Tags": tags}]
    return out


class Ec2Gateway(GatewayBase):
    """The EC2 API of one ``AwsTarget``. ``page_size`` sets ``MaxResults`` on listings that take it
    (None: EC2's default, everything in one answer where EC2 allows it). ``client_factory`` replaces
    boto3's client (tests only).

    EC2 is regional: ``in_region`` gives the same credentials in another Region (an AWS-hosted source
    server's instance runs in its origin Region, usually not DRS's), sharing this gateway's session, so a
    role is assumed and an MFA code asked once for every Region read."""

    def __init__(
        self,
        target: AwsTarget | Callable[[], AwsTarget],
        *,
        max_attempts: int = aws_session.READ_MAX_ATTEMPTS,
        client_factory: ClientFactory | None = None,
        **settings: Unpack[GatewaySettings],
    ) -> None:
        super().__init__(target, max_attempts=max_attempts, **settings)
        self._client_factory = client_factory
        self._session: Any = None
        self._client: Any = None
        self._regions: dict[str, Ec2Gateway] = {}
        self._parent: Ec2Gateway | None = None

    def for_another_thread(self) -> Ec2Gateway:
        """The same target and settings with a client of its own, for a worker thread (boto3 sessions
        are not thread-safe, DESIGN §3.5); the thread closes it when done."""
        return Ec2Gateway(
            self.target,
            max_attempts=self._max_attempts,
            client_factory=self._client_factory,
            **self.settings(),
        )

    def in_region(self, region: str) -> Ec2Gateway:
        """This gateway's credentials and settings in ``region`` (itself for its own Region). Made once
        per Region and closed with this gateway; a test's ``client_factory`` is not carried over (it
        answers for this gateway's Region only), so another Region's client is boto3's."""
        if region == self.target.region:
            return self
        other = self._regions.get(region)
        if other is None:
            other = Ec2Gateway(
                replace(self.target, region=region), max_attempts=self._max_attempts, **self.settings()
            )
            other._parent = self
            self._regions[region] = other
        return other

    def _shared_session(self) -> Any:
        if self._parent is not None:
            return self._parent._shared_session()
        if self._session is None:
            self._session = self._new_session()
        return self._session

    def _ec2(self) -> Any:
        if self._client is None:
            if self._client_factory is not None:
                self._client = self._client_factory()
            else:
                self._client = self._new_client(self._shared_session(), "ec2", retries=True, local_only=True)
        return self._client

    def close(self) -> None:
        """Close the client (its connection pool) and those of the other Regions it read; the owning
        thread calls this before it ends."""
        for other in self._regions.values():
            other.close()
        self._regions.clear()
        if self._client is not None:
            self._client.close()
        self._client = None
        self._session = None

    def _call(self, operation: str, call: Callable[[Any], T], *, mutating: bool = False) -> T:
        try:
            return call(self._ec2())
        except Exception as exc:
            error = map_ec2_error(exc, operation, mutating=mutating)
            log_failure(logger, "EC2", operation, error, mutating=mutating)
            raise error from exc

    def _list(
        self,
        operation: str,
        method: str,
        params: Mapping[str, Any],
        key: str,
        parse: Callable[[Mapping[str, Any]], T],
        *,
        paged: bool = True,
    ) -> list[T]:
        """Every item under ``key`` of every page, parsed (one unreadable item fails the listing)."""

        def run(client: Any) -> list[T]:
            config = {"PageSize": self._page_size} if (self._page_size and paged) else {}
            pages = client.get_paginator(method).paginate(**params, PaginationConfig=config)
            out: list[T] = []
            count = 0
            for page in pages:
                count += 1
                for item in page.get(key) or []:
                    if not isinstance(item, Mapping):
                        raise Ec2ParseError(f"an item of {key} is not a structure")
                    out.append(parse(item))
            logger.debug("EC2 %s: %d item(s) in %d page(s)", operation, len(out), count)
            return out

        return self._call(operation, run)

    @staticmethod
    def _filters(**values: str | None) -> list[dict[str, Any]]:
        return [{"Name": name.replace("_", "-"), "Values": [v]} for name, v in values.items() if v]

    # -- launch templates ------------------------------------------------------------------------------

    def launch_templates(self, ids: Sequence[str] | None = None) -> list[LaunchTemplateView]:
        """Launch templates: all of them, or those of ``ids`` (DrsNotFound if EC2 has one of them not)."""
        if ids is None:
            return self._list(
                "DescribeLaunchTemplates", "describe_launch_templates", {}, "LaunchTemplates", parse_template
            )
        out: list[LaunchTemplateView] = []
        for batch in _batches(ids):
            out.extend(
                self._list(
                    "DescribeLaunchTemplates",
                    "describe_launch_templates",
                    {"LaunchTemplateIds": batch},
                    "LaunchTemplates",
                    parse_template,
                )
            )
        return out

    def template_versions(
        self, template_id: str, versions: Sequence[str | int] | None = None
    ) -> list[LaunchTemplateVersionView]:
        """Versions of one template: all, or those named (numbers, ``$Default``, ``$Latest``)."""
        params: dict[str, Any] = {"LaunchTemplateId": template_id}
        if versions:
            params["Versions"] = [str(v) for v in versions]
        return self._list(
            "DescribeLaunchTemplateVersions",
            "describe_launch_template_versions",
            params,
            "LaunchTemplateVersions",
            parse_template_version,
        )

    def default_versions(self) -> list[LaunchTemplateVersionView]:
        """The default version of every launch template in the account and region: what DRS launches
        from. One listing (paged) rather than a call per template."""
        return self._all_templates("$Default")

    def latest_versions(self) -> list[LaunchTemplateVersionView]:
        """The newest version of every launch template."""
        return self._all_templates("$Latest")

    def _all_templates(self, which: str) -> list[LaunchTemplateVersionView]:
        return self._list(
            "DescribeLaunchTemplateVersions",
            "describe_launch_template_versions",
            {"Versions": [which]},
            "LaunchTemplateVersions",
            parse_template_version,
        )

    def create_template_version(
        self,
        template_id: str,
        data: LaunchTemplateData,
        *,
        source_version: int | str | None = None,
        description: str | None = None,
        client_token: str | None = None,
    ) -> LaunchTemplateVersionView:
        """A new version of ``template_id``: ``source_version``'s data (if given) with the members
        ``data`` sets replacing theirs. Not made the default (``set_default_version`` does that). A
        resend with the same ``client_token`` returns the version the first call made."""
        params: dict[str, Any] = {
            "LaunchTemplateId": template_id,
            "LaunchTemplateData": request_data(data),
            "ClientToken": client_token or str(uuid.uuid4()),
        }
        if source_version is not None:
            params["SourceVersion"] = str(source_version)
        if description is not None:
            params["VersionDescription"] = description
        response = self._call(
            "CreateLaunchTemplateVersion",
            lambda c: c.create_launch_template_version(**params),
            mutating=True,
        )
        return self._parsed(
            "CreateLaunchTemplateVersion", response, "LaunchTemplateVersion", parse_template_version
        )

    def set_default_version(self, template_id: str, version: int) -> LaunchTemplateView:
        """Make ``version`` the default of ``template_id`` (DRS's next launch uses it)."""
        response = self._call(
            "ModifyLaunchTemplate",
            lambda c: c.modify_launch_template(LaunchTemplateId=template_id, DefaultVersion=str(version)),
            mutating=True,
        )
        return self._parsed("ModifyLaunchTemplate", response, "LaunchTemplate", parse_template)

    def delete_template_versions(self, template_id: str, versions: Sequence[int]) -> dict[int, str]:
        """Delete ``versions`` of ``template_id`` (EC2 never deletes the default one). EC2 answers per
        version: the answer is each version it refused, with its code and message ({} when all went).
        A version EC2 names in neither list is counted as refused: nothing is taken as deleted unsaid."""
        response = self._call(
            "DeleteLaunchTemplateVersions",
            lambda c: c.delete_launch_template_versions(
                LaunchTemplateId=template_id, Versions=[str(v) for v in versions]
            ),
            mutating=True,
        )
        try:
            done = {
                _version_number(item)
                for item in response.get("SuccessfullyDeletedLaunchTemplateVersions") or []
            }
            refused: dict[int, str] = {}
            for item in response.get("UnsuccessfullyDeletedLaunchTemplateVersions") or []:
                error = item.get("ResponseError") if isinstance(item, Mapping) else None
                error = error if isinstance(error, Mapping) else {}
                refused[_version_number(item)] = (
                    f"{error.get('Code') or 'refused'}: {error.get('Message') or ''}"
                )
        except Ec2ParseError as exc:
            raise map_ec2_error(exc, "DeleteLaunchTemplateVersions", mutating=True) from exc
        for version in versions:
            if version not in done and version not in refused:
                refused[version] = "EC2 did not say it was deleted"
        return {v: why for v, why in refused.items() if v in versions}

    @staticmethod
    def _parsed(
        operation: str, response: Mapping[str, Any], key: str, parse: Callable[[Mapping[str, Any]], T]
    ) -> T:
        item = response.get(key)
        try:
            if not isinstance(item, Mapping):
                raise Ec2ParseError(f"the answer has no {key}")
            return parse(item)
        except Ec2ParseError as exc:
            # EC2 took the call, but what it did is not known (``DrsOutcomeUnknown``): the caller reads
            # back (or resends an idempotent write) rather than take it as "nothing changed".
            raise map_ec2_error(exc, operation, mutating=True) from exc

    # -- networks --------------------------------------------------------------------------------------

    def vpcs(self, ids: Sequence[str] | None = None) -> list[VpcView]:
        params = {"VpcIds": list(ids)} if ids else {}
        return self._list("DescribeVpcs", "describe_vpcs", params, "Vpcs", parse_vpc)

    def subnets(self, ids: Sequence[str] | None = None, *, vpc_id: str | None = None) -> list[SubnetView]:
        params: dict[str, Any] = {"Filters": self._filters(vpc_id=vpc_id)}
        if ids:
            params["SubnetIds"] = list(ids)
        return self._list("DescribeSubnets", "describe_subnets", params, "Subnets", parse_subnet)

    def security_groups(
        self, ids: Sequence[str] | None = None, *, vpc_id: str | None = None
    ) -> list[SecurityGroupView]:
        params: dict[str, Any] = {"Filters": self._filters(vpc_id=vpc_id)}
        if ids:
            params["GroupIds"] = list(ids)
        return self._list(
            "DescribeSecurityGroups",
            "describe_security_groups",
            params,
            "SecurityGroups",
            parse_security_group,
        )

    def route_tables(
        self, *, vpc_id: str | None = None, subnet_id: str | None = None
    ) -> list[RouteTableView]:
        filters = self._filters(vpc_id=vpc_id)
        if subnet_id:
            filters.append({"Name": "association.subnet-id", "Values": [subnet_id]})
        return self._list(
            "DescribeRouteTables",
            "describe_route_tables",
            {"Filters": filters},
            "RouteTables",
            parse_route_table,
        )

    def route_table_of(self, subnet: SubnetView) -> RouteTableView | None:
        """The route table EC2 routes ``subnet`` by: its explicit association, else its VPC's main table."""
        explicit = self.route_tables(subnet_id=subnet.subnet_id)
        if explicit:
            return explicit[0]
        return next((t for t in self.route_tables(vpc_id=subnet.vpc_id) if t.main), None)

    def network_acls(
        self, *, vpc_id: str | None = None, subnet_id: str | None = None
    ) -> list[NetworkAclView]:
        filters = self._filters(vpc_id=vpc_id)
        if subnet_id:
            filters.append({"Name": "association.subnet-id", "Values": [subnet_id]})
        return self._list(
            "DescribeNetworkAcls",
            "describe_network_acls",
            {"Filters": filters},
            "NetworkAcls",
            parse_network_acl,
        )

    def prefix_list(self, prefix_list_id: str) -> PrefixListView:
        """One managed prefix list with every CIDR it holds now: its name from DescribeManagedPrefixLists,
        its entries from GetManagedPrefixListEntries (every page). DrsNotFound when this account cannot
        see it (unknown, deleted, or another account's not shared with this one)."""
        found = self._list(
            "DescribeManagedPrefixLists",
            "describe_managed_prefix_lists",
            {"PrefixListIds": [prefix_list_id]},
            "PrefixLists",
            parse_prefix_list,
        )
        names = [name for pid, name in found if pid == prefix_list_id]
        if not names:
            raise DrsNotFound(
                f"EC2 lists no prefix list {prefix_list_id}",
                code="InvalidPrefixListID.NotFound",
                operation="DescribeManagedPrefixLists",
            )
        cidrs = self._list(
            "GetManagedPrefixListEntries",
            "get_managed_prefix_list_entries",
            {"PrefixListId": prefix_list_id},
            "Entries",
            parse_prefix_list_entry,
        )
        return PrefixListView(prefix_list_id, names[0], tuple(dict.fromkeys(cidrs)))

    def vpc_endpoints(self, *, vpc_id: str | None = None) -> list[VpcEndpointView]:
        """The VPC endpoints of ``vpc_id`` (all of the account's when None), every state included."""
        params = {"Filters": self._filters(vpc_id=vpc_id)}
        return self._list(
            "DescribeVpcEndpoints", "describe_vpc_endpoints", params, "VpcEndpoints", parse_vpc_endpoint
        )

    # -- instances -------------------------------------------------------------------------------------

    def instances(self, ids: Sequence[str]) -> list[InstanceView]:
        """The EC2 instances of ``ids`` (recovery instances' ``ec2InstanceID``), terminated ones included
        while EC2 lists them; DrsNotFound when EC2 knows one of them not."""
        out: list[InstanceView] = []
        for batch in _batches(ids):
            # EC2 refuses MaxResults beside InstanceIds: these pages are EC2's own.
            for views in self._list(
                "DescribeInstances",
                "describe_instances",
                {"InstanceIds": batch},
                "Reservations",
                parse_reservation,
                paged=False,
            ):
                out.extend(views)
        return out


def _version_number(item: Any) -> int:
    number = item.get("VersionNumber") if isinstance(item, Mapping) else None
    if not isinstance(number, int) or isinstance(number, bool):
        raise Ec2ParseError(f"a deleted launch template version without a readable number: {number!r}")
    return number
