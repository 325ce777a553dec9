"""Fault rules: which requests fail, when, and how — one type for files, the control plane,
the ``X-Sandbox-Fault`` header and Python.

A rule *matches* a request when its patterns fit (counted in ``matched``); it *fires* when,
in addition, its ``after`` is used up, its ``times`` is not, and its dice say yes (counted in
``fired``). Rules are tried in the order they were armed; the first that fires wins.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import random
import re
import tomllib
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import jsonschema_rs

from sandbox.api import live
from sandbox.api.datafiles import data_path, read_schema
from sandbox.api.errors import SettingsError
from sandbox.api.families import CALLS, FAMILIES
from sandbox.api.push import ENDPOINTS, PROVIDERS
from sandbox.config import DEFAULTS
from sandbox.model.bounds import FORGET_OLDEST, REFUSE, Bound, BoundedStore
from sandbox.model.files import read_settings_text
from sandbox.validation import bodies

# Effects on the answer to the request itself.
ANSWER_EFFECTS = ("error", "delay", "hang", "reset", "empty", "malformed", "html", "slow_body")
# Decided when an asynchronous video is posted, seen when its processing ends.
PROCESSING_EFFECTS = ("fail_processing",)
# Effects on the delivery of a video callback (the only outbound traffic).
CALLBACK_EFFECTS = ("callback_delay", "callback_duplicate", "callback_drop")
EFFECTS = ANSWER_EFFECTS + PROCESSING_EFFECTS + CALLBACK_EFFECTS
# A canned answer: the data of a success, chosen (sandbox/model/answers.py). Tried after the
# fault rules, only when none fired: a failure still wins.
CANNED_ANSWER = "answer"
STAGE_EFFECTS = {
    "answer": ANSWER_EFFECTS,
    "video": ANSWER_EFFECTS + PROCESSING_EFFECTS,
    "callback": CALLBACK_EFFECTS,
    "call": ANSWER_EFFECTS,  # a call of the API around the push
    "data": (CANNED_ANSWER,),
}
HTML_STATUSES = (502, 503, 504)
DEFAULT_HANG_MS = 30_000

# Each preset is a rule that looks like the real thing; ``{provider}`` becomes the network's
# name when the rule fires. (status, what it emulates) are documented in the README's table.
PRESETS: dict[str, dict[str, Any]] = {
    "rate_limited": {
        "effect": "error",
        "status": 429,
        "info": "Too many requests: the API rate limit of this site has been exceeded, "
        "retry after the delay given in the Retry-After header",
        "headers": {"Retry-After": "60"},
    },
    "invalid_credentials": {
        "effect": "error",
        "status": 401,
        "info": live.UNAUTHORIZED,
        "detail": "Invalid API credentials: the public key or the private key does not match "
        "this site's keys",
    },
    "identity_not_found": {
        "effect": "error",
        "status": 404,
        "info": live.IDENTITY_NOT_FOUND,
        "detail": "No identity found for this identity_token: the user may have removed the "
        "connection to {provider}",
    },
    "no_publish_consent": {
        "effect": "error",
        "status": 403,
        "info": "The identity has not granted the permission to publish: the user must "
        "reconnect the {provider} account and accept publishing",
    },
    "provider_token_expired": {
        "effect": "error",
        "status": 403,
        "info": live.PROVIDER_REFUSED,
        "detail": "The {provider} access token of this identity has expired or has been "
        "revoked: the user must reconnect the {provider} account",
    },
    "provider_refused": {
        "effect": "error",
        "status": 403,
        "info": live.PROVIDER_REFUSED,
        "detail": "The provider {provider} has refused the request or answered unexpectedly",
    },
    "duplicate_post": {
        "effect": "error",
        "status": 403,
        "info": "The provider {provider} has refused the request: the content duplicates a "
        "recent publication of this identity",
    },
    "media_too_large": {
        "effect": "error",
        "status": 400,
        "info": "The media file is too large: {provider} accepts pictures of at most 5 MB",
    },
    "media_unsupported": {
        "effect": "error",
        "status": 400,
        "info": "The media file has an unsupported format: {provider} accepts jpeg, bmp, png, "
        "gif and tiff pictures",
    },
    "quota_exceeded": {
        "effect": "error",
        "status": 403,
        "info": "The provider {provider} has refused the request: the daily upload quota of "
        "this channel has been exceeded",
    },
    "server_error": {
        "effect": "error",
        "status": 500,
        "info": "An internal error occurred while processing the request, please try again",
    },
    "maintenance": {
        "effect": "error",
        "status": 502,
        "info": "The OneAll API is temporarily down for maintenance, please try again later",
    },
    "overloaded": {
        "effect": "error",
        "status": 503,
        "info": "The OneAll API is temporarily overloaded, please try again later",
    },
    "timeout": {
        "effect": "hang",
        "max_ms": DEFAULT_HANG_MS,
        "status": 504,
        "info": "The request to {provider} timed out",
    },
    "connection_reset": {"effect": "reset"},
    "malformed_response": {"effect": "malformed"},
    "processing_failed": {
        "effect": "fail_processing",
        "status": 502,
        "info": "The video could not be processed: {provider} failed to fetch or transcode it, "
        "please try again later",
    },
    "video_rejected": {
        "effect": "fail_processing",
        "status": 403,
        "info": "The provider {provider} has rejected the video: it is longer than the maximum "
        "duration the network accepts",
    },
    "video_unsupported": {
        "effect": "fail_processing",
        "status": 403,
        "info": "The provider {provider} has rejected the video: its codec or container is not "
        "supported (use H.264 video with AAC audio in an MP4 file)",
    },
}

_MATCH_KEYS = ("resource", "identity", "provider", "after", "times", "probability")


def rule_schema() -> dict[str, Any]:
    """``schemas/control/fault-rule.json``, its ``x-enum`` keys filled from the tables here: the
    one statement of a rule's keys and bounds, read by the checks below, the engine and the
    OpenAPI document."""
    return bodies.schema(
        "control/fault-rule", presets=list(PRESETS), effects=[*EFFECTS, CANNED_ANSWER]
    )


_RULE_KEYS: dict[str, Any] = read_schema("control", "fault-rule")["properties"]
ALLOWED_KEYS = frozenset(_RULE_KEYS)
LISTED_ONLY_KEYS = frozenset({"id", "source", "matched", "fired"})
# The keys whose values are texts (a header gives them as they are written) and those that are
# whole numbers, in the order of the schema, which types them.
_TEXT_KEYS = tuple(
    key for key, rule in _RULE_KEYS.items() if rule.get("type") == "string" or "x-enum" in rule
)
_INT_KEYS = tuple(key for key, rule in _RULE_KEYS.items() if rule.get("type") == "integer")
RESOURCES = tuple(endpoint.name for endpoint in ENDPOINTS)
# The calls of the other families (connections.read, pull.facebook.pages, login.consent ...):
# a rule reaches them only by naming their family (oneall-api.md §8).
FAMILY_CALLS = tuple(call.name for call in CALLS)
ALL_RESOURCES = RESOURCES + FAMILY_CALLS


def resource_matches(pattern: str, resource: str) -> bool:
    """``*`` and every pattern that does not start with a family's name (``facebook.page.*``,
    ``*.post``) match push resources only, so the shipped scenarios keep their meaning; a
    pattern starting with a family's name (``connections.*``, ``pull.facebook.pages``,
    ``login.*``) matches that family's calls."""
    if resource not in _FAMILY_CALL_SET:  # a push resource: the common case, kept fast
        return pattern == "*" or fnmatch.fnmatchcase(resource, pattern)
    family = resource.split(".", 1)[0]
    return pattern.split(".", 1)[0] == family and fnmatch.fnmatchcase(resource, pattern)


