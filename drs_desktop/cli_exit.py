"""The CLI's exit codes, the same for every command, defined once for ``cli`` and its sub-modules.

0 success; 1 the command ran and the answer is "no" (an invalid plan, a failed check, a failed or
refused execution) or an expected error; 2 a usage error or an input that could not be read at all;
3 an execution that waits for a person; 130 interrupted (Ctrl-C), as a shell reports SIGINT.
``UsageError`` is the error every command raises for exit 2, so it lives with the codes.
"""

from __future__ import annotations

from drs_desktop.domain.errors import DrsDesktopError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_WAITING = 3
EXIT_INTERRUPTED = 130


class UsageError(DrsDesktopError):
    """A command line that cannot be carried out as written (exit 2)."""
