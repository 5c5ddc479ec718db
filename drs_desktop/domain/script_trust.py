"""This desktop's trust in local scripts (issue 17, "local script"): what is trusted and what a look finds.

A plan's script step names a program on the operator's machine. A plan travels (files, tickets, team
sync), so a plan that could make a desktop run any program would be a remote code execution waiting to
happen. The rule: a script runs only if *this desktop* trusts it, and trust is given by a person who saw
the command and its SHA-256 (a confirmation dialog, or ``drs-desktop scripts trust`` on a terminal),
never taken from a plan, an import or a sync. Trust names the bytes: a file changed since is untrusted
again (``CHANGED``), and so is a path whose symbolic link now leads to another file.

Pure data and pure helpers: the reading and hashing of files is ``services.script_trust``'s, the rows
are ``storage.script_trust``'s.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.safe_text import terminal_safe

__all__ = [
    "SHA256_PATTERN",
    "ScriptCheck",
    "ScriptTrustError",
    "TrustStatus",
    "TrustedScript",
    "code_variable_problem",
    "command_line",
    "environment_names",
    "is_sha256",
]

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class ScriptTrustError(DrsDesktopError):
    """A script cannot be trusted (missing, not executable, changed since it was shown) or the path is not
    one a trust can name (relative, empty): nothing was stored."""


class TrustStatus(StrEnum):
    """Where a script stands on this desktop, as a look at the file now finds it."""

    TRUSTED = "TRUSTED"  # trusted here, and the file (through the same resolved path) has the trusted hash
    UNTRUSTED = "UNTRUSTED"  # never trusted here (or revoked)
    CHANGED = "CHANGED"  # trusted once, but its bytes (or the file its path leads to) differ now
    MISSING = "MISSING"  # no file at the path (or a link that leads nowhere)
    NOT_EXECUTABLE = "NOT_EXECUTABLE"  # there, but not a regular file this user may run (or read)


@dataclass(frozen=True)
class TrustedScript:
    """One row of this desktop's allow-list: the path as a plan names it, the file it led to, its hash."""

    path: str  # absolute, as the operator (or a plan's step) wrote it
    resolved_path: str  # the file it led to when trusted (symbolic links followed)
    sha256: str  # of that file's bytes when trusted (64 lowercase hex digits)
    trusted_by: str  # the OS user who trusted it
    trusted_at: datetime
    shown_command: str  # the command line the confirmation showed


@dataclass(frozen=True)
class ScriptCheck:
    """What a look at ``path`` found now: its status, the file it leads to and that file's hash (both
    empty when the file could not be read), the trust row if there is one, and a sentence for a person."""

    path: str
    status: TrustStatus
    resolved_path: str = ""
    sha256: str = ""
    trusted: TrustedScript | None = None
    detail: str = ""

    @property
    def runnable(self) -> bool:
        return self.status is TrustStatus.TRUSTED

    @property
    def trustable(self) -> bool:
        """A confirmation may offer to trust it: the file is there, runnable, and was hashed."""
        return self.status in (TrustStatus.UNTRUSTED, TrustStatus.CHANGED, TrustStatus.TRUSTED) and bool(
            self.sha256
        )


def is_sha256(text: str) -> bool:
    return bool(SHA256_PATTERN.fullmatch(text))


def command_line(path: str, arguments: Sequence[str] = ()) -> str:
    """The command as a POSIX shell would read it (every part quoted where needed), with any invisible or
    control character shown as an escape: what the operator reads is what will run."""
    return " ".join(terminal_safe(shlex.quote(part)) for part in (path, *arguments))


def environment_names(names: Iterable[str]) -> tuple[str, ...]:
    """The variable names a confirmation shows (never their values: a value may be a secret), sorted and
    once each, escaped like the command."""
    return tuple(sorted({terminal_safe(name) for name in names}))


#: Environment variables that make a shell, the dynamic loader or an interpreter load or run other code
#: (``BASH_ENV`` is even expanded, command substitution included, by every non-interactive bash). Trust
#: names a script's bytes, not the environment a plan gives it: a plan that could set these would run
#: its own code through any trusted script. A deny-list cannot be complete; it closes the known doors.
_CODE_VARIABLES = frozenset(
    {
        "BASH_ENV",
        "ENV",
        "SHELLOPTS",
        "BASHOPTS",
        "PS4",
        "IFS",
        "CDPATH",
        "GLOBIGNORE",
        "PROMPT_COMMAND",
        "PATH",
        "PATHEXT",
        "COMSPEC",
        "GCONV_PATH",
        "LOCPATH",
        "HOSTALIASES",
        "BROWSER",
        "PAGER",
        "EDITOR",
        "VISUAL",
        "PSMODULEPATH",
        "NODE_OPTIONS",
        "NODE_PATH",
        "RUBYOPT",
        "RUBYLIB",
        "CLASSPATH",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS",
    }
)
_CODE_PREFIXES = ("LD_", "DYLD_", "BASH_FUNC_", "PYTHON", "PERL5", "PERLLIB", "GIT_")


def code_variable_problem(name: str) -> str | None:
    """Why a plan may not set the environment variable ``name`` for a script (None: it may)."""
    upper = name.upper()
    if upper in _CODE_VARIABLES or upper.startswith(_CODE_PREFIXES):
        return (
            f"{terminal_safe(name)} makes a shell, the loader or an interpreter run other code: a plan may "
            "not set it (trust covers the script, not what its environment loads)"
        )
    return None
