"""The pieces every sentence about a body is made of: OneAll's ``[request->push->...]`` path,
the kind of a JSON value, and a value shown as JSON, cut short."""

from __future__ import annotations

import json
from collections.abc import Iterable

_SHOWN_CHARS = 60


def arrow(path: Iterable[object]) -> str:
    return "[" + "->".join(str(part) for part in path) + "]"


def json_kind(value: object) -> str:
    if value is None:
        return "JSON null"
    return "a JSON " + kind(value).split(" ", 1)[1]


def kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a " + type(value).__name__


def show(value: object) -> str:
    """The value as JSON, long strings cut after 60 characters."""
    if isinstance(value, str):
        if len(value) > _SHOWN_CHARS:
            value = value[:_SHOWN_CHARS] + "…"
        return json.dumps(value, ensure_ascii=False)
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def got(value: object) -> str:
    if value == "" and isinstance(value, str):
        return "an empty string"
    if isinstance(value, str | bool | int | float):
        return f"{kind(value)} ({show(value)})"
    return kind(value)
