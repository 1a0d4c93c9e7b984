"""Connectors: one folder per external system (its options, transport and source).

``laminar.connectors.sse`` reads Server-Sent Events. A registry of connector
names (``sse_source`` → its option schema and source) will live here when the
SQL layer needs one.
"""
