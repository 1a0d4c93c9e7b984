"""``python -m laminar`` runs the ``laminar`` command line."""

import sys

from laminar import gc_pause

gc_pause.pause()  # until the command's long-running part (see laminar.gc_pause)
from laminar.cli import main  # noqa: E402
from laminar.no_pandas import keep_pandas_out  # noqa: E402

keep_pandas_out()
sys.exit(main())
