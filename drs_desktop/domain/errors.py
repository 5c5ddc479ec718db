"""Error types shared by every layer.

Each carries a message fit to show an operator on one line; the CLI prints ``str(error)`` and exits
non-zero, the GUI shows it in a dialog. Nothing here does I/O.
"""

from __future__ import annotations


class DrsDesktopError(Exception):
    """Base of every error the application expects and explains to the operator."""


class PlanNotFoundError(DrsDesktopError):
    """A plan (or a revision of one) that the caller named does not exist."""


class StorageError(DrsDesktopError):
    """The local database cannot be opened, read or written (corrupt, locked, read-only...)."""


class SchemaTooNewError(StorageError):
    """The database was written by a newer DRS Desktop; opening it would risk its data."""


class PlanFileError(DrsDesktopError):
    """A plan file cannot be read or parsed, or does not hold a valid plan.

    ``problems`` lists every problem found as ``(path, line, message)``; ``path`` is a field path such as
    ``waves[2].servers[5]`` (empty when the problem concerns the whole file) and ``line`` is 1-based or
    None. ``str()`` gives the first problem on one line, prefixed with the file name.
    """

    def __init__(self, filename: str, problems: list[tuple[str, int | None, str]]) -> None:
        self.filename = filename
        self.problems = list(problems)
        super().__init__(self.format_problem(0) if self.problems else f"{filename}: invalid plan file")

    def format_problem(self, index: int) -> str:
        path, line, message = self.problems[index]
        where = self.filename
        if line is not None:
            where += f":{line}"
        if path:
            return f"{where}: {path}: {message}"
        return f"{where}: {message}"

    def lines(self) -> list[str]:
        """One line per problem, in file order."""
        return [self.format_problem(i) for i in range(len(self.problems))]


class PlanFileUnreadableError(PlanFileError):
    """The file could not be read or parsed at all: missing, too large, binary, not UTF-8, bad YAML/JSON
    syntax, alias bombs. The CLI exits 2 for these and 1 for a file that parsed but holds an invalid plan."""


class PlanDocumentError(DrsDesktopError):
    """A plan document (the versioned form in plan files and the database) is malformed.

    ``problems`` lists every structural problem as ``(path, message)``, field by field; ``path`` is a
    field path such as ``waves[1].depends_on[0]``, empty for the document as a whole. ``str()`` gives the
    first problem on one line, and how many more there are.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else ("", "invalid plan document")
        text = f"{first[0]}: {first[1]}" if first[0] else first[1]
        if len(self.problems) > 1:
            more = len(self.problems) - 1
            text += f" (and {more} more problem{'s' if more > 1 else ''})"
        super().__init__(text)


class PlanConflictError(DrsDesktopError):
    """A plan was saved elsewhere (another pane, another window) since the editor opened it: saving would
    overwrite that revision's changes, so nothing is saved and the edits stay in the editor."""
