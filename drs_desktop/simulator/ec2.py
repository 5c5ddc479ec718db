"""EC2 in the simulator: the calls DRS Desktop makes, answered from the same world as DRS.

Served: DescribeLaunchTemplates, DescribeLaunchTemplateVersions, CreateLaunchTemplateVersion,
ModifyLaunchTemplate (SetDefaultVersion), DeleteLaunchTemplateVersions (never the default version),
DescribeVpcs, DescribeSubnets, DescribeSecurityGroups, DescribeRouteTables, DescribeNetworkAcls,
DescribeManagedPrefixLists, GetManagedPrefixListEntries, DescribeVpcEndpoints, DescribeInstances; nothing
more (any other action is InvalidAction, so a new call the app makes shows up here rather than passing
unseen). Listings take
EC2's ``MaxResults``/``NextToken`` within the model's bounds, their ID lists (an unknown ID is EC2's
``...NotFound``, one of the wrong shape ``...Malformed``) and the filters of ``ec2_filters.FILTERS`` (with
EC2's ``*``/``?`` wildcards; any other filter name is refused, as EC2 refuses it). ``DryRun`` answers
DryRunOperation. CreateLaunchTemplateVersion honours ``ClientToken`` (a resend returns the same version),
which is what lets a crash-safe apply resend it.

``respond`` is the protocol half (form in, ``HttpResponse`` out); ``Ec2Service`` the world half, called
under the backend's lock.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import ListShape, Shape, StructureShape

from drs_desktop.simulator import ec2_protocol
from drs_desktop.simulator.ec2_filters import FILTERS, Values, tag_values, tags_of
from drs_desktop.simulator.ec2_protocol import Ec2Error, OutputShapeError, ec2_model
from drs_desktop.simulator.ec2_sources import describe_source
from drs_desktop.simulator.ec2_templates import LaunchTemplate, Templates, TemplateVersion
from drs_desktop.simulator.protocol import HttpResponse
from drs_desktop.simulator.world import World

logger = logging.getLogger(__name__)

#: MaxResults bounds EC2 enforces where the model leaves them out.
_BOUNDS = {"DescribeInstances": (5, 1000), "DescribeLaunchTemplateVersions": (1, 200)}
_TEMPLATE_ID = re.compile(r"^lt-[0-9a-f]{17}$")


def respond(
    form: Mapping[str, list[str]], request_id: str, service: Ec2Service | None, caller_arn: str = ""
) -> HttpResponse:
    """The answer to an EC2 form (``Action``, ``Version``...) from ``service`` (None: no world answers),
    for the caller ``caller_arn`` (a new template version's ``CreatedBy``)."""
    flat = {key: values[-1] for key, values in form.items() if values}
    action = flat.get("Action", "")
    try:
        version = flat.get("Version")
        if version is None:
            raise Ec2Error("MissingParameter", "The request must contain the parameter Version")
        if version != ec2_protocol.EC2_VERSION:
            raise Ec2Error(
                "NoSuchVersion", f"The requested version ({version}) of service AmazonEC2 does not exist"
            )
        if action not in Ec2Service.ACTIONS or ec2_protocol.operation(action) is None:
            raise Ec2Error("InvalidAction", f"The action {action} is not valid for this web service.")
        params = ec2_protocol.parse_form(action, flat)
        if params.pop("DryRun", False):
            raise Ec2Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)
        if service is None:
            raise Ec2Error("InternalError", "No simulated world answers EC2 here", 500)
        result = service.handle(action, params, caller_arn)
        return ec2_protocol.document(action, result, request_id)
    except Ec2Error as exc:
        return ec2_protocol.error(request_id, exc.code, exc.message, exc.status)
    except OutputShapeError:
        logger.exception("EC2 %s built an answer its output shape refuses (request %s)", action, request_id)
    except Exception:
        logger.exception("EC2 %s failed (request %s)", action, request_id)
    return ec2_protocol.error(request_id, "InternalError", "An internal error has occurred", 500)


def _to_shape(shape: Shape, value: Any) -> Any:
    """A request value recast by a response shape (same member names), members it lacks dropped."""
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        return {k: _to_shape(shape.members[k], v) for k, v in value.items() if k in shape.members}
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_to_shape(shape.member, v) for v in value]
    return value


