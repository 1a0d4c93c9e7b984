"""Pipeline operators (see laminar.runtime.operator)."""
