"""Generate ``engine/ari/models.py`` from Asterisk's ARI api-docs.

Usage::

    python -m engine.ari.codegen --source <dir-or-url> --out engine/ari/models.py \
        [--user U --password P] [--label TEXT]

``--source`` is either

* a directory holding ``resources.json`` and the resource files it lists (Asterisk's source tree keeps
  ``rest-api/resources.json`` and ``rest-api/api-docs/*.json``; ``rest-api/`` and a flat directory work), or
* the URL of a running Asterisk's ``resources.json``, e.g.
  ``http://127.0.0.1:8088/ari/api-docs/resources.json`` (HTTP basic auth with ``--user/--password``).

What is read: the ``models`` section of every resource file (Swagger 1.2). Inheritance is Swagger 1.2's
``subTypes`` list on the parent (``Message`` -> ``Event`` -> ``StasisStart`` ...); the discriminator is
``type``.

What is generated: one ``@dataclass(slots=True, frozen=True, kw_only=True)`` per model, fields in ARI
order, required fields without default and optional ones defaulting to ``None``; a parser per model that
sets the slots directly (no ``__init__`` call, no reflection at parse time: about twice as fast as calling
the frozen dataclass's ``__init__``); ``parse_event`` dispatching on ``type`` through a dict;
``from_json(cls, data)`` for REST responses. Output depends only on the models, so the same Asterisk
version gives the same file from its source tree and from a live server (only the ``# Source:`` line
differs).

Type mapping (ARI -> Python): ``string``/``Date`` -> ``str`` (dates stay ISO-8601 text: parsing them costs
more than the whole event), ``int``/``long`` -> ``int``, ``double`` -> ``float``, ``boolean`` -> ``bool``,
``object`` -> ``dict[str, Any]``, ``List[T]`` -> ``list[T]``, model names -> the generated dataclass.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import keyword
import re
import sys
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_PRIMITIVES: Mapping[str, str] = {
    "string": "str",
    "Date": "str",
    "int": "int",
    "long": "int",
    "double": "float",
    "boolean": "bool",
    "object": "dict[str, Any]",
}
_LIST_RE = re.compile(r"^List\[(?P<item>[A-Za-z0-9_]+)\]$")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class CodegenError(Exception):
    """The api-docs could not be read or hold something this generator does not understand."""


@dataclass(frozen=True, slots=True)
class ApiDocs:
    """The parts of ARI's api-docs the generator uses.

    ``files`` maps a resource file name (``channels.json``) to its parsed JSON, in ``resources.json`` order.
    """

    api_version: str
    swagger_version: str
    files: dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Field:
    ari_name: str
    py_name: str
    ari_type: str
    required: bool
    description: str
    allowable: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Model:
    name: str
    description: str
    source_file: str
    fields: tuple[_Field, ...]  # own fields only, in ARI order
    parent: str | None


# ------------------------------------------------------------------------------------------------ loading


def _basic_auth_header(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _load_url(url: str, user: str | None, password: str | None) -> dict[str, Any]:
    request = urllib.request.Request(url)
    if user is not None:
        request.add_header("Authorization", _basic_auth_header(user, password or ""))
    with urllib.request.urlopen(request, timeout=10) as response:
        data = json.loads(response.read())
    if not isinstance(data, dict):
        raise CodegenError(f"{url}: expected a JSON object")
    return data


def _resource_file_names(resources: Mapping[str, Any]) -> list[str]:
    names = []
    for api in resources.get("apis", []):
        path = str(api["path"])  # "/api-docs/channels.{format}"
        names.append(path.rsplit("/", 1)[-1].replace("{format}", "json"))
    if not names:
        raise CodegenError("resources.json lists no apis")
    return names


def load_api_docs(source: str, *, user: str | None = None, password: str | None = None) -> ApiDocs:
    """Read ``resources.json`` and every resource file it lists from a directory or a live Asterisk.

    Raises:
        CodegenError: a file is missing or is not a JSON object.
        urllib.error.URLError: the live Asterisk could not be reached.
    """
    files: dict[str, dict[str, Any]] = {}
    if source.startswith(("http://", "https://")):
        resources = _load_url(source, user, password)
        base = source.rsplit("/", 1)[0]  # .../ari/api-docs
        for name in _resource_file_names(resources):
            files[name] = _load_url(f"{base}/{name}", user, password)
    else:
        root = Path(source)
        resources_path = root / "resources.json"
        if not resources_path.is_file():
            raise CodegenError(f"{resources_path} not found")
        resources = json.loads(resources_path.read_text())
        for name in _resource_file_names(resources):
            for candidate in (root / "api-docs" / name, root / name):
                if candidate.is_file():
                    files[name] = json.loads(candidate.read_text())
                    break
            else:
                raise CodegenError(f"{name} (listed in {resources_path}) not found under {root}")
    return ApiDocs(
        api_version=str(resources.get("apiVersion", "?")),
        swagger_version=str(resources.get("swaggerVersion", "?")),
        files=files,
    )


def models_digest(docs: ApiDocs) -> str:
    """sha256 of the ``models`` sections (canonical JSON), the only input that shapes the generated code."""
    canonical = {name: doc.get("models", {}) for name, doc in docs.files.items()}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------------------------------------ modelling


def py_name(ari_name: str) -> str:
    """ARI property name -> Python field name: snake_case, ``_`` after keywords (``from`` -> ``from_``)."""
    name = _CAMEL_RE.sub("_", ari_name).lower()
    if keyword.iskeyword(name):
        name += "_"
    return name


def _collect_models(docs: ApiDocs) -> dict[str, _Model]:
    raw: dict[str, tuple[str, dict[str, Any]]] = {}
    for file_name, doc in docs.files.items():
        for name, model in doc.get("models", {}).items():
            if name in raw and raw[name][1] != model:
                raise CodegenError(f"model {name} defined differently in {raw[name][0]} and {file_name}")
            raw.setdefault(name, (file_name, model))
    parents: dict[str, str] = {}
    for name, (_, model) in raw.items():
        for sub in model.get("subTypes", []):
            if sub not in raw:
                raise CodegenError(f"{name}.subTypes names unknown model {sub}")
            parents[sub] = name
    models: dict[str, _Model] = {}
    for name, (file_name, model) in raw.items():
        fields = []
        for ari_name, prop in model.get("properties", {}).items():
            allowable = prop.get("allowableValues", {}).get("values", [])
            fields.append(
                _Field(
                    ari_name=ari_name,
                    py_name=py_name(ari_name),
                    ari_type=str(prop["type"]),
                    required=bool(prop.get("required", False)),
                    description=" ".join(str(prop.get("description", "")).split()),
                    allowable=tuple(str(v) for v in allowable),
                )
            )
        models[name] = _Model(
            name=name,
            description=str(model.get("description", "")).strip(),
            source_file=file_name,
            fields=tuple(fields),
            parent=parents.get(name),
        )
    return models


def _ancestors(models: Mapping[str, _Model], name: str) -> list[str]:
    chain = []
    parent = models[name].parent
    while parent is not None:
        chain.append(parent)
        parent = models[parent].parent
    return chain


def _all_fields(models: Mapping[str, _Model], name: str) -> list[tuple[str, _Field]]:
    """(owner model, field), inherited fields first; a field redeclared by a subtype keeps the base's."""
    seen: set[str] = set()
    out: list[tuple[str, _Field]] = []
    for owner in [*reversed(_ancestors(models, name)), name]:
        for field in models[owner].fields:
            if field.py_name in seen:
                continue
            seen.add(field.py_name)
            out.append((owner, field))
    return out


