"""This desktop's ID is bound to where its database lives (docs/sync.md, "A copied database").

The desktop ID (``sync_state.desktop_id``) names the writer of every change this desktop pushes and the
holder of every lease it takes. A copy of the SQLite file on another machine, or at another path on this
one, carried the same ID: both copies pushed as one writer, and each took the other's leases for its own.
So the ID is stored with a fingerprint of where it lives: a hash of the machine's ID (``/etc/machine-id``,
macOS's IOPlatformUUID, Windows' MachineGuid; the hostname where there is none; the hash only, never the
ID itself) and the database's absolute path (symlinks resolved). ``bind_desktop_id`` runs when the
database is opened (``Database.open``): the first time it records the fingerprint and keeps the ID; when
the fingerprint differs it mints a new ID, keeps the old one in ``sync_former_ids`` and says so in the log
(once: the next open matches) and in ``sync status``.

The former IDs keep this database's own executions its own: a head pulled back from the table whose
writer is a former ID is not someone else's for an execution this database already holds
(``is_own_writer``). A lease held under a former ID is *not* taken as this desktop's: the database it was
copied from may still be driving that execution, so it is taken over like any other desktop's, once it
has expired (the lease code compares ``holder`` with the current ID only).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # storage.db calls bind_desktop_id when it opens a database: no import back at run time
    from drs_desktop.storage.db import Database, Readable

__all__ = ["FormerId", "Rebound", "bind_desktop_id", "former_ids", "is_own_writer", "machine_fingerprint"]

logger = logging.getLogger(__name__)

_MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")


@dataclass(frozen=True)
class Rebound:
    """The database was opened where its ID was not bound: ``new_id`` replaced ``old_id``, which was
    bound to ``old_path`` (on this machine or another: ``same_machine``)."""

    old_id: str
    new_id: str
    old_path: str
    same_machine: bool

    def describe(self) -> str:
        where = "another path on this machine" if self.same_machine else "another machine"
        return (
            f"this database was copied or moved (from {self.old_path or 'an unknown place'} on {where}): "
            f"its desktop ID is now {self.new_id}, was {self.old_id}"
        )


@dataclass(frozen=True)
class FormerId:
    desktop_id: str
    replaced_at: str
    bound_path: str


def machine_fingerprint() -> str:
    """A hash of this machine's ID (the hostname where the platform gives none): stable across restarts,
    different on another machine, and never the ID itself (systemd asks that it not be exposed)."""
    return hashlib.sha256(f"drs-desktop:{_machine_id()}".encode()).hexdigest()


def bind_desktop_id(db: Database, *, machine: str | None = None) -> Rebound | None:
    """Bind this database's desktop ID to this machine and its path; a new ID when it was bound
    elsewhere (what replaced what: logged once and returned), else None."""
    machine = machine if machine is not None else machine_fingerprint()
    path = os.path.realpath(db.path)
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT desktop_id, bound_machine, bound_path FROM sync_state WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        old_id, old_machine, old_path = str(row[0]), str(row[1]), str(row[2])
        if (old_machine, old_path) == (machine, path):
            return None
        if not old_machine:  # first open since v10 (or a new database): this is where it lives
            conn.execute(
                "UPDATE sync_state SET bound_machine = ?, bound_path = ? WHERE id = 1", (machine, path)
            )
            return None
        new_id = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO sync_former_ids (desktop_id, replaced_at, bound_path) VALUES (?, ?, ?) "
            "ON CONFLICT (desktop_id) DO NOTHING",
            (old_id, datetime.now(UTC).isoformat(timespec="microseconds"), old_path),  # db.to_db_time's form
        )
        conn.execute(
            "UPDATE sync_state SET desktop_id = ?, bound_machine = ?, bound_path = ? WHERE id = 1",
            (new_id, machine, path),
        )
        # This database's executions were driven under the old ID: their journals' lineage (the sync
        # table's `drivers`) keeps saying so, so that the copy's pushes and pulls agree with the table's.
        conn.execute(
            "INSERT INTO sync_first_drivers (execution_id, desktop_id) SELECT id, ? FROM executions "
            "WHERE id NOT IN (SELECT execution_id FROM sync_first_drivers)",
            (old_id,),
        )
    rebound = Rebound(old_id, new_id, old_path, same_machine=old_machine == machine)
    logger.warning("team sync: %s", rebound.describe())
    return rebound


def former_ids(db: Readable) -> list[FormerId]:
    """The IDs this database had before, oldest first."""
    with db.reader() as conn:
        rows = conn.execute(
            "SELECT desktop_id, replaced_at, bound_path FROM sync_former_ids ORDER BY replaced_at, rowid"
        ).fetchall()
    return [FormerId(str(r[0]), str(r[1]), str(r[2])) for r in rows]


def is_own_writer(db: Readable, writer: str, execution_id: str) -> bool:
    """Whether a pulled head of ``execution_id`` written by ``writer`` (not the current ID) is this
    database's own: ``writer`` is one of its former IDs and the execution was here already, not pulled
    from someone else. An execution a former ID wrote that is not here was made by the database this one
    was copied from, after the copy: someone else's."""
    with db.reader() as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM sync_former_ids WHERE desktop_id = ?) "
            "AND EXISTS (SELECT 1 FROM executions WHERE id = ?) "
            "AND NOT EXISTS (SELECT 1 FROM sync_foreign_executions WHERE execution_id = ?)",
            (writer, execution_id, execution_id),
        ).fetchone()
    return bool(row[0])


def _machine_id() -> str:
    for name in _MACHINE_ID_FILES:
        try:
            text = Path(name).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text:
            return text
    if sys.platform == "darwin":
        try:
            out = subprocess.run(
                ["/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        for line in out.splitlines():
            if "IOPlatformUUID" in line:
                return line.rpartition("=")[2].strip().strip('"')
    if sys.platform == "win32":
        try:
            import winreg

            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography") as key:
                return str(winreg.QueryValueEx(key, "MachineGuid")[0])
        except OSError:
            pass
    return socket.gethostname()
