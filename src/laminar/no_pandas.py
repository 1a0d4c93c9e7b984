"""Keep pandas out of a ``laminar`` command's process.

pyarrow (converting Python lists) and DuckDB (scanning an Arrow table) import pandas
on first use whenever it is installed, to check whether an object is a DataFrame.
The command line never holds one, and that import costs ~240 ms of start-up and
~50 MiB of memory in every ``laminar`` process of an environment that has pandas (a
data engineer's usually does). The command line therefore refuses the import, as if
pandas were absent; both libraries then skip their pandas checks.

Only the process entry points (the ``laminar`` script, ``python -m laminar``) do this:
``laminar.connect()`` and ``laminar.spark`` run inside the user's process, where pandas
may be wanted.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType


class _NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError("the laminar command line does not use pandas", name=fullname)
        return None


def keep_pandas_out() -> None:
    """Refuse ``import pandas`` in this process from now on (unless it is imported already)."""
    if "pandas" not in sys.modules and not any(isinstance(f, _NoPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoPandas())
