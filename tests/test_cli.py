"""The command line as an operator uses it: exit codes, one line per problem, --home everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drs_desktop import __version__
from drs_desktop.cli import main

PLAN = """\
format: drs-desktop/plan@1
name: Payments
rto_minutes: 60
protection_groups:
  - name: payments-web
    tags: {App: payments, Tier: web}
waves:
  - name: Databases
    servers: [s-0123456789abcdef0]
    after: [{wait_minutes: 5}]
  - name: Web
    groups: [payments-web]
    before: [{approval: "Database team: ready for web?"}]
"""


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "payments.yaml"
    path.write_text(PLAN, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"drs-desktop {__version__}"


def test_validate_valid_file(capsys: pytest.CaptureFixture[str], plan_file: Path) -> None:
    code, out, err = run(capsys, "plan", "validate", str(plan_file))
    assert code == 0
    assert out == ""
    assert "is valid" in err


def test_validate_invalid_file_lists_every_problem_one_per_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        PLAN.replace("s-0123456789abcdef0", "s-123").replace("groups: [payments-web]", "groups: [nope]"),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "plan", "validate", str(bad))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{bad}:9: waves[0].servers[0]")
    assert lines[1].startswith(f"{bad}:12: waves[1].groups[0]")


def test_validate_typo_names_line_path_and_suggestion(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text(PLAN.replace("after:", "afterr:"), encoding="utf-8")
    code, out, _ = run(capsys, "plan", "validate", str(bad))
    assert code == 1
    assert out.strip() == f"{bad}:10: waves[0].afterr: unknown key 'afterr' (did you mean 'after'?)"


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01\x02garbage\xff\xfe", b"a: [unclosed", b"a: &x [1]\nb: *x\n"],
    ids=["binary", "syntax", "alias"],
)
def test_validate_unreadable_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(content)
    code, out, err = run(capsys, "plan", "validate", str(bad))
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert str(bad) in err


def test_validate_missing_file_and_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "plan", "validate", str(tmp_path / "missing.yaml"))[0] == 2
    assert run(capsys, "plan", "validate")[0] == 2
    assert run(capsys, "plan", "frobnicate")[0] == 2
    assert run(capsys, "plan", "diff", "Payments", "one", "2")[0] == 2


def test_import_list_history_diff_export(
    capsys: pytest.CaptureFixture[str], plan_file: Path, tmp_path: Path
) -> None:
    home = tmp_path / "elsewhere"
    code, out, _ = run(capsys, "plan", "import", str(plan_file), "--home", str(home))
    assert (code, out.strip()) == (0, "plan 'Payments' saved as revision 1")
    assert (home / "drs-desktop.sqlite3").exists()

    # The same content again adds no revision.
    code, out, _ = run(capsys, "--home", str(home), "plan", "import", str(plan_file))
    assert (code, out.strip()) == (0, "plan 'Payments' unchanged, still revision 1")

    plan_file.write_text(PLAN.replace("rto_minutes: 60", "rto_minutes: 45"), encoding="utf-8")
    code, out, _ = run(
        capsys, "plan", "import", str(plan_file), "--comment", "tighter RTO", "--home", str(home)
    )
    assert (code, out.strip()) == (0, "plan 'Payments' saved as revision 2")

    code, out, _ = run(capsys, "plan", "list", "--json", "--home", str(home))
    assert code == 0
    listed = json.loads(out)
    assert [(p["name"], p["latest_revision"], p["waves"]) for p in listed] == [("Payments", 2, 2)]

    code, out, _ = run(capsys, "plan", "history", "Payments", "--home", str(home))
    assert code == 0
    assert [line.split()[1] for line in out.splitlines()] == ["1", "2"]
    assert out.splitlines()[1].endswith("tighter RTO")

    code, out, _ = run(capsys, "plan", "diff", "Payments", "1", "2", "--home", str(home))
    assert (code, out.strip()) == (0, "rto_minutes: 60 -> 45")

    exported = tmp_path / "out.json"
    code, _, _ = run(
        capsys, "plan", "export", "Payments", "--format", "json", "-o", str(exported), "--home", str(home)
    )
    assert code == 0
    assert json.loads(exported.read_text(encoding="utf-8"))["rto_minutes"] == 45
    code, out, _ = run(capsys, "plan", "export", "Payments", "--revision", "1", "--home", str(home))
    assert code == 0
    assert "rto_minutes: 60" in out


def test_import_of_invalid_file_writes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    home = tmp_path / "h"
    bad = tmp_path / "bad.yaml"
    bad.write_text(PLAN.replace("s-0123456789abcdef0", "s-123"), encoding="utf-8")
    code, out, err = run(capsys, "plan", "import", str(bad), "--home", str(home))
    assert code == 1
    assert "waves[0].servers[0]" in out
    assert "nothing imported" in err
    code, out, _ = run(capsys, "plan", "list", "--json", "--home", str(home))
    assert json.loads(out) == []


def test_unknown_plan_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", "export", "Nope")
    assert code == 1
    assert out == ""
    assert err.strip() == "drs-desktop: error: no plan named 'Nope'"


@pytest.mark.parametrize(
    "content", [b"this is not a database at all", os.urandom(8192)], ids=["text", "random"]
)
def test_corrupt_database_is_refused_and_kept(
    capsys: pytest.CaptureFixture[str], home: Path, content: bytes
) -> None:
    db = home / "drs-desktop.sqlite3"
    db.write_bytes(content)
    code, _, err = run(capsys, "plan", "list")
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert str(db) in err
    assert db.read_bytes() == content


def test_home_from_environment(capsys: pytest.CaptureFixture[str], plan_file: Path, home: Path) -> None:
    assert run(capsys, "plan", "import", str(plan_file))[0] == 0
    assert (home / "drs-desktop.sqlite3").exists()


def test_module_entry_point_and_self_test(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DRS_DESKTOP_HOME": str(tmp_path)}
    version = subprocess.run(
        [sys.executable, "-m", "drs_desktop", "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert (version.returncode, version.stdout.strip()) == (0, f"drs-desktop {__version__}")
    self_test = subprocess.run(
        [sys.executable, "-m", "drs_desktop", "--self-test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert self_test.returncode == 0, self_test.stderr
    assert "self-test: ok" in self_test.stdout


PLAN_V2 = """\
format: drs-desktop/plan@2
name: Spread
targets:
  - name: stage-a
    account: '111111111111'
    region: us-east-1
    profile: dr-stage-a
  - name: stage-b
    account: '222222222222'
    region: eu-west-1
    role_arn: arn:aws:iam::222222222222:role/DrsDesktop
    source_profile: dr-hub
