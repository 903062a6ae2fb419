"""The OpenAPI 3.1 document of the mounted API, generated from the route table (``web.auth.guard.api_routes``),
each handler's :class:`~web.openapi.doc.Doc` and the pydantic models' JSON Schemas.

Shape: one operation per ``(method, path)``; request bodies, query parameters and responses reference
``#/components/schemas/<Model>`` (pydantic's schema of that model: validation mode for inputs, serialization
mode for outputs; nested models are lifted from ``$defs`` into ``components.schemas``). Every error response
has the body :class:`ErrorOut` (``web.errors``). Guarded operations carry ``security`` (bearer JWT or
``X-API-Key``) and ``x-permission``; public ones ``security: []``.

Source: OpenAPI Specification 3.1.0 (sections 4.8.1 OpenAPI Object, 4.8.10 Operation Object, 4.8.14 Media Type
Object; its Schema Object is JSON Schema 2020-12, which pydantic v2 emits).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from web.auth.guard import API_KEY_HEADER, TENANT_HEADER, api_routes
from web.openapi.doc import Doc, doc_of

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"\{([^}/:]+)(?::[^}]*)?\}")

ERROR_DESCRIPTIONS = {
    400: "malformed_json: the body is not a JSON object",
    401: "unauthenticated, invalid_token, token_expired, invalid_api_key, invalid_credentials, ...",
    403: "forbidden (permission missing), tenant_forbidden, role_forbidden, user_required",
    404: "not_found",
    409: "conflict: user_exists, extension_exists, did_exists, limit_reached (a tenant limit, named in details)",
    422: "validation_failed: pydantic errors in details.errors",
    500: "internal",
}


class ErrorOut(BaseModel):
    """The body of every API error (``web.errors.error_response``)."""

    error_id: str
    message: str
    details: dict[str, Any] | list[Any]


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel], mode: Literal["validation", "serialization"]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template=REF, mode=mode)
        for name, sub in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, sub)
        self.schemas[model.__name__] = schema
        return {"$ref": REF.format(model=model.__name__)}


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS.get(status, "error"),
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorOut")}}},
    }


def _operation(method: str, path: str, permission: str | None, doc: Doc, handler: object,
               components: _Components) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": getattr(handler, "__name__", f"{method} {path}"), "summary": doc.summary,
                          "tags": [doc.tag]}
    errors = {500, *doc.errors}
    params: list[dict[str, Any]] = []
    for name in _PATH_PARAM.findall(path):
        params.append({"name": name, "in": "path", "required": True,
                       "schema": doc.path_params.get(name, {"type": "string"})})
        errors |= {404, 422}
    if doc.query is not None:
        query_schema = doc.query.model_json_schema(ref_template=REF)
        required = set(query_schema.get("required", []))
        for name, prop in query_schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
        errors.add(422)
    if permission is not None:
        params.append({"name": TENANT_HEADER, "in": "header", "required": False, "schema": {"type": "integer"},
                       "description": "superadmin only: act in this tenant (tenants.id)"})
        op["security"] = [{"bearer": []}, {"apiKey": []}]
        op["x-permission"] = permission
        errors |= {401, 403}
    else:
        op["security"] = []
    if params:
        op["parameters"] = params
    if doc.body is not None:
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": components.ref(doc.body, "validation")}}}
        errors |= {400, 422}
    success: dict[str, Any] = {"description": doc.summary}
    if doc.media_type is not None:
        schema: dict[str, Any]
        if doc.response is not None:
            schema = components.ref(doc.response, "serialization")
        else:
            schema = {"type": "object"} if doc.media_type == "application/json" else {"type": "string"}
        success["content"] = {doc.media_type: {"schema": schema}}
    op["responses"] = {str(doc.status): success, **{str(s): _error_response(s) for s in sorted(errors)}}
    return op


def build_openapi(app: web.Application, *, title: str = "Ringline API", version: str = "1") -> dict[str, Any]:
    """The OpenAPI 3.1 document (a JSON-able dict) of every ``/api/`` route mounted on ``app``.

    Raises:
        RuntimeError: an ``/api/`` route without a guard declaration or without ``documented``.
    """
    components = _Components()
    components.ref(ErrorOut, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    handlers = {(r.method, r.resource.canonical): r.handler for r in app.router.routes() if r.resource is not None}
    for method, path, guard in api_routes(app):
        handler = handlers[(method, path)]
        doc = doc_of(handler)
        if doc is None:
            raise RuntimeError(f"{method} {path} is not documented (use web.openapi.doc.documented)")
        permission = None if guard.permission is None else str(guard.permission)
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, permission, doc, handler, components)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER},
            },
        },
    }
