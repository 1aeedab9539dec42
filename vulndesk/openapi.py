"""The OpenAPI document as its consumers read it: every answer an operation gives, and every
reference resolvable.

Ninja documents what each route declares. The refusals that come from elsewhere are added here,
each where it can occur, all in the one problem shape (``Problems``: ``{"detail", "problems"}``;
ninja's own 401 and 404 bodies are ``{"detail": ...}``, which it also describes):

- 400: a NUL character anywhere in the request (``web.middleware.NulCharacterMiddleware``), a
  body that is not a JSON object (``vulndesk.api.JsonObjectParser``), and search words in a URL;
- 401: an operation behind a token, called without one or with a bad one;
- 404: anything named in the path that is missing or forbidden (one door per object), and an
  operation the token's scopes do not allow (declared by the route when its path names nothing);
- 413: a body over the request size limit (``web.middleware.RequestSizeLimitMiddleware``);
- 422: parameters or a body that do not validate (``vulndesk.api._invalid_request``), where some
  value can fail to.

Routes declare their own 409 and 429 where their actions refuse so; every 429 has ``Retry-After``.
"""

from __future__ import annotations

import copy
from typing import Any

PROBLEMS_REF = "#/components/schemas/Problems"
_COMPONENTS = "#/components/schemas/"
_LOCAL_DEFS = "#/$defs/"
_METHODS = frozenset({"get", "put", "post", "delete", "patch"})

REFUSALS = {
    400: (
        "The request holds a NUL character (U+0000), its body is not a JSON object, or it puts "
        "in a URL what no operation takes there."
    ),
    401: "No token, or one that is unknown, expired or revoked.",
    404: "Not found, or not visible to this token: the two answer alike.",
    413: "The request body is over the size limit; nothing was read.",
    422: "A parameter or the body does not validate; `problems` names each field.",
}

# Every 429 says when to try again (RFC 9110 §10.2.3).
TOO_MANY_REQUESTS = 429
RETRY_AFTER = {
    "description": "Seconds until the limit lets a request through again.",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}


def complete(document: dict[str, Any], problems_schema: dict[str, Any]) -> dict[str, Any]:
    """Hoist nested ``$defs`` into the components and add every refusal an operation can give."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Problems", problems_schema)
    # Ninja builds the paths around the routes' own ``openapi_extra`` dicts: a copy keeps the
    # changes below out of them, so every document is built from the same start.
    document["paths"] = copy.deepcopy(document.get("paths", {}))
    for name, schema in _hoist_defs(document["paths"]).items():
        if schemas.setdefault(name, schema) != schema:
            msg = f"two different schemas are both named {name!r} in the OpenAPI document"
            raise ValueError(msg)
    for operation in _operations(document):
        _add_refusals(operation)
    return document


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for path_item in document.get("paths", {}).values()
        for method, operation in path_item.items()
        if method in _METHODS
    ]


def _hoist_defs(node: Any) -> dict[str, Any]:
    """Take out every ``$defs`` below ``node`` and point its references at the components.

    A schema pasted into an operation (the policy's own pydantic schema, for one) carries its
    models in ``$defs`` with ``#/$defs/...`` references, which resolve against the document's root
    and so nowhere: generated clients break on them.
    """
    found: dict[str, Any] = {}
    if isinstance(node, dict):
        found.update(node.pop("$defs", {}))
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_LOCAL_DEFS):
            node["$ref"] = _COMPONENTS + ref.removeprefix(_LOCAL_DEFS)
        for value in node.values():
            found.update(_hoist_defs(value))
    elif isinstance(node, list):
        for value in node:
            found.update(_hoist_defs(value))
    # The hoisted schemas may hold their own references too.
    for schema in list(found.values()):
        _hoist_defs(schema)
    return found


def _add_refusals(operation: dict[str, Any]) -> None:
    responses: dict[int | str, Any] = operation.setdefault("responses", {})
    parameters = operation.get("parameters", [])
    applies = {
        400: True,
        401: bool(operation.get("security")),
        # An operation with nothing in its path that checks the token's scopes declares its own 404.
        404: any(p.get("in") == "path" for p in parameters),
        413: "requestBody" in operation,
        422: "requestBody" in operation or any(_validated(p.get("schema", {})) for p in parameters),
    }
    too_many = responses.get(TOO_MANY_REQUESTS) or responses.get(str(TOO_MANY_REQUESTS))
    if too_many is not None:
        too_many.setdefault("headers", {})["Retry-After"] = RETRY_AFTER
    for status, reason in REFUSALS.items():
        # Ninja keys the routes' own answers by int; a route's own description of a status stays.
        if applies[status] and status not in responses and str(status) not in responses:
            responses[status] = problem_response(reason)


def _validated(schema: dict[str, Any]) -> bool:
    """Whether some value of this parameter fails validation: any string is a valid plain string."""
    return schema.get("type") != "string" or bool(set(schema) - {"type", "title", "description", "default"})


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": PROBLEMS_REF}}}}