_FAMILY_CALL_SET = frozenset(call.name for call in CALLS if call.family in FAMILIES)


class Expirable(Protocol):
    expired: bool


def expire_on(fault: Fault, identity: Expirable) -> None:
    """The ``provider_token_expired`` preset leaves its identity in that state
    (oneall-api.md §5): later pushes are refused until it is synchronized or connects again."""
    if fault.preset == "provider_token_expired":
        identity.expired = True


class FaultSpecError(ValueError):
    """A rule that cannot be armed; the message names the key and where it was written."""


@dataclass(slots=True)
class Fault:
    """One armed rule, with its counters."""

    id: int
    effect: str
    resource: str = "*"
    identity: str | None = None
    provider: str | None = None
    after: int = 0
    times: int | None = None
    probability: float = 1.0
    preset: str | None = None
    status: int | None = None
    info: str | None = None
    detail: str | None = None  # the sandbox's sentence where info is the live API's (spec §7)
    headers: dict[str, str] = field(default_factory=dict)
    delay_ms: int = 0
    jitter_ms: int = 0
    max_ms: int = DEFAULT_HANG_MS
    chunks: int = 10
    duration_ms: int = 2_000
    answer: dict[str, Any] | None = None  # the data a canned answer merges into the result
    source: str = "api"
    matched: int = 0
    fired: int = 0

    @property
    def resources(self) -> frozenset[str]:
        """The resource names its pattern matches (checked when armed: never none)."""
        return _resources_of(self.resource)

    def matches(self, resource: str, provider: str, identity: str) -> bool:
        return (
            (self.identity is None or self.identity == identity)
            and (self.provider is None or self.provider == provider)
            and resource_matches(self.resource, resource)
        )

    def to_json(self) -> dict[str, Any]:
        """Every field; ``answer`` only on a canned answer, where it is the point."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "answer" or self.answer is not None
        }


# Lengths a rule's texts may have: a pattern matches one of 21 resource names, an info is a
# sentence, headers are a few short lines. Longer ones are refused, not stored.
MAX_PATTERN_CHARS: int = _RULE_KEYS["resource"]["maxLength"]
MAX_HEADERS: int = _RULE_KEYS["headers"]["maxProperties"]
MAX_HEADER_VALUE_CHARS: int = _RULE_KEYS["headers"]["additionalProperties"]["maxLength"]
# Headers that frame the HTTP message: set by a rule, they would break the exchange itself
# instead of emulating a failure (the effects "empty", "malformed", "reset" do that on purpose).
FRAMING_HEADERS = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
    }
)


@functools.lru_cache(maxsize=1024)
def _resources_of(pattern: str) -> frozenset[str]:
    """The push resources and family calls ``pattern`` matches (see resource_matches)."""
    if pattern == "*":
        return frozenset(RESOURCES)
    return frozenset(name for name in ALL_RESOURCES if resource_matches(pattern, name))


def _check_int(rule: Mapping[str, Any], key: str, where: str) -> None:
    low, high = _RULE_KEYS[key]["minimum"], _RULE_KEYS[key]["maximum"]
    value = rule.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultSpecError(
            f"{where}{key}: must be a whole number from {low} to {high}, got {_shown(value)}"
        )


def build_fault(spec: object, where: str, *, rule_id: int, source: str) -> Fault:
    """Check a rule as written and make it a Fault; ``where`` locates it for the message
    (``faults.toml: rules[2].`` or ``/rules/2/``)."""
    rule = _with_preset(spec, where)
    _check_patterns(rule, where)
    _check_numbers(rule, where)
    if rule["effect"] == CANNED_ANSWER:
        _check_canned(rule, where)
    else:
        _check_answer(rule, where)
    _check_with_schema(rule, where)
    return Fault(id=rule_id, source=source, **rule)


@functools.cache
def _rule_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(rule_schema(), offline=True)


def _check_with_schema(rule: Mapping[str, Any], where: str) -> None:
    """The engine that checks request bodies checks the rule too, against the file the OpenAPI
    document publishes: what the checks above let through, the schema must accept."""
    for error in _rule_validator().iter_errors(dict(rule)):
        path = "/".join(str(part) for part in error.instance_path)
        raise FaultSpecError(f"{where}{path or 'rule'}: {error.message}")


def _check_canned(rule: dict[str, Any], where: str) -> None:
    """A canned answer takes which requests and its data, no effect of a failure; data that a
    resource it names could never return is refused, naming the key."""
    from sandbox.model.canned import answer_problem

    extra = sorted(set(rule) - {*_MATCH_KEYS, "effect", "answer"})
    if extra:
        raise FaultSpecError(
            f"{where}{extra[0]}: a canned answer (answer) takes only "
            f"{', '.join((*_MATCH_KEYS, 'answer'))}: it is a success, not a failure"
        )
    problem = answer_problem(rule.get("answer"), rule.get("resource", "*"), where)
    if problem is not None:
        raise FaultSpecError(problem)
    rule["answer"] = dict(rule["answer"])


def _with_preset(spec: object, where: str) -> dict[str, Any]:
    """The rule's keys over its preset's; ``null`` means "not given"."""
    if not isinstance(spec, Mapping):
        place = where.rstrip("./ ") or "/"
        raise FaultSpecError(f"{place}: a rule must be an object, got {spec!r}")
    # What GET /__sandbox/faults lists can be posted back: its read-only keys are ignored.
    given = {key: value for key, value in spec.items() if key not in LISTED_ONLY_KEYS}
    unknown = sorted(str(key) for key in set(given) - ALLOWED_KEYS)
    if unknown:
        raise FaultSpecError(
            f"{where}{unknown[0]}: unknown key; a rule takes {', '.join(sorted(ALLOWED_KEYS))}"
        )
    rule: dict[str, Any] = {}
    preset = given.get("preset")
    if preset is not None:
        if not isinstance(preset, str) or preset not in PRESETS:
            raise FaultSpecError(
                f"{where}preset: unknown preset {preset!r}; presets: {', '.join(PRESETS)}"
            )
        rule.update(PRESETS[preset])
    rule.update((key, value) for key, value in given.items() if value is not None)
    canned = rule.get("effect") == CANNED_ANSWER
    if canned or ("answer" in rule and "effect" not in rule):
        rule["effect"] = CANNED_ANSWER
        return rule
    if "answer" in rule:
        raise FaultSpecError(
            f"{where}answer: a canned answer is a success: it takes no preset or effect"
        )
    if rule.get("effect") not in EFFECTS:
        raise FaultSpecError(
            f"{where}effect: must be one of {', '.join(EFFECTS)} (or give a preset), "
            f"got {rule.get('effect')!r}"
        )
    return rule


def _check_patterns(rule: Mapping[str, Any], where: str) -> None:
    """Which requests: patterns that could never match are refused, not silently idle."""
    for key in _TEXT_KEYS:
        if key in ("preset", "effect"):  # read with the preset, before these checks
            continue
        if rule.get(key) is not None and not isinstance(rule[key], str):
            raise FaultSpecError(f"{where}{key}: must be a string, got {_shown(rule[key])}")
        limit = _RULE_KEYS[key].get("maxLength", MAX_PATTERN_CHARS)
        if rule.get(key) is not None and len(rule[key]) > limit:
            raise FaultSpecError(
                f"{where}{key}: must be at most {limit} characters, got {len(rule[key])}"
            )
    provider = rule.get("provider")
    if provider is not None and provider not in PROVIDERS:
        raise FaultSpecError(
            f"{where}provider: must be one of {', '.join(PROVIDERS)}, got {provider!r}"
        )
    resource = rule.get("resource")
    if resource is not None and not _resources_of(resource):
        raise FaultSpecError(
            f"{where}resource: {resource!r} matches no resource; resources are dotted names "
            "such as twitter.post, facebook.page.* or * (every push resource), and the calls "
            "around the push by their family: connections.*, identities.read, "
            "pull.facebook.pages, sharing.messages.create, site.ping, login.*"
        )


def _check_numbers(rule: dict[str, Any], where: str) -> None:
    for key in _INT_KEYS:
        if key != "status":  # checked with the effect that answers it (_check_answer)
            _check_int(rule, key, where)
    low, high = _RULE_KEYS["probability"]["minimum"], _RULE_KEYS["probability"]["maximum"]
    probability = rule.get("probability", 1.0)
    if isinstance(probability, bool) or not isinstance(probability, (int, float)):
        raise FaultSpecError(
            f"{where}probability: must be a number from {low} to {high}, got {probability!r}"
        )
    if not low <= probability <= high:
        raise FaultSpecError(
            f"{where}probability: must be from {low} to {high}, got {probability!r}"
        )
    rule["probability"] = float(probability)


def _check_answer(rule: dict[str, Any], where: str) -> None:
    """The status and headers the effect answers with."""
    effect, status = rule["effect"], rule.get("status")
    if effect == "error":
        if status is None:
            low, high = _RULE_KEYS["status"]["minimum"], _RULE_KEYS["status"]["maximum"]
            raise FaultSpecError(
                f"{where}status: the error effect needs a status from {low} to {high}"
            )
        _check_int(rule, "status", where)
    elif effect == "html":
        rule.setdefault("status", HTML_STATUSES[0])
        if rule["status"] not in HTML_STATUSES:
            raise FaultSpecError(
                f"{where}status: an html page has status {_listed(HTML_STATUSES)}, got {status!r}"
            )
    elif status is not None:
        _check_int(rule, "status", where)
    if effect == "callback_delay" and not rule.get("delay_ms"):
        raise FaultSpecError(f"{where}delay_ms: callback_delay needs a delay_ms above 0")
    headers = rule.get("headers", {})
    if not isinstance(headers, Mapping) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in headers.items()
    ):
        raise FaultSpecError(f"{where}headers: must be an object of header names to strings")
    if len(headers) > MAX_HEADERS:
        raise FaultSpecError(f"{where}headers: at most {MAX_HEADERS} headers, got {len(headers)}")
    for name, value in headers.items():
        if name.lower() in FRAMING_HEADERS:
            raise FaultSpecError(
                f"{where}headers: {name} frames the HTTP message and cannot be set by a rule "
                "(use the effects empty, malformed or reset to break an answer)"
            )
        if len(value) > MAX_HEADER_VALUE_CHARS:
            raise FaultSpecError(
                f"{where}headers: the value of {name} must be at most "
                f"{MAX_HEADER_VALUE_CHARS} characters, got {len(value)}"
            )
        if not _HEADER_NAME.fullmatch(name):
            raise FaultSpecError(
                f"{where}headers: {_shown(name)} is not a header name "
                "(letters, digits and !#$%&'*+-.^_`|~ only)"
            )
        if _HEADER_VALUE_FORBIDDEN.search(value):
            raise FaultSpecError(
                f"{where}headers: the value of {name} has a line break or control character"
            )
    rule["headers"] = dict(headers)


# RFC 9110 §5.1 field names (tokens) and §5.5 values: answers are written as they are.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _listed(values: Sequence[object]) -> str:
    """``502, 503 or 504``."""
    *first, last = map(str, values)
    return f"{', '.join(first)} or {last}" if first else last


def _shown(value: object, limit: int = 60) -> str:
    """A value for a message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def parse_header(value: str) -> dict[str, Any]:
    """``rate_limited`` or ``delay; delay_ms=500; jitter_ms=100`` as a rule spec;
    ``answer; data=<URL-encoded JSON>`` a canned answer."""
    name, *params = (part.strip() for part in value.split(";"))
    if name == CANNED_ANSWER:
        return _header_answer(params)
    spec: dict[str, Any] = {"preset": name} if name in PRESETS else {"effect": name}
    for param in params:
        if not param:
            continue
        key, equals, raw = param.partition("=")
        if not equals:
            raise FaultSpecError(f"X-Sandbox-Fault: {param!r} must be written key=value")
        key, raw = key.strip(), raw.strip()
        spec[key] = raw if key in _TEXT_KEYS else _header_value(raw)
    return spec


