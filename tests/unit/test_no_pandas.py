"""The `laminar` command keeps pandas out of its process (start-up and memory), and only it."""

from __future__ import annotations

import subprocess
import sys

import pytest

# pyarrow converting a Python list, and DuckDB scanning an Arrow table, import pandas
# on first use whenever it is installed.
CONVERT = """
import duckdb, pyarrow as pa
con = duckdb.connect()
con.register("b", pa.table({"a": pa.array([1, 2])}))
assert con.execute("SELECT sum(a) FROM b").fetchone() == (3,)
print("pandas imported:", "pandas" in sys.modules)
"""
AS_THE_COMMAND = """
import runpy, sys
sys.argv = ["laminar", "--version"]
try:
    runpy.run_module("laminar", run_name="__main__")  # what `python -m laminar` runs
except SystemExit:
    pass
"""


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_command_line_process_never_imports_pandas() -> None:
    pytest.importorskip("pandas", reason="only matters where pandas is installed")
    assert "pandas imported: True" in run("import sys\n" + CONVERT)  # the libraries would
    assert "pandas imported: False" in run(AS_THE_COMMAND + CONVERT)


def test_the_library_keeps_pandas_available() -> None:
    pytest.importorskip("pandas", reason="only matters where pandas is installed")
    code = (
        "import sys\nfrom laminar.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
    )
    code += CONVERT
    assert "pandas imported: True" in run(code)
