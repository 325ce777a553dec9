"""How strict validation is (spec §6): the ``live`` profile accepts the doubtful input the live
API is known or believed to accept, normalised and reported as a warning; ``strict`` refuses
it. What ``live`` does with each doubtful input is one row of :data:`INPUT_CLASSES`, applied
by :func:`normalise`, the one step between a refused body and its second look.

A value is only ever doubtful when its key's own schema refuses it: a value the schema takes
(``"message": ""`` where a message may be empty, ``"attachments": []``) is never touched and
never warned about, in either profile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.validation.wording import arrow, got, show

LIVE = "live"
STRICT = "strict"
PROFILES = (LIVE, STRICT)


class _Absent:
    """The value a key takes when ``live`` treats it as absent."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
_NOT_MINE: Any = object()  # an input class that does not apply to a value


@dataclass(frozen=True, slots=True)
class KeyFacts:
    """What the input classes need to know of one key of a node, read from its schema."""

    required: bool
    types: frozenset[str]  # the JSON types its schema names ("string", "array", ...)
    kind: str | None  # its x-kind: "url" or "id"
    items_kind: str | None  # the x-kind of its items, for an array
    expected: str  # its x-expected phrase, as refusals say it


@dataclass(frozen=True, slots=True)
class InputClass:
    """One row of the spec's §6 table: which values it covers, what ``live`` takes instead
    (:data:`ABSENT`: as if the key were not sent), and the warning's sentence after the key's
    ``[request->push->...]`` path. ``fix`` answers ``_NOT_MINE`` for a value it does not cover."""

    name: str
    row: str
    fix: Callable[[Any, KeyFacts], Any]
    warning: str  # str.format fields: sent (the value as sent), taken (what live takes)
    # The same rule for the OpenAPI document of the live profile: the JSON Schemas of the
    # values it covers whose fix the key's schema takes, given the key's facts and its schema
    # as written (references followed); for an array, the schemas its items may also have.
    forms: Callable[[KeyFacts, Mapping[str, Any]], list[dict[str, Any]]] = lambda f, s: []
    item_forms: Callable[[KeyFacts], list[dict[str, Any]]] = lambda facts: []


def _empty(value: Any, facts: KeyFacts) -> Any:
    return ABSENT if value is None or value == "" else _NOT_MINE


def _null_items(value: Any, facts: KeyFacts) -> Any:
    if "array" in facts.types and value.__class__ is list and None in value:
        return [item for item in value if item is not None]
    return _NOT_MINE


def _empty_array(value: Any, facts: KeyFacts) -> Any:
    return ABSENT if value == [] and "array" not in facts.types else _NOT_MINE


def _number_ids(value: Any, facts: KeyFacts) -> Any:
    def number(item: Any) -> bool:
        return item.__class__ is int or (item.__class__ is float and item.is_integer())

    if facts.kind == "id" and number(value):
        return str(int(value))
    if facts.items_kind == "id" and value.__class__ is list and any(map(number, value)):
        return [str(int(item)) if number(item) else item for item in value]
    return _NOT_MINE


def _padded_url(value: Any, facts: KeyFacts) -> Any:
    if facts.kind == "url" and value.__class__ is str and value.strip(_SPACE) != value:
        return value.strip(_SPACE)
    return _NOT_MINE


def _url_object(value: Any, facts: KeyFacts) -> Any:
    if facts.kind == "url" and value.__class__ is dict and value.get("url").__class__ is str:
        return value["url"]
    return _NOT_MINE


_SPELLED_BOOLEANS: Mapping[Any, bool] = {"true": True, "false": False}


def _spelled_boolean(value: Any, facts: KeyFacts) -> Any:
    if "boolean" not in facts.types:
        return _NOT_MINE
    if value.__class__ is str and value in _SPELLED_BOOLEANS:
        return _SPELLED_BOOLEANS[value]
    if value.__class__ in (int, float) and value in (0, 1):
        return value == 1
    return _NOT_MINE


# ASCII whitespace only: what an ECMA-262 pattern and Python agree on (the OpenAPI document).
_SPACE = " \t\n\r\f\v"
_SPACE_CLASS = "[ \\t\\n\\r\\f\\v]"


