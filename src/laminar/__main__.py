"""``python -m laminar`` runs the ``laminar`` command line."""

import sys

from laminar.cli import main

sys.exit(main())