class Ec2Service:
    """The EC2 actions of one world."""

    ACTIONS = frozenset(
        {
            "DescribeLaunchTemplates",
            "DescribeLaunchTemplateVersions",
            "CreateLaunchTemplateVersion",
            "ModifyLaunchTemplate",
            "DeleteLaunchTemplateVersions",
            "DescribeVpcs",
            "DescribeSubnets",
            "DescribeSecurityGroups",
            "DescribeRouteTables",
            "DescribeNetworkAcls",
            "DescribeManagedPrefixLists",
            "GetManagedPrefixListEntries",
            "DescribeVpcEndpoints",
            "DescribeInstances",
        }
    )

    def __init__(self, world: World) -> None:
        self.w = world
        self._caller = ""
        self._tokens: dict[str, tuple[str, str, int]] = {}  # ClientToken -> (template, request, version)

    @property
    def templates(self) -> Templates:
        return self.w.templates

    def handle(self, action: str, params: dict[str, Any], caller_arn: str = "") -> dict[str, Any]:
        """One action (a name of ``ACTIONS``) on parsed parameters; the caller holds the world's lock."""
        handler: Callable[[dict[str, Any]], dict[str, Any]] = getattr(self, "_" + action)
        self._caller = caller_arn or f"arn:aws:iam::{self.w.network.account_id}:root"
        return handler(params)

    # -- listing plumbing ------------------------------------------------------------------------------

    def _page(
        self, action: str, key: str, items: list[dict[str, Any]], params: dict[str, Any]
    ) -> dict[str, Any]:
        items = self._filtered(action, items, params.get("Filters") or [])
        limit = params.get("MaxResults")
        start = 0
        token = params.get("NextToken")
        if token is not None:
            start = self._offset(action, token)
        if limit is None:
            return {key: items[start:]}
        low, high = _BOUNDS.get(action) or self._model_bounds(action)
        if not low <= limit <= high:
            raise Ec2Error(
                "InvalidParameterValue",
                f"Value ( {limit} ) for parameter maxResults is invalid. "
                f"Expecting a value between {low} and {high}.",
            )
        end = start + limit
        page: dict[str, Any] = {key: items[start:end]}
        if end < len(items):
            page["NextToken"] = base64.urlsafe_b64encode(f"{action}:{end}".encode()).decode()
        return page

    @staticmethod
    def _model_bounds(action: str) -> tuple[int, int]:
        member = ec2_model().operation_model(action).input_shape.members["MaxResults"]
        return int(member.metadata.get("min", 1)), int(member.metadata.get("max", 1000))

    @staticmethod
    def _offset(action: str, token: str) -> int:
        try:
            name, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
            if name == action and offset.isdigit():
                return int(offset)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            pass
        raise Ec2Error("InvalidPaginationToken", f"Invalid pagination token {token[:40]!r}")

    @staticmethod
    def _filtered(
        action: str, items: list[dict[str, Any]], filters: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        known = FILTERS.get(action, {})
        for f in filters:
            name = f.get("Name") or ""
            values = [str(v) for v in f.get("Values") or []]
            if name.startswith("tag:"):
                getter: Values = tag_values(name[4:])
            elif name == "tag-key":
                getter = lambda item: list(tags_of(item))  # noqa: E731
            elif name in known:
                getter = known[name]
            else:
                raise Ec2Error("InvalidParameterValue", f"The filter '{name}' is invalid")
            items = [
                item
                for item in items
                if any(
                    v is not None and fnmatch.fnmatchcase(str(v), pattern)
                    for v in getter(item)
                    for pattern in values
                )
            ]
        return items

    @staticmethod
    def _pick(
        items: dict[str, dict[str, Any]], ids: list[str] | None, prefix: str, code: str
    ) -> list[dict[str, Any]]:
        """The items of ``ids`` (all when None), or EC2's Malformed/NotFound for the first bad one."""
        if not ids:
            return list(items.values())
        for rid in ids:
            if not rid.startswith(prefix):
                raise Ec2Error(f"{code}.Malformed", f'Invalid id: "{rid}"')
        missing = [rid for rid in ids if rid not in items]
        if missing:
            raise Ec2Error(f"{code}.NotFound", f"The ID '{missing[0]}' does not exist")
        return [items[rid] for rid in dict.fromkeys(ids)]

    # -- networks --------------------------------------------------------------------------------------

    def _DescribeVpcs(self, params: dict[str, Any]) -> dict[str, Any]:
        net = self.w.network
        items = {v.vpc_id: net.describe_vpc(v) for v in net.vpcs}
        return self._page(
            "DescribeVpcs", "Vpcs", self._pick(items, params.get("VpcIds"), "vpc-", "InvalidVpcID"), params
        )

    def _DescribeSubnets(self, params: dict[str, Any]) -> dict[str, Any]:
        net = self.w.network
        items = {s.subnet_id: net.describe_subnet(s) for s in net.subnets.values()}
        picked = self._pick(items, params.get("SubnetIds"), "subnet-", "InvalidSubnetID")
        return self._page("DescribeSubnets", "Subnets", picked, params)

    def _DescribeSecurityGroups(self, params: dict[str, Any]) -> dict[str, Any]:
        net = self.w.network
        items = {g.group_id: net.describe_group(g) for g in net.groups.values()}
        picked = self._pick(items, params.get("GroupIds"), "sg-", "InvalidGroupId")
        names = params.get("GroupNames")
        if names:
            unknown = [n for n in names if not any(i["GroupName"] == n for i in picked)]
            if unknown:
                raise Ec2Error("InvalidGroup.NotFound", f"The security group '{unknown[0]}' does not exist")
            picked = [i for i in picked if i["GroupName"] in names]
        return self._page("DescribeSecurityGroups", "SecurityGroups", picked, params)

    def _DescribeRouteTables(self, params: dict[str, Any]) -> dict[str, Any]:
        net = self.w.network
        items = {v.route_table_id: net.describe_route_table(v) for v in net.vpcs}
        picked = self._pick(items, params.get("RouteTableIds"), "rtb-", "InvalidRouteTableID")
        return self._page("DescribeRouteTables", "RouteTables", picked, params)

    def _DescribeNetworkAcls(self, params: dict[str, Any]) -> dict[str, Any]:
        net = self.w.network
        items = {v.acl_id: net.describe_acl(v) for v in net.vpcs}
        picked = self._pick(items, params.get("NetworkAclIds"), "acl-", "InvalidNetworkAclID")
        return self._page("DescribeNetworkAcls", "NetworkAcls", picked, params)

    def _DescribeManagedPrefixLists(self, params: dict[str, Any]) -> dict[str, Any]:
        net = self.w.network
        items = {pid: net.describe_prefix_list(p) for pid, p in net.prefix_lists.items()}
        picked = self._pick(items, params.get("PrefixListIds"), "pl-", "InvalidPrefixListID")
        return self._page("DescribeManagedPrefixLists", "PrefixLists", picked, params)

    def _DescribeVpcEndpoints(self, params: dict[str, Any]) -> dict[str, Any]:
        net = self.w.network
        items = {e: net.describe_endpoint(v, e, service) for v in net.vpcs for e, service in v.endpoints}
        picked = self._pick(items, params.get("VpcEndpointIds"), "vpce-", "InvalidVpcEndpointId")
        return self._page("DescribeVpcEndpoints", "VpcEndpoints", picked, params)

    def _GetManagedPrefixListEntries(self, params: dict[str, Any]) -> dict[str, Any]:
        net = self.w.network
        pid = params["PrefixListId"]
        self._pick({k: {} for k in net.prefix_lists}, [pid], "pl-", "InvalidPrefixListID")  # or refused
        version = params.get("TargetVersion")
        if version is not None and version != 1:  # the simulator's lists never change: version 1 only
            raise Ec2Error("InvalidParameterValue", f"The prefix list {pid} has no version {version}")
        entries = [{"Cidr": cidr} for cidr in net.prefix_lists[pid].cidrs]
        return self._page("GetManagedPrefixListEntries", "Entries", entries, params)

    def _DescribeInstances(self, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("InstanceIds")
        if ids and params.get("MaxResults") is not None:
            raise Ec2Error(
                "InvalidParameterCombination",
                "The parameter instancesSet cannot be used with the parameter maxResults",
            )
        t, w = self.templates, self.w
        items = {iid: describe_source(r, w.network, w.seed) for iid, r in w.sources.items()}  # AWS-hosted
        items.update(
            (iid, t.describe_instance(record, w.servers.get(record.instance.server_id)))
            for iid, record in t.instances.items()
        )
        for iid, address in w.loopback.items():  # health-check listeners' addresses (``listeners``)
            if iid in items and items[iid]["State"]["Name"] != "terminated":
                items[iid]["PublicIpAddress"] = address
        picked = self._pick(items, ids, "i-", "InvalidInstanceID")
        page = self._page("DescribeInstances", "Instances", picked, params)
        reservations = [
            {
                "ReservationId": "r-" + i["InstanceId"][2:],
                "OwnerId": self.w.network.account_id,
                "Groups": [],
                "Instances": [i],
            }
            for i in page.pop("Instances")
        ]
        return {"Reservations": reservations, **page}

    # -- launch templates ------------------------------------------------------------------------------

    def _ensure_templates(self) -> None:
        """Servers added after the world started (extended ones) get DRS's template too."""
        t = self.templates
        if len(t.templates) < len(self.w.servers):
            for server in self.w.servers.values():
                t.template_of(server, self.w.now)

    def _template(self, params: dict[str, Any]) -> LaunchTemplate:
        self._ensure_templates()
        tid, name = params.get("LaunchTemplateId"), params.get("LaunchTemplateName")
        if tid is None and name is None:
            raise Ec2Error(
                "MissingParameter", "The request must include either LaunchTemplateId or LaunchTemplateName"
            )
        if tid is not None and name is not None:
            raise Ec2Error(
                "InvalidParameterCombination",
                "Specify either LaunchTemplateId or LaunchTemplateName, not both",
            )
        if tid is not None:
            if not _TEMPLATE_ID.match(tid):
                raise Ec2Error(
                    "InvalidLaunchTemplateId.Malformed",
                    f"The specified ID for the launch template ({tid}) is malformed",
                )
            template = self.templates.templates.get(tid)
            if template is None:
                raise Ec2Error(
                    "InvalidLaunchTemplateId.NotFound",
                    f"The specified launch template, with template ID {tid}, does not exist.",
                )
            return template
        found = next((lt for lt in self.templates.templates.values() if lt.name == name), None)
        if found is None:
            raise Ec2Error(
                "InvalidLaunchTemplateName.NotFoundException",
                f"The specified launch template, with template name {name}, does not exist.",
            )
        return found

    @staticmethod
    def _describe_template(lt: LaunchTemplate) -> dict[str, Any]:
        return {
            "LaunchTemplateId": lt.template_id,
            "LaunchTemplateName": lt.name,
            "CreateTime": lt.created_ts,
            "CreatedBy": lt.created_by,
            "DefaultVersionNumber": lt.default_version,
            "LatestVersionNumber": lt.latest_version,
            "Tags": [{"Key": k, "Value": v} for k, v in lt.tags.items()],
        }

    @staticmethod
    def _describe_version(lt: LaunchTemplate, v: TemplateVersion) -> dict[str, Any]:
        out = {
            "LaunchTemplateId": lt.template_id,
            "LaunchTemplateName": lt.name,
            "VersionNumber": v.number,
            "CreateTime": v.created_ts,
            "CreatedBy": v.created_by,
            "DefaultVersion": v.number == lt.default_version,
            "LaunchTemplateData": v.data,
        }
        if v.description is not None:
            out["VersionDescription"] = v.description
        return out

    def _DescribeLaunchTemplates(self, params: dict[str, Any]) -> dict[str, Any]:
        self._ensure_templates()
        items = {tid: self._describe_template(lt) for tid, lt in self.templates.templates.items()}
        ids = params.get("LaunchTemplateIds")
        for tid in ids or []:
            if not _TEMPLATE_ID.match(tid):
                raise Ec2Error(
                    "InvalidLaunchTemplateId.Malformed",
                    f"The specified ID for the launch template ({tid}) is malformed",
                )
        picked = self._pick(items, ids, "lt-", "InvalidLaunchTemplateId")
        names = params.get("LaunchTemplateNames")
        if names:
            unknown = [n for n in names if not any(i["LaunchTemplateName"] == n for i in picked)]
            if unknown:
                raise Ec2Error(
                    "InvalidLaunchTemplateName.NotFoundException",
                    "At least one of the launch templates specified in the request does not exist: "
                    f"{unknown[0]}",
                )
            picked = [i for i in picked if i["LaunchTemplateName"] in names]
        return self._page("DescribeLaunchTemplates", "LaunchTemplates", picked, params)

    def _DescribeLaunchTemplateVersions(self, params: dict[str, Any]) -> dict[str, Any]:
        self._ensure_templates()
        refs = params.get("Versions") or []
        if params.get("LaunchTemplateId") is None and params.get("LaunchTemplateName") is None:
            if not refs or any(r not in ("$Latest", "$Default") for r in refs):
                raise Ec2Error(
                    "MissingParameter",
                    "Without a launch template ID or name, Versions must list only $Latest or $Default",
                )
            templates = list(self.templates.templates.values())
        else:
            templates = [self._template(params)]
        low, high = params.get("MinVersion"), params.get("MaxVersion")
        items: list[dict[str, Any]] = []
        for lt in templates:
            if refs:
                chosen = []
                for ref in refs:
                    version = lt.version(ref)
                    if version is None:
                        raise Ec2Error(
                            "InvalidLaunchTemplateId.VersionNotFound",
                            f"Could not find launch template version {ref} of {lt.template_id}",
                        )
                    chosen.append(version)
                versions = list({v.number: v for v in chosen}.values())
            else:
                versions = [lt.versions[n] for n in sorted(lt.versions)]
            try:
                versions = [
                    v
                    for v in versions
                    if (low is None or v.number >= int(low)) and (high is None or v.number <= int(high))
                ]
            except ValueError:
                raise Ec2Error(
                    "InvalidParameterValue", "MinVersion and MaxVersion must be version numbers"
                ) from None
            items.extend(self._describe_version(lt, v) for v in versions)
        return self._page("DescribeLaunchTemplateVersions", "LaunchTemplateVersions", items, params)

    def _CreateLaunchTemplateVersion(self, params: dict[str, Any]) -> dict[str, Any]:
        lt = self._template(params)
        token = params.get("ClientToken")
        request = repr(sorted((k, repr(v)) for k, v in params.items() if k != "ClientToken"))
        if token is not None and token in self._tokens:
            tid, earlier, number = self._tokens[token]
            if tid != lt.template_id or earlier != request:
                raise Ec2Error(
                    "IdempotentParameterMismatch", "The client token was used with other parameters"
                )
            return {"LaunchTemplateVersion": self._describe_version(lt, lt.versions[number])}
        source = None
        if params.get("SourceVersion") is not None:
            source = lt.version(params["SourceVersion"])
            if source is None:
                raise Ec2Error(
                    "InvalidLaunchTemplateId.VersionNotFound",
                    f"Could not find launch template version {params['SourceVersion']} of {lt.template_id}",
                )
        shape = ec2_model().shape_for("ResponseLaunchTemplateData")
        data = _to_shape(shape, params["LaunchTemplateData"])
        description = params.get("VersionDescription")
        if description is not None and len(description) > 255:
            raise Ec2Error("InvalidParameterValue", "VersionDescription is longer than 255 characters")
        version = self.templates.add_version(
            lt, data, source=source, description=description, now=self.w.now, created_by=self._caller
        )
        if token is not None:
            self._tokens[token] = (lt.template_id, request, version.number)
        logger.debug("Launch template %s: version %d", lt.template_id, version.number)
        return {"LaunchTemplateVersion": self._describe_version(lt, version)}

    def _ModifyLaunchTemplate(self, params: dict[str, Any]) -> dict[str, Any]:
        lt = self._template(params)
        ref = params.get("DefaultVersion")
        if ref is not None:
            version = lt.version(ref) if ref != "$Default" else None
            if version is None:
                raise Ec2Error(
                    "InvalidLaunchTemplateId.VersionNotFound",
                    f"Could not find launch template version {ref} of {lt.template_id}",
                )
            lt.default_version = version.number
        return {"LaunchTemplate": self._describe_template(lt)}

    def _DeleteLaunchTemplateVersions(self, params: dict[str, Any]) -> dict[str, Any]:
        lt = self._template(params)
        deleted, refused = self.templates.delete_versions(lt, [str(v) for v in params["Versions"]])
        ids = {"LaunchTemplateId": lt.template_id, "LaunchTemplateName": lt.name}
        return {
            "SuccessfullyDeletedLaunchTemplateVersions": [{**ids, "VersionNumber": n} for n in deleted],
            "UnsuccessfullyDeletedLaunchTemplateVersions": [
                {
                    **ids,
                    "VersionNumber": int(ref) if ref.isdigit() else 0,
                    "ResponseError": {"Code": c, "Message": m},
                }
                for ref, c, m in refused
            ],
        }
