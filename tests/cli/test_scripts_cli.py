"""``drs-desktop scripts list|trust|revoke``: a round trip, the terminal's question, and no trust without a
person (no terminal and no ``--yes``: nothing trusted, exit 2)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import SUBPROCESS_TIMEOUT, Cli, command, subprocess_env


class _Terminal(io.StringIO):
    """Standard input that is a terminal, with the operator's answer typed in."""

    def isatty(self) -> bool:
        return True


def _script(folder: Path, name: str = "failover.sh") -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\necho failing over\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_trust_list_change_and_revoke_round_trip(tmp_path: Path, app_home: Path, cli: Cli) -> None:
    path = _script(tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    listed = cli("scripts", "list", "--json", "--home", str(app_home))
    assert (listed.code, listed.json()) == (0, [])

    trusted = cli("scripts", "trust", str(path), "--yes", "--json", "--home", str(app_home))
    assert trusted.code == 0, trusted.err
    assert trusted.json()["sha256"] == digest and trusted.json()["path"] == str(path)
    assert trusted.json()["trusted_by"]

    rows = cli("scripts", "list", "--json", "--home", str(app_home)).json()
    assert [(r["path"], r["status"], r["sha256"]) for r in rows] == [(str(path), "TRUSTED", digest)]

    path.write_text("#!/bin/sh\necho something else\n", encoding="utf-8")
    rows = cli("scripts", "list", "--json", "--home", str(app_home)).json()
    assert rows[0]["status"] == "CHANGED" and rows[0]["current_sha256"] != digest
    text = cli("scripts", "list", "--home", str(app_home))
    assert text.out.startswith("CHANGED") and "contents changed" in text.out

    revoked = cli("scripts", "revoke", str(path), "--json", "--home", str(app_home))
    assert (revoked.code, revoked.json()) == (0, {"path": str(path), "revoked": True})
    again = cli("scripts", "revoke", str(path), "--home", str(app_home))
    assert again.code == 1 and "was not trusted" in again.err
    assert cli("scripts", "list", "--json", "--home", str(app_home)).json() == []


@pytest.mark.parametrize(("answer", "code", "count"), [("y\n", 0, 1), ("n\n", 1, 0), ("\n", 1, 0)])
def test_on_a_terminal_trust_shows_the_command_and_hash_and_asks(
    tmp_path: Path,
    app_home: Path,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
    count: int,
) -> None:
    path = _script(tmp_path, "dns move.sh")
    monkeypatch.setattr("sys.stdin", _Terminal(answer))
    result = cli("scripts", "trust", str(path), "--home", str(app_home))
    assert result.code == code
    assert f"command:  '{path}'" in result.err  # quoted: the name has a space
    assert hashlib.sha256(path.read_bytes()).hexdigest() in result.err
    assert "Trust this script on this desktop? [y/N]" in result.err
    assert len(cli("scripts", "list", "--json", "--home", str(app_home)).json()) == count


def test_a_relative_path_is_taken_from_the_working_folder(
    tmp_path: Path, app_home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _script(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli("scripts", "trust", path.name, "--yes", "--home", str(app_home)).code == 0
    rows = cli("scripts", "list", "--json", "--home", str(app_home)).json()
    assert [r["path"] for r in rows] == [os.path.join(os.getcwd(), path.name)]


def test_a_missing_script_is_refused_and_nothing_is_trusted(tmp_path: Path, app_home: Path, cli: Cli) -> None:
    result = cli("scripts", "trust", str(tmp_path / "absent.sh"), "--yes", "--home", str(app_home))
    assert result.code == 1 and "cannot trust" in result.err and "no such file" in result.err
    assert cli("scripts", "list", "--json", "--home", str(app_home)).json() == []


def test_without_a_terminal_and_without_yes_nothing_is_trusted(
    tmp_path: Path, app_home: Path, cli: Cli
) -> None:
    """A real process with standard input from /dev/null: the question cannot be asked, so no trust."""
    path = _script(tmp_path)
    done = subprocess.run(
        command("scripts", "trust", str(path), "--home", str(app_home)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        env=subprocess_env(),
        check=False,
    )
    assert done.returncode == 2 and "not one" in done.stderr and "--yes" in done.stderr
    assert "Traceback" not in done.stderr
    assert cli("scripts", "list", "--json", "--home", str(app_home)).json() == []
