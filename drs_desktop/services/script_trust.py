"""Trusting local scripts on this desktop: look at a file, trust what a person saw, revoke, list.

Why here (Qt-free, shared by the CLI and the GUI): the confirmation dialog and ``drs-desktop scripts``
must give the same answer, and both read and hash files, which the GUI thread never does (this service
runs on the ``local`` task thread). The rules (issue 17):

- ``status(path)`` hashes the file the path leads to *now* (symbolic links followed) and compares the
  resolved path and the SHA-256 with the trust row: a changed file, or a link that now leads elsewhere,
  is ``CHANGED``, never trusted;
- ``trust(path, shown_command, expected_sha256=...)`` hashes again at that moment and refuses when the
  bytes differ from the hash the confirmation showed: what is trusted is what the operator saw;
- nothing else writes trust: a plan's script step, a plan import or a team sync never calls ``trust``.

What is left to whoever runs the script: a file can change between the last hash and the exec. The
runner should call ``require_trusted`` right before it starts the process, which keeps that window to
the time between one hash and one exec.
"""

from __future__ import annotations

import builtins
import getpass
import hashlib
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from drs_desktop.domain.safe_text import terminal_safe
from drs_desktop.domain.script_trust import (
    ScriptCheck,
    ScriptTrustError,
    TrustedScript,
    TrustStatus,
    command_line,
)
from drs_desktop.storage import script_trust as store
from drs_desktop.storage.db import Database, utc_now

logger = logging.getLogger(__name__)

__all__ = ["ScriptTrustService", "os_user"]

_CHUNK = 1 << 20


