"""Start-up benchmark (on demand, not in the suite). Target: from start to a usable main window in at most
2 s on a warm disk, for the packaged bundle and for the installed package, measured side by side.

    PYTHONPATH=$PWD .venv/bin/python tests/benchmarks/bench_startup.py [--runs 7] [--demo]
        [--platform xcb|offscreen] [--bundle dist/drs-desktop/drs-desktop] [--installed .venv/bin/drs-desktop]

Each start is a new process, as a double-click makes one: the clock starts just before the process is
created and stops at the moment the application says its main window is usable
(``ui.startup_probe``: shown, exposed, painted once, and the event loop back round), which it prints on
standard output before it quits. The first start of each program is a warm-up (it fills the disk cache
and the home's database) and is not counted. Every start uses the same home with the sample plan in it;
without ``--demo`` the application starts as an operator's would, against AWS, with no credentials in
the environment (its first inventory read fails in the background, after the window is usable).

``--platform xcb`` (the default when Xvfb is installed) starts a private Xvfb for the runs: a real X11
window, as on a desktop; ``offscreen`` needs no display. Prints each program's median and worst start;
exits 1 when a median is over the target. Build the bundle first: ``bash scripts/build_bundle.sh``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_SECONDS = 2.0
READY_PREFIX = "startup-probe ready"


@contextmanager
def xvfb() -> Iterator[str]:
    """A private Xvfb; its display number from ``-displayfd`` (a free one, chosen by the server)."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as numbers:
            number = numbers.readline().strip()
        if not number:
            raise SystemExit("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def start_once(command: list[str], env: dict[str, str]) -> float:
    started = time.time()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    ready = [line for line in done.stdout.splitlines() if line.startswith(READY_PREFIX)]
    if done.returncode != 0 or not ready:
        raise SystemExit(
            f"{command[0]} did not report a usable window (exit {done.returncode}):\n{done.stderr}"
        )
    return float(ready[-1].split()[-1]) - started


def measure(name: str, command: list[str], env: dict[str, str], runs: int) -> list[float]:
    start_once(command, env)  # warm-up: disk cache, database migrated
    times = [start_once(command, env) for _ in range(runs)]
    print(
        f"{name:<10} median {statistics.median(times):.2f} s   worst {max(times):.2f} s   "
        f"best {min(times):.2f} s   ({runs} starts: {' '.join(f'{t:.2f}' for t in times)})"
    )
    return times


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--demo", action="store_true", help="start in demo mode (the embedded simulator too)")
    default_platform = "xcb" if shutil.which("Xvfb") else "offscreen"
    parser.add_argument("--platform", choices=("xcb", "offscreen"), default=default_platform)
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "drs-desktop" / "drs-desktop")
    parser.add_argument("--installed", type=Path, default=ROOT / ".venv" / "bin" / "drs-desktop")
    args = parser.parse_args()
    programs = {"bundle": args.bundle, "installed": args.installed}
    for name, path in programs.items():
        if not path.is_file():
            raise SystemExit(f"no {name} program at {path} (bash scripts/build_bundle.sh builds the bundle)")

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        home = Path(scratch) / "home"
        keep = ("PATH", "LANG", "LC_ALL", "TMPDIR")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(HOME=scratch, DRS_DESKTOP_STARTUP_PROBE="quit", AWS_EC2_METADATA_DISABLED="true")
        imported = subprocess.run(
            [
                str(args.installed),
                "--home",
                str(home),
                "plan",
                "import",
                str(ROOT / "resources" / "sample-plan.yaml"),
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        if imported.returncode != 0:
            raise SystemExit(imported.stderr)
        extra = ["--demo"] if args.demo else []
        with xvfb() if args.platform == "xcb" else _no_display() as display:
            env["QT_QPA_PLATFORM"] = args.platform
            if display:
                env["DISPLAY"] = display
            mode = "demo" if args.demo else "AWS"
            print(f"start to usable main window, {args.platform}, warm disk, {mode} mode")
            medians = {
                name: statistics.median(
                    measure(name, [str(path), "--home", str(home), *extra], env, args.runs)
                )
                for name, path in programs.items()
            }
    over = {name: m for name, m in medians.items() if m > TARGET_SECONDS}
    for name, value in over.items():
        print(f"{name}: median {value:.2f} s is over the {TARGET_SECONDS:.0f} s target", file=sys.stderr)
    return 1 if over else 0


@contextmanager
def _no_display() -> Iterator[str]:
    yield ""


if __name__ == "__main__":
    sys.exit(main())
