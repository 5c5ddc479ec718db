"""``python -m drs_desktop.simulator``: the standalone simulator (``simulator.cli``), URL first on stdout."""

from __future__ import annotations

import sys

from drs_desktop.simulator.cli import main

sys.exit(main())
