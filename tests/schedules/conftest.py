"""The CLI tests' fixtures (a simulator on a manual clock, ``drs-desktop`` in this process), and the alert
tests' webhook receiver and in-memory keyring (a scheduled drill's alerts)."""

from tests.alerts.conftest import hook, memory_keyring
from tests.cli.conftest import Cli, manual_sim

__all__ = ["Cli", "hook", "manual_sim", "memory_keyring"]
