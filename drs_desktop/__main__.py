"""``python -m drs_desktop`` runs the same entry point as the ``drs-desktop`` script; it is also the packaged
bundle's one executable (``build.spec``): the GUI with no command, every CLI command otherwise."""

import sys

from drs_desktop.cli import main
from drs_desktop.frozen import prepare_process

sys.exit(main(prepare_process(sys.argv[1:])))
