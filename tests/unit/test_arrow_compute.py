"""laminar.arrow_compute: pyarrow.compute's answers, without importing it at start-up."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as real
import pytest

from laminar import arrow_compute as pc
from laminar.demo_server import start_demo_server

INTS = pa.array([3, None, -1, 7], pa.int64())
FLOATS = pa.array([1.5, 2.5, -0.5, None])
MASK = pa.array([True, False, None, True])
TABLE = pa.table({"a": INTS, "b": pa.array(["w", "x", "y", "z"])})


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("abs", [INTS]),
        ("and_", [MASK, pa.array([True, True, True, False])]),
        ("coalesce", [INTS, 0]),
        ("cumulative_max", [pa.array([1, 3, 2, 5])]),
        ("divide", [INTS, 2]),
        ("drop_null", [INTS]),
        ("filter", [TABLE, MASK]),
        ("greater_equal", [INTS, 3]),
        ("if_else", [MASK, INTS, pa.nulls(4, pa.int64())]),
        ("is_valid", [INTS]),
        ("less", [FLOATS, 1e11]),
        ("less_equal", [INTS, 3]),
        ("max", [INTS]),
        ("max_element_wise", [INTS, pa.scalar(0, pa.int64())]),
        ("min", [INTS]),
        ("min_max", [INTS]),
        ("multiply", [INTS, 1000]),
        ("run_end_decode", [pa.RunEndEncodedArray.from_arrays([2, 5], [10, 20])]),
        ("subtract", [INTS, 1]),
        ("sum", [MASK]),
        ("take", [TABLE, pa.array([3, 0])]),
    ],
)
def test_each_kernel_answers_as_pyarrow_compute_does(name: str, args: list) -> None:
    assert getattr(pc, name)(*args).equals(getattr(real, name)(*args))


def test_cast_fill_null_and_round_take_the_same_arguments() -> None:
    assert pc.cast(INTS, pa.timestamp("us")).equals(INTS.cast(pa.timestamp("us")))
    assert pc.fill_null(INTS, -9).equals(real.fill_null(INTS, -9))
    assert pc.round(FLOATS).equals(real.round(FLOATS, round_mode="half_to_even"))
    decimals = pa.array([Decimal("1.25")], pa.decimal128(5, 2))
    with pytest.raises(pa.ArrowInvalid):  # checked, as Array.cast is: no silent truncation
        pc.cast(decimals, pa.decimal128(5, 1))
    assert pc.cast(decimals, pa.decimal128(5, 1), safe=False).to_pylist() == [Decimal("1.2")]


# Reports, when the command exits, whether pyarrow.compute was ever imported.
AS_THE_COMMAND = """
import atexit, runpy, sys
atexit.register(lambda: print("pyarrow.compute imported:", "pyarrow.compute" in sys.modules,
                              file=sys.stderr))
sys.argv = ["laminar", *sys.argv[1:]]
runpy.run_module("laminar", run_name="__main__")
"""


async def test_laminar_run_of_a_plain_query_never_imports_pyarrow_compute(
    tmp_path: Path,
) -> None:
    # ~38 ms of start-up: a tenth of the time to the first row (benchmarks/startup_bench.py).
    runner, url = await start_demo_server(rate=300)
    try:
        pipeline = tmp_path / "plain.sql"
        pipeline.write_text(
            "CREATE TABLE stock_stream (symbol TEXT, price DECIMAL, volume BIGINT, "
            f"timestamp TIMESTAMP) WITH (connector = 'sse_source', endpoint = '{url}/stocks', "
            "format = 'json', buffer_timeout_ms = 20);\n"
            "SELECT symbol, price, timestamp FROM stock_stream WHERE price > 0 LIMIT 5;\n"
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", AS_THE_COMMAND, "run", "--state-dir", "none", str(pipeline),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=os.environ, cwd=tmp_path,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        await runner.cleanup()
    assert proc.returncode == 0, err.decode()
    rows = [json.loads(line) for line in out.decode().splitlines()]
    assert len(rows) == 5 and all(r["timestamp"].endswith("Z") for r in rows)
    assert "pyarrow.compute imported: False" in err.decode()
