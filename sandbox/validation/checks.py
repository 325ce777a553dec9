"""A schema compiled to one small Python function that says whether a body is valid.

The happy path of every push asks only that question; why a body is refused is worded apart
(by jsonschema, see :mod:`sandbox.validation.schemas`). A general compiler such as
fastjsonschema makes
code that builds error messages, key sets and name prefixes as it goes; under load that cost
a fifth of a push. This one handles the part of JSON Schema the sandbox's schemas use, as
straight-line code of ``isinstance``, ``len`` and dict lookups, and says
:class:`Unsupported` for anything else, so a schema using more falls back to fastjsonschema
instead of being checked wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[object], bool]

# Keywords that say nothing about validity.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples"}
)
_TYPES = {
    "object": "{v}.__class__ is dict",
    "array": "{v}.__class__ is list",
    "string": "{v}.__class__ is str",
    "boolean": "{v}.__class__ is bool",
    "null": "{v} is None",
    "number": "({v}.__class__ is int or {v}.__class__ is float)",
    "integer": "({v}.__class__ is int or ({v}.__class__ is float and {v}.is_integer()))",
}
_MAX_DEPTH = 32


class Unsupported(Exception):
    """The schema uses what this compiler does not check; the caller uses another."""


def compile_check(schema: Mapping[str, Any]) -> Check:
    """One function for ``schema`` (its local ``#/$defs/...`` references followed)."""
    writer = _Writer(schema)
    try:
        writer.function("check", schema)
    except (re.error, ValueError, TypeError) as error:  # a malformed keyword value
        raise Unsupported(f"cannot compile: {error}") from None
    namespace: dict[str, Any] = {**writer.constants, "_absent": object()}
    exec("\n".join(writer.lines), namespace)  # our own generated source
    check: Check = namespace["check"]
    return check


class _Writer:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.lines: list[str] = []
        self.constants: dict[str, object] = {}  # compiled patterns and key sets, by name
        self._functions = 0

    def constant(self, value: object) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def function(self, name: str, schema: object) -> None:
        body: list[str] = []
        self._schema(schema, "v", body, indent=1, depth=0)
        self.lines += [f"def {name}(v):", *body, "    return True", ""]

    def _helper(self, schema: object) -> str:
        """A schema checked by a function of its own (the options of anyOf, array items)."""
        self._functions += 1
        name = f"_f{self._functions}"
        self.function(name, schema)
        return name

    def _schema(self, schema: object, v: str, out: list[str], indent: int, depth: int) -> None:
        pad = "    " * indent
        if depth > _MAX_DEPTH:
            raise Unsupported("nested too deeply (a recursive $ref?)")
        if schema is True:
            return
        if schema is False:
            out.append(f"{pad}return False")
            return
        if not isinstance(schema, dict):
            raise Unsupported(f"a schema must be an object or a boolean, got {schema!r}")
        for keyword in schema:
            known = keyword in _HANDLED or keyword in _ANNOTATIONS or keyword.startswith("x-")
            if not known:
                raise Unsupported(f"keyword {keyword}")
        ref = schema.get("$ref")
        if ref is not None:
            self._schema(self._resolve(ref), v, out, indent, depth + 1)
        kinds = schema.get("type")
        if kinds is not None:
            names = [kinds] if isinstance(kinds, str) else kinds
            if not isinstance(names, list) or not all(name in _TYPES for name in names):
                raise Unsupported(f"type {kinds!r}")
            test = " or ".join(_TYPES[name].format(v=v) for name in names)
            out.append(f"{pad}if not ({test}): return False")
        # What the type test has settled needs no test of its own before its keywords.
        known = names[0] if kinds is not None and len(names) == 1 else None
        self._object(schema, v, out, indent, depth=depth, known=known == "object")
        self._string(schema, v, out, indent, known=known == "string")
        self._number(schema, v, out, indent)
        self._array(schema, v, out, indent, known=known == "array")
        if "enum" in schema:
            options = schema["enum"]
            if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
                raise Unsupported("enum of anything but strings")
            allowed = self.constant(frozenset(options))
            out.append(f"{pad}if {v}.__class__ is not str or {v} not in {allowed}: return False")
        for keyword in ("allOf", "anyOf", "oneOf"):
            if keyword in schema:
                self._combined(keyword, schema[keyword], v, out, indent)

    def _object(
        self,
        schema: dict[str, Any],
        v: str,
        out: list[str],
        indent: int,
        *,
        depth: int,
        known: bool,
    ) -> None:
        keys = ("properties", "required", "additionalProperties", "minProperties", "maxProperties")
        if not any(key in schema for key in keys):
            return
        indent, inner = _guard(f"{v}.__class__ is dict", known, out, indent)
        opened = len(out)
        properties: dict[str, Any] = schema.get("properties", {})
        required = schema.get("required", ())
        for key in required:
            if properties.get(key, True) is True or properties[key] == {}:
                out.append(f"{inner}if {key!r} not in {v}: return False")
        _length(schema, v, out, inner, ("minProperties", "maxProperties"))
        extra = schema.get("additionalProperties", True)
        if extra is not True:
            allowed = self.constant(frozenset(properties))
            if extra is False:
                out.append(f"{inner}if not {v}.keys() <= {allowed}: return False")
            else:
                name = self._helper(extra)
                out.append(f"{inner}for k, x in {v}.items():")
                out.append(f"{inner}    if k not in {allowed} and not {name}(x): return False")
        for index, (key, sub) in enumerate(properties.items()):
            if sub is True or sub == {}:
                continue
            child = f"{v}_{depth}_{index}"
            before = len(out)
            out.append(f"{inner}{child} = {v}.get({key!r}, _absent)")
            if key in required:  # its checks need no test that it is there
                out.append(f"{inner}if {child} is _absent: return False")
                self._schema(sub, child, out, indent, depth + 1)
                if len(out) == before + 2:  # annotations only: it must be there, no more
                    out[before:] = [f"{inner}if {key!r} not in {v}: return False"]
                continue
            out.append(f"{inner}if {child} is not _absent:")
            self._schema(sub, child, out, indent + 1, depth + 1)
            if len(out) == before + 2:  # annotations only: nothing to check
                del out[before:]
        if len(out) == opened:  # only properties that allow anything
            out.append(f"{inner}pass")

    def _string(
        self, schema: dict[str, Any], v: str, out: list[str], indent: int, *, known: bool
    ) -> None:
        if not any(key in schema for key in ("minLength", "maxLength", "pattern")):
            return
        _, inner = _guard(f"{v}.__class__ is str", known, out, indent)
        _length(schema, v, out, inner, ("minLength", "maxLength"))
        if "pattern" in schema:
            pattern = self.constant(re.compile(schema["pattern"]))
            out.append(f"{inner}if {pattern}.search({v}) is None: return False")

    def _number(self, schema: dict[str, Any], v: str, out: list[str], indent: int) -> None:
        bounds = {
            "minimum": "<",
            "maximum": ">",
            "exclusiveMinimum": "<=",
            "exclusiveMaximum": ">=",
        }
        present = [key for key in bounds if key in schema]
        if not present:
            return
        pad = "    " * indent
        out.append(f"{pad}if {v}.__class__ is int or {v}.__class__ is float:")
        for key in present:
            limit = schema[key]
            if isinstance(limit, bool) or not isinstance(limit, int | float):
                raise Unsupported(f"{key} {limit!r}")
            out.append(f"{pad}    if {v} {bounds[key]} {limit!r}: return False")

    def _array(
        self, schema: dict[str, Any], v: str, out: list[str], indent: int, *, known: bool
    ) -> None:
        if not any(key in schema for key in ("items", "minItems", "maxItems")):
            return
        _, inner = _guard(f"{v}.__class__ is list", known, out, indent)
        _length(schema, v, out, inner, ("minItems", "maxItems"))
        if "items" in schema:
            items = schema["items"]
            if not isinstance(items, dict | bool):
                raise Unsupported("items as a list (prefixItems in 2020-12)")
            name = self._helper(items)
            out.append(f"{inner}for x in {v}:")
            out.append(f"{inner}    if not {name}(x): return False")

    def _combined(self, keyword: str, options: object, v: str, out: list[str], indent: int) -> None:
        if not isinstance(options, list) or not options:
            raise Unsupported(f"{keyword} must be a non-empty list")
        pad = "    " * indent
        calls = [f"{self._helper(option)}({v})" for option in options]
        if keyword == "allOf":
            out.append(f"{pad}if not ({' and '.join(calls)}): return False")
        elif keyword == "anyOf":
            out.append(f"{pad}if not ({' or '.join(calls)}): return False")
        else:
            out.append(f"{pad}if ({' + '.join(calls)}) != 1: return False")

    def _resolve(self, ref: object) -> object:
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise Unsupported(f"$ref {ref!r}")
        target: Any = self.root
        for escaped in ref[2:].split("/"):
            part = escaped.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise Unsupported(f"$ref {ref} points nowhere")
            target = target[part]
        return target


def _guard(test: str, known: bool, out: list[str], indent: int) -> tuple[int, str]:
    """Open ``if test:`` unless the type test before has settled it; the indent (as a level
    and as spaces) of what the keywords check inside."""
    if not known:
        out.append(f"{'    ' * indent}if {test}:")
        indent += 1
    return indent, "    " * indent


def _length(
    schema: Mapping[str, Any], v: str, out: list[str], pad: str, keys: tuple[str, str]
) -> None:
    """The bounds on the length of a string, an array or an object."""
    for key, refused in zip(keys, ("<", ">"), strict=True):
        if key in schema:
            out.append(f"{pad}if len({v}) {refused} {int(schema[key])}: return False")


_HANDLED = frozenset(
    {
        "$ref",
        "type",
        "properties",
        "required",
        "additionalProperties",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "items",
        "minItems",
        "maxItems",
        "enum",
        "allOf",
        "anyOf",
        "oneOf",
    }
)