def _own_fields(models: Mapping[str, _Model], name: str) -> list[_Field]:
    parent = models[name].parent
    inherited = {f.py_name for _, f in _all_fields(models, parent)} if parent is not None else set()
    return [f for f in models[name].fields if f.py_name not in inherited]


def _python_type(models: Mapping[str, _Model], ari_type: str) -> str:
    if ari_type in _PRIMITIVES:
        return _PRIMITIVES[ari_type]
    if ari_type in models:
        return ari_type
    match = _LIST_RE.match(ari_type)
    if match:
        return f"list[{_python_type(models, match['item'])}]"
    raise CodegenError(f"unknown ARI type {ari_type!r}")


def _value_expr(models: Mapping[str, _Model], ari_type: str, expr: str) -> str:
    """Expression converting the JSON value ``expr`` (never None here) into the Python value."""
    if ari_type in _PRIMITIVES:
        return expr
    if ari_type in models:
        return f"_parse_{ari_type}({expr})"
    match = _LIST_RE.match(ari_type)
    if match:
        item = match["item"]
        if item in _PRIMITIVES:
            return expr
        return f"[_parse_{item}(_i) for _i in {expr}]"
    raise CodegenError(f"unknown ARI type {ari_type!r}")


def _ordered(models: Mapping[str, _Model]) -> list[str]:
    """Models in api-docs order, parents before their subtypes."""
    out: list[str] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed:
            return
        parent = models[name].parent
        if parent is not None:
            place(parent)
        placed.add(name)
        out.append(name)

    for name in models:
        place(name)
    return out