def _header_answer(params: list[str]) -> dict[str, Any]:
    given = dict(param.partition("=")[::2] for param in params if param)
    if set(given) != {"data"}:
        raise FaultSpecError(
            "X-Sandbox-Fault: answer takes one parameter, data=<URL-encoded JSON object>, "
            "e.g. answer; data=%7B%22post_id%22%3A%222000000000000000020%22%7D"
        )
    try:
        data = json.loads(urllib.parse.unquote(given["data"].strip()))
    except (ValueError, RecursionError):
        raise FaultSpecError(
            "X-Sandbox-Fault: answer; data= must be URL-encoded JSON, such as "
            "%7B%22post_id%22%3A%222000000000000000020%22%7D"
        ) from None
    return {"answer": data}


def _header_value(raw: str) -> Any:
    """A number where the text is one; longer than any bound a rule has, it stays text and
    the rule's check says what is wrong (Python refuses to read thousands of digits)."""
    if re.fullmatch(r"-?\d{1,18}", raw):
        return int(raw)
    if re.fullmatch(r"-?\d+", raw):
        return raw
    try:
        return float(raw)
    except ValueError:
        return raw


SCENARIO_SUFFIXES = (".toml", ".json")


def scenario_folder() -> Path:
    """The shipped scenarios: ``fixtures/faults/`` (``sandbox/fixtures/faults/`` installed)."""
    return data_path("fixtures") / "faults"


