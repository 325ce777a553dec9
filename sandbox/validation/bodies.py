"""Request bodies of the API around the push (``schemas/<family>/<name>.json``) and of the
control plane's own JSON calls (``schemas/control/``): checked by the engine that checks the
pushes, jsonschema-rs, and every bad key named in one sentence.

The API around the push names keys in OneAll's ``[request->user->user_token]`` notation; the
control plane, the sandbox's own, in JSON pointers (``/pages/0``). Where a key's schema says
what it takes (``x-expected``, as in ``schemas/_defs.json``), a refusal says it in those words,
about the outermost such key: ``/user: must be an object with an id ...``.

A schema file may leave a fact to the code that owns it: ``"x-enum": "providers"`` becomes the
``enum`` of that table, ``"x-pattern": "uuid"`` the ``pattern`` of a token; nothing of either is
written in the file.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jsonschema_rs

from sandbox.api.connections import SERVICES
from sandbox.api.datafiles import data_path
from sandbox.api.errors import BadRequest
from sandbox.api.push import PROVIDERS
from sandbox.config import UUID_PATTERN
from sandbox.validation.wording import arrow, show

# The tables a schema file may name in "x-enum" (more can be given to :func:`schema`).
ENUMS: dict[str, Sequence[str]] = {"providers": PROVIDERS, "services": SERVICES}
PATTERNS: dict[str, str] = {"uuid": f"^{UUID_PATTERN.pattern}$"}
_PATTERN_PHRASES = {PATTERNS["uuid"]: "a lowercase UUID (8-4-4-4-12 hex digits)"}
_TYPE_PHRASES = {
    "boolean": "true or false",
    "integer": "a whole number",
    "null": "null",
    "number": "a number",
    "string": "a string",
    "array": "an array",
    "object": "an object",
}
# Which refusal of a key is said first when it breaks several rules.
_FIRST = ("type", "required", "additionalProperties", "enum", "const", "anyOf", "pattern")
_DEFS = "#/$defs/"


def schema(name: str, **enums: Sequence[str]) -> dict[str, Any]:
    """``schemas/<name>.json`` with its ``x-enum`` and ``x-pattern`` filled in: from ``enums``,
    then :data:`ENUMS` and :data:`PATTERNS`. A fresh copy each call (callers may annotate it)."""
    return copy.deepcopy(_filled(name, tuple((k, tuple(v)) for k, v in sorted(enums.items()))))


@functools.cache
def _filled(name: str, enums: tuple[tuple[str, Sequence[str]], ...]) -> dict[str, Any]:
    path = data_path("schemas") / f"{name}.json"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    tables = {**ENUMS, **dict(enums)}
    for node in walk(document):
        table = node.pop("x-enum", None)
        if table is not None:
            node["enum"] = list(tables[table])
        regex = node.pop("x-pattern", None)
        if regex is not None:
            node["pattern"] = PATTERNS[regex]
    return document


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object of a JSON document, outermost first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


@functools.cache
def validator(name: str) -> jsonschema_rs.Validator:
    """The compiled validator of ``schemas/<name>.json``, once per process."""
    return jsonschema_rs.validator_for(_filled(name, ()), offline=True)


def refusal(name: str, body: Any, *, pointers: bool = False, where: str = "") -> str | None:
    """What is wrong with ``body`` against ``schemas/<name>.json``, every bad key named (in
    JSON pointers after ``where`` with ``pointers``, else in OneAll's notation); None when it
    fits."""
    errors = sorted(
        validator(name).iter_errors(body),
        key=lambda error: (len(error.instance_path), _rank(error.kind.name)),
    )
    if not errors:
        return None
    document = _filled(name, ())
    said: dict[tuple[str | int, ...], list[str]] = {}
    for error in errors:
        path = tuple(error.instance_path)
        nodes = _nodes(document, path)
        expected = next((depth for depth, node in enumerate(nodes) if "x-expected" in node), None)
        if expected is not None:
            path, phrase = path[:expected], f"must be {nodes[expected]['x-expected']}"
        else:
            phrase = _phrase(error.kind.name, error.kind.as_dict(), error.message)
            if error.kind.name == "additionalProperties" and len(nodes) > len(path):
                phrase += f" (it takes {', '.join(nodes[-1].get('properties', {}))})"
        phrases = said.setdefault(path, [])
        if phrase not in phrases:
            phrases.append(phrase)
    sentences = []
    for path, phrases in said.items():
        if pointers:
            pointer = where + "".join(f"/{_escaped(part)}" for part in path)
            place = f"{pointer}:" if pointer else "the body"
        else:
            place = arrow(path) if path else "The body"
        sentences.append(f"{place} {' and '.join(phrases)}, got {show(_at(body, path))}")
    return "; ".join(sentences)


def check(name: str, body: Any, *, pointers: bool = False, doing: str = "") -> Any:
    """``body`` when it fits ``schemas/<name>.json``; else BadRequest saying (after ``doing``)
    what is wrong with it."""
    said = refusal(name, body, pointers=pointers)
    if said is None:
        return body
    raise BadRequest(f"{doing}: {said}" if doing else said)


def _escaped(part: str | int) -> str:
    """A key as a JSON pointer writes it (RFC 6901)."""
    return str(part).replace("~", "~0").replace("/", "~1")


def _rank(kind: str) -> int:
    return _FIRST.index(kind) if kind in _FIRST else len(_FIRST)


def _at(body: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        body = body[part]
    return body


def _nodes(document: Mapping[str, Any], path: tuple[str | int, ...]) -> list[Mapping[str, Any]]:
    """The schema of the body and of each key along ``path``, as far as the schema says."""
    nodes = [_resolved(document, document)]
    for part in path:
        child = _child(document, nodes[-1], part)
        if child is None:
            break
        nodes.append(child)
    return nodes


def _child(document: Mapping[str, Any], node: Mapping[str, Any], part: str | int) -> Any:
    if isinstance(part, int):
        items = node.get("items")
    else:
        items = node.get("properties", {}).get(part, node.get("additionalProperties"))
    return _resolved(document, items) if isinstance(items, dict) else None


def _resolved(document: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """``node`` with the local definition it refers to merged under it."""
    target = node.get("$ref")
    if isinstance(target, str) and target.startswith(_DEFS):
        return {**_resolved(document, document["$defs"][target.removeprefix(_DEFS)]), **node}
    return node


def _phrase(kind: str, facts: Mapping[str, Any], message: str) -> str:
    """What a key must be, said from the rule it breaks."""
    if kind == "type":
        return "must be " + " or ".join(_TYPE_PHRASES.get(t, t) for t in facts["types"])
    if kind == "required":
        return f"must hold the key {facts['property']}"
    if kind == "additionalProperties":
        keys = ", ".join(map(str, facts["unexpected"]))
        return f"has the unknown key{'s' if len(facts['unexpected']) > 1 else ''} {keys}"
    if kind == "enum":
        return "must be one of " + ", ".join(_listed(option) for option in facts["options"])
    if kind == "const":
        return f"must be {_listed(facts['expected_value'])}"
    if kind == "pattern":
        return "must be " + _PATTERN_PHRASES.get(facts["pattern"], f"like {facts['pattern']}")
    if kind == "anyOf":
        required = [
            [error.kind.as_dict().get("property") for error in option]
            for option in facts["context"]
        ]
        if all(len(keys) == 1 and keys[0] for keys in required):
            return "must hold one of the keys " + " or ".join(str(keys[0]) for keys in required)
        return "is not any of the accepted forms"
    if kind == "minLength" and facts.get("limit") == 1:
        return "must not be empty"
    return f"is invalid: {message}"


def _listed(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)
