"""PlanLibrary: the editor's use cases against a real database in the test's folder."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.domain.errors import PlanFileError, PlanNotFoundError, StorageError
from drs_desktop.domain.plan import edit as pe
from drs_desktop.services.plan_editing import PlanLibrary
from drs_desktop.storage.db import Database
from drs_desktop.storage.inventory import save_inventory
from drs_desktop.storage.planfile import load_plan_file
from tests.ui.plan_helpers import A, sample_inventory, sample_plan


@pytest.fixture
def library(tmp_path: Path) -> Iterator[PlanLibrary]:
    with Database.open(tmp_path / "drs.sqlite3") as db:
        lib = PlanLibrary(db)
        yield lib
        lib.close()


def test_save_new_then_unchanged_then_changed(library: PlanLibrary) -> None:
    first = library.save_plan(sample_plan(), "first")
    assert (first.revision.revision, first.created, first.revision.comment) == (1, True, "first")
    again = library.save_plan(sample_plan(), "again", previous_name="Payroll")
    assert (again.revision.revision, again.created) == (1, False)
    changed = library.save_plan(pe.add_wave(sample_plan(), "Late"), "late wave", previous_name="Payroll")
    assert (changed.revision.revision, changed.created) == (2, True)
    assert any("empty" in p.message for p in changed.problems)
    assert [r.revision for r in library.history("Payroll")] == [1, 2]
    assert library.diff("Payroll", 1, 2) == ["wave 'Late' added"]
    assert library.load_plan("Payroll", 1).plan == sample_plan()


def test_a_new_plan_may_not_take_an_existing_name(library: PlanLibrary) -> None:
    library.save_plan(sample_plan())
    with pytest.raises(StorageError, match="already exists"):
        library.save_plan(pe.add_wave(sample_plan()))
    assert [r.revision for r in library.history("Payroll")] == [1]


def test_a_renamed_plan_keeps_its_history(library: PlanLibrary) -> None:
    library.save_plan(sample_plan())
    renamed = pe.add_wave(pe.set_name(sample_plan(), "Payroll DR"), "Late")
    saved = library.save_plan(renamed, "renamed and grown", previous_name="Payroll")
    assert saved.revision.name == "Payroll DR"
    history = library.history("Payroll DR")
    assert [r.revision for r in history] == [1, 2, 3]
    assert [s.name for s in library.list_plans()] == ["Payroll DR"]
    with pytest.raises(PlanNotFoundError):
        library.load_plan("Payroll")


def test_problems_are_checked_against_the_cached_inventory(library: PlanLibrary, tmp_path: Path) -> None:
    assert library.inventory() is None
    save_inventory(library._db, sample_inventory())
    inventory = library.inventory()
    assert inventory is not None and len(inventory.servers) == 6
    stranger = pe.add_servers(sample_plan(), 2, ["s-99999999999999999"])
    saved = library.save_plan(stranger)
    assert any("unknown source server" in p.message for p in saved.problems)


def test_export_then_import_round_trips(library: PlanLibrary, tmp_path: Path) -> None:
    library.save_plan(sample_plan())
    out = library.export_file("Payroll", tmp_path / "payroll.json")
    assert out.read_text(encoding="utf-8").lstrip().startswith("{")
    assert load_plan_file(out).plan == sample_plan()
    library.delete_plan("Payroll")
    assert library.list_plans() == []
    imported = library.import_file(out)
    assert imported.created and imported.revision.comment == "imported from payroll.json"
    assert library.load_plan("Payroll").plan == sample_plan()


def test_import_refuses_a_bad_file_with_its_line(library: PlanLibrary, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: drs-desktop/plan@1\nname: X\nwaves:\n  - name: W\n    servers: [nope]\n")
    with pytest.raises(PlanFileError) as caught:
        library.import_file(bad)
    assert any(":5:" in line for line in caught.value.lines())
    assert library.list_plans() == []


def test_a_library_reads_through_its_own_connection_opened_by_the_thread_that_uses_it(
    library: PlanLibrary,
) -> None:
    """A task thread builds its PlanLibrary and is its only user: the reader is a plain attribute, opened
    on the first read by that thread and closed by ``close()`` there (no thread-locals)."""
    library.save_plan(dataclasses.replace(sample_plan(), name="One"))
    on_thread = PlanLibrary(library._db)
    seen: list[object] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            assert on_thread._reader.current is None, "nothing opened before the first read"
            seen.append([s.name for s in on_thread.list_plans()])
            reader = on_thread._reader.current
            seen.append(reader)
            on_thread.close()
            seen.append(on_thread._reader.current)
            assert reader is not None and reader._conn is None
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(10)
    assert not errors
    assert seen[0] == ["One"] and seen[1] is not None and seen[2] is None
    assert library.load_plan("One").plan.waves[1].servers[0] == A
    assert library._reader.current is not None and library._reader.current is not seen[1]


def test_a_save_based_on_an_older_revision_is_refused_and_changes_nothing(library: PlanLibrary) -> None:
    """Two editors (the Plans and the Groups pane) opened revision 1; the second save must not bury the
    first one's change under its own."""
    from drs_desktop.domain.errors import PlanConflictError

    library.save_plan(sample_plan(), "first")
    first_editor = library.save_plan(
        pe.add_wave(sample_plan(), "Late"), "late wave", previous_name="Payroll", base_revision=1
    )
    assert first_editor.revision.revision == 2
    with pytest.raises(PlanConflictError, match="revision 2 after this editor opened revision 1"):
        library.save_plan(
            pe.add_wave(sample_plan(), "Other"), "other wave", previous_name="Payroll", base_revision=1
        )
    stored = library.load_plan("Payroll")
    assert stored.revision.revision == 2
    assert stored.plan.wave("Late") is not None and stored.plan.wave("Other") is None
    # Based on the latest revision, the save goes through.
    assert (
        library.save_plan(
            pe.add_wave(stored.plan, "Other"), "other wave", previous_name="Payroll", base_revision=2
        ).revision.revision
        == 3
    )
