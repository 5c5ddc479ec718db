"""The AWS services DRS Desktop calls: the one list the packaged bundle keeps botocore's models for.

botocore carries the model of every AWS service (about 30 MB compressed); the bundle keeps only these
(``build.spec`` reads ``USED``), so a client for any other service cannot be built in the bundle. A feature
that calls a new service adds it here first: ``tests/test_aws_services.py`` fails on a client built in the
code for a service missing from this list, or one botocore's credential and token providers build for a
profile (assume role, SSO, ``aws login``), and the bundle's ``--self-test`` builds a client for each.
"""

from __future__ import annotations

#: Service names as botocore spells them (``boto3.client(NAME)``), with why each is called.
USED: tuple[str, ...] = (
    "drs",  # everything DRS Desktop does: source servers, jobs, launch settings, native recovery plans
    "ec2",  # launch templates (what DRS launches from), networks for the drill profile, instances
    "ssm",  # automation steps: Run Command (SendCommand...) and preflight (agent online, document exists)
    "lambda",  # automation steps: a Lambda function invoked between waves, and whether it exists
    "sns",  # alerts outside the app (issue 18): Publish to a plan's topic, and its check (GetTopicAttributes)
    "sts",  # the account behind a profile (GetCallerIdentity); assumed-role profiles (AssumeRole)
    "sso",  # IAM Identity Center profiles: role credentials from an SSO sign-in (GetRoleCredentials)
    "sso-oidc",  # the SSO sign-in itself (device authorization) and the refresh of its token
    "dynamodb",  # team sync (docs/sync.md): the sync table, created by `drs-desktop sync init`
    "signin",  # botocore's own: profiles signed in with `aws login` (login_session) refresh through it
)

#: botocore data files every client needs whatever its service (endpoints, partitions, retry rules,
#: defaults modes): kept beside the services' own folders.
BOTOCORE_SHARED_DATA: tuple[str, ...] = (
    "endpoints.json",
    "partitions.json",
    "_retry.json",
    "sdk-default-configuration.json",
)
