"""Plan files: import and export recovery plans as YAML or JSON (docs/plan-format.md).

Import is all or nothing. ``load_plan_file`` reads, parses, checks the document's structure and validates
the plan before returning anything, and every failure is one ``PlanFileError`` listing all the problems
it could find, each with the field path and, where there is one, the line. Nothing here writes to the
database, so a bad file cannot leave a half-imported plan behind; callers save only a returned plan.

Export writes the canonical document (``plan_to_document``) atomically: a temporary file in the same
folder, flushed and synced, then renamed over the target, so an existing file is either the old one or
the new one, never half of each. Export then import gives back an equal plan.

Public API::

    load_plan_file(path) -> LoadedPlan
    parse_plan_text(text, filename, fmt=None) -> LoadedPlan
    dump_plan(plan, fmt) -> str
    write_plan_file(plan, path, fmt=None) -> None

``LoadedPlan.warnings`` holds validation warnings (a wave the engine will split into several jobs), which
do not stop an import.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import logging
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from drs_desktop.domain.errors import PlanDocumentError, PlanFileError, PlanFileUnreadableError
from drs_desktop.domain.plan.document import plan_from_document, plan_to_document
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.validation import Problem, Severity, validate_plan
from drs_desktop.domain.safe_text import terminal_safe
from drs_desktop.storage.plan_syntax import LineIndex, SyntaxProblem, parse_json, parse_yaml

logger = logging.getLogger(__name__)

#: Largest plan file accepted, checked before the file is read whole.
MAX_FILE_BYTES = 5 * 1024 * 1024

PlanFormat = Literal["yaml", "json"]
_EXTENSIONS: dict[str, PlanFormat] = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
_LINE_BREAKS = str.maketrans({c: " " for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


@dataclass(frozen=True)
class LoadedPlan:
    """A plan read from a file, valid (no errors), with the warnings validation gave."""

    plan: RecoveryPlan
    format: PlanFormat
    filename: str
    warnings: tuple[Problem, ...] = ()
    warning_lines: tuple[str, ...] = ()
    """One line per warning, ``file:line: warning: path: message``, ready to show."""
    lines: LineIndex | None = field(default=None, compare=False, repr=False)

    def line_of(self, path: str) -> int | None:
        """The 1-based line of field ``path`` (or of its nearest parent) in the file, if known."""
        return self.lines.line_of(path) if self.lines is not None else None

    def lines_for(self, paths: list[str]) -> list[int | None]:
        """``line_of`` for each path, e.g. to place problems found later against an inventory."""
        return [self.line_of(path) for path in paths]


def load_plan_file(path: Path) -> LoadedPlan:
    """Reads and validates the plan file at ``path``; raises ``PlanFileError`` naming every problem."""
    filename = str(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise _file_error(filename, "is a folder, not a plan file")
        if not stat.S_ISREG(info.st_mode):  # a pipe or a device would block or never end
            raise _file_error(filename, "is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise _file_error(filename, _too_big(info.st_size))
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)  # a file that grew since stat() is still capped
    except FileNotFoundError:
        raise _file_error(filename, "no such file") from None
    except PermissionError:
        raise _file_error(filename, "permission denied") from None
    except OSError as exc:
        raise _file_error(filename, f"cannot read the file: {exc.strerror or exc}") from None
    fmt = _EXTENSIONS.get(path.suffix.lower())
    return parse_plan_text(data, filename, fmt)


def parse_plan_text(text: str | bytes, filename: str, fmt: PlanFormat | None = None) -> LoadedPlan:
    """Parses and validates a plan file's content; ``filename`` is only used in messages.

    ``fmt`` None picks the format from ``filename``'s extension, else sniffs it: text starting with
    ``{`` is JSON, anything else YAML.
    """
    filename = terminal_safe(filename.translate(_LINE_BREAKS))
    if fmt is not None and fmt not in ("yaml", "json"):
        raise ValueError(f"unknown plan file format {fmt!r}")
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise _file_error(filename, _too_big(len(text)))
        text = _decode(text, filename)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise _file_error(
                filename, f"the text holds an invalid character at position {exc.start}"
            ) from None
        if size > MAX_FILE_BYTES:
            raise _file_error(filename, _too_big(size))
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise _file_error(filename, "the file holds binary data (NUL bytes), not a plan")
    if fmt is None:
        fmt = _EXTENSIONS.get(Path(filename).suffix.lower()) or _sniff(text)

    try:
        parsed = parse_json(text) if fmt == "json" else parse_yaml(text)
    except SyntaxProblem as exc:
        raise _error(filename, exc.problems, unreadable=True) from None
    try:
        plan = plan_from_document(parsed.data)
    except PlanDocumentError as exc:
        raise _error(
            filename, [(path, parsed.lines.line_of(path), msg) for path, msg in exc.problems]
        ) from None

    problems = validate_plan(plan)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        raise _error(filename, [(p.path, parsed.lines.line_of(p.path), p.message) for p in errors])
    warnings = tuple(p for p in problems if p.severity is Severity.WARNING)
    logger.info("read plan %r from %s (%s, %d warnings)", plan.name, filename, fmt, len(warnings))
    shown = tuple(_warning_line(filename, parsed.lines.line_of(w.path), w) for w in warnings)
    return LoadedPlan(plan, fmt, filename, warnings, shown, parsed.lines)


def dump_plan(plan: RecoveryPlan, fmt: PlanFormat) -> str:
    """The plan file text of ``plan`` in ``fmt``: the canonical document, readable and diff-friendly.

    Every character that is not printable (control, bidi and other invisible characters, which a valid
    plan never holds in a name but an older or draft plan may) is written as an escape, so the text is
    safe to show in a terminal and reads back to the same plan.
    """
    document = plan_to_document(plan)
    if fmt == "json":
        return _escape_unprintable(json.dumps(document, indent=2, ensure_ascii=False), "json") + "\n"
    if fmt != "yaml":
        raise ValueError(f"unknown plan file format {fmt!r}")
    body = yaml.dump(
        document,
        Dumper=_PlanDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
        indent=2,
    )
    return "# DRS Desktop recovery plan (format: docs/plan-format.md)\n" + _escape_unprintable(body, "yaml")


def write_plan_file(plan: RecoveryPlan, path: Path, fmt: PlanFormat | None = None) -> None:
    """Writes ``plan`` to ``path`` atomically; ``fmt`` None means by extension (JSON for .json, else YAML).

    Raises ``PlanFileError`` when the file cannot be written; an existing file is then left as it was.
    """
    fmt = fmt or _EXTENSIONS.get(path.suffix.lower()) or "yaml"
    try:
        data = dump_plan(plan, fmt).encode("utf-8")
    except UnicodeEncodeError:
        raise _error(str(path), [("", None, "the plan holds text that cannot be written as UTF-8")]) from None
    directory = path.parent if str(path.parent) else Path(".")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o644
    temp_name = ""
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
        temp_name = ""
        _sync_directory(directory)
    except OSError as exc:
        raise _error(str(path), [("", None, f"cannot write the file: {exc.strerror or exc}")]) from None
    finally:
        if temp_name:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
    logger.info("wrote plan %r to %s (%s)", plan.name, path, fmt)


# ------------------------------------------------------------------------------------------- helpers


def _decode(data: bytes, filename: str) -> str:
    """UTF-8 text (a BOM is fine); other encodings and binary data get a clear refusal.

    UTF-16 and UTF-32 files are refused (not read) with a message naming the encoding, but only when
    the bytes do decode to text in it: an image or an archive that happens to hold many zero bytes, or
    to start like a byte order mark, is called binary, which is what the operator needs to hear.
    """
    head = data[:4096]
    for bom, codec, label in _WIDE_ENCODINGS:
        if data.startswith(bom):
            if _is_text(head[len(bom) :], codec):
                raise _file_error(filename, f"the file is {label} text; save it as UTF-8")
            raise _file_error(filename, _BINARY)
    if b"\x00" in head:
        zeros_odd = head[1::2].count(0)
        zeros_even = head[0::2].count(0)
        if zeros_odd > len(head) // 4 and _is_text(head, "utf-16-le"):
            raise _file_error(filename, "the file looks like UTF-16 text; save it as UTF-8")
        if zeros_even > len(head) // 4 and _is_text(head, "utf-16-be"):
            raise _file_error(filename, "the file looks like UTF-16 text; save it as UTF-8")
        raise _file_error(filename, "the file holds binary data (NUL bytes), not a plan")
    controls = sum(head.count(byte) for byte in _CONTROL_BYTES)
    if controls >= 8 and controls * 20 > len(head):  # text has a stray one at most: YAML names its line
        raise _file_error(filename, "the file holds binary data (control bytes), not a plan")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start]
        message = f"not UTF-8 text (byte 0x{byte:02x}); is it a binary file? Save it as UTF-8"
        raise _error(filename, [("", line, message)], unreadable=True) from None


def _escape_unprintable(text: str, fmt: PlanFormat) -> str:
    """``text`` with its unprintable characters other than line breaks escaped, JSON- or YAML-style.

    Safe because the structure of both outputs is printable: in JSON such a character can only stand in
    a string, and ``_PlanDumper`` writes any string holding one double-quoted, where both escape forms
    are valid (PyYAML itself leaves bidi controls and other format characters raw). Lone surrogates stay
    as they are: such a plan cannot be written as UTF-8, and writing it fails rather than producing a
    file that cannot be read back.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in _KEPT else _escape_character(ch, fmt) for ch in text)


