"""``drs-desktop executions prune|delete``: the list first, the question on a terminal, ``--yes``, the
refusal without a terminal, and a named execution that must stay (on a history made by real runs)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database
from tests.cli.conftest import Cli, cli
from tests.services.history_estate import Estate, build_estate

__all__ = ["cli"]


class _Terminal(io.StringIO):
    """Standard input that is a terminal, with the operator's answer typed in."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def home(tmp_path: Path) -> Iterator[tuple[Path, Estate]]:
    """A home whose history holds the estate's four runs (made on the simulator's clock, in January
    2026: older than a day today), closed so the CLI opens it as an operator would."""
    with build_estate(tmp_path) as estate:
        yield tmp_path, estate


def _ids(folder: Path) -> set[str]:
    with Database.open(folder / "drs-desktop.sqlite3") as db:
        return {r.execution_id for r in journal.list_executions(db)}


def test_prune_prints_the_list_and_without_a_terminal_or_yes_deletes_nothing(home, cli: Cli) -> None:  # type: ignore[no-untyped-def]
    folder, estate = home
    estate.db.close()
    result = cli("executions", "prune", "--older-than", "1", "--home", str(folder))
    assert result.code == 2 and "pass --yes once you have read the list" in result.err
    assert (
        "goes (2):" in result.out and estate.crm_cleaned in result.out and estate.crm_recovery in result.out
    )
    assert f"{estate.shop_left}" in result.out and "5 drill instance(s) still running" in result.out
    assert "not finished" in result.out
    assert len(_ids(folder)) == 4


@pytest.mark.parametrize(("answer", "code", "left"), [("y\n", 0, 2), ("n\n", 1, 4), ("\n", 1, 4)])
def test_prune_on_a_terminal_asks(
    home: tuple[Path, Estate], cli: Cli, monkeypatch: pytest.MonkeyPatch, answer: str, code: int, left: int
) -> None:
    folder, estate = home
    estate.db.close()
    monkeypatch.setattr("sys.stdin", _Terminal(answer))
    result = cli("executions", "prune", "--older-than", "1", "--home", str(folder))
    assert result.code == code
    assert "Delete these 2 execution(s) and their evidence? [y/N]" in result.err
    assert len(_ids(folder)) == left


def test_prune_with_yes_and_json_says_what_went_and_what_stayed(home, cli: Cli) -> None:  # type: ignore[no-untyped-def]
    folder, estate = home
    estate.db.close()
    result = cli("executions", "prune", "--older-than", "1", "--yes", "--json", "--home", str(folder))
    assert result.code == 0, result.err
    document = result.json()
    assert set(document["deleted"]) == {estate.crm_cleaned, estate.crm_recovery}
    assert {k["execution_id"] for k in document["kept"]} == {estate.shop_left, estate.fax_waiting}
    assert all(k["reasons"] for k in document["kept"])
    assert _ids(folder) == {estate.shop_left, estate.fax_waiting}


def test_prune_with_the_default_setting_keeps_everything(home, cli: Cli) -> None:  # type: ignore[no-untyped-def]
    folder, estate = home
    estate.db.close()
    result = cli("executions", "prune", "--yes", "--home", str(folder))
    assert result.code == 0 and "keeps everything" in result.out
    assert len(_ids(folder)) == 4
    assert cli("executions", "prune", "--older-than", "-3", "--home", str(folder)).code == 2


def test_delete_one_refuses_what_must_stay_and_deletes_with_yes(home, cli: Cli) -> None:  # type: ignore[no-untyped-def]
    folder, estate = home
    estate.db.close()
    kept = cli("executions", "delete", estate.shop_left, "--yes", "--home", str(folder))
    assert kept.code == 1 and "drill instance(s) still running" in kept.err
    refused = cli("executions", "delete", estate.crm_recovery, "--home", str(folder))
    assert refused.code == 2 and estate.crm_recovery in refused.out
    done = cli("executions", "delete", estate.crm_recovery, "--yes", "--home", str(folder))
    assert done.code == 0 and "Deleted 1 execution(s)" in done.out
    assert _ids(folder) == {estate.crm_cleaned, estate.shop_left, estate.fax_waiting}
    missing = cli("executions", "delete", "0000dead", "--yes", "--home", str(folder))
    assert missing.code == 1 and "no execution with ID" in missing.err