def _concrete_subtypes(models: Mapping[str, _Model], base: str) -> list[str]:
    subs = [name for name in _ordered(models) if base in _ancestors(models, name)]
    parents = {m.parent for m in models.values()}
    return [name for name in subs if name not in parents]


# ------------------------------------------------------------------------------------------------ rendering


def _comment(field: _Field) -> str:
    text = field.description
    if field.allowable:
        if text and not text.endswith((".", ":")):
            text += "."
        text = (text + " " if text else "") + "One of: " + ", ".join(repr(v) for v in field.allowable) + "."
    if field.py_name != field.ari_name:
        text = f"ARI ``{field.ari_name}``. " + text
    return text


def _wrap(text: str, prefix: str, width: int = 110) -> list[str]:
    words = text.split()
    lines: list[str] = []
    line = prefix
    for word in words:
        if len(line) + len(word) + 1 > width and line.strip() not in {"", prefix.strip()}:
            lines.append(line.rstrip())
            line = prefix
        line += word + " "
    if line.strip() not in {"", prefix.strip()}:
        lines.append(line.rstrip())
    return lines


_PRELUDE = '''\
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

_Setter = Callable[[object, object], None]
_M = TypeVar("_M")


def _slot(owner: type, name: str) -> _Setter:
    """The slot setter of ``owner.name``: sets the field of a frozen instance without ``__init__``."""
    return cast(_Setter, owner.__dict__[name].__set__)'''

_UNKNOWN = '''

@dataclass(slots=True, frozen=True, kw_only=True)
class UnknownEvent(Event):
    """An event this module has no model for, or one that did not match its model.

    ``raw`` is the JSON object as received; ``error`` says why a known ``type`` did not parse (None when the
    ``type`` is simply unknown, e.g. an event added by a newer Asterisk).
    """

    raw: Mapping[str, Any]
    error: str | None = None


def _unknown(data: Mapping[str, Any], error: str | None) -> UnknownEvent:
    return UnknownEvent(
        type=str(data.get("type", "")),
        asterisk_id=data.get("asterisk_id"),
        application=str(data.get("application", "")),
        timestamp=str(data.get("timestamp", "")),
        raw=data,
        error=error,
    )


def parse_event(data: Mapping[str, Any]) -> Event:
    """Parse one decoded ARI WebSocket message into its typed event.

    Never raises: an unknown ``type`` gives ``UnknownEvent(error=None)``; a known type with a missing
    required field or a wrongly shaped value gives ``UnknownEvent`` with ``error`` set. Extra fields are
    ignored; missing optional fields are None.

    Source: ``GET /events`` (WebSocket), models in events.json.
    """
    parser = _EVENT_PARSERS.get(data.get("type", ""))
    if parser is None:
        return _unknown(data, None)
    try:
        return parser(data)
    except (KeyError, TypeError, AttributeError) as exc:
        return _unknown(data, f"{exc.__class__.__name__}: {exc}")


def from_json(cls: type[_M], data: Mapping[str, Any]) -> _M:
    """Parse a decoded ARI REST body into the model ``cls`` (e.g. ``from_json(Channel, body)``).

    Raises:
        KeyError: a required field is missing, or ``cls`` is not a generated model.
        TypeError, AttributeError: a value has the wrong JSON shape.
    """
    return cast(_M, _MODEL_PARSERS[cls](data))
'''


