"""engine.ari.codegen on small synthetic api-docs (type mapping, inheritance, renames, sources)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from engine.ari import codegen
from engine.ari._auth import basic_auth

MODELS_PY = Path(codegen.__file__).with_name("models.py")


def _docs() -> dict[str, dict[str, Any]]:
    return {
        "resources.json": {
            "apiVersion": "9.9.9",
            "swaggerVersion": "1.1",
            "apis": [{"path": "/api-docs/things.{format}"}, {"path": "/api-docs/events.{format}"}],
        },
        "things.json": {
            "models": {
                "Thing": {
                    "id": "Thing",
                    "description": "A thing.",
                    "properties": {
                        "id": {"type": "string", "required": True},
                        "from": {"type": "string", "required": True, "description": "Origin."},
                        "count": {"type": "int"},
                        "big": {"type": "long"},
                        "ratio": {"type": "double"},
                        "flag": {"type": "boolean"},
                        "extra": {"type": "object"},
                        "tags": {"type": "List[string]"},
                        "created": {"type": "Date", "required": True},
                        "state": {"type": "string", "allowableValues": {"values": ["on", "off"]}},
                    },
                },
            }
        },
        "events.json": {
            "models": {
                "Message": {
                    "id": "Message",
                    "discriminator": "type",
                    "properties": {
                        "type": {"type": "string", "required": True},
                        "asterisk_id": {"type": "string"},
                    },
                    "subTypes": ["Event"],
                },
                "Event": {
                    "id": "Event",
                    "properties": {
                        "application": {"type": "string", "required": True},
                        "timestamp": {"type": "Date", "required": True},
                    },
                    "subTypes": ["ThingHappened", "NothingHappened"],
                },
                "ThingHappened": {
                    "id": "ThingHappened",
                    "properties": {
                        "thing": {"type": "Thing", "required": True},
                        "others": {"type": "List[Thing]"},
                        "maybe": {"type": "Thing"},
                    },
                },
                "NothingHappened": {"id": "NothingHappened", "properties": {}},
            }
        },
    }


def write_docs(root: Path, docs: dict[str, dict[str, Any]], *, layout: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in docs.items():
        target = root / name if layout == "flat" or name == "resources.json" else root / "api-docs" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content))
    return root


def import_rendered(text: str, tmp_path: Path, name: str = "rendered_models") -> types.ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve string annotations through sys.modules
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


@pytest.fixture
def rendered(tmp_path: Path) -> types.ModuleType:
    docs = codegen.load_api_docs(str(write_docs(tmp_path / "docs", _docs(), layout="rest-api")))
    return import_rendered(codegen.render(docs, label="synthetic"), tmp_path)


THING = {"id": "t1", "from": "here", "created": "2024-01-01T00:00:00.000+0000"}


def test_types_renames_and_optional_defaults(rendered: types.ModuleType) -> None:
    thing = rendered.from_json(
        rendered.Thing, {**THING, "count": 3, "ratio": 0.5, "tags": ["a"], "ignored": 1}
    )
    assert thing.from_ == "here"
    assert (thing.count, thing.ratio, thing.tags, thing.flag, thing.extra, thing.big) == (
        3,
        0.5,
        ["a"],
        None,
        None,
        None,
    )
    hints = rendered.Thing.__annotations__
    assert hints["id"] == "str" and hints["created"] == "str"
    assert hints["count"] == "int | None" and hints["big"] == "int | None"
    assert hints["ratio"] == "float | None" and hints["flag"] == "bool | None"
    assert hints["extra"] == "dict[str, Any] | None" and hints["tags"] == "list[str] | None"


def test_events_inherit_message_and_event_and_parse_nested(rendered: types.ModuleType) -> None:
    event = rendered.parse_event(
        {
            "type": "ThingHappened",
            "application": "app",
            "timestamp": "ts",
            "thing": THING,
            "others": [THING, THING],
        }
    )
    assert isinstance(event, rendered.ThingHappened)
    assert isinstance(event, rendered.Event) and isinstance(event, rendered.Message)
    assert event.thing.id == "t1"
    assert [other.from_ for other in event.others] == ["here", "here"]
    assert event.maybe is None and event.asterisk_id is None
    empty = rendered.parse_event({"type": "NothingHappened", "application": "app", "timestamp": "ts"})
    assert isinstance(empty, rendered.NothingHappened)
    assert set(rendered._EVENT_PARSERS) == {"ThingHappened", "NothingHappened"}


def test_parse_event_never_raises(rendered: types.ModuleType) -> None:
    unknown = rendered.parse_event({"type": "Other", "application": "app", "timestamp": "ts"})
    assert isinstance(unknown, rendered.UnknownEvent) and unknown.error is None
    broken = rendered.parse_event(
        {"type": "ThingHappened", "application": "app", "timestamp": "ts", "others": 5}
    )
    assert isinstance(broken, rendered.UnknownEvent) and broken.error is not None


def test_header_names_source_version_and_digest(tmp_path: Path) -> None:
    docs = codegen.load_api_docs(str(write_docs(tmp_path / "docs", _docs(), layout="flat")))
    text = codegen.render(docs, label="synthetic docs")
    header = text.splitlines()[:5]
    assert "DO NOT EDIT BY HAND" in header[0]
    assert header[2] == "# Source: synthetic docs"
    assert "ARI apiVersion 9.9.9" in header[3]
    assert header[4] == f"# models sha256: {codegen.models_digest(docs)}"


def test_output_depends_only_on_the_models(tmp_path: Path) -> None:
    a = codegen.load_api_docs(str(write_docs(tmp_path / "a", _docs(), layout="flat")))
    changed = _docs()
    changed["things.json"]["apis"] = [{"path": "/things", "operations": []}]  # operations do not matter
    b = codegen.load_api_docs(str(write_docs(tmp_path / "b", changed, layout="rest-api")))
    assert codegen.render(a, label="x") == codegen.render(b, label="x")


def test_unknown_ari_type_and_unknown_subtype_are_errors(tmp_path: Path) -> None:
    docs = _docs()
    docs["things.json"]["models"]["Thing"]["properties"]["weird"] = {"type": "Matrix[int]"}
    loaded = codegen.load_api_docs(str(write_docs(tmp_path / "a", docs, layout="flat")))
    with pytest.raises(codegen.CodegenError, match="Matrix"):
        codegen.render(loaded, label="x")
    docs = _docs()
    docs["events.json"]["models"]["Event"]["subTypes"].append("Ghost")
    loaded = codegen.load_api_docs(str(write_docs(tmp_path / "b", docs, layout="flat")))
    with pytest.raises(codegen.CodegenError, match="Ghost"):
        codegen.render(loaded, label="x")


def test_missing_resource_file_is_an_error(tmp_path: Path) -> None:
    docs = _docs()
    del docs["things.json"]
    with pytest.raises(codegen.CodegenError, match=r"things\.json"):
        codegen.load_api_docs(str(write_docs(tmp_path / "docs", docs, layout="flat")))


def test_main_writes_the_module(tmp_path: Path) -> None:
    source = write_docs(tmp_path / "docs", _docs(), layout="rest-api")
    out = tmp_path / "models_out.py"
    assert codegen.main(["--source", str(source), "--out", str(out), "--label", "cli"]) == 0
    assert "# Source: cli" in out.read_text()


@pytest.fixture
async def docs_server(tmp_path: Path) -> AsyncIterator[str]:
    """Serves the synthetic docs like Asterisk does under /ari/api-docs/, behind basic auth."""
    docs = _docs()

    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != basic_auth("u", "p"):
            return web.Response(status=401)
        name = request.match_info["name"]
        if name not in docs:
            return web.Response(status=404)
        return web.json_response(docs[name])

    app = web.Application()
    app.router.add_get("/ari/api-docs/{name}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/ari/api-docs/resources.json"
    finally:
        await runner.cleanup()


async def test_live_url_source_gives_the_same_module_as_the_directory(
    docs_server: str, tmp_path: Path
) -> None:
    from_url = await asyncio.to_thread(codegen.load_api_docs, docs_server, user="u", password="p")
    from_dir = codegen.load_api_docs(str(write_docs(tmp_path / "docs", _docs(), layout="rest-api")))
    assert codegen.render(from_url, label="x") == codegen.render(from_dir, label="x")


def test_committed_models_header() -> None:
    header = MODELS_PY.read_text().splitlines()[:5]
    assert "DO NOT EDIT BY HAND" in header[0]
    assert header[2].startswith("# Source: asterisk/asterisk branch 22")
    assert header[4].startswith("# models sha256: ")