def os_user() -> str:
    """The OS user running the desktop (who trusted a script); "unknown" only where the OS names none."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no USER/LOGNAME and no passwd entry (a bare container)
        return "unknown"


@dataclass(frozen=True)
class _File:
    """What a look at a path found: the file it leads to and its hash, or why there is none."""

    status: TrustStatus | None  # MISSING or NOT_EXECUTABLE; None when the file was hashed
    resolved_path: str = ""
    sha256: str = ""
    detail: str = ""


class ScriptTrustService:
    """This desktop's allow-list over one database. Every method may read files: never on the GUI thread."""

    def __init__(
        self,
        db: Database,
        *,
        user: Callable[[], str] = os_user,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._user = user
        self._now = now

    def status(self, path: str) -> ScriptCheck:
        """Where ``path`` stands now (the file is read and hashed)."""
        checked = _checked_path(path)
        trusted = store.get_trust(self._db, checked)
        found = _look(checked)
        if found.status is not None:
            return ScriptCheck(checked, found.status, found.resolved_path, "", trusted, found.detail)
        if trusted is None:
            return ScriptCheck(
                checked,
                TrustStatus.UNTRUSTED,
                found.resolved_path,
                found.sha256,
                None,
                "not trusted on this desktop",
            )
        if trusted.resolved_path != found.resolved_path:
            detail = (
                f"now leads to {terminal_safe(found.resolved_path)}, not to the file trusted "
                f"({terminal_safe(trusted.resolved_path)})"
            )
            return ScriptCheck(
                checked, TrustStatus.CHANGED, found.resolved_path, found.sha256, trusted, detail
            )
        if trusted.sha256 != found.sha256:
            detail = (
                f"its contents changed since {terminal_safe(trusted.trusted_by)} trusted it on "
                f"{trusted.trusted_at:%Y-%m-%d %H:%M} UTC"
            )
            return ScriptCheck(
                checked, TrustStatus.CHANGED, found.resolved_path, found.sha256, trusted, detail
            )
        detail = f"trusted by {terminal_safe(trusted.trusted_by)} on {trusted.trusted_at:%Y-%m-%d %H:%M} UTC"
        return ScriptCheck(checked, TrustStatus.TRUSTED, found.resolved_path, found.sha256, trusted, detail)

    def trust(
        self, path: str, shown_command: str = "", *, expected_sha256: str | None = None
    ) -> TrustedScript:
        """Trust the file ``path`` leads to, as it is now; ``expected_sha256`` is the hash the operator was
        shown, and a file whose bytes differ from it is refused (it changed while the operator read)."""
        checked = _checked_path(path)
        found = _look(checked)
        if found.status is not None:
            raise ScriptTrustError(f"cannot trust {terminal_safe(checked)}: {found.detail}")
        if expected_sha256 is not None and found.sha256 != expected_sha256.lower():
            raise ScriptTrustError(
                f"{terminal_safe(checked)} changed since it was shown (SHA-256 now {found.sha256}, shown "
                f"{terminal_safe(expected_sha256)}): nothing trusted; look at it again"
            )
        trust = TrustedScript(
            path=checked,
            resolved_path=found.resolved_path,
            sha256=found.sha256,
            trusted_by=self._user(),
            trusted_at=self._now(),
            shown_command=shown_command or command_line(checked),
        )
        stored = store.save_trust(self._db, trust)
        logger.info("script trusted on this desktop: %s (SHA-256 %s)", checked, found.sha256)
        return stored

    def revoke(self, path: str) -> bool:
        """Forget the trust of ``path``; False when it was not trusted. The file is not read."""
        checked = _checked_path(path)
        revoked = store.delete_trust(self._db, checked)
        if revoked:
            logger.info("script trust revoked: %s", checked)
        return revoked

    def list(self) -> builtins.list[TrustedScript]:
        """Every trusted script as stored (no file is read)."""
        return store.list_trust(self._db)

    def checks(self) -> builtins.list[ScriptCheck]:
        """Every trusted script with where it stands now (each file is read and hashed)."""
        return [self.status(trusted.path) for trusted in store.list_trust(self._db)]

    def require_trusted(self, path: str) -> ScriptCheck:
        """The check of a script about to run (preflight, the runner): ``ScriptTrustError`` unless trusted."""
        check = self.status(path)
        if check.status is not TrustStatus.TRUSTED:
            raise ScriptTrustError(
                f"script {terminal_safe(check.path)} is {check.status.value.lower().replace('_', ' ')} "
                f"on this desktop ({check.detail}): it does not run until someone at this desktop trusts it"
            )
        return check


def _checked_path(path: str) -> str:
    if not isinstance(path, str) or not path.strip():
        raise ScriptTrustError("a script's path is empty")
    if "\x00" in path:
        raise ScriptTrustError(f"a script's path holds a NUL character: {terminal_safe(path)}")
    if not os.path.isabs(path):
        raise ScriptTrustError(f"a script's path must be absolute: {terminal_safe(path)}")
    return path


def _look(path: str) -> _File:
    """Resolve ``path``, check it is a regular file this user may run, and hash its bytes.

    The file is opened by its resolved path without following a link there, non-blocking (a FIFO
    swapped in after the check must not hang the thread), and the open file must be the one checked."""
    try:
        resolved = os.path.realpath(path, strict=True)
        before = os.stat(resolved)
    except FileNotFoundError:
        return _File(TrustStatus.MISSING, detail="no such file (or a link that leads nowhere)")
    except OSError as exc:
        return _File(TrustStatus.MISSING, detail=f"cannot be reached ({exc.strerror or exc})")
    if not stat.S_ISREG(before.st_mode):
        return _File(TrustStatus.NOT_EXECUTABLE, resolved, detail="not a regular file")
    if not os.access(resolved, os.X_OK):
        return _File(TrustStatus.NOT_EXECUTABLE, resolved, detail="not executable by this user")
    flags = (
        os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    )
    try:
        fd = os.open(resolved, flags)
    except FileNotFoundError:
        return _File(TrustStatus.MISSING, detail="no such file (it went while it was being read)")
    except OSError as exc:
        return _File(TrustStatus.NOT_EXECUTABLE, resolved, detail=f"cannot be read ({exc.strerror or exc})")
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino) or not stat.S_ISREG(
            opened.st_mode
        ):
            return _File(
                TrustStatus.NOT_EXECUTABLE, resolved, detail="it was replaced while it was being read"
            )
        try:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        except OSError as exc:
            return _File(
                TrustStatus.NOT_EXECUTABLE, resolved, detail=f"cannot be read ({exc.strerror or exc})"
            )
    return _File(None, resolved, digest.hexdigest())
