"""``simulator [--port N] [--host H] [--scenario FILE|NAME] [--time-scale X] [--seed N]``, and
``simulator control --endpoint URL ...`` to drive a running one (``control_cli``).

Prints the endpoint URL as the first line of stdout (so a parent process can read it), then serves until
SIGINT or SIGTERM and exits 0. ``--time-scale`` defaults to 1 (real time); 0 freezes the clock.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.simulator.scenario import SHIPPED, ScenarioError

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drs-desktop simulator",
        description="Serve a simulated AWS Elastic Disaster Recovery (DRS) on loopback.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--scenario",
        default="demo",
        help=f"scenario YAML file, or a shipped one: {', '.join(SHIPPED)} (default: demo)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="virtual seconds per real second (60 runs a 20-minute drill in 20 s); 0 freezes time",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["control"]:  # drive a running simulator (``control_cli``)
        from drs_desktop.simulator.control_cli import main as control_main

        return control_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.time_scale < 0:
        print("simulator: --time-scale must be >= 0", file=sys.stderr)
        return 2
    try:
        sim = EmbeddedSimulator(
            args.scenario,
            seed=args.seed,
            time_scale=args.time_scale if args.time_scale > 0 else None,
            host=args.host,
            port=args.port,
        )
    except ScenarioError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            sim.start()
        except OSError as exc:
            print(f"simulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
        print(sim.endpoint_url, flush=True)
        count = sum(len(world.source_server_ids()) for world in sim.estate.worlds.values())
        where = f"account {sim.account_id}, region {sim.region}"
        if sim.estate.multi:
            accounts = len(sim.scenario.accounts)
            where = f"{accounts} accounts in {len(sim.estate.worlds)} account-regions (default {where})"
        print(
            f"DRS simulator: scenario {sim.scenario.name}, {count} source servers, "
            f"{where}, time scale {args.time_scale:g}. Ctrl-C to stop.",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
        return 0
    finally:
        sim.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
