"""format = 'json' in native code: one DuckDB query per batch, exact or it declines.

:func:`plan` looks at a table's slots once and returns a :class:`JsonSqlPlan`
when the table qualifies (every payload-sourced column is a plain identifier),
else ``None``. ``JsonSqlPlan.run(datas)`` parses and converts a whole batch
in one DuckDB query (which releases the GIL) and returns a :class:`SqlBatch`:
one *natural* array per payload slot (what the Python converters produce
before their final Arrow cast), a ``missing`` mask per slot with an envelope
fallback, and ``clean``, a boolean per row.

The contract is exactness, not coverage: a row is *clean* only when the SQL
provably gives the value the Python path (:mod:`laminar.formats.json` +
:mod:`laminar.formats.converters`) gives. Anything else is *unclean* and the
caller decodes it with the Python path, which also owns every error message.
A row is clean when

* the payload is an object (starts with ``{``), valid for DuckDB's parser, and
  free of what that parser tolerates but RFC 8259 does not (trailing commas,
  NaN/Infinity literals) and of backslashes (so no escaped keys or strings);
* no key the table reads appears twice (DuckDB keeps the first, Python the last);
* each column's value is missing/null or of a kind accepted below:

  ============  ==============================================================
  TEXT          strings; integers; true/false
  JSON          integers; true/false; strings
  BOOLEAN       true/false; the numbers 0/1; "true"/"false"/"1"/"0"
  integers      integers in range; true/false; whole doubles below 2**53
  REAL/DOUBLE   finite numbers; true/false
  DECIMAL(p,s)  integers and true/false (exact); doubles whose rounding to
                ``s`` places is provably the one half-to-even of their exact
                binary value gives (|x| < 2**50 / 10**s, s <= 15)
  TIMESTAMP     numbers (epoch, unit by magnitude, the Python arithmetic);
                ISO text ``YYYY-MM-DD[( |T)hh:mm[:ss[.f{1,6}]][Z|+hh:mm]]``
                for years 1000..8999
  ============  ==============================================================

Whole-payload columns (``data`` …) take the raw text when their key is surely
absent (the text does not contain ``"name"``); envelope-fallback columns report
``missing`` on the same test. Everything else goes back to Python.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import pyarrow as pa

from laminar.formats import columns as c
from laminar.formats.layout import ENVELOPE, FIELD, WHOLE, Slot

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LENIENT = r",\s*[\]}]|[:,\[]\s*[+-]?(?:[nN][aA]|[iI][nN])"
_ISO = (
    r"[1-8][0-9]{3}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?)?"
)
_INT_BOUNDS = {
    pa.int8(): (-(2**7), 2**7 - 1),
    pa.int16(): (-(2**15), 2**15 - 1),
    pa.int32(): (-(2**31), 2**31 - 1),
    pa.int64(): (-(2**63), 2**63 - 1),
}
_MIN_US = -62135596800000000  # 0001-01-01
_MAX_US = 253402300799999999  # 9999-12-31 23:59:59.999999
TABLE = "__laminar_batch"


@dataclass(frozen=True, slots=True)
class SqlBatch:
    """One batch as converted by DuckDB (see the module docstring)."""

    values: dict[int, pa.Array]  # slot index -> natural array
    missing: dict[int, pa.Array]  # slot index -> bool, envelope-fallback slots
    clean: pa.Array  # bool per row


# --- per-key helper columns ---------------------------------------------------
# For a key K the middle query exposes:
#   jK  the JSON text of the value (VARCHAR), NULL when missing or null
#   tK  its kind: 0 null/missing, 1 string, 2 true, 3 false, 4 object/array,
#       5 integer text, 6 other number text
#   sK  the string's content (kind 1; no escapes in clean rows)
#   iK  the integer (kind 5, when it fits BIGINT)
#   fK  the number as a double (kinds 5, 6)
#   aK  true when the key surely does not occur in the payload


def _helpers(name: str) -> list[str]:
    j = f"j_{name}"
    return [
        f'v."{name}"::VARCHAR AS {j}',
        f"""CASE WHEN {j} IS NULL THEN 0
             WHEN {j}[1] = '"' THEN 1 WHEN {j} = 'true' THEN 2 WHEN {j} = 'false' THEN 3
             WHEN {j}[1] IN ('{{', '[') THEN 4
             WHEN contains({j}, '.') OR contains({j}, 'e') OR contains({j}, 'E') THEN 6
             ELSE 5 END AS t_{name}""",
        f"CASE WHEN {j}[1] = '\"' THEN substr({j}, 2, length({j}) - 2) END AS s_{name}",
        f"TRY_CAST({j} AS BIGINT) AS i_{name}",
        f"TRY_CAST({j} AS DOUBLE) AS f_{name}",
        f"""d NOT LIKE '%"{name}"%' AS a_{name}""",
    ]


def _int_value(n: str, spec: c.TypeSpec) -> tuple[str, str]:
    low, high = _INT_BOUNDS[spec.arrow]
    raw = f"""(CASE t_{n} WHEN 5 THEN i_{n} WHEN 2 THEN 1 WHEN 3 THEN 0
        WHEN 6 THEN CASE WHEN abs(f_{n}) < 9007199254740992.0 AND f_{n} = trunc(f_{n})
                         THEN TRY_CAST(f_{n} AS BIGINT) END END)"""
    value = f"(CASE WHEN {raw} BETWEEN {low} AND {high} THEN {raw} END)"
    return value, f"{value} IS NOT NULL"


def _float_value(n: str, spec: c.TypeSpec) -> tuple[str, str]:
    value = f"(CASE t_{n} WHEN 5 THEN f_{n} WHEN 6 THEN f_{n} WHEN 2 THEN 1e0 WHEN 3 THEN 0e0 END)"
    return value, f"isfinite({value})"


def _bool_value(n: str, spec: c.TypeSpec) -> tuple[str, str]:
    value = f"""(CASE t_{n} WHEN 2 THEN true WHEN 3 THEN false
        WHEN 5 THEN CASE i_{n} WHEN 1 THEN true WHEN 0 THEN false END
        WHEN 6 THEN CASE f_{n} WHEN 1e0 THEN true WHEN 0e0 THEN false END
        WHEN 1 THEN CASE s_{n} WHEN 'true' THEN true WHEN '1' THEN true
                               WHEN 'false' THEN false WHEN '0' THEN false END END)"""
    return value, f"{value} IS NOT NULL"


def _text_value(n: str, spec: c.TypeSpec) -> tuple[str, str]:
    value = f"""(CASE t_{n} WHEN 1 THEN s_{n} WHEN 5 THEN i_{n}::VARCHAR
        WHEN 2 THEN 'true' WHEN 3 THEN 'false' END)"""
    return value, f"{value} IS NOT NULL"


def _json_value(n: str, spec: c.TypeSpec) -> tuple[str, str]:
    value = f"""(CASE t_{n} WHEN 1 THEN j_{n} WHEN 5 THEN i_{n}::VARCHAR
        WHEN 2 THEN 'true' WHEN 3 THEN 'false' END)"""
    return value, f"{value} IS NOT NULL"


def _decimal_value(n: str, spec: c.TypeSpec) -> tuple[str, str]:
    arrow: pa.Decimal128Type = spec.arrow  # type: ignore[assignment]
    p, s = arrow.precision, arrow.scale
    dec = f"DECIMAL({p},{s})"
    limit = 10 ** (p - s)
    exact_ints = (
        f"WHEN 5 THEN CASE WHEN i_{n} > -{limit} AND i_{n} < {limit} "
        f"THEN TRY_CAST(i_{n} AS {dec}) END"
    )
    floats = ""
    if s <= 15:
        bound = min(2.0**50 / 10**s, float(limit - 1))
        scale = f"1e{s}"
        # y = DuckDB's rounding of f; k = its unscaled integer; k / 10**s == f (one
        # correctly rounded division) proves |f - y| <= ulp(f)/2 < 10**-s / 2, so y
        # is the half-to-even rounding of f's exact value (no tie is possible)
        y = f"TRY_CAST(f_{n} AS {dec})"
        k = f"TRY_CAST(CAST({y} AS DECIMAL(38,{s})) * {10**s} AS BIGINT)"
        floats = f"""WHEN 6 THEN CASE WHEN abs(f_{n}) < {bound!r}
                   AND ({k})::DOUBLE / {scale} = f_{n} THEN {y} END"""
    value = f"""(CASE t_{n} {exact_ints} {floats}
        WHEN 2 THEN CAST(1 AS {dec}) WHEN 3 THEN CAST(0 AS {dec}) END)"""
    return value, f"{value} IS NOT NULL"


def _timestamp_value(n: str, spec: c.TypeSpec) -> tuple[str, str]:
    i, f = f"i_{n}", f"f_{n}"
    ints = f"""CASE
        WHEN {i} > -9007199254740992 AND {i} < 9007199254740992 THEN
            CAST({i}::DOUBLE * CASE WHEN {i} > -100000000000 AND {i} < 100000000000 THEN 1e6
                                    WHEN {i} > -100000000000000 AND {i} < 100000000000000
                                    THEN 1e3 ELSE 1e0 END AS BIGINT)
        WHEN {i} > -100000000000000000 AND {i} < 100000000000000000 THEN {i}
        WHEN {i} > -9000000000000000000 THEN
            ({i} - (({i} % 1000) + 1000) % 1000) // 1000
            + CASE WHEN (({i} % 1000) + 1000) % 1000 > 500
                     OR ((({i} % 1000) + 1000) % 1000 = 500
                         AND (({i} - (({i} % 1000) + 1000) % 1000) // 1000) % 2 <> 0)
                   THEN 1 ELSE 0 END
        END"""
    micros = f"""round_even({f} * CASE WHEN abs({f}) < 1e11 THEN 1e6 WHEN abs({f}) < 1e14 THEN 1e3
                                     WHEN abs({f}) < 1e17 THEN 1e0 ELSE 1e-3 END, 0)"""
    floats = f"""CASE WHEN isfinite({f}) AND {micros} > -6.2e16 AND {micros} < 2.5e17
                 THEN CAST({micros} AS BIGINT) END"""
    texts = f"""CASE WHEN regexp_full_match(s_{n}, '{_ISO}')
                THEN epoch_us(TRY_CAST(s_{n} AS TIMESTAMPTZ)) END"""
    raw = f"(CASE t_{n} WHEN 5 THEN {ints} WHEN 6 THEN {floats} WHEN 1 THEN {texts} END)"
    value = f"(CASE WHEN {raw} BETWEEN {_MIN_US} AND {_MAX_US} THEN {raw} END)"
    return value, f"{value} IS NOT NULL"


_BY_KIND = {
    c.TEXT: _text_value,
    c.JSON: _json_value,
    c.BOOL: _bool_value,
    c.INT: _int_value,
    c.FLOAT: _float_value,
    c.DECIMAL: _decimal_value,
    c.TIMESTAMP: _timestamp_value,
}


def _slot_sql(slot: Slot) -> tuple[str, str, str | None]:
    """(value, ok, missing) SQL for a payload slot; ok is true when the row is exact."""
    n = slot.column.name
    value, accepted = _BY_KIND[slot.spec.kind](n, slot.spec)
    if slot.source == WHOLE:
        as_text = slot.spec.kind == c.TEXT
        present, _ = (_text_value if as_text else _json_value)(n, slot.spec)
        value = f"(CASE WHEN t_{n} = 0 THEN d ELSE {present} END)"
        ok = f"(CASE WHEN t_{n} = 0 THEN a_{n} ELSE {present} IS NOT NULL END)"
        return value, ok, None
    ok = f"(t_{n} = 0 OR {accepted})"
    if slot.fallback == ENVELOPE:
        # null (present) and missing differ here: only a surely absent key is missing
        ok = f"(CASE WHEN t_{n} = 0 THEN a_{n} ELSE {accepted} END)"
        return value, ok, f"t_{n} = 0"
    return value, ok, None


class JsonSqlPlan:
    """The per-table SQL, and the DuckDB connection that runs it (made on first use)."""

    def __init__(self, slots: list[Slot]) -> None:
        self.slots = slots
        names = [s.column.name for s in slots]
        structure = "{" + ",".join(f'"{n}":"JSON"' for n in names) + "}"
        helpers = ",\n  ".join(h for n in names for h in _helpers(n))
        outputs: list[str] = []
        oks: list[str] = []
        for slot in slots:
            value, ok, missing = _slot_sql(slot)
            outputs.append(f"{value} AS c{slot.index}")
            oks.append(ok)
            if missing is not None:
                outputs.append(f"{missing} AS m{slot.index}")
        guards = [
            "parsed",
            "d[1] = '{'",
            "NOT contains(d, '\\')",
            f"NOT regexp_matches(d, '{_LENIENT}')",
            *(f"""d NOT LIKE '%"{n}"%"{n}"%'""" for n in names),
        ]
        clean = " AND ".join(f"COALESCE({g}, false)" for g in [*guards, *oks])
        self.sql = (
            f"SELECT {', '.join(outputs)}, ({clean}) AS __clean FROM (\n"
            f"SELECT d, v IS NOT NULL AS parsed, {helpers} FROM (\n"
            f"SELECT d, try(json_transform(d, '{structure}')) AS v FROM {TABLE}))"
        )
        self._con = None
        self._lock = threading.Lock()

    def _connection(self):  # type: ignore[no-untyped-def]
        if self._con is None:
            import duckdb

            self._con = duckdb.connect(config={"threads": 1})
        return self._con

    def run(self, datas: list[str]) -> SqlBatch | None:
        """Convert a batch; ``None`` when DuckDB cannot take it (e.g. unpaired surrogates)."""
        try:
            batch = pa.table({"d": pa.array(datas, pa.string())})
        except (pa.ArrowException, UnicodeError):
            return None
        with self._lock:
            con = self._connection()
            con.register(TABLE, batch)
            try:
                out = con.sql(self.sql).to_arrow_table()
            finally:
                con.unregister(TABLE)
        values = {s.index: out.column(f"c{s.index}").combine_chunks() for s in self.slots}
        missing = {
            s.index: out.column(f"m{s.index}").combine_chunks()
            for s in self.slots
            if s.source == FIELD and s.fallback == ENVELOPE
        }
        return SqlBatch(values, missing, out.column("__clean").combine_chunks())

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def plan(slots: list[Slot]) -> JsonSqlPlan | None:
    """The SQL plan for a json table's payload slots, or ``None`` if it does not qualify."""
    payload = [s for s in slots if s.source in (FIELD, WHOLE)]
    if not payload:
        return None
    names = [s.column.name for s in payload]
    if not all(map(_NAME.fullmatch, names)) or len({n.lower() for n in names}) < len(names):
        return None
    return JsonSqlPlan(payload)
