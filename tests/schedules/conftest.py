"""The CLI tests' fixtures (a simulator on a manual clock, ``drs-desktop`` in this process)."""

from tests.cli.conftest import Cli, manual_sim

__all__ = ["Cli", "manual_sim"]
