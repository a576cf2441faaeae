"""`tactful serve`: one warm process answering over HTTP in other services' wire formats.

One module per concern, the app only wires them:

- ``problems``: the error every handler raises (``ApiError``), and its two shapes on the
  wire: Google's ``{"error": {"code", "message", "status"}}`` and OpenAI's
  ``{"error": {"message", "type", "param", "code"}}``;
- ``fields``: reading a parsed JSON body field by field, each mistake an ``ApiError``
  that names the field;
- ``attributes``: Perspective's attribute names and OpenAI's categories in the profile's
  terms (the default tables, the profile's [serve] table with ``--attribute`` over it,
  custom categories by slug);
- ``perspective``, ``openai_format``, ``native``: each API's request in, response out;
- ``limits``: the bounded pool the blocking model runs in (full: 429; too slow: 504);
- ``auth``: the key, when one is required;
- ``service``: the moderators (one engine: cached, and uncached for ``doNotStore``),
  the pool and the suggestions file, built once at start;
- ``app``: the Starlette application; ``run``: the socket and uvicorn.
"""
