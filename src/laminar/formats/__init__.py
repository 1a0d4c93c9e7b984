"""Payload -> typed columns: the json, text and custom formats of SSE tables.

Public surface::

    Column(name, type, primary_key=False)    a declared column, type as written in SQL
    sql_type_to_arrow(type) -> pa.DataType   ConfigError (listing the types) if unknown
    FormatOptions(format="json", parser_regex=None, capture_event_name=False,
                  capture_event_id=False, capture_retry=False, add_timestamp=False,
                  capture_errors=False, continue_on_error=True)
    build_row_decoder(table, columns, options) -> RowDecoder   checks, ConfigError
    RowDecoder.schema                        one field per column, in order
    RowDecoder.decode(events, arrival_ms) -> DecodeResult(table, errors, dropped)

How a column gets its value: :mod:`laminar.formats.layout`; conversion rules:
:mod:`laminar.formats.converters`; bad payloads: :mod:`laminar.formats.failures`.
"""

from laminar.formats.columns import SUPPORTED_TYPES, Column, TypeSpec, parse_type, sql_type_to_arrow
from laminar.formats.decoder import DecodeResult, RowDecoder, build_row_decoder
from laminar.formats.options import FORMATS, FormatOptions

__all__ = [
    "FORMATS",
    "SUPPORTED_TYPES",
    "Column",
    "DecodeResult",
    "FormatOptions",
    "RowDecoder",
    "TypeSpec",
    "build_row_decoder",
    "parse_type",
    "sql_type_to_arrow",
]
