"""``python -m drs_desktop`` runs the same entry point as the ``drs-desktop`` script."""

import sys

from drs_desktop.cli import main

sys.exit(main())
