"""Laminar column types <-> Spark types, as the product document declares them.

TEXT -> string, BOOLEAN -> boolean, TINYINT/SMALLINT/INTEGER/BIGINT -> byte/short/
int/long, REAL -> float, DOUBLE (FLOAT) -> double, DECIMAL(p,s) -> decimal(p,s)
(Laminar's default precision when none is given), TIMESTAMP/TIMESTAMPTZ ->
timestamp (UTC), JSON -> string.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
from pyspark.sql.types import (
    BooleanType,
    ByteType,
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from laminar.errors import ConfigError
from laminar.formats import Column, parse_type

_TO_SPARK: dict[str, DataType] = {
    "TEXT": StringType(),
    "JSON": StringType(),
    "BOOLEAN": BooleanType(),
    "TINYINT": ByteType(),
    "SMALLINT": ShortType(),
    "INTEGER": IntegerType(),
    "BIGINT": LongType(),
    "REAL": FloatType(),
    "DOUBLE": DoubleType(),
    "TIMESTAMP": TimestampType(),
    "TIMESTAMPTZ": TimestampType(),
}
_FROM_SPARK: dict[type, str] = {
    StringType: "TEXT",
    BooleanType: "BOOLEAN",
    ByteType: "TINYINT",
    ShortType: "SMALLINT",
    IntegerType: "INTEGER",
    LongType: "BIGINT",
    FloatType: "REAL",
    DoubleType: "DOUBLE",
    TimestampType: "TIMESTAMP",
    TimestampNTZType: "TIMESTAMP",
}


def spark_type(column: Column) -> DataType:
    """The Spark type of a Laminar column."""
    spec = parse_type(column.type, column=column.name)
    if isinstance(spec.arrow, pa.Decimal128Type):
        return DecimalType(spec.arrow.precision, spec.arrow.scale)
    return _TO_SPARK[spec.name]


def columns_from_spark(schema: StructType) -> list[Column]:
    """Laminar columns for a Spark schema (``.schema("symbol STRING, price DECIMAL(18,3)")``)."""
    columns = []
    for field in schema.fields:
        kind = field.dataType
        if isinstance(kind, DecimalType):
            columns.append(Column(field.name, f"DECIMAL({kind.precision},{kind.scale})"))
            continue
        name = _FROM_SPARK.get(type(kind))
        if name is None:
            raise ConfigError(
                f"column {field.name}: Spark type {kind.simpleString()} cannot be read from SSE; "
                "use string, boolean, tinyint, smallint, int, bigint, float, double, "
                "decimal(p,s) or timestamp (read JSON objects as string and parse them "
                "with from_json)",
                option="schema",
            )
        columns.append(Column(field.name, name))
    return columns


def spark_schema_of(columns: Sequence[Column], capture_endpoint: bool) -> StructType:
    fields = [StructField(c.name, spark_type(c), True) for c in columns]
    if capture_endpoint:
        fields.append(StructField("endpoint", StringType(), True))
    return StructType(fields)


def spark_schema(spec: object) -> StructType:
    """The schema of a source spec (its columns, plus ``endpoint`` when captured)."""
    return spark_schema_of(spec.columns, spec.capture_endpoint)  # type: ignore[attr-defined]


def arrow_target_schema(schema: StructType) -> pa.Schema:
    """The Arrow schema pyspark expects of record batches for ``schema`` (UTC timestamps)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    try:
        return to_arrow_schema(schema, timezone="UTC")
    except TypeError:  # pyspark < 4.1 has no timezone argument (and uses UTC)
        return to_arrow_schema(schema)


__all__ = [
    "arrow_target_schema",
    "columns_from_spark",
    "spark_schema",
    "spark_schema_of",
    "spark_type",
]
