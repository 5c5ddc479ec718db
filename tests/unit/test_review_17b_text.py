"""A script step in one line (``automation_text``) says its command as a shell reads it (review 17b):
``--zone "two words"`` and ``--zone two words`` are different commands and must not read the same."""

from __future__ import annotations

from drs_desktop.domain.plan.automation import ScriptStep
from drs_desktop.domain.plan.automation_text import describe_automation


def test_a_script_s_arguments_are_quoted_as_a_shell_reads_them() -> None:
    one = describe_automation(ScriptStep(name="dns", path="/opt/dns.sh", arguments=("--zone", "a b")))
    two = describe_automation(ScriptStep(name="dns", path="/opt/dns.sh", arguments=("--zone", "a", "b")))
    assert one != two
    assert "script /opt/dns.sh --zone 'a b';" in one
