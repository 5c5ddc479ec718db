"""Untrusted text in plans: what a name may hold, and how to show any text safely in a terminal.

Plan files come from colleagues, tickets and chat windows, and names end up in terminals, logs, the GUI,
SQLite and DRS tags. A control character in a name can rewrite a terminal (ESC sequences, BEL), a bidi
override can make ``prod`` read as ``dorp`` (the "Trojan Source" trick), a line separator can fake a
second line, and a lone surrogate (``"\\ud800"``, which JSON and Python allow but Unicode does not) cannot
be stored as UTF-8 at all. So:

- ``name_problem`` refuses, in names, tag keys and values: C0 and C1 control characters, DEL, the bidi
  embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), U+2028/U+2029 and lone surrogates.
- ``text_problem`` applies the same rule to free text (descriptions, approval messages) but allows tabs
  and line breaks, which such text legitimately holds.
- ``terminal_safe`` renders any text for a terminal: every character that is not printable (the above,
  and invisible format characters) becomes a Python-style escape, so what is shown is what is there.

Pure: stdlib only, no I/O.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["name_problem", "surrogate_problem", "terminal_safe", "text_problem"]

#: Characters refused in names: C0, DEL, C1, bidi embeddings/overrides/isolates, line/paragraph
#: separators, and lone surrogates.
_REFUSED_IN_NAMES = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
#: The same, except tab, line feed and carriage return, for free text.
_REFUSED_IN_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")

#: Short names for the control characters people meet (unicodedata has no name for C0/C1).
_ABBREVIATIONS = {
    0x00: "NUL",
    0x07: "BEL",
    0x08: "BS",
    0x09: "TAB",
    0x0A: "LF, a line break",
    0x0B: "VT",
    0x0C: "FF",
    0x0D: "CR",
    0x1B: "ESC",
    0x7F: "DEL",
    0x85: "NEL, a line break",
    0x9B: "CSI",
}


def surrogate_problem(text: str) -> str | None:
    """Why ``text`` is not valid Unicode (a lone surrogate, escaped), or None when it is."""
    match = _SURROGATE.search(text)
    return _describe(text, match.start(), "") if match else None


def name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name (one line, escaped), or None when it can."""
    match = _REFUSED_IN_NAMES.search(text)
    return _describe(text, match.start(), "a name must be one line of printable text") if match else None


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be free text (a description, an approval message), or None when it can."""
    match = _REFUSED_IN_TEXT.search(text)
    if not match:
        return None
    return _describe(
        text, match.start(), "text may hold line breaks and tabs, but no other control characters"
    )


def terminal_safe(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\x1b``, ``\\u202e``, ``\\ud800``).

    Printable text, spaces included, is returned unchanged, so ordinary names look as typed. Use it on
    any untrusted text printed to a terminal or a one-line log; ``repr`` does the same with quotes.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{code:02x}")
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _describe(text: str, index: int, rule: str) -> str:
    ch = text[index]
    code = ord(ch)
    where = f"at character {index + 1}"
    if 0xD800 <= code <= 0xDFFF:
        return f"holds a lone surrogate ({_escape(ch)}) {where}, which is not valid Unicode text"
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        kind = "a bidirectional-text control"
        label = unicodedata.name(ch, "")
    elif code in (0x2028, 0x2029):
        kind = "a line separator"
        label = unicodedata.name(ch, "")
    else:
        kind = "a control character"
        label = _ABBREVIATIONS.get(code, "")
    shown = f"U+{code:04X} {label}".rstrip()
    return f"holds {kind} ({shown}) {where}; {rule}"
