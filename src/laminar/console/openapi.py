"""The OpenAPI 3.1 description served at ``GET /api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

_ERROR = {
    "description": "an error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_JSON = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
_SQL_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SQL"}}},
}
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _op(summary: str, *, body: dict[str, Any] | None = None, params: list[Any] | None = None,
        ok: str = "200") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {ok: _JSON, "400": _ERROR,
                                                           "401": _ERROR}}
    if body is not None:
        op["requestBody"] = body
    if params:
        op["parameters"] = params
    return op


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Laminar console API",
        "version": "1",
        "description": "Pipelines, catalog, live output and metrics of a running Laminar. "
        "Authenticate with 'Authorization: Bearer <token>' (the token `laminar serve` "
        "prints).",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "line", "column"],
                "properties": {
                    "error": {"type": "string"},
                    "line": {"type": ["integer", "null"]},
                    "column": {"type": ["integer", "null"]},
                },
            },
            "SQL": {
                "type": "object",
                "required": ["sql"],
                "properties": {"sql": {"type": "string"}, "name": {"type": "string"}},
            },
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/openapi.json": {"get": _op("this description (OpenAPI 3.1)")},
        "/api/v1/health": {"get": _op("engine health (503 when a query failed)")},
        "/api/v1/pipelines": {
            "get": _op("list pipelines with state, rows/s, lag and uptime"),
            "post": _op("create a pipeline: DDL runs, the continuous query becomes the "
                        "pipeline", body=_SQL_BODY, ok="201"),
        },
        "/api/v1/pipelines/{id}": {
            "get": _op("one pipeline", params=_ID),
            "delete": _op("stop and delete a pipeline", params=_ID),
        },
        "/api/v1/pipelines/{id}/stop": {"post": _op("stop (checkpoint, then end)", params=_ID)},
        "/api/v1/pipelines/{id}/restart": {
            "post": _op(
                "restart; body {\"state\": false} (or ?state=false) starts without state",
                params=_ID,
            )
        },
        "/api/v1/pipelines/{id}/output": {
            "get": {
                "summary": "live output as text/event-stream: event 'columns' first, then "
                "one event per batch (id = batch number, data = JSON array of rows); "
                "resume with Last-Event-ID or ?last_event_id=",
                "parameters": _ID,
                "responses": {"200": {"description": "SSE",
                                      "content": {"text/event-stream": {}}}},
            }
        },
        "/api/v1/pipelines/{id}/metrics": {
            "get": _op("per-second events, lag_ms, processing_time_ms from "
                       "system.connector_metrics (?seconds=, up to 900)", params=_ID)
        },
        "/api/v1/pipelines/{id}/logs": {
            "get": _op("the pipeline's logs from system.connector_logs", params=_ID)
        },
        "/api/v1/pipelines/{id}/graph": {
            "get": _op("source -> operators -> sink with rates", params=_ID)
        },
        "/api/v1/validate": {
            "post": _op("check statements without running them; errors with line and column",
                        body=_SQL_BODY)
        },
        "/api/v1/sql": {
            "post": _op("run DDL, SHOW, DESCRIBE and SELECT over system tables (capped)",
                        body=_SQL_BODY)
        },
        "/api/v1/tables": {"get": _op("tables, options redacted as SHOW TABLES")},
        "/api/v1/views": {"get": _op("views")},
        "/api/v1/connections": {"get": _op("connections, options redacted as SHOW")},
        "/api/v1/catalog": {"get": _op("relations with their columns, for autocomplete")},
        "/api/v1/logs": {"get": _op("the latest connector logs")},
        "/api/v1/probe": {
            "post": _op("sample an SSE URL; propose its CREATE TABLE",
                        body={"required": True, "content": {"application/json": {"schema": {
                            "type": "object", "required": ["url"],
                            "properties": {"url": {"type": "string"},
                                           "seconds": {"type": "number"},
                                           "table": {"type": "string"},
                                           "options": {"type": "object"}}}}}})
        },
    },
}
