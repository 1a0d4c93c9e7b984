"""Observability: Prometheus metrics, connector logs and the system.* tables."""