def _empty_forms(facts: KeyFacts, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    if facts.required:
        return []
    forms: list[dict[str, Any]] = []
    if "null" not in facts.types:
        forms.append({"type": "null"})
    if "string" not in facts.types or facts.kind is not None or schema.get("minLength", 0) > 0:
        forms.append({"const": ""})
    return forms


def _empty_array_forms(facts: KeyFacts, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    if facts.required or "array" in facts.types:
        return []
    return [{"type": "array", "maxItems": 0}]


def _padded_url_forms(facts: KeyFacts, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    pattern = schema.get("pattern")
    end = "$(?!\\n)"
    if facts.kind != "url" or not isinstance(pattern, str) or not pattern.startswith("^"):
        return []
    inner = "(?:" + pattern[1:].removesuffix(end).removesuffix("$") + ")"
    padded = f"^(?:{_SPACE_CLASS}+{inner}{_SPACE_CLASS}*|{inner}{_SPACE_CLASS}+)$"
    form: dict[str, Any] = {"type": "string", "pattern": padded}
    if "maxLength" in schema:
        form["maxLength"] = schema["maxLength"]
    return [form]


def _url_object_forms(facts: KeyFacts, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    if facts.kind != "url":
        return []
    url = {key: value for key, value in schema.items() if not key.startswith("x-")}
    return [{"type": "object", "required": ["url"], "properties": {"url": url}}]


def _boolean_forms(facts: KeyFacts, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"enum": ["true", "false", 0, 1]}] if "boolean" in facts.types else []


_ABSENT_CLASSES = ("empty_optional", "empty_array_for_scalar")

INPUT_CLASSES: tuple[InputClass, ...] = (
    InputClass(
        "empty_optional",
        'an optional key sent empty: "", null',
        _empty,
        "is {sent}; treated as absent",
        forms=_empty_forms,
    ),
    InputClass(
        "null_items",
        "an array holding null elements",
        _null_items,
        "holds null elements; they are dropped",
        item_forms=lambda facts: [{"type": "null"}] if facts.items_kind is not None else [],
    ),
    InputClass(
        "empty_array_for_scalar",
        "[] where a string (or any value but an array) is expected",
        _empty_array,
        "is an empty array where {expected} is expected; treated as absent",
        forms=_empty_array_forms,
    ),
    InputClass(
        "number_id",
        "an id sent as a JSON number where the schema says string",
        _number_ids,
        "holds an id sent as a JSON number; taken as its decimal string ({taken})",
        item_forms=lambda facts: [{"type": "integer"}] if facts.items_kind == "id" else [],
    ),
    InputClass(
        "padded_url",
        "a URL with leading or trailing whitespace",
        _padded_url,
        "has whitespace around the URL; trimmed to {taken}",
        forms=_padded_url_forms,
    ),
    InputClass(
        "url_object",
        'an object {"url": ...} where a URL is expected (OneAll\'s PHP SDK 2.x link)',
        _url_object,
        "is an object where a URL is expected; its url {taken} is taken, the rest ignored",
        forms=_url_object_forms,
    ),
    InputClass(
        "spelled_boolean",
        'a boolean sent as "true"/"false"/1/0',
        _spelled_boolean,
        "is {sent}, not a boolean; taken as {taken}",
        forms=_boolean_forms,
    ),
)
"""Tried in this order, each on what the ones before left: ``[null, 123]`` becomes ``[123]``,
then ``["123"]``. A key is changed only when the classes together leave a value its schema
takes (or, for an optional key, nothing); otherwise it stays as sent, for the refusal."""


def absent_forms(facts: KeyFacts, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The values ``live`` treats as absent for a key: they do not count as sending it."""
    return [
        form
        for row in INPUT_CLASSES
        if row.name in _ABSENT_CLASSES
        for form in row.forms(facts, schema)
    ]


UNKNOWN_KEY = "is not a key of {node}; ignored (allowed keys: {allowed})"
NOT_AN_IMAGE = (
    "points to a .{extension} file, not {expected}; accepted, as the live API judges the file it "
    "fetches"
)


def normalise(
    node: Mapping[str, Any],
    name: str,
    facts: Mapping[str, KeyFacts],
    valid: Callable[[str, Any], bool],
    *,
    lenient: bool,
    drop_unknown: bool,
) -> tuple[dict[str, Any], list[str]]:
    """The node ``live`` sees, and the warnings saying what it changed. ``lenient``: apply
    :data:`INPUT_CLASSES` (the ``live`` profile); ``drop_unknown``: ignore the keys ``facts``
    does not name (``live``, or ``--allow-unknown-keys``). ``valid(key, value)``: whether the
    key's own schema takes the value."""
    result: dict[str, Any] = {}
    warnings: list[str] = []
    for key, value in node.items():
        where = arrow(("request", "push", name, key))
        key_facts = facts.get(key)
        if key_facts is None:
            if drop_unknown:
                allowed = ", ".join(sorted(facts))
                warnings.append(f"{where} {UNKNOWN_KEY.format(node=name, allowed=allowed)}")
            else:
                result[key] = value
            continue
        if not lenient or valid(key, value):
            result[key] = value
            continue
        taken, said = value, []
        for row in INPUT_CLASSES:
            fixed = row.fix(taken, key_facts)
            if fixed is _NOT_MINE:
                continue
            sentence = row.warning.format(
                sent=got(taken), taken=show(fixed), expected=key_facts.expected
            )
            said.append(f"{where} {sentence}")
            taken = fixed
            if taken is ABSENT:
                break
        if said and (not key_facts.required if taken is ABSENT else valid(key, taken)):
            warnings.extend(said)
            if taken is not ABSENT:
                result[key] = taken
        else:
            result[key] = value
    return result, warnings
