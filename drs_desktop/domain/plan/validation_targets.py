"""Checks of a plan's targets (plan format 2): each target well-formed, every reference to one known.

A target is where DRS calls land, so a typo must never reach AWS: the account is 12 digits, the Region
and ARNs have AWS's forms, exactly one way of reaching the target is given, and a value that looks like
a credential is refused without being repeated in the message (messages end up in terminals and logs).
Patterns follow AWS's own: IAM's role and MFA device ARNs, STS AssumeRole's ``ExternalId`` (2 to 1224
characters of ``[\\w+=,.@:/-]``) and ``SerialNumber`` (9 to 256 of ``[\\w+=/:,.@-]``).

Pure: no I/O. ``validation.validate_plan`` calls these in document order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from drs_desktop.domain.plan.document_base import join_path, quote
from drs_desktop.domain.plan.document_v2 import TARGET_KEYS
from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan
from drs_desktop.domain.plan.validation_support import Suggester

__all__ = [
    "free_text_credential_problems",
    "group_target_problems",
    "target_problems",
    "targets_problems",
    "wave_target_problems",
]

TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
ACCOUNT = re.compile(r"^[0-9]{12}\Z")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+){1,2}-[0-9]{1,2}\Z")
PROFILE = re.compile(r"^[A-Za-z0-9_.@+=:/,-]{1,128}\Z")
ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::([0-9]{12}):role/[\w+=,.@/-]{1,512}\Z", re.ASCII)
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}\Z", re.ASCII)
MFA_SERIAL = re.compile(
    r"^(arn:aws(-[a-z]+)*:iam::[0-9]{12}:(mfa|u2f)/[\w+=,.@/-]{1,512}|[\w+=/:,.@-]{9,256})\Z", re.ASCII
)
#: An access key ID (AKIA: long-term, ASIA: temporary), anywhere in a value.
_ACCESS_KEY_ID = re.compile(r"(AKIA|ASIA)[A-Z0-9]{16}")
#: A whole value shaped like a secret access key: 40 characters of base64, mixing cases and digits.
_SECRET_KEY = re.compile(r"^(?=.*[0-9])(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9/+]{40}\Z")


def _looks_like_credential(value: str, *, secret_shape: bool = True) -> bool:
    return bool(_ACCESS_KEY_ID.search(value) or (secret_shape and _SECRET_KEY.match(value)))


def free_text_credential_problems(plan: RecoveryPlan) -> list[tuple[str, str]]:
    """An access key ID pasted anywhere else in a plan (its description, a wave's or group's name, an
    approval's message, a tag, the test brief): reported by place, never quoted. Only the unmistakable
    key-ID shape is looked for in free text (a 40-character secret shape would catch hashes and IDs as
    well)."""
    texts: list[tuple[str, str]] = [("name", plan.name), ("description", plan.description)]
    for index, group in enumerate(plan.protection_groups):
        path = join_path("protection_groups", index)
        texts.append((join_path(path, "name"), group.name))
        for key, value in (group.tags or {}).items():
            texts.append((join_path(join_path(path, "tags"), key), f"{key} {value}"))
    for index, wave in enumerate(plan.waves):
        path = join_path("waves", index)
        texts.append((join_path(path, "name"), wave.name))
        for place in ("before", "after"):
            for position, step in enumerate(getattr(wave, place)):
                message = getattr(step, "message", "")
                texts.append((join_path(join_path(path, place), position), message))
    texts.append(("test.scenario", plan.brief.scenario))
    for key in ("objectives", "success_criteria", "participants"):
        texts += [
            (join_path(f"test.{key}", index), item) for index, item in enumerate(getattr(plan.brief, key))
        ]
    return [
        (path, "holds what looks like an AWS access key ID; a plan file never holds a credential")
        for path, text in texts
        if text and _ACCESS_KEY_ID.search(text)
    ]


Found = list[tuple[str, str]]


def target_problems(plan: RecoveryPlan) -> Found:
    """(path, message) of every problem of ``plan.targets``."""
    return targets_problems(plan.targets)


def targets_problems(targets: Sequence[PlanTarget]) -> Found:
    """(path, message) of every problem of a list of targets (a plan's, or the settings' target list:
    the same rules, so a target the settings accept is one a plan accepts)."""
    found: Found = []
    seen: dict[str, int] = {}
    for index, target in enumerate(targets):
        path = join_path("targets", index)
        secret_fields = _credential_fields(target, path, found)  # reported once, never quoted again
        if "name" not in secret_fields:
            _name(target, index, path, seen, found)
        if "account" not in secret_fields and not ACCOUNT.match(target.account):
            found.append(
                (join_path(path, "account"), f"{quote(target.account)} is not an AWS account ID (12 digits)")
            )
        if "region" not in secret_fields and not REGION.match(target.region):
            found.append(
                (
                    join_path(path, "region"),
                    f"{quote(target.region)} is not an AWS Region (such as eu-west-1)",
                )
            )
        _reached(target, path, secret_fields, found)
    _same_place(targets, found)
    return found


def _same_place(targets: Sequence[PlanTarget], found: Found) -> None:
    """Two targets in one account and Region: the engine would count DRS's quotas (20 jobs, 500 servers)
    twice for one account, and DRS would refuse what the engine thought fitted."""
    first: dict[tuple[str, str], int] = {}
    for index, target in enumerate(targets):
        if not target.account or not target.region:
            continue
        where = (target.account, target.region)
        if where in first:
            other = targets[first[where]]
            found.append(
                (
                    join_path(join_path("targets", index), "account"),
                    f"targets {quote(other.name)} and {quote(target.name)} are the same account and Region "
                    f"({target.account}/{target.region}): declare it once",
                )
            )
        else:
            first[where] = index


def _name(target: PlanTarget, index: int, path: str, seen: dict[str, int], found: Found) -> None:
    where = join_path(path, "name")
    if not target.name.strip():
        found.append((where, "a target needs a name"))
    elif not TARGET_NAME.match(target.name):
        found.append(
            (
                where,
                f"{quote(target.name)} is not a target name: up to 64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit",
            )
        )
    elif target.name in seen:
        found.append(
            (where, f"duplicate target name {quote(target.name)} ({join_path('targets', seen[target.name])})")
        )
    else:
        seen[target.name] = index


def _credential_fields(target: PlanTarget, path: str, found: Found) -> set[str]:
    """Fields whose value looks like an access key or a secret key (reported, never quoted)."""
    fields: set[str] = set()
    for key in TARGET_KEYS:
        # An external ID may well be 40 characters of base64 (openssl rand -base64 30): only a key ID there.
        if _looks_like_credential(getattr(target, key), secret_shape=key != "external_id"):
            fields.add(key)
            found.append(
                (
                    join_path(path, key),
                    "looks like an AWS access key or secret key, and a plan file never holds a secret: keep "
                    "credentials in the AWS profile and name the profile here",
                )
            )
    return fields


def _reached(target: PlanTarget, path: str, skip: set[str], found: Found) -> None:
    """Exactly one way in: a profile, or a role assumed from a source profile (with its options)."""
    if target.profile and target.role_arn:
        found.append((path, "give either profile or role_arn (with source_profile), not both"))
    elif not target.profile and not target.role_arn:
        found.append((path, "say how to reach the target: profile, or role_arn with source_profile"))
    if target.profile and "profile" not in skip and not PROFILE.match(target.profile):
        found.append((join_path(path, "profile"), f"{quote(target.profile)} is not an AWS profile name"))
    if not target.role_arn:
        for key in ("source_profile", "external_id", "mfa_serial"):
            if getattr(target, key):
                found.append(
                    (join_path(path, key), f"{key} goes with role_arn (the role it is used to assume)")
                )
        return
    if "role_arn" not in skip:
        match = ROLE_ARN.match(target.role_arn)
        if match is None:
            found.append(
                (
                    join_path(path, "role_arn"),
                    f"{quote(target.role_arn)} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                )
            )
        elif ACCOUNT.match(target.account) and match.group(2) != target.account:
            found.append(
                (
                    join_path(path, "role_arn"),
                    f"the role is in account {match.group(2)}, but the target is account {target.account}: "
                    "DRS calls would land in the role's account",
                )
            )
    if not target.source_profile:
        found.append(
            (join_path(path, "source_profile"), "role_arn needs source_profile: the profile that assumes it")
        )
    elif "source_profile" not in skip and not PROFILE.match(target.source_profile):
        found.append(
            (join_path(path, "source_profile"), f"{quote(target.source_profile)} is not an AWS profile name")
        )
    if target.external_id and "external_id" not in skip and not EXTERNAL_ID.match(target.external_id):
        found.append(
            (
                join_path(path, "external_id"),
                "an external ID is 2 to 1224 characters of letters, digits and +=,.@:/-_ "
                f"(got {len(target.external_id)} characters)",
            )
        )
    if target.mfa_serial and "mfa_serial" not in skip and not MFA_SERIAL.match(target.mfa_serial):
        found.append(
            (
                join_path(path, "mfa_serial"),
                f"{quote(target.mfa_serial)} is not an MFA device ARN (arn:aws:iam::ACCOUNT:mfa/NAME) "
                "or serial number",
            )
        )


def _reference(plan: RecoveryPlan, name: str | None, path: str, what: str, fix: str) -> Found:
    """A named target must be declared; an unnamed one must be decidable (none declared, or one)."""
    if name is None:
        if len(plan.targets) > 1:
            names = ", ".join(quote(t.name) for t in plan.targets)
            return [
                (
                    path,
                    f"the plan declares {len(plan.targets)} targets ({names}): say which {what} is in: {fix}",
                )
            ]
        return []
    if plan.target(name) is not None:
        return []
    if not plan.targets:
        return [(path, f"unknown target {quote(name)}: the plan declares no targets (add it under targets:)")]
    close = Suggester({t.name: i for i, t in enumerate(plan.targets)}).suggest(name)
    hint = f" (did you mean {quote(close)}?)" if close is not None else ""
    return [(path, f"unknown target {quote(name)}{hint}")]


def group_target_problems(plan: RecoveryPlan, index: int) -> Found:
    group = plan.protection_groups[index]
    path = join_path("protection_groups", index)
    if group.target is None:
        return _reference(plan, None, path, "this group", "add target: NAME")
    return _reference(plan, group.target, join_path(path, "target"), "", "")


def wave_target_problems(plan: RecoveryPlan, index: int) -> Found:
    wave = plan.waves[index]
    path = join_path("waves", index)
    found: Found = []
    if wave.target is not None:
        found += _reference(plan, wave.target, join_path(path, "target"), "", "")
    for item, server_id in enumerate(wave.servers):
        item_path = join_path(join_path(path, "servers"), item)
        named = wave.server_targets.get(server_id)
        if named is not None:
            found += _reference(plan, named, join_path(item_path, "target"), "", "")
        elif wave.target is None:
            found += _reference(
                plan,
                None,
                item_path,
                "this server",
                "give the wave a target: or write {id: " + server_id + ", target: NAME}",
            )
    return found
