"""The web console and REST API of a running Laminar engine (``laminar serve``).

* ``tail`` — a pipeline's live output: numbered batches, byte-bounded history and
  per-client queues (a slow browser never stalls a pipeline);
* ``manager`` — pipelines created, stopped, restarted and deleted over the API;
* ``auth`` — token, cookie, Host, Origin and CSP rules;
* ``api`` — the ``/api/v1`` routes; ``openapi`` — their description;
* ``app`` — the aiohttp application and ``start_console``.
"""
