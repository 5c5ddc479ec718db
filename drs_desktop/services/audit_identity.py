"""Whether the person who signs a run off is the person who ran it (a sign-off's ``self_signed``).

An auditor reads "signed off by someone other than the operator" from it, so it compares what STS said
of each (``ExecutionRecord.identity`` for the run, ``aws.signer.profile_identity`` for the signer), by
principal rather than by the exact string:

- the same IAM user (its UserId, or its ARN: the path and the name's case aside) is the same identity;
- an assumed role is the same identity when it is the same role, unless it is an IAM Identity Center
  role (``AWSReservedSSO_...``) signed in as two people: Identity Center names the session after the
  person (``AWSReservedSSO_Admin_xxx/alice@example.com`` and ``.../bob@example.com`` are two people),
  and nobody can choose it. Any other role's session name is whatever the caller's profile says
  (``role_session_name``, or a tool's ``botocore-session-<n>``): the same role signing with another name
  shows no second person;
- another account is never the same identity; an identity that is not known counts as the same (a
  sign-off never claims an independence it cannot show).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from drs_desktop.domain.drs.views import CallerIdentity

__all__ = ["same_identity"]

_ARN = re.compile(r"^arn:[^:]+:(iam|sts)::([0-9]*):(.+)$")
#: The (lower-cased) name prefix of the roles IAM Identity Center creates; it names their sessions.
_IDENTITY_CENTER_ROLE = "awsreservedsso_"
#: Role session names that tools choose, not people.
_TOOL_SESSIONS = re.compile(r"^(botocore-session-[0-9]+|drs-desktop.*)$", re.IGNORECASE)


def _principal(arn: str) -> tuple[str, ...] | None:
    """(kind, account, ...) of an ARN STS answers; None for one it does not recognise."""
    match = _ARN.match(arn.strip())
    if match is None:
        return None
    service, account, resource = match.groups()
    if resource == "root":
        return ("root", account)
    kind, _, rest = resource.partition("/")
    if service == "iam" and kind == "user":
        return ("user", account, rest.rsplit("/", 1)[-1].lower())
    if service == "sts" and kind == "assumed-role":
        role, _, session = rest.partition("/")
        return ("role", account, role.lower(), session)
    if service == "sts" and kind == "federated-user":
        return ("federated", account, rest.lower())
    return None


def same_identity(run: Mapping[str, str], signer: CallerIdentity) -> bool:
    """Whether ``signer`` is the identity that ran the execution (``run``: its recorded identity)."""
    run_arn = str(run.get("arn") or "")
    run_account = str(run.get("account") or "")
    run_user_id = str(run.get("user_id") or "")
    if not run_arn:
        return True  # who ran it is not known: independence cannot be shown
    if run_account and signer.account and run_account != signer.account:
        return False
    if run_user_id and signer.user_id and run_user_id == signer.user_id:
        return True
    mine, theirs = _principal(run_arn), _principal(signer.arn)
    if mine is None or theirs is None:
        return run_arn.strip().lower() == signer.arn.strip().lower()
    if mine[0] == "role" and theirs[0] == "role":
        if mine[1:3] != theirs[1:3]:
            return False
        if not mine[2].startswith(_IDENTITY_CENTER_ROLE):
            return True  # the session name is the caller's choice: it shows no second person
        return mine[3] == theirs[3] or bool(_TOOL_SESSIONS.match(mine[3]) or _TOOL_SESSIONS.match(theirs[3]))
    return mine == theirs