def render(docs: ApiDocs, *, label: str) -> str:
    """The full text of ``models.py`` for ``docs``; ``label`` says where the docs came from."""
    models = _collect_models(docs)
    if "Event" not in models or "Message" not in models:
        raise CodegenError("events.json models Message/Event not found")
    order = _ordered(models)
    events = _concrete_subtypes(models, "Event")
    out: list[str] = [
        "# Generated by engine.ari.codegen from Asterisk's ARI api-docs. DO NOT EDIT BY HAND. Regenerate:",
        "#   python -m engine.ari.codegen --source <asterisk>/rest-api --out engine/ari/models.py",
        f"# Source: {label}",
        f"# ARI apiVersion {docs.api_version} (swaggerVersion {docs.swagger_version}); "
        f"resource files: {', '.join(docs.files)}",
        f"# models sha256: {models_digest(docs)}",
        '"""Typed ARI models and events, generated from Asterisk\'s ARI api-docs (see the header above).',
        "",
        "Every model is a frozen, slotted dataclass with ARI's field names (``from`` becomes ``from_``);",
        "ARI ``Date`` values stay ISO-8601 strings. ``parse_event(data)`` turns a decoded WebSocket message",
        "into its event class, ``from_json(Channel, data)`` parses REST bodies.",
        '"""',
        "",
        _PRELUDE,
    ]
    for name in order:
        model = models[name]
        base = f"({model.parent})" if model.parent else ""
        out += ["", "", "@dataclass(slots=True, frozen=True, kw_only=True)", f"class {name}{base}:"]
        doc = model.description or name
        doc_lines = _wrap(doc, "    ")
        doc_lines[0] = '    """' + doc_lines[0].lstrip()
        out += doc_lines
        out += ["", f"    Source: ARI model ``{name}`` ({model.source_file}).", '    """', ""]
        own = _own_fields(models, name)
        if not own:
            out.pop()
        for field in own:
            comment = _comment(field)
            if comment:
                out += _wrap(comment, "    #: ")
            py_type = _python_type(models, field.ari_type)
            if field.required:
                out.append(f"    {field.py_name}: {py_type}")
            else:
                out.append(f"    {field.py_name}: {py_type} | None = None")
    out += ["", "", "# Slot setters, one per (declaring model, field)."]
    for name in order:
        for field in _own_fields(models, name):
            out.append(f'_set_{name}_{field.py_name} = _slot({name}, "{field.py_name}")')
    for name in order:
        fields = _all_fields(models, name)
        out += ["", "", f"def _parse_{name}(d: Mapping[str, Any]) -> {name}:"]
        out.append(f"    o = object.__new__({name})")
        for owner, field in fields:
            setter = f"_set_{owner}_{field.py_name}"
            if field.required:
                value = _value_expr(models, field.ari_type, f'd["{field.ari_name}"]')
                out.append(f"    {setter}(o, {value})")
            elif _value_expr(models, field.ari_type, "_v") == "_v":
                out.append(f'    {setter}(o, d.get("{field.ari_name}"))')
            else:
                conv = _value_expr(models, field.ari_type, "_v")
                out.append(f'    {setter}(o, None if (_v := d.get("{field.ari_name}")) is None else {conv})')
        out.append("    return o")
    out.append(_UNKNOWN)
    out += ["", "#: Every concrete event, for exhaustive ``match`` statements.", "AnyEvent = ("]
    out += [f"    {name}" + (" |" if i < len(events) else "") for i, name in enumerate(events, 1)]
    out[-1] += " | UnknownEvent"
    out += [")", ""]
    out.append("_EVENT_PARSERS: dict[str, Callable[[Mapping[str, Any]], Event]] = {")
    out += [f'    "{name}": _parse_{name},' for name in events]
    out += ["}", ""]
    out.append("_MODEL_PARSERS: dict[type, Callable[[Mapping[str, Any]], object]] = {")
    out += [f"    {name}: _parse_{name}," for name in order]
    out += ["}", ""]
    return "\n".join(out)


def _live_label(url: str, user: str | None, password: str | None) -> str:
    info_url = url.split("/api-docs/", 1)[0] + "/asterisk/info?only=system"
    try:
        version = _load_url(info_url, user, password).get("system", {}).get("version", "?")
    except OSError:
        version = "?"
    return f"live Asterisk {version} at {url}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.ari.codegen", description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True, help="api-docs directory or URL of resources.json")
    parser.add_argument("--out", required=True, help="path of the generated module")
    parser.add_argument("--user", help="ARI user (live source)")
    parser.add_argument("--password", help="ARI password (live source)")
    parser.add_argument("--label", help="where the docs come from, for the header (default: derived)")
    args = parser.parse_args(argv)
    docs = load_api_docs(args.source, user=args.user, password=args.password)
    if args.label:
        label = args.label
    elif args.source.startswith(("http://", "https://")):
        label = _live_label(args.source, args.user, args.password)
    else:
        label = f"directory {args.source}"
    text = render(docs, label=label)
    Path(args.out).write_text(text)
    print(
        f"wrote {args.out}: {len(_collect_models(docs))} models, sha256 {models_digest(docs)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
