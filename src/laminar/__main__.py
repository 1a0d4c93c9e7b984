"""``python -m laminar`` runs the ``laminar`` command line."""

import sys

from laminar.cli import main
from laminar.no_pandas import keep_pandas_out

keep_pandas_out()
sys.exit(main())
