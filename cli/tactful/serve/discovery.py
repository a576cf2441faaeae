"""The Perspective API's discovery document, pointing at this server.

Google's own instructions for Perspective build the client from a discovery document::

    discovery.build("commentanalyzer", "v1alpha1", developerKey=KEY,
                    discoveryServiceUrl="https://commentanalyzer.googleapis.com/$discovery/rest?version=v1alpha1",
                    static_discovery=False)

Served here at ``/$discovery/rest``, with this server as its root URL, the same code runs
unchanged once ``discoveryServiceUrl`` names this server instead. The document describes
the two methods served, with schemas only by name: the client sends the body it is given.
"""

from __future__ import annotations

from typing import Any

NAME, VERSION = "commentanalyzer", "v1alpha1"
METHODS = {
    # method: (path under the root, request schema, response schema)
    "analyze": ("v1alpha1/comments:analyze", "AnalyzeCommentRequest", "AnalyzeCommentResponse"),
    "suggestscore": ("v1alpha1/comments:suggestscore", "SuggestCommentScoreRequest", "SuggestCommentScoreResponse"),
}


def discovery_document(root_url: str) -> dict[str, Any]:
    """The document for a server reached at ``root_url`` (ending in "/")."""
    methods = {
        name: {
            "id": f"{NAME}.comments.{name}",
            "path": path,
            "flatPath": path,
            "httpMethod": "POST",
            "parameters": {},
            "parameterOrder": [],
            "request": {"$ref": request},
            "response": {"$ref": response},
        }
        for name, (path, request, response) in METHODS.items()
    }
    schemas = {schema: {"id": schema, "type": "object"} for _, request, response in METHODS.values()
               for schema in (request, response)}
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": f"{NAME}:{VERSION}",
        "name": NAME,
        "version": VERSION,
        "title": "Perspective Comment Analyzer API, answered by tactful serve",
        "protocol": "rest",
        "rootUrl": root_url,
        "servicePath": "",
        "baseUrl": root_url,
        "batchPath": "batch",
        "parameters": {
            "key": {"type": "string", "location": "query", "description": "API key (when the server needs one)"},
            "alt": {"type": "string", "location": "query", "default": "json", "enum": ["json"]},
        },
        "schemas": schemas,
        "resources": {"comments": {"methods": methods}},
    }