def scenarios() -> dict[str, Path]:
    """Every shipped scenario by name (its file name without the suffix), sorted."""
    folder = scenario_folder()
    found = sorted(
        path for path in folder.glob("*") if path.suffix in SCENARIO_SUFFIXES and path.is_file()
    )
    return {path.stem: path for path in found}


def scenario_summary(path: Path) -> str:
    """The first comment line of a TOML scenario (or a JSON one's ``"description"``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError:
            return ""
        description = data.get("description") if isinstance(data, dict) else None
        return description.split("\n")[0] if isinstance(description, str) else ""
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
        if line.strip():
            break
    return ""


def resolve_scenario(given: Path | str, *, files: bool = True) -> Path:
    """A scenario file by path, else a shipped scenario by name (``rate-limited``, or with
    its suffix); SettingsError lists the names. ``files=False``: names only (the control plane
    reads no file a client names)."""
    path = Path(given)
    if files and path.is_file():
        return path
    shipped = scenarios()
    name = path.name.removesuffix(path.suffix) if path.suffix in SCENARIO_SUFFIXES else path.name
    # a name, or a path into a checkout's fixtures/faults/ (the old examples) outside one
    by_name = str(given) in (name, path.name) or (
        files and path.parent.parts[-2:] == ("fixtures", "faults")
    )
    if by_name and name in shipped:
        return shipped[name]
    names = ", ".join(shipped) or "none"
    if files:
        raise SettingsError(
            f"fault scenario {given}: no such file, and no shipped scenario of that name; "
            f"the shipped scenarios are {names} (oneall-sandbox --list-faults)"
        )
    hint = f'; a preset is given as {{"preset": "{given}"}}' if str(given) in PRESETS else ""
    raise FaultSpecError(f"unknown fault scenario {str(given)!r}; the scenarios are {names}{hint}")


def read_rules_file(path: Path) -> list[object]:
    """The rules of a TOML (``[[rules]]``) or JSON (``{"rules": [...]}``) scenario file."""
    path = resolve_scenario(path)
    text = read_settings_text(path, "fault scenario")
    kind = "JSON" if path.suffix == ".json" else "TOML"
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"fault scenario {path} is not valid {kind}: {error}") from None
    except RecursionError:
        raise SettingsError(f"fault scenario {path} is {kind} nested too deeply") from None
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, list):
        raise SettingsError(
            f"fault scenario {path} must hold a list of rules: [[rules]] tables in TOML, "
            '{"rules": [...]} in JSON'
        )
    return rules


@dataclass(slots=True)
class FaultPlan:
    """The armed rules, in order, with the dice and the per-identity call numbers."""

    startup: list[tuple[str, object]] = field(default_factory=list)
    seed: int | None = None
    max_rules: int = DEFAULTS.max_fault_rules
    max_counters: int = DEFAULTS.max_fault_counters
    rules: list[Fault] = field(default_factory=list)
    rules_bound: Bound = field(init=False)
    counters_bound: Bound = field(init=False)
    _next_id: int = 1
    _calls: BoundedStore[str, int] = field(init=False)
    _random: random.Random = field(default_factory=random.Random)
    # The rules that may fire, by (stage, resource): those for any identity, and those for
    # one identity by identity. Made when first needed after a change.
    _index: dict[tuple[str, str], tuple[list[Fault], dict[str, list[Fault]]]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self.rules_bound = Bound(
            "fault_rules", max_count=self.max_rules, policy=REFUSE, flags=("--max-fault-rules",)
        )
        # The call number of each identity, for seeded dice: the least recently seen are
        # forgotten (their numbering restarts), so a flood of identities costs nothing.
        self.counters_bound = Bound(
            "fault_counters",
            max_count=self.max_counters,
            policy=FORGET_OLDEST,
            flags=("--max-fault-counters",),
        )
        self._calls = BoundedStore(self.counters_bound)

    @classmethod
    def from_files(
        cls,
        paths: Iterable[Path],
        seed: int | None,
        *,
        max_rules: int = DEFAULTS.max_fault_rules,
        max_counters: int = DEFAULTS.max_fault_counters,
    ) -> FaultPlan:
        """Arm every rule of the scenario files; SettingsError names file, rule and key."""
        startup = [
            (f"{path}: rules[{index}].", spec)
            for path in paths
            for index, spec in enumerate(read_rules_file(path))
        ]
        plan = cls(startup=startup, seed=seed, max_rules=max_rules, max_counters=max_counters)
        plan.reset()
        return plan

    def reset(self) -> None:
        """Back to the start-up rules, counters at zero, dice restarted."""
        self.rules, self._next_id = [], 1
        self._changed()
        self._calls.clear()
        self._random = random.Random(self.seed)
        for where, spec in self.startup:
            try:
                self.arm([spec], where_prefix=where, indexed=False, source="file")
            except FaultSpecError as error:
                raise SettingsError(str(error)) from None

    def reseed(self, seed: int | None) -> None:
        self.seed = seed
        self._calls.clear()
        self._random = random.Random(seed)

    def arm(
        self,
        specs: Iterable[object],
        *,
        where_prefix: str = "/",
        indexed: bool = True,
        source: str = "api",
        files: bool = False,
    ) -> list[Fault]:
        """Check every rule first, then arm them all: a bad list arms nothing. ``where_prefix``
        (and the rule's index, when ``indexed``) locate a bad key in the message. A string in
        place of a rule is a shipped scenario's name (its rules armed in its place), or with
        ``files`` the path of a scenario file too."""
        specs = list(specs)
        self.rules_bound.admit(0, len(specs), what=f"{len(specs)} fault rule(s)")
        built: list[Fault] = []
        for index, spec in enumerate(specs):
            where = f"{where_prefix}{index}/" if indexed else where_prefix
            if isinstance(spec, str):  # a shipped scenario (or, from Python, a file) by name
                built += self._scenario(
                    spec, where, files=files, first_id=self._next_id + len(built)
                )
                continue
            built.append(
                build_fault(spec, where, rule_id=self._next_id + len(built), source=source)
            )
        self._next_id += len(built)
        self.rules.extend(built)
        self._changed()
        return built

    @staticmethod
    def _scenario(name: str, where: str, *, files: bool, first_id: int) -> list[Fault]:
        try:
            path = resolve_scenario(name, files=files)
            specs = read_rules_file(path)
        except (SettingsError, FaultSpecError) as error:
            raise FaultSpecError(f"{where.rstrip('/') or '/'}: {error}") from None
        return [
            build_fault(
                spec, f"{path.name}: rules[{index}].", rule_id=first_id + index, source="file"
            )
            for index, spec in enumerate(specs)
        ]

    def remove(self, rule_id: int) -> bool:
        before = len(self.rules)
        self.rules = [rule for rule in self.rules if rule.id != rule_id]
        self._changed()
        return len(self.rules) < before

    def clear(self) -> int:
        removed = len(self.rules)
        self.rules = []
        self._changed()
        return removed

    def _changed(self) -> None:
        self._index = {}
        self.rules_bound.count = len(self.rules)

    def _candidates(self, stage: str, resource: str, identity: str) -> list[Fault]:
        """The rules of ``stage`` whose patterns match ``resource`` and ``identity``, in
        order: indexed once after each change, so a push tries only the rules that could fire
        for it, however many are armed for other resources and identities."""
        key = (stage, resource)
        found = self._index.get(key)
        if found is None:
            effects = STAGE_EFFECTS[stage]
            general: list[Fault] = []
            by_identity: dict[str, list[Fault]] = {}
            for rule in self.rules:
                if rule.effect in effects and resource in rule.resources:
                    if rule.identity is None:
                        general.append(rule)
                    else:
                        by_identity.setdefault(rule.identity, []).append(rule)
            found = self._index[key] = (general, by_identity)
        general, by_identity = found
        own = by_identity.get(identity)
        if not own:
            return general
        return sorted((*general, *own), key=lambda rule: rule.id) if general else own

    def pick(
        self, resource: str, provider: str, identity: str, stage: str = "answer"
    ) -> Fault | None:
        """The first rule of this ``stage`` that fires, counting every such rule that matched.

        ``answer``: the request's own answer; ``video``: an asynchronous video's request, where
        a rule may also fail its processing; ``callback``: the delivery of a video's callback,
        counted apart so callbacks never shift the dice of requests.
        """
        if not self.rules:
            return None
        if stage == "data" and not self._candidates(stage, resource, identity):
            return None  # no canned answer for it: no counter either
        # Callbacks, canned answers and the calls around the push count apart: they never
        # shift the dice of an identity's pushes.
        counter = identity if stage in ("answer", "video") else f"{identity} {stage}"
        call = (self._calls.get(counter) or 0) + 1
        self._calls.put(counter, call)
        for rule in self._candidates(stage, resource, identity):
            if not rule.matches(resource, provider, identity):
                continue
            rule.matched += 1
            if rule.matched <= rule.after:
                continue
            if rule.times is not None and rule.fired >= rule.times:
                continue
            if rule.probability < 1 and self._dice(rule, identity, call) >= rule.probability:
                continue
            rule.fired += 1
            return rule
        return None

    def _dice(self, rule: Fault, identity: str, call: int) -> float:
        """Seeded: a pure function of (seed, rule, identity, its call number), so a seeded run
        fails the same calls of each identity whatever the interleaving."""
        if self.seed is None:
            return self._random.random()
        key = f"{self.seed}:{rule.id}:{identity}:{call}".encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64
