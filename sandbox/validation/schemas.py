"""Request bodies checked against ``schemas/<name>.json`` by one engine, jsonschema-rs: it
says whether a body is valid, and when it is not, lists every error, which
:func:`_explain` words in OneAll's ``[request->push->...]`` notation."""

from __future__ import annotations

import copy
import functools
import importlib
import itertools
import json
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import jsonschema_rs

from sandbox.api import live
from sandbox.api.datafiles import data_path
from sandbox.api.errors import BadRequest, SettingsError
from sandbox.validation.profiles import LIVE, NOT_AN_IMAGE, STRICT, KeyFacts, normalise
from sandbox.validation.wording import arrow, got, json_kind, kind, show

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

DEFS_FILE = "_defs.json"
# Where a copy of the resource's schema sits in the schema of one of its keys (see _key_rules).
_RESOURCE = "__resource__"

# The path part of a URL (query and fragment excluded): what an image extension is read from.
_URL_PATH = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*([^?#]*)")

_TYPE_PHRASES: dict[str, str] = {
    "string": "a string",
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "array": "an array",
    "object": "an object",
    "null": "null",
}

# Which error of a key wins when a key breaks several rules: one sentence per key.
_KEY_PRIORITY: dict[str, int] = {
    "type": 0,
    "anyOf": 1,
    "oneOf": 1,
    "enum": 2,
    "minLength": 3,
    "maxLength": 4,
    "pattern": 5,
    "minimum": 6,
    "maximum": 6,
    "minItems": 7,
    "maxItems": 7,
}

# A refusal names every problem, up to _MAX_PROBLEMS; past _MAX_ERRORS schema errors it stops
# looking. A body of 500,000 bad array items took 15 s and was answered with 48 MB otherwise.
# jsonschema-rs lists all errors at once, at some microseconds each: a long array is checked
# _ARRAY_SLICE items at a time, and no further than _MAX_ERRORS errors.
_MAX_PROBLEMS = 20
_MAX_ERRORS = 1000
_ARRAY_SLICE = _MAX_ERRORS + 1

# Twitter counts every link as 23 characters; the shortest link ("a.co") has 4, and
# twitter-text never takes more than 4,096 characters for one link.
_LINK_WEIGHT = 23
_LINK_SURPLUS = _LINK_WEIGHT - 4
_LONGEST_LINK = 4096
_CACHED_TWEET_CHARS = 1024
# A tweet is counted word by word: whitespace-separated words, and the whitespace between them.
_WORDS = re.compile(r"[\t\n\x0b\x0c\r ]+|[^\t\n\x0b\x0c\r ]+")
# twitter-text's link scanner tries again after every character that is not an ASCII letter or
# digit, each try running through the run of host-name characters ahead (all but spaces and
# ASCII punctuation other than - . _) and trying every top-level domain after each dot, about
# _TLD_STEPS steps. A word whose scan would take more than _SCAN_STEPS (about 20 ms) is counted
# as if it held no link: it takes runs like "a.b.c.d…" that no host name has.
_HOST_RUN = re.compile(r"[^\s!-,/:-@\[-^`{-~]+")
_SCAN_RETRY = re.compile(r"[^A-Za-z0-9]")
_TLD_STEPS = 70
_SCAN_STEPS = 100_000
# Once a tweet is over the limit, how many more characters of dotted or non-ASCII words are
# counted to give the exact length in the refusal.
_EXACT_CHARS = 512


class SchemaMissing(SettingsError):
    """A resource name has no ``schemas/<name>.json`` file."""


@dataclass(frozen=True, slots=True)
class _ImageRule:
    key: str
    extensions: frozenset[str]
    expected: str


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    node: str
    schema: dict[str, Any]  # as read, with the shared $defs added
    validator: jsonschema_rs.Validator
    keys: dict[str, jsonschema_rs.Validator]  # the node's keys, each by its own schema
    facts: dict[str, KeyFacts]  # what the profiles need to know of each key
    images: tuple[_ImageRule, ...]
    tweets: tuple[tuple[str, int], ...]


class Validators:
    """One compiled validator per resource name; see :meth:`validate`."""

    def __init__(self, entries: Mapping[str, _Entry], *, allow_unknown_keys: bool = False) -> None:
        self._entries: dict[str, _Entry] = dict(entries)
        # Unknown keys ignored with a warning in either profile (spec §6).
        self.allow_unknown_keys = allow_unknown_keys

    @classmethod
    def load(
        cls,
        names: Iterable[str],
        *,
        allow_unknown_keys: bool = False,
        directory: Path | None = None,
    ) -> Validators:
        """Read and compile the schema of every name; raise :class:`SchemaMissing` for a gap."""
        folder = directory if directory is not None else data_path("schemas")
        shared = _read_defs(folder / DEFS_FILE)
        entries: dict[str, _Entry] = {}
        for name in names:
            if name in entries:
                continue
            path = folder / f"{name}.json"
            if not path.is_file():
                raise SchemaMissing(f"no schema for resource {name}: expected the file {path}")
            schema = _read_json(path)
            entries[name] = _compile(name, path, schema, shared)
        return cls(entries, allow_unknown_keys=allow_unknown_keys)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def facts(self, name: str) -> Mapping[str, KeyFacts]:
        """What the validation profiles know of each key of the node of ``name``."""
        return self._entries[name].facts

    def node(self, name: str) -> str:
        """The object node key the schema of ``name`` expects under ``request.push``."""
        return self._entries[name].node

    def validate(self, name: str, body: object, *, profile: str = STRICT) -> dict[str, Any]:
        """The object node (body["request"]["push"][node]) to publish; BadRequest whose info
        lists EVERY problem. See :meth:`check`, which also says what was warned about."""
        return self.check(name, body, profile=profile).node

    def check(self, name: str, body: object, *, profile: str = STRICT) -> Checked:
        """The node to publish and the warnings about the body, or BadRequest listing every
        problem (and the warnings). A valid body is answered by the engine alone; only a
        refused one is normalised (``live``, spec §6) and looked at again."""
        entry = self._entries[name]
        if _is_valid(entry.validator, body):
            valid = cast("dict[str, Any]", cast("dict[str, Any]", body)["request"]["push"])
            if _custom_fits(entry, valid[entry.node], images=True):
                return Checked(valid[entry.node])
        lenient = profile == LIVE
        node = _node_of(body, entry.node)
        warnings: list[str] = []
        if node is not None and (lenient or self.allow_unknown_keys):
            node, warnings = normalise(
                node,
                entry.node,
                entry.facts,
                lambda key, value: _is_valid(entry.keys[key], value),
                lenient=lenient,
                drop_unknown=True,
            )
            body = _with_node(cast("dict[str, Any]", body), entry.node, node)
        if node is not None and lenient:
            warnings.extend(_image_warnings(entry, node))
        if (
            node is not None
            and _is_valid(entry.validator, body)
            and _custom_fits(entry, node, images=not lenient)
        ):
            return Checked(node, tuple(warnings))
        explained = _explain(entry, body, images=not lenient)
        if node is None and _node_of(body, entry.node, shaped=True) is not None:
            # the envelope is right but the node is missing or no object: the live API's words
            raise BadRequest(
                live.WRONG_NODE.format(node=entry.node),
                detail=explained,
                warnings=tuple(warnings),
            )
        raise BadRequest(explained, warnings=tuple(warnings))


@dataclass(frozen=True, slots=True)
class Checked:
    """A body validation took: the node to publish (normalised in ``live``), and the warnings
    about what it changed or doubts, each ``[request->push->...]`` and a sentence."""

    node: dict[str, Any]
    warnings: tuple[str, ...] = ()


def _node_of(body: object, node: str, *, shaped: bool = False) -> Any:
    """The node of a body shaped as ``{"request": {"push": {node: {...}}}}``, or None;
    ``shaped``: ``request.push`` when it is an object (whatever its node), or None."""
    try:
        push = body["request"]["push"]  # type: ignore[index]
        if shaped:
            return push if push.__class__ is dict else None
        found = push[node]
    except (KeyError, TypeError, IndexError):
        return None
    return found if found.__class__ is dict else None


def _with_node(body: dict[str, Any], name: str, node: dict[str, Any]) -> dict[str, Any]:
    """``body`` with another node, the body itself untouched (the journal keeps it as sent)."""
    push = {**body["request"]["push"], name: node}
    return {**body, "request": {**body["request"], "push": push}}


def _custom_fits(entry: _Entry, node: Mapping[str, Any], *, images: bool) -> bool:
    """The rules beyond JSON Schema: tweets' weighted length, and image extensions."""
    if images:
        for rule in entry.images:
            value = node.get(rule.key)
            if value.__class__ is str and _image_problem(rule, value) is not None:
                return False
    for key, limit in entry.tweets:
        value = node.get(key)
        if value.__class__ is str and _tweet_excess(value, limit) is not None:
            return False
    return True


def _image_warnings(entry: _Entry, node: Mapping[str, Any]) -> list[str]:
    """In ``live``, an image URL of another extension is taken, with a warning."""
    warnings = []
    for rule in entry.images:
        value = node.get(rule.key)
        if value.__class__ is str and _is_valid(entry.keys[rule.key], value):
            extension = _image_problem(rule, value)
            if extension is not None:
                where = arrow(("request", "push", entry.node, rule.key))
                sentence = NOT_AN_IMAGE.format(extension=_cut(extension), expected=rule.expected)
                warnings.append(f"{where} {sentence}")
    return warnings


def _cut(extension: str) -> str:
    return extension if len(extension) <= 10 else extension[:10] + "…"


def _is_valid(validator: jsonschema_rs.Validator, value: object) -> bool:
    try:
        return validator.is_valid(value)
    except ValueError:  # what JSON cannot hold (a lone surrogate): never valid, worded apart
        return False


# --- loading ---------------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SettingsError(f"cannot read the schema file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"the schema file {path} must hold a JSON object")
    return data


def _read_defs(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    defs = _read_json(path).get("$defs", {})
    if not isinstance(defs, dict):
        raise SettingsError(f"the $defs of {path} must be a JSON object")
    return defs


def _compile(
    name: str,
    path: Path,
    schema: dict[str, Any],
    shared: Mapping[str, Any],
) -> _Entry:
    schema = copy.deepcopy(schema)
    own = schema.setdefault("$defs", {})
    for key, value in shared.items():
        own.setdefault(key, value)  # shared by every schema, never changed
    try:
        push = schema["properties"]["request"]["properties"]["push"]
        (node,) = push["required"]
        node_schema = push["properties"][node]
        properties: dict[str, Any] = node_schema.get("properties", {})
    except (KeyError, TypeError, ValueError):
        raise SettingsError(
            f"the schema file {path} must describe "
            '{"request": {"push": {"<node>": {...}}}} with exactly one required node'
        ) from None
    images: list[_ImageRule] = []
    tweets: list[tuple[str, int]] = []
    for key, sub in properties.items():
        image = _custom(schema, sub, "x-image-url")
        if image is not None:
            if not isinstance(image, dict) or not isinstance(image.get("expected"), str):
                raise SettingsError(f"{path}: x-image-url of {key} needs extensions and expected")
            extensions = frozenset(str(ext).lower() for ext in image.get("extensions", ()))
            images.append(_ImageRule(key, extensions, image["expected"]))
        tweet = _custom(schema, sub, "x-tweet-length")
        if tweet is not None:
            if not isinstance(tweet, int):
                raise SettingsError(f"{path}: x-tweet-length of {key} must be an integer")
            tweets.append((key, tweet))
    try:
        validator = _validator(schema)
        keys = {key: _validator(_key_schema(schema, node, key)) for key in properties}
    except ValueError as exc:
        reason = str(exc).split("\n", 1)[0]
        raise SettingsError(f"the schema file {path} is not a usable schema: {reason}") from None
    required = node_schema.get("required", ())
    facts = {key: _facts(schema, sub, key in required) for key, sub in properties.items()}
    return _Entry(name, node, schema, validator, keys, facts, tuple(images), tuple(tweets))


def _validator(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """jsonschema-rs's validator; ValueError (its ValidationError) for an unusable schema.
    ``offline``: a ``$ref`` to a URL is an error, never a download."""
    return jsonschema_rs.validator_for(schema, offline=True)


def _key_schema(schema: Mapping[str, Any], node: str, key: str) -> dict[str, Any]:
    """The schema of one key of the node, as a document of its own: a reference into a copy of
    the resource's schema, so that local references resolve as they do there and the paths of
    its errors name the resource's schema (after :data:`_RESOURCE`)."""
    pointer = "/".join(
        part.replace("~", "~0").replace("/", "~1")
        for part in (
            "properties",
            "request",
            "properties",
            "push",
            "properties",
            node,
            "properties",
            key,
        )
    )
    document: dict[str, Any] = {k: v for k, v in schema.items() if k == "$schema"}
    document["$defs"] = {**schema.get("$defs", {}), _RESOURCE: schema}
    document["$ref"] = f"#/$defs/{_RESOURCE}/{pointer}"
    return document


def _custom(root: Mapping[str, Any], sub: object, keyword: str) -> object:
    """The value of an ``x-`` keyword on a property schema, following local ``$ref`` links."""
    seen = 0
    while isinstance(sub, dict) and seen < 16:
        if keyword in sub:
            return cast("object", sub[keyword])
        ref = sub.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return None
        sub = root
        for part in ref[2:].split("/"):
            sub = sub.get(part) if isinstance(sub, dict) else None
        seen += 1
    return None


def _facts(root: Mapping[str, Any], sub: object, required: bool) -> KeyFacts:
    items = _resolve(root, sub).get("items")
    items_kind = _custom(root, items, "x-kind")
    kind = _custom(root, sub, "x-kind")
    return KeyFacts(
        required=required,
        types=frozenset(_types(root, sub)),
        kind=kind if isinstance(kind, str) else None,
        items_kind=items_kind if isinstance(items_kind, str) else None,
        expected=_expected(_resolve(root, sub)),
    )


def _resolve(root: Mapping[str, Any], sub: object) -> dict[str, Any]:
    """A property's schema with its ``$ref`` chain merged in, the referring keywords winning."""
    merged: dict[str, Any] = {}
    seen = 0
    while isinstance(sub, dict) and seen < 16:
        merged = {**sub, **merged}
        ref = sub.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            break
        sub = _at(root, [part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/")])
        seen += 1
    merged.pop("$ref", None)
    return merged


def _types(root: Mapping[str, Any], sub: object, depth: int = 0) -> set[str]:
    """The JSON types a schema names, through its references and its anyOf/oneOf options."""
    schema = _resolve(root, sub)
    kinds = schema.get("type")
    found = {kinds} if isinstance(kinds, str) else set(kinds) if isinstance(kinds, list) else set()
    for keyword in ("anyOf", "oneOf"):
        for option in schema.get(keyword, ()) if depth < 8 else ():
            found |= _types(root, option, depth + 1)
    return found


# --- the custom checks -----------------------------------------------------------------------


def _extension(url: str) -> str:
    match = _URL_PATH.match(url)
    path = match.group(1) if match else url.split("?", 1)[0].split("#", 1)[0]
    _, dot, extension = path.rpartition("/")[2].rpartition(".")
    return extension.lower() if dot else ""


def _image_problem(rule: _ImageRule, url: str) -> str | None:
    """The refused extension of an image URL, or None when the path may name an image."""
    extension = _extension(url)
    if not extension or extension in rule.extensions:
        return None
    return extension


def _tweet_excess(text: str, limit: int) -> str | None:
    """The weighted length of a tweet over ``limit`` as its refusal says it (``"312"``,
    ``"at least 312"``, ``"more than 280"``), or None when it fits.

    twitter-text is exact but slow: about 0.6 ms with a link, 9 µs a character, and quadratic in
    a run of host-name characters it finds no link in ("a.b.c.d…": 0.3 s at 280 characters,
    minutes at 10,000). So it is asked only when cheap bounds cannot decide (a character weighs
    at most 2, an ASCII one exactly 1, and a link, which holds at least one dot, counts 23
    whatever its length, so at most ``_LINK_SURPLUS`` more than its own characters), and then
    one word at a time: no link, emoji or line ending spans a space, so the weighted length is
    the sum of the words' and an ASCII word without a dot counts its characters. Counting stops
    ``_EXACT_CHARS`` characters after the limit is passed.
    """
    if text.isascii():
        dots = text.count(".")
        if len(text) + _LINK_SURPLUS * dots <= limit:
            return None
        if not dots:
            length = len(text) - text.count("\r\n")  # a line ending counts 1, CRLF included
            return str(length) if length > limit else None
    elif len(text) * 2 <= limit and "." not in text:
        return None
    # Longer than the longest links that fit, and ten characters a unit (emoji) for the rest.
    if len(text) > limit // _LINK_WEIGHT * _LONGEST_LINK + 10 * limit:
        return f"more than {limit}"
    total = counted = 0
    for index, word in enumerate(_WORDS.findall(text)):
        if word.isascii() and "." not in word:
            total += len(word) - word.count("\r\n")
            continue
        if total > limit and counted + len(word) > _EXACT_CHARS:
            return f"at least {total}"
        counted += len(word)
        weigh = _weighted_word if len(word) <= _CACHED_TWEET_CHARS else _weigh
        total += weigh(word, index > 0)
    return str(total) if total > limit else None


def _weigh(word: str, after_space: bool) -> int:
    """The weighted length of one word where it stands: after whitespace, or first in the text
    (where twitter-text may take its first character as the one before a link). Too costly to
    scan, it is counted as if it held no link."""
    if "." in word and _scan_steps(word) > _SCAN_STEPS:
        word = word.replace(".", " ")  # the same weight, and nothing left to scan for links
    parse_tweet = _tweet_parser()
    if after_space:
        return int(parse_tweet(" " + word).weightedLength) - 1
    return int(parse_tweet(word).weightedLength)


@functools.cache
def _tweet_parser() -> Callable[[str], Any]:
    """twitter-text's ``parse_tweet``, imported when first needed (it takes a while).

    twitter-text reads its emoji list with ``pkg_resources``, which only setuptools provides:
    a virtual environment of Python 3.12 or later has none, nor will setuptools itself from
    the version that drops it. Then a stand-in that reads the file next to the module lends
    its one function for the import, and is taken back after it.
    """
    try:
        return cast("Callable[[str], Any]", importlib.import_module("twitter_text").parse_tweet)
    except ImportError as error:
        if error.name != "pkg_resources":
            raise
    stand_in = types.ModuleType("pkg_resources", "Lent to twitter-text by the sandbox.")
    stand_in.resource_string = _resource_string  # type: ignore[attr-defined]
    modules: dict[str, Any] = sys.modules  # "pkg_resources" may be None there: import refused
    had, before = "pkg_resources" in modules, modules.get("pkg_resources")
    modules["pkg_resources"] = stand_in
    try:
        return cast("Callable[[str], Any]", importlib.import_module("twitter_text").parse_tweet)
    finally:
        if had:
            modules["pkg_resources"] = before
        else:
            del modules["pkg_resources"]


def _resource_string(module: str, name: str) -> bytes:
    """``pkg_resources.resource_string``: the bytes of the file ``name`` beside ``module``."""
    return Path(cast(str, sys.modules[module].__file__)).with_name(name).read_bytes()


def _scan_steps(word: str) -> int:
    """Roughly how many steps twitter-text's link scanner takes on ``word`` (see _SCAN_STEPS)."""
    return sum(
        (1 + len(_SCAN_RETRY.findall(run))) * (len(run) + _TLD_STEPS * run.count("."))
        for run in _HOST_RUN.findall(word)
    )


# Clients often send the same message again (retries, benchmarks): remember recent answers.
_weighted_word = functools.lru_cache(maxsize=512)(_weigh)


# --- wording ---------------------------------------------------------------------------------


def _expected(schema: Mapping[str, Any]) -> str:
    phrase = schema.get("x-expected")
    if isinstance(phrase, str):
        return phrase
    kinds = schema.get("type")
    if isinstance(kinds, str):
        kinds = [kinds]
    if isinstance(kinds, list) and kinds:
        return " or ".join(_TYPE_PHRASES.get(str(kind), str(kind)) for kind in kinds)
    return "valid"


def _key_message(error: _Error) -> str:
    where = arrow(error.absolute_path)
    value = error.instance
    rule = error.validator_value
    keyword = error.validator
    if keyword in ("type", "anyOf", "oneOf"):
        return f"{where} must be {_expected(error.schema)}, got {got(value)}"
    if keyword == "enum":
        allowed = ", ".join(str(item) for item in rule)
        return f"{where} must be one of {allowed}, got {show(value)}"
    if keyword == "pattern":
        return f"{where} must be {_expected(error.schema)}, got {show(value)}"
    if keyword == "minLength" and rule == 1:
        return f"{where} must not be empty"
    if keyword in _BOUNDS:
        limit, measure = _BOUNDS[keyword]
        return f"{where} must {limit.format(rule)}, got {measure(value)}"
    return f"{where} is invalid: {error.message}"


# The bounding keywords: how the sentence states the limit, and what of the value it shows
# (a string's or a list's length, a number itself).
_BOUNDS: dict[str, tuple[str, Callable[[Any], object]]] = {
    "minLength": ("be at least {} characters", len),
    "maxLength": ("be at most {} characters", len),
    "minimum": ("be at least {}", show),
    "maximum": ("be at most {}", show),
    "minItems": ("hold at least {} items", len),
    "maxItems": ("hold at most {} items", len),
}


def _example(node: str) -> str:
    return '{"request": {"push": {"' + node + '": {...}}}}'


@dataclass(frozen=True, slots=True)
class _Error:
    """One error of jsonschema-rs, as the sentences need it: where in the body, which keyword
    of which schema (the object holding it, for its ``x-expected``), and the value found."""

    absolute_path: tuple[object, ...]
    validator: str  # the keyword
    validator_value: Any  # the keyword's value in the schema
    instance: Any  # the value in the body as sent
    schema: Mapping[str, Any]
    message: str

    @classmethod
    def of(
        cls,
        error: jsonschema_rs.ValidationError,
        entry: _Entry,
        body: object,
        prefix: tuple[object, ...] = (),
        offset: int = 0,
    ) -> _Error:
        """``prefix`` and ``offset``: for an error of a key's own validator given a slice of
        its array starting at item ``offset``."""
        keyword = error.kind.name
        schema_path = list(error.schema_path)
        if schema_path[:2] == ["$defs", _RESOURCE]:
            del schema_path[:2]
        if schema_path and schema_path[-1] == keyword:
            schema_path.pop()
        schema = _at(entry.schema, schema_path)
        if not isinstance(schema, dict):
            schema = {}
        inner = list(error.instance_path)
        if prefix and inner:
            inner[0] = cast(int, inner[0]) + offset
        path = (*prefix, *inner)
        found = _at(body, path)
        return cls(
            path,
            keyword,
            schema.get(keyword),
            error.instance if found is _NOWHERE else found,
            schema,
            error.message,
        )


_NOWHERE = object()


def _at(document: object, path: Iterable[object]) -> Any:
    """What ``path`` (keys and indexes) leads to in ``document``, or :data:`_NOWHERE`."""
    for part in path:
        try:
            document = document[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return _NOWHERE
    return document


def _errors(entry: _Entry, body: dict[str, Any], instance: dict[str, Any]) -> Iterator[_Error]:
    """Every error of ``body`` (whose node is ``instance``), in jsonschema-rs's order; the items
    of a long array of the node a slice at a time, after the others, so that a caller taking
    the first :data:`_MAX_ERRORS` + 1 never makes jsonschema-rs list many more."""
    long = [
        key
        for key, value in instance.items()
        if value.__class__ is list and len(value) > _ARRAY_SLICE and key in entry.keys
    ]
    checked = body
    if long:  # the array's own keywords (maxItems) judge the first slice, long enough for them
        node = {**instance, **{key: instance[key][:_ARRAY_SLICE] for key in long}}
        push = {**body["request"]["push"], entry.node: node}
        checked = {**body, "request": {**body["request"], "push": push}}
    for error in entry.validator.iter_errors(checked):
        yield _Error.of(error, entry, body)
    for key in long:
        values = instance[key]
        prefix = ("request", "push", entry.node, key)
        for start in range(_ARRAY_SLICE, len(values), _ARRAY_SLICE):
            for error in entry.keys[key].iter_errors(values[start : start + _ARRAY_SLICE]):
                if error.instance_path:  # an item's; the array's own were found above
                    yield _Error.of(error, entry, body, prefix, start)


def _explain(entry: _Entry, body: object, *, images: bool = True) -> str:
    """Every problem of a refused body, in OneAll's arrow notation, joined with "; "."""
    node = entry.node
    if not isinstance(body, dict):
        return (
            f"The request body must be a JSON object of the form {_example(node)}, "
            f"got {json_kind(body)}"
        )
    # (rank, position) orders the sentences: envelope, node, keys as sent, missing keys, anyOf.
    problems: list[tuple[tuple[int, int], str]] = []
    by_key: dict[tuple[object, ...], tuple[int, tuple[int, int], str]] = {}
    instance: dict[str, Any] = {}
    request = body.get("request")
    if isinstance(request, dict) and isinstance(request.get("push"), dict):
        found = request["push"].get(node)
        if isinstance(found, dict):
            instance = found
    order = {key: index for index, key in enumerate(instance)}
    node_path = ("request", "push", node)

    errors = _errors(entry, body, instance)
    try:
        listed = list(itertools.islice(errors, _MAX_ERRORS))
        more = next(errors, None) is not None
    except ValueError:  # what JSON cannot hold (a lone surrogate), from a caller but the app
        return "The request body holds a string that is not valid Unicode"
    for error in listed:
        path = error.absolute_path
        keyword = error.validator
        if len(path) < 3 or path[:3] != node_path:
            message = _envelope_message(node, path, keyword, error.instance)
            if message is not None:
                problems.append(((0, 0), message))
            continue
        if len(path) == 3:
            problems.extend(_node_messages(node, keyword, error, order))
            continue
        key = str(path[3])
        priority = _KEY_PRIORITY.get(keyword, 9)
        held = by_key.get(path)
        if held is None or priority < held[0]:
            by_key[path] = (priority, (2, order.get(key, len(order))), _key_message(error))

    for held in by_key.values():
        problems.append((held[1], held[2]))

    broken = {str(path[3]) for path in by_key}
    problems.extend(_custom_messages(entry, instance, order, broken, images=images))

    if not problems:
        return "The request body is invalid: unknown problem"
    problems.sort(key=lambda item: item[0])
    unique = list(dict.fromkeys(message for _, message in problems))
    if more:
        return "; ".join([*unique[:_MAX_PROBLEMS], "and more problems"])
    if len(unique) > _MAX_PROBLEMS:
        return "; ".join([*unique[:_MAX_PROBLEMS], f"and {len(unique) - _MAX_PROBLEMS} more"])
    return "; ".join(unique)


def _envelope_message(
    node: str, path: tuple[object, ...], keyword: str, value: object
) -> str | None:
    expected = f"expected {_example(node)}"
    if path == ():
        if keyword == "required":
            return f"[request] is missing: {expected}"
        if keyword == "type":
            return f"The request body must be a JSON object of the form {_example(node)}, got " + (
                json_kind(value)
            )
    elif path == ("request",):
        if keyword == "type":
            return f"[request] must be an object, got {kind(value)}"
        if keyword == "required":
            return f"[request->push] is missing: {expected}"
    elif path == ("request", "push"):
        sent = list(value) if isinstance(value, dict) else []
        if keyword == "type":
            return f"[request->push] must be an object, got {kind(value)}"
        if keyword == "required":
            others = ", ".join(str(key) for key in sent) if sent else "no node"
            return (
                f"[request->push->{node}] is missing: this resource expects a {node} node, "
                f"got {others}"
            )
        if keyword == "additionalProperties":
            if node not in sent:
                return None  # said by the "required" sentence
            return f"[request->push] must hold only the {node} node, got " + ", ".join(
                str(key) for key in sent
            )
    return f"{arrow(path) if path else 'The request body'} is invalid: {keyword}"


def _node_messages(
    node: str, keyword: str, error: _Error, order: Mapping[str, int]
) -> list[tuple[tuple[int, int], str]]:
    where = arrow(("request", "push", node))
    value = error.instance
    if keyword == "type":
        return [((1, 0), f"{where} must be an object, got {kind(value)}")]
    if not isinstance(value, dict):
        return []
    if keyword == "required":
        required = [str(key) for key in error.validator_value]
        return [
            ((3, index), f"{arrow(('request', 'push', node, key))} is required")
            for index, key in enumerate(required)
            if key not in value
        ]
    if keyword == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return [
            (
                (2, order.get(key, 0)),
                f"{arrow(('request', 'push', node, key))} is not a key of {node}; "
                f"allowed keys: {', '.join(allowed)}",
            )
            for key in value
            if key not in allowed
        ]
    if keyword in ("anyOf", "oneOf"):
        names = [
            str(key)
            for option in error.validator_value
            if isinstance(option, dict)
            for key in option.get("required", ())
        ]
        return [((4, 0), f"{where} needs at least one of {', '.join(names)}")]
    return [((1, 1), f"{where} is invalid: {error.message}")]


def _custom_messages(
    entry: _Entry,
    instance: Mapping[str, Any],
    order: Mapping[str, int],
    broken: set[str],
    *,
    images: bool,
) -> list[tuple[tuple[int, int], str]]:
    """The x-image-url and x-tweet-length problems of keys the schema found no fault with."""
    node_path = ("request", "push", entry.node)
    problems: list[tuple[tuple[int, int], str]] = []
    for rule in entry.images if images else ():
        value = instance.get(rule.key)
        if rule.key in broken or not isinstance(value, str):
            continue
        extension = _image_problem(rule, value)
        if extension is not None:
            shown = _cut(extension)
            problems.append(
                (
                    (2, order[rule.key]),
                    f"{arrow((*node_path, rule.key))} must point to {rule.expected}, "
                    f"got a .{shown} file",
                )
            )
    for key, limit in entry.tweets:
        value = instance.get(key)
        if key in broken or not isinstance(value, str):
            continue
        weighted = _tweet_excess(value, limit)
        if weighted is not None:
            problems.append(
                (
                    (2, order[key]),
                    f"{arrow((*node_path, key))} must be at most {limit} characters as Twitter "
                    f"counts them (links count 23, wide characters 2), got {weighted}",
                )
            )
    return problems
