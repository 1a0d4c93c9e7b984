"""The Arrow compute functions Laminar uses, called straight from pyarrow's kernel registry.

``import pyarrow.compute`` costs ~38 ms of start-up (it wraps each of its ~290 kernels
in a Python function with a generated docstring): a tenth of ``laminar run``'s time to
its first row. ``pyarrow._compute.call_function``, which those wrappers end in, runs the
same C++ kernels with the same options and costs nothing to import. So Laminar calls
the kernels it needs through this module, with pyarrow.compute's names and arguments
(for the subset used here), and ``cast(values, type)``, ``filter(table, mask)`` and
``take(table, indices)`` instead of the methods of those names, which import
pyarrow.compute on their first call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

try:  # pyarrow's own module under pyarrow.compute; the public names if it ever moves
    from pyarrow._compute import CastOptions, RoundOptions, call_function
except ImportError:  # pragma: no cover
    from pyarrow.compute import CastOptions, RoundOptions, call_function


def _kernel(name: str) -> Callable[..., Any]:
    """pyarrow.compute's ``name`` called with no options: the kernel's defaults, as there."""

    def call(*args: Any) -> Any:
        return call_function(name, list(args))

    call.__name__ = name
    return call


abs = _kernel("abs")
and_ = _kernel("and")
coalesce = _kernel("coalesce")
cumulative_max = _kernel("cumulative_max")
divide = _kernel("divide")
drop_null = _kernel("drop_null")
filter = _kernel("filter")  # (Table.filter / Array.filter: nulls in the mask drop)
greater_equal = _kernel("greater_equal")
if_else = _kernel("if_else")
is_valid = _kernel("is_valid")
less = _kernel("less")
less_equal = _kernel("less_equal")
max = _kernel("max")
max_element_wise = _kernel("max_element_wise")  # (skip_nulls=True, the default)
min = _kernel("min")
min_max = _kernel("min_max")
multiply = _kernel("multiply")
run_end_decode = _kernel("run_end_decode")
subtract = _kernel("subtract")
sum = _kernel("sum")
take = _kernel("take")  # (Table.take)


def cast(values: Any, target_type: pa.DataType, safe: bool = True) -> Any:
    """``values.cast(target_type)`` (checked: overflow and truncation raise, as there)."""
    options = CastOptions.safe(target_type) if safe else CastOptions.unsafe(target_type)
    return call_function("cast", [values], options)


def fill_null(values: Any, fill_value: Any) -> Any:
    """Nulls replaced by ``fill_value`` (a Python value of the values' type)."""
    if not isinstance(fill_value, pa.Array | pa.ChunkedArray | pa.Scalar):
        fill_value = pa.scalar(fill_value, type=values.type)
    return call_function("coalesce", [values, fill_value])


def round(values: Any, ndigits: int = 0, round_mode: str = "half_to_even") -> Any:
    return call_function("round", [values], RoundOptions(ndigits, round_mode))