_KEPT = frozenset("\n" + "".join(chr(code) for code in range(0xD800, 0xE000)))


def _escape_character(ch: str, fmt: PlanFormat) -> str:
    if fmt == "json":
        return json.dumps(ch, ensure_ascii=True)[1:-1]  # a surrogate pair beyond the BMP
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


_BINARY = "the file holds binary data, not a plan"
_WIDE_ENCODINGS = (  # UTF-32 first: its little-endian mark starts like UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_CONTROL_BYTES = [bytes([code]) for code in (*range(0x01, 0x09), *range(0x0E, 0x20), 0x7F)]


def _is_text(chunk: bytes, codec: str) -> bool:
    """True when ``chunk`` (possibly cut mid-character) decodes in ``codec`` to mostly printable text."""
    width = 4 if "32" in codec else 2
    chunk = chunk[: len(chunk) - len(chunk) % width]
    text = chunk.decode(codec, errors="replace").rstrip("\ufffd")  # a pair cut at the end
    if not text:
        return True  # only a byte order mark: an empty text file
    readable = sum(1 for ch in text if ch.isprintable() or ch in "\t\n\r")
    return "\x00" not in text and readable * 20 >= len(text) * 19


def _sync_directory(directory: Path) -> None:
    """Makes the rename durable where the OS allows it (POSIX); best effort elsewhere."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sniff(text: str) -> PlanFormat:
    return "json" if text.lstrip().startswith("{") else "yaml"


def _too_big(size: int) -> str:
    limit = MAX_FILE_BYTES // (1024 * 1024)
    return f"the file is {size / (1024 * 1024):.1f} MiB; plan files are limited to {limit} MiB"


def _file_error(filename: str, message: str) -> PlanFileError:
    return _error(filename, [("", None, message)], unreadable=True)


def _error(
    filename: str, problems: list[tuple[str, int | None, str]], *, unreadable: bool = False
) -> PlanFileError:
    """A ``PlanFileError`` with one-line messages, ordered by line (problems without one first).

    ``unreadable``: the file could not be read or parsed at all (``PlanFileUnreadableError``), as
    opposed to a file that parsed but does not hold a valid plan.
    """
    cleaned = [
        (path.translate(_LINE_BREAKS), line, message.translate(_LINE_BREAKS))
        for path, line, message in problems
    ]
    cleaned.sort(key=lambda problem: problem[1] or 0)
    kind = PlanFileUnreadableError if unreadable else PlanFileError
    return kind(terminal_safe(filename.translate(_LINE_BREAKS)), cleaned)


def _warning_line(filename: str, line: int | None, warning: Problem) -> str:
    where = f"{filename}:{line}" if line is not None else filename
    return f"{where}: {warning}".translate(_LINE_BREAKS)


# A string a YAML reader could take for something else: numbers in any YAML version's notation
# (0o17, 1_000, .5, +1), dates, and YAML 1.1's yes/no/on/off words. PyYAML already quotes what *it*
# would mis-read; this also covers other readers an operator may use on the file.
_RISKY = re.compile(
    r"^(?:[-+.]?[0-9].*|[-+]?\.(?:inf|nan)|y|n|yes|no|on|off|true|false|null|~|)$",
    re.IGNORECASE | re.DOTALL,
)


class _PlanDumper(yaml.SafeDumper):
    """Block style, no aliases, ambiguous strings quoted."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key ("servers:\n  - s-..."), as people write YAML by hand.
        super().increase_indent(flow, False)

    def represent_str(self, data: str) -> yaml.ScalarNode:
        if not data.isprintable() or "\ufeff" in data:
            # Line breaks, tabs, NEL, control characters: double quotes escape them all exactly, where
            # PyYAML's other styles would fold some of them away.
            return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        if _RISKY.match(data):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return super().represent_str(data)


_PlanDumper.add_representer(str, _PlanDumper.represent_str)
