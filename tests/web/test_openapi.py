"""``/api/openapi.json`` is a structurally valid OpenAPI 3.1 document of every mounted ``/api/`` route, its
request bodies are exactly the pydantic models' schemas, every error has the error schema; ``/api/docs`` and
its script are served locally."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import Api
from tests.web.routes import ROUTES
from web.auth.http import login
from web.openapi.doc import doc_of
from web.openapi.spec import REF
from web.provisioning import http as provisioning_http

_REF = re.compile(r"^#/components/schemas/([A-Za-z0-9_.-]+)$")
HANDLERS: list[Any] = [login, provisioning_http.create_extension, provisioning_http.create_did]


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


async def _document(api: Api) -> dict[str, Any]:
    status, doc = await api.request("GET", "/api/openapi.json")
    assert status == 200
    assert isinstance(doc, dict)
    return doc


async def test_document_is_structurally_openapi_3_1(api: Api) -> None:
    doc = await _document(api)
    assert doc["openapi"].startswith("3.1.") and {"title", "version"} <= set(doc["info"])
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        match = _REF.match(ref)
        assert match and match.group(1) in schemas, ref
    operation_ids = []
    for path, item in doc["paths"].items():
        assert path.startswith("/api/")
        params = set(re.findall(r"\{([^}]+)\}", path))
        for method, op in item.items():
            assert method in {"get", "post", "put", "patch", "delete"}
            operation_ids.append(op["operationId"])
            assert op["responses"] and all(re.fullmatch(r"[1-5][0-9][0-9]", s) for s in op["responses"])
            assert {p["name"] for p in op.get("parameters", []) if p["in"] == "path"} == params
            for scheme in op["security"]:
                assert set(scheme) <= set(doc["components"]["securitySchemes"])
    assert len(operation_ids) == len(set(operation_ids))


async def test_document_passes_openapi_spec_validator(api: Api) -> None:
    import openapi_spec_validator as validator  # a test dependency (pyproject [test])

    validator.validate(await _document(api))


async def test_every_mounted_api_route_is_an_operation_and_errors_use_the_error_schema(api: Api) -> None:
    doc = await _document(api)
    operations = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert operations == {(m, p) for m, p, _ in ROUTES}
    for item in doc["paths"].values():
        for op in item.values():
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": REF.format(model="ErrorOut")}
            if op["security"]:
                assert {"401", "403", "500"} <= set(op["responses"])


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda h: h.__name__)
async def test_request_body_schema_is_the_pydantic_model(api: Api, handler: Any) -> None:
    doc = await _document(api)
    spec = doc_of(handler)
    assert spec is not None and spec.body is not None
    ops = [op for item in doc["paths"].values() for op in item.values() if op["operationId"] == handler.__name__]
    assert len(ops) == 1
    ref = ops[0]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    expected = spec.body.model_json_schema(ref_template=REF, mode="validation")
    expected.pop("$defs", None)
    assert doc["components"]["schemas"][ref.rsplit("/", 1)[1]] == expected


async def test_every_request_body_in_the_document_is_its_model(api: Api) -> None:
    doc = await _document(api)
    app = api.client.app
    assert app is not None
    handlers = {r.handler.__name__: r.handler for r in app.router.routes()}
    for item in doc["paths"].values():
        for op in item.values():
            spec = doc_of(handlers[op["operationId"]])
            assert spec is not None
            if spec.body is None:
                assert "requestBody" not in op
                continue
            expected = spec.body.model_json_schema(ref_template=REF, mode="validation")
            expected.pop("$defs", None)
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert doc["components"]["schemas"][ref.rsplit("/", 1)[1]] == expected


async def test_docs_page_and_script_are_served_locally(api: Api) -> None:
    async with api.client.get("/api/docs") as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
        html = await resp.text()
    assert '<script src="/api/docs/docs.js">' in html
    assert "http://" not in html and "https://" not in html
    async with api.client.get("/api/docs/docs.js") as resp:
        assert resp.status == 200
        script = await resp.text()
    assert 'fetch("/api/openapi.json")' in script and "innerHTML" not in script
