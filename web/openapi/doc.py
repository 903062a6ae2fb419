"""What a route documents about itself: :func:`documented` puts a :class:`Doc` on a handler, next to its guard
declaration (``web.auth.guard.requires``); ``web.openapi.spec`` turns the route table into the document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)
_ATTR = "__ringline_doc__"


@dataclass(frozen=True, slots=True)
class Doc:
    """One operation.

    ``status``/``response``: the success status and its body model (None: no JSON model; with ``media_type``
    None there is no body at all, e.g. 204). ``errors``: error statuses the handler itself raises besides those
    the document derives (401/403 for guarded routes, 400/422 with a body, 422 with a query or path parameter,
    500 always). ``path_params``: JSON Schema per ``{name}`` of the path (default: a string).
    """

    summary: str
    tag: str
    status: int = 200
    response: type[BaseModel] | None = None
    media_type: str | None = "application/json"
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    path_params: Mapping[str, dict[str, Any]] = field(default_factory=dict)


def documented(
    summary: str,
    *,
    tag: str,
    status: int = 200,
    response: type[BaseModel] | None = None,
    media_type: str | None = "application/json",
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    path_params: Mapping[str, dict[str, Any]] | None = None,
) -> Callable[[H], H]:
    """Attach a :class:`Doc` to a handler (order with ``requires``/``public`` does not matter)."""
    doc = Doc(summary, tag, status, response, media_type if status != 204 else None, body, query, errors,
              dict(path_params or {}))

    def mark(handler: H) -> H:
        setattr(handler, _ATTR, doc)
        return handler

    return mark


def doc_of(handler: object) -> Doc | None:
    found = getattr(handler, _ATTR, None)
    return found if isinstance(found, Doc) else None
