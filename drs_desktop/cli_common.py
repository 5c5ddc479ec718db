"""What the headless commands that talk to a target and answer in lines or one JSON document share
(``cli_launch``, ``cli_native``): their common options, their output, and who the operator is.

Kept apart from ``cli_run`` so each command module states only what is
its own; importing it loads no Qt.
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from drs_desktop.cli_target import add_target_options
from drs_desktop.domain.safe_text import terminal_safe


def add_common_options(
    parsers: Iterable[argparse.ArgumentParser], add_home: Callable[[argparse.ArgumentParser], None]
) -> None:
    """``--home``, the target (``--endpoint``, ``--profile``, ``--region``) and ``--json`` on each parser."""
    for parser in parsers:
        add_home(parser)
        add_target_options(parser)
        parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def emit(args: argparse.Namespace, out: TextIO, data: dict[str, Any], lines: list[str]) -> None:
    """``data`` as one JSON document with ``--json``, else ``lines``, made safe for a terminal."""
    if args.json:
        json.dump(data, out, indent=2, default=str)
        out.write("\n")
        return
    for line in lines:
        print(terminal_safe(line), file=out)


def operator_name() -> str:
    """The operator's login name for the records a command writes ("" when the system has none)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""
