"""Helpers shared by the tests: the scriptable SSE server (``tests.support.sse_server``)."""
