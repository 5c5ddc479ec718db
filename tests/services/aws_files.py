"""AWS config and credentials files for tests: profiles of every kind the settings page handles."""

from __future__ import annotations

from pathlib import Path

import pytest

AWS_CONFIG = """
[default]
region = eu-west-1

[profile dr-admin]
region = eu-central-1

[profile corp-sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = DrsOperator
region = us-east-1

[profile legacy-sso]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = DrsOperator

[profile mfa-role]
role_arn = arn:aws:iam::123456789012:role/DrsOperator
source_profile = base
mfa_serial = arn:aws:iam::123456789012:mfa/operator
region = us-east-1
duration_seconds = 3600

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
"""

AWS_CREDENTIALS = """
[base]
aws_access_key_id = AKIABASEBASEBASE0001
aws_secret_access_key = base/secret/access/key/0123456789abcdef
"""


def install_aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Write the files under ``tmp_path/aws`` and point botocore at them for this test."""
    folder = tmp_path / "aws"
    folder.mkdir()
    (folder / "config").write_text(AWS_CONFIG, encoding="utf-8")
    (folder / "credentials").write_text(AWS_CREDENTIALS, encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(folder / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / "credentials"))
    return folder