protection_groups:
  - name: db-a
    target: stage-a
    servers:
      - s-0123456789abcdef0
waves:
  - name: Databases
    target: stage-b
    groups:
      - db-a
    servers:
      - s-0123456789abcdef1
      - id: s-0123456789abcdef2
        target: stage-a
"""


def test_a_format_2_plan_validates_imports_and_exports_unchanged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    home = tmp_path / "h"
    path = tmp_path / "spread.yaml"
    path.write_text(PLAN_V2, encoding="utf-8")
    code, _, err = run(capsys, "plan", "validate", str(path), "--home", str(home))
    assert (code, err.strip().splitlines()[-1]) == (0, f"{path}: plan 'Spread' is valid")
    code, out, _ = run(capsys, "plan", "import", str(path), "--home", str(home))
    assert (code, out.strip()) == (0, "plan 'Spread' saved as revision 1")
    code, out, _ = run(capsys, "plan", "export", "Spread", "--home", str(home))
    assert code == 0
    assert out == "# DRS Desktop recovery plan (format: docs/plan-format.md)\n" + PLAN_V2
    # Importing the export again changes nothing: the same document, the same content hash.
    path.write_text(out, encoding="utf-8")
    code, out, _ = run(capsys, "plan", "import", str(path), "--home", str(home))
    assert (code, out.strip()) == (0, "plan 'Spread' unchanged, still revision 1")


def test_a_format_1_plan_still_exports_as_format_1(
    capsys: pytest.CaptureFixture[str], plan_file: Path, tmp_path: Path
) -> None:
    home = tmp_path / "h"
    assert run(capsys, "plan", "import", str(plan_file), "--home", str(home))[0] == 0
    code, out, _ = run(capsys, "plan", "export", "Payments", "--home", str(home))
    assert code == 0 and "format: drs-desktop/plan@1\n" in out and "target" not in out


def test_a_format_2_file_with_a_reserved_part_or_a_bad_target_is_refused_with_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    home = tmp_path / "h"
    path = tmp_path / "bad.yaml"
    text = PLAN_V2.replace("account: '222222222222'", "account: '2222'") + "alerts:\n  - sns: arn\n"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "plan", "import", str(path), "--home", str(home))
    assert code == 1 and "nothing imported" in err
    assert out.splitlines() == [
        f"{path}:27: alerts: 'alerts' (alerts) has its place in drs-desktop/plan@2, but only the DRS Desktop "
        "release that brings alerts outside the app reads it; this version refuses the file "
        "rather than drop it (exporting the plan again would lose it)"
    ]
    path.write_text(PLAN_V2.replace("account: '222222222222'", "account: '2222'"), encoding="utf-8")
    code, out, _ = run(capsys, "plan", "validate", str(path), "--home", str(home))
    assert code == 1
    # (the role's account is compared with the target's only once the target's is 12 digits)
    assert out.splitlines() == [f"{path}:9: targets[1].account: '2222' is not an AWS account ID (12 digits)"]
