"""The OpenAPI 3.1 document of the sandbox, generated, never written by hand.

Push operations come from the resource table (``catalog.ENDPOINTS``) and the request schemas
(``schemas/``); their result data from ``schemas/results/``, one file per result factory; the
control plane from its catalog (``sandbox.api.control``), one row per route, and its request
bodies from ``schemas/control/``. Served at
``GET /__sandbox/openapi.json`` and printed by ``oneall-sandbox --openapi``.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox import __version__
from sandbox.api import control, envelope
from sandbox.api.datafiles import data_path, read_schema
from sandbox.api.errors import SettingsError
from sandbox.api.families import FAMILIES
from sandbox.api.push import ENDPOINTS, PROVIDERS, Endpoint
from sandbox.config import Settings
from sandbox.model import faults
from sandbox.model.health import HEALTH_STATUSES
from sandbox.model.identities import ORIGINS, TARGET_KINDS, read_identities_file
from sandbox.model.jobs import JOB_HEADER
from sandbox.model.sandbox import compiled_validators
from sandbox.openapi import families
from sandbox.openapi.components import embedded
from sandbox.validation import bodies
from sandbox.validation.bodies import walk
from sandbox.validation.profiles import INPUT_CLASSES, LIVE, STRICT, KeyFacts, absent_forms
from sandbox.validation.schemas import DEFS_FILE

OPENAPI_VERSION = "3.1.0"
CONTROL_PREFIX = control.PREFIX
ARMING_TAG = "arming"  # calls that change how later requests are answered: not for fuzzing
PUSH_ERRORS = (400, 401, 403, 404, 405, 413, 429, 500, 502, 503)
SCHEMAS = "#/components/schemas/"

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": SCHEMAS + name}


def pattern(regex: str) -> Schema:
    return {"type": "string", "pattern": f"^{regex}$"}


def obj(required: list[str], **properties: Schema) -> Schema:
    """An object schema with these keys, others allowed."""
    return {"type": "object", "required": required, "properties": properties}


def closed(required: list[str], **properties: Schema) -> Schema:
    """An object schema with these keys and no other."""
    return {**obj(required, **properties), "additionalProperties": False}


# --- result data (spec §4 and §5) -----------------------------------------------------------


def result_schema(endpoint: Endpoint) -> Schema:
    """The ``result.data`` schema of one resource: its factory's file in ``schemas/results/``,
    as it is (the same file canned answers are checked against)."""
    return {**read_schema("results", endpoint.result), "title": f"{endpoint.name} result data"}


# --- the envelope (spec §2) -----------------------------------------------------------------

ENVELOPE_SCHEMAS: dict[str, Schema] = {
    "RequestNode": {
        **closed(
            ["date", "resource", "status"],
            date=pattern(envelope.DATE_PATTERN),
            resource={"type": "string", "description": "the requested path"},
            status=closed(
                ["flag", "code", "info"],
                flag={"enum": list(envelope.FLAGS)},
                code={"type": "integer", "description": "always the HTTP status"},
                info={"type": "string", "minLength": 1},
            ),
        ),
        "description": "What was asked and how it went; in every answer, success or error.",
    },
    "Error": {
        **closed(
            ["response"],
            response=closed(
                ["request"],
                request={
                    "$ref": SCHEMAS + "RequestNode",
                    "properties": {"status": {"properties": {"flag": {"const": envelope.ERROR}}}},
                },
            ),
        ),
        "description": "The OneAll error envelope: status.code is the HTTP status, status.info "
        "a sentence saying what is wrong, and there is no result node.",
    },
}


def error_schema(status: int) -> Schema:
    """The error envelope whose ``status.code`` is ``status``."""
    code = {"properties": {"status": {"properties": {"code": {"const": status}}}}}
    return {
        "allOf": [
            ref("Error"),
            {"properties": {"response": {"properties": {"request": code}}}},
        ]
    }


def success_schema(data: Schema, code: int = 200) -> Schema:
    """The success envelope around ``data``; with 207, a sharing message some of whose
    publications failed (the result is there, its info says what failed)."""
    status: Schema = {"flag": {"const": envelope.SUCCESS}, "code": {"const": code}}
    if code == 200:
        status["info"] = {"const": envelope.SUCCESS_INFO}
    return closed(
        ["response"],
        response=closed(
            ["request", "result"],
            request={
                "$ref": SCHEMAS + "RequestNode",
                "properties": {"status": {"properties": status}},
            },
            result=closed(["data"], data=data),
        ),
    )


def partial_schema(data: Schema) -> Schema:
    return success_schema(data, 207)


ERROR_MEANINGS = {
    400: "The body is not JSON, or breaks the resource's schema: info names every bad key "
    "as [request->push->node->key]",
    401: "Missing or wrong site keys (HTTP Basic: public key, private key)",
    403: "An identity of another provider or without publishing consent; a deprecated "
    "resource with --deprecated refuse; a refusal injected by a fault rule",
    404: "Unknown path, identity (a token that is not a UUID; any unknown one with "
    "--strict-identities) or target (strict mode)",
    405: "Any method but the documented one",
    413: "A body over --max-body",
    429: "Rate limited (fault rule): see Retry-After",
    500: "Internal error (fault rule)",
    502: "Bad gateway, maintenance (fault rule)",
    503: "Overloaded (fault rule)",
}
ERROR_HEADERS = {
    405: {"Allow": {"description": "the methods the path takes", "schema": {"type": "string"}}},
    429: {
        "Retry-After": {
            "description": "seconds to wait before retrying",
            "schema": {"type": "string"},
        }
    },
}


def error_response(status: int) -> Schema:
    answer: Schema = {
        "description": ERROR_MEANINGS.get(status, "An error"),
        "content": {"application/json": {"schema": ref(f"Error{status}")}},
    }
    if status in ERROR_HEADERS:
        answer["headers"] = ERROR_HEADERS[status]
    return answer


# --- the control plane ----------------------------------------------------------------------


def bounded_list(key: str, item: Schema) -> Schema:
    """A list a bound keeps, and how many of its entries it dropped."""
    return obj(
        [key, "dropped"],
        dropped={"type": "integer", "minimum": 0},
        **{key: {"type": "array", "items": item}},
    )


CONTROL_SCHEMAS: dict[str, Schema] = {
    "Token": families.UUID,
    "Health": obj(
        ["status", "version", "resources", "reasons", "bounds"],
        status={
            "enum": list(HEALTH_STATUSES),
            "description": "degraded: serving, but something fails (see reasons); still 200",
        },
        version={"type": "string"},
        resources={"type": "integer"},
        reasons={"type": "array", "items": {"type": "string"}},
        troubles={"type": "array", "items": {"type": "object"}},
        bounds={
            "type": "object",
            "description": "every bounded store: its limits and what it dropped or refused",
            "additionalProperties": obj(
                ["count", "max_count", "bytes", "max_bytes", "dropped", "refused"],
                count={"type": "integer"},
                max_count={"type": ["integer", "null"]},
                bytes={"type": "integer"},
                max_bytes={"type": ["integer", "null"]},
                dropped={"type": "integer"},
                refused={"type": "integer"},
            ),
        },
    ),
    "Identity": obj(
        ["token", "provider", "consent", "user", "origin"],
        token=families.UUID,
        provider={"enum": list(PROVIDERS)},
        consent={"type": "boolean"},
        user={"type": "object"},
        channel={"type": "object"},
        origin={"enum": list(ORIGINS)},
        user_token=families.UUID,
        expired={"type": "boolean", "description": "its network access token has expired"},
        **{kind: {"type": "array", "items": {"type": "object"}} for kind in TARGET_KINDS},
    ),
    "IdentityList": obj(["identities"], identities={"type": "array", "items": ref("Identity")}),
    "Connection": obj(
        ["connection_token", "connection", "plugin", "user"],
        connection_token=families.UUID,
        connection={"type": "object"},
        plugin={"type": "object"},
        user={"type": "object"},
    ),
    "ExpiredIdentity": obj(["identity", "expired"], identity={"type": "object"}),
    "FaultRules": {
        "anyOf": [
            ref("FaultRule"),
            ref("FaultScenario"),
            {"type": "array", "items": {"anyOf": [ref("FaultRule"), ref("FaultScenario")]}},
            obj(
                ["rules"],
                rules={
                    "type": "array",
                    "items": {"anyOf": [ref("FaultRule"), ref("FaultScenario")]},
                },
            ),
        ]
    },
    "FaultScenario": {
        "enum": list(faults.scenarios()),
        "description": "A shipped fault scenario by name (oneall-sandbox --list-faults): its "
        "rules are armed in its place",
    },
    "ArmedRules": obj(
        ["rules"],
        rules={
            "type": "array",
            "items": obj(
                ["id", "effect", "matched", "fired"],
                id={"type": "integer"},
                effect={"type": "string"},
                matched={"type": "integer"},
                fired={"type": "integer"},
            ),
        },
    ),
    "Removed": obj(["removed"], removed={"type": "integer", "minimum": 0}),
    "Journal": bounded_list(
        "entries",
        obj(
            ["id", "time", "method", "path", "request", "response"],
            id={"type": "integer"},
            time={"type": "string"},
            method={"type": "string"},
            path={"type": "string"},
            request={"type": "object"},
            response={"type": "object"},
            warnings={
                "type": "array",
                "items": {"type": "string"},
                "description": "what validation warned about (X-Sandbox-Warning)",
            },
            detail={
                "type": ["string", "null"],
                "description": "the sandbox's own sentence where info is the live API's "
                "(X-Sandbox-Detail)",
            },
        ),
    ),
    "Objects": bounded_list(
        "objects",
        obj(
            ["resource", "identity", "time", "provider", "object"],
            resource={"type": "string"},
            identity={"type": "string"},
        ),
    ),
    "Jobs": obj(
        ["jobs"],
        jobs={
            "type": "array",
            "items": obj(
                ["id", "resource", "identity", "provider", "video_id", "state", "deliveries"],
                id={"type": "string"},
                resource={"type": "string"},
                identity={"type": "string"},
                provider={"enum": list(PROVIDERS)},
                video_id={"type": "string"},
                state={"enum": list(control.JOB_STATES)},
                callback_url={"type": ["string", "null"]},
                deliveries={"type": "array", "items": {"type": "object"}},
            ),
        },
    ),
    "Seed": obj(["seed"], seed={"type": ["integer", "null"]}),
    "Reset": obj(["status", "seed"], status={"const": "reset"}, seed={"type": ["integer", "null"]}),
    "OpenAPI": obj(["openapi", "info", "paths"], openapi={"type": "string"}),
    "CaCertificate": {
        "type": "string",
        "pattern": "^-----BEGIN CERTIFICATE-----",
        "description": "PEM: give it to clients as the CA to trust",
    },
}


def body_schemas() -> dict[str, Schema]:
    """The control plane's request bodies, each its file in ``schemas/control/`` as the engine
    checks it (``sandbox.validation.bodies``), embedded as it is but for its ``$defs``: they
    become components of their own, ``<Body>.<name>``, its ``$ref`` links pointed at them."""
    components: dict[str, Schema] = {}
    for name, file in control.BODIES.items():
        schema = faults.rule_schema() if file == "fault-rule" else bodies.schema(f"control/{file}")
        components.update(embedded(name, schema, f"{name}."))
    return components


def control_operation(row: control.Route) -> Schema:
    name = re.sub(r"[^A-Za-z0-9]+", "_", row.path).strip("_")
    operation: Schema = {
        "operationId": f"sandbox.{row.method.lower()}_{name}",
        "summary": row.summary,
        "tags": ["control-plane", *([ARMING_TAG] if row.arming else [])],
        "security": [],
        "parameters": [
            # a parameter with "content" is JSON (OpenAPI 3.1 §4.8.12.2): given as it is
            {"name": key, "in": "query", "required": False}
            | (schema if "content" in schema else {"schema": schema})
            for key, schema in row.query.items()
        ],
        "responses": {
            str(row.status): {
                "description": row.summary,
                "content": {row.media: {"schema": ref(row.answer)}},
            },
            **{
                str(status): {"$ref": f"#/components/responses/Error{status}"}
                for status in row.errors
            },
        },
    }
    operation["parameters"] += [
        {"name": key, "in": "path", "required": True, "schema": schema}
        for key, schema in row.params.items()
    ]
    if row.body is not None:
        operation["requestBody"] = {
            "required": row.body_required,
            "content": {"application/json": {"schema": ref(row.body)}},
        }
    if not operation["parameters"]:
        del operation["parameters"]
    return operation


# --- push operations ------------------------------------------------------------------------

PATH_PARAMETERS: dict[str, Schema] = {
    "token": {
        "description": "The identity token: a lowercase UUID. An unknown one is registered on "
        "first use and bound to the provider of that resource (unless --strict-identities).",
        "schema": families.UUID,
    },
    "board_id": {
        "description": "A board of the identity (18 digits, or one made by "
        "pinterest/board.json); checked with --strict-identities only.",
        "schema": {"type": "string", "minLength": 1},
    },
    "playlist_id": {
        "description": "A playlist of the identity (PL + 32 characters, or one made by "
        "youtube/playlist.json); checked with --strict-identities only.",
        "schema": {"type": "string", "minLength": 1},
    },
}

# After a resource creates a target, the target's resource can use it (spec §4, #13, #19).
TARGET_LINKS = {"pinterest.board": "board_id", "youtube.playlist": "playlist_id"}


def path_parameters(endpoint: Endpoint, examples: Mapping[str, str]) -> list[Schema]:
    names = re.findall(r"\{(\w+)\}", endpoint.route)
    parameters = []
    for name in names:
        parameter = {"name": name, "in": "path", "required": True, **PATH_PARAMETERS[name]}
        example = examples.get(name if name != "token" else endpoint.provider)
        if example is not None:
            parameter["example"] = example
        parameters.append(parameter)
    return parameters


def links(endpoint: Endpoint) -> Schema:
    key = TARGET_LINKS.get(endpoint.name)
    if key is None:
        return {}
    return {
        f"{target.name} on the new target": {
            "operationId": target.name,
            "parameters": {
                "token": "$request.path.token",
                key: f"$response.body#/response/result/data/{key}",
            },
        }
        for target in ENDPOINTS
        if target.target is not None and target.target.param == key
    }


def push_operation(endpoint: Endpoint, request: Schema, examples: Mapping[str, str]) -> Schema:
    node = request["properties"]["request"]["properties"]["push"]["properties"][endpoint.node]
    success: Schema = {
        "description": "Published: the success envelope with the new object's ids",
        "content": {"application/json": {"schema": ref(f"{endpoint.name}.success")}},
    }
    if endpoint.deprecated:
        success["headers"] = {
            "Deprecation": {
                "description": "Facebook ended publishing to user profiles on 2018-08-01",
                "schema": {"type": "string"},
            }
        }
    if endpoint.asynchronous:
        success["headers"] = {
            JOB_HEADER: {
                "description": "the video's job: GET /__sandbox/jobs, "
                "POST /__sandbox/jobs/{id}/finish",
                "schema": {"type": "string"},
            }
        }
    response_links = links(endpoint)
    if response_links:
        success["links"] = response_links
    notes = [
        "deprecated" if endpoint.deprecated else "",
        "asynchronous" if endpoint.asynchronous else "",
    ]
    operation: Schema = {
        "operationId": endpoint.name,
        "summary": f"{endpoint.name}" + "".join(f" ({note})" for note in notes if note),
        "description": node.get("description", ""),
        "tags": ["push", endpoint.provider],
        "security": [{"basic": []}],
        "parameters": path_parameters(endpoint, examples),
        "requestBody": {
            "required": True,
            "description": "Read as JSON whatever the Content-Type says.",
            "content": {
                "application/json": {
                    "schema": ref(f"{endpoint.name}.request"),
                    "example": read_json(
                        data_path("fixtures") / "requests" / f"{endpoint.name}.json"
                    ),
                }
            },
        },
        "responses": {
            "200": success,
            **{
                str(status): {"$ref": f"#/components/responses/Error{status}"}
                for status in PUSH_ERRORS
            },
        },
    }
    if endpoint.deprecated:
        operation["deprecated"] = True
    return operation


# --- request schemas ------------------------------------------------------------------------

# What no part of a URL may hold: whitespace to Python's re or to an ECMA-262 engine.
URL_SPACE = r"\s\x1c-\x1f\x85\ufeff"
# How the shared URL pattern ends: path, query and fragment, anything but spaces (and no
# newline after the end, which Python's $ would let through).
URL_TAIL = rf"(?:[/?#][^{URL_SPACE}]*)?$(?!\n)"


def image_url_pattern(url_pattern: str, extensions: list[str]) -> str:
    """The URL pattern narrowed to paths whose last segment has no extension or an image one
    (case ignored): what the sandbox checks beyond the schema (spec §6), as one regex."""
    if not url_pattern.endswith(URL_TAIL):
        raise SettingsError(
            f"the url pattern of {DEFS_FILE} no longer ends in {URL_TAIL}: "
            "update image_url_pattern in sandbox/openapi.py"
        )
    cased = (
        "".join(f"[{c.upper()}{c}]" if c.isalpha() else re.escape(c) for c in ext.lower())
        for ext in sorted(extensions, key=len, reverse=True)
    )
    last = rf"(?:[^/?#.{URL_SPACE}]*|[^/?#{URL_SPACE}]*\.(?:{'|'.join(cased)})?)"
    return (
        url_pattern.removesuffix(URL_TAIL)
        + rf"(?:/(?:[^?#{URL_SPACE}]*/)?{last})?(?:[?#][^{URL_SPACE}]*)?$(?!\n)"
    )


# The host part of the shared URL pattern: a bracketed IPv6 address, or a name and its port.
URL_HOST = rf"(?:\[[0-9A-Fa-f:.]+\](?::[0-9]*)?|[^/?#@:.\[\]{URL_SPACE}-][^/?#@{URL_SPACE}]*)"
URL_USER = rf"(?:[^/?#@{URL_SPACE}]*@)?"
URL_USER_NO_BRACKET = rf"(?:[^/?#@\[\]{URL_SPACE}]*@)?"
CALLBACK_KEY = "callback_url"  # app.check_videos: callbacks go to loopback or allowed hosts
CALLBACK_FORBIDDEN = r"(?![\s\S]*[\x00-\x20\x7f])"
IPV4_LOOPBACK = r"127(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}"


def _literal(text: str) -> str:
    """``text`` as a regex that ignores ASCII case, in the syntax Python and ECMA-262 share."""
    return "".join(
        f"[{c.upper()}{c}]"
        if c.isascii() and c.isalpha()
        else c
        if c.isalnum()
        else f"[\\{c}]"
        if c in "]\\^-"
        else f"[{c}]"
        for c in text.lower()
    )


def callback_url_pattern(url_pattern: str, allowed: tuple[str, ...]) -> str:
    """The URL pattern narrowed to the hosts the sandbox calls back: localhost and its
    subdomains, 127.0.0.0/8, [::1] (the common spellings) and the ``--callback-allow`` hosts."""
    if URL_USER + URL_HOST not in url_pattern:
        raise SettingsError(
            f"the url pattern of {DEFS_FILE} no longer has the host part {URL_USER}{URL_HOST}: "
            "update callback_url_pattern in sandbox/openapi.py"
        )
    names = [
        rf"(?:[^/?#@:.\[\]{URL_SPACE}-][^/?#@:\[\]{URL_SPACE}]*\.)?" + _literal("localhost"),
        IPV4_LOOPBACK,
        *(_literal(host) for host in allowed if ":" not in host),
    ]
    addresses = ["::1", *(host for host in allowed if ":" in host)]
    host = (
        rf"(?:\[(?:{'|'.join(_literal(a) for a in addresses)})\](?::[0-9]*)?"
        rf"|(?:{'|'.join(names)})(?::[^/?#@\[\]{URL_SPACE}]*)?)"
    )
    # Python's urlsplit refuses a [ or ] anywhere in the host part but around an address.
    pattern = url_pattern.replace(URL_USER + URL_HOST, URL_USER_NO_BRACKET + host)
    # No control character anywhere (sandbox.model.jobs.callback_refusal), space included.
    return "^" + CALLBACK_FORBIDDEN + pattern.removeprefix("^")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def request_schemas(
    allow_unknown_keys: bool, callback_allow: tuple[str, ...], validation: str = STRICT
) -> dict[str, Schema]:
    """The shared ``$defs`` and one ``<name>.request`` schema per resource, their local
    ``$ref`` links pointed at the components; image URLs get their extension rule, callback
    URLs their hosts. In the ``live`` profile each key also takes what ``live`` accepts of it
    (:func:`live_node`)."""
    folder = data_path("schemas")
    defs: dict[str, Schema] = read_json(folder / DEFS_FILE).get("$defs", {})
    components: dict[str, Schema] = copy.deepcopy(defs)
    for endpoint in ENDPOINTS:
        schema = read_json(folder / f"{endpoint.name}.json")
        for key, value in schema.pop("$defs", {}).items():
            components.setdefault(key, value)
        schema.pop("$schema", None)
        node = schema["properties"]["request"]["properties"]["push"]["properties"][endpoint.node]
        if allow_unknown_keys or validation == LIVE:
            node.pop("additionalProperties", None)
        if CALLBACK_KEY in node.get("properties", {}):
            url = defs["url"]
            node["properties"][CALLBACK_KEY] = {
                **{key: value for key, value in url.items() if key != "x-expected"},
                "pattern": callback_url_pattern(url["pattern"], callback_allow),
                "description": "Where the result is POSTed when processing ends: a loopback "
                "address (localhost, 127.0.0.0/8, [::1]) or a host allowed with --callback-allow",
            }
        if validation == LIVE:
            live_node(node, compiled_validators(False).facts(endpoint.name), defs)
        components[f"{endpoint.name}.request"] = schema
    for schema in walk(components):
        target = schema.get("$ref")
        if isinstance(target, str) and target.startswith("#/$defs/"):
            schema["$ref"] = SCHEMAS + target.removeprefix("#/$defs/")
        rule = schema.get("x-image-url")
        if isinstance(rule, dict) and isinstance(target, str) and validation != LIVE:
            url = defs[target.rsplit("/", 1)[-1]]
            del schema["$ref"]
            schema.update({k: v for k, v in url.items() if k not in schema})
            schema["pattern"] = image_url_pattern(url["pattern"], rule["extensions"])
        limit = schema.get("x-tweet-length")
        if isinstance(limit, int):
            schema["description"] = (
                f"At most {limit} characters as Twitter counts them: links count 23, wide "
                "characters 2 (checked by the sandbox beyond this schema)"
            )
    return components


def live_node(node: Schema, facts: Mapping[str, KeyFacts], defs: Mapping[str, Schema]) -> None:
    """``node`` as the ``live`` profile takes it (spec §6): each key also takes the values the
    rows of :data:`INPUT_CLASSES` accept of it, and an option of the node's ``anyOf`` that
    requires a key is not met by a value ``live`` treats as absent."""
    properties: dict[str, Schema] = node.get("properties", {})
    absent: dict[str, list[Schema]] = {}
    for key, sub in properties.items():
        key_facts = facts.get(key)
        if key_facts is None:
            continue
        written = resolved(sub, defs)
        forms = [form for row in INPUT_CLASSES for form in row.forms(key_facts, written)]
        items = [form for row in INPUT_CLASSES for form in row.item_forms(key_facts)]
        if items and isinstance(written.get("items"), dict):
            array = {k: v for k, v in written.items() if not k.startswith("x-")}
            array["items"] = {"anyOf": [written["items"], *items]}
            if "maxItems" in array:  # nulls are dropped before the items are counted
                array["contains"] = {"not": {"type": "null"}}
                array["minContains"] = 0
                array["maxContains"] = array.pop("maxItems")
            forms.append(array)
        if forms:
            properties[key] = {"anyOf": [sub, *forms]}
        absent[key] = absent_forms(key_facts, written)
    for keyword in ("anyOf", "oneOf"):
        for option in node.get(keyword, ()):
            for key in option.get("required", ()):
                if absent.get(key):
                    held = option.setdefault("properties", {}).setdefault(key, {})
                    held["not"] = {"anyOf": absent[key]}


def resolved(schema: Schema, defs: Mapping[str, Schema]) -> Schema:
    """A key's schema with the ``#/$defs/`` references it starts with merged in."""
    merged: Schema = {}
    for _ in range(16):
        merged = {**schema, **merged}
        target = schema.get("$ref")
        if not isinstance(target, str) or not target.startswith("#/$defs/"):
            break
        schema = defs.get(target.removeprefix("#/$defs/"), {})
    merged.pop("$ref", None)
    return merged


# --- the document ---------------------------------------------------------------------------

DESCRIPTION = f"""\
An offline emulator of the OneAll Push API: the push resources at the same paths, with the
same HTTP Basic authentication (public key as user name, private key as password), JSON
envelope and status codes as `https://<subdomain>.api.oneall.com`, plus a control plane under
`/__sandbox/` (no authentication) to register identities, arm faults and read the journal.

Every answer is the OneAll envelope (`response.request.status.code` equals the HTTP status);
errors have no `result` node. Request bodies are read as JSON whatever the Content-Type says.

**Validation profiles.** This document describes the profile the sandbox runs (`--validation`):
in `live`, the default, doubtful input the live API accepts (unknown keys, `""`, `null` or `[]`
for an optional key, ids sent as numbers, padded URLs ...) is taken and reported in one
`X-Sandbox-Warning` header each; in `strict` it is refused. A request may ask for either with
the header `X-Sandbox-Validation: live|strict`. Where `info` is the live API's own sentence,
the sandbox's precise one is in the `X-Sandbox-Detail` header.

**Injected faults.** A push request may carry the header `X-Sandbox-Fault` naming a preset
(`rate_limited`, `server_error`, `timeout`, `connection_reset`, ...) or an effect with
parameters (`delay; delay_ms=500`); the control plane arms the same rules for later requests
(`POST /__sandbox/faults`). Some effects deliberately break the answer (an HTML page, a
truncated or empty body, a closed connection, a hang). The header is left out of the
operations on purpose, so that a fuzzer never sends it; the control-plane calls that change
how later requests are answered are tagged `{ARMING_TAG}`: leave them out of a fuzz run
(`st run --exclude-tag {ARMING_TAG}`)."""


def default_examples(identities: Path | None) -> dict[str, str]:
    """Path parameter examples: the first identity of each provider that may publish, its
    first board and playlist."""
    path = identities or data_path("fixtures") / "identities.json"
    examples: dict[str, str] = {}
    for item in read_identities_file(path):
        provider = item.get("provider")
        if not isinstance(provider, str) or provider in examples or not item.get("consent", True):
            continue
        examples[provider] = str(item.get("token"))
        for kind, param in (("boards", "board_id"), ("playlists", "playlist_id")):
            targets = item.get(kind) or []
            if targets and param not in examples:
                examples[param] = str(targets[0].get("id"))
    return examples


@functools.cache
def build_document(
    allow_unknown_keys: bool = False,
    identities: Path | None = None,
    callback_allow: tuple[str, ...] = (),
    validation: str = STRICT,
) -> Schema:
    """The whole document; cached: every call with the same settings shares it (read-only).
    ``validation``: the profile it describes (spec §6), the server's ``--validation``."""
    requests = request_schemas(allow_unknown_keys, callback_allow, validation)
    examples = default_examples(identities)
    schemas: dict[str, Schema] = {**ENVELOPE_SCHEMAS}
    statuses = sorted({*PUSH_ERRORS, *(s for row in control.ROUTES for s in row.errors)})
    for status in statuses:
        schemas[f"Error{status}"] = error_schema(status)
    paths: dict[str, Schema] = {}
    for endpoint in ENDPOINTS:
        schemas[f"{endpoint.name}.data"] = result_schema(endpoint)
        schemas[f"{endpoint.name}.success"] = success_schema(ref(f"{endpoint.name}.data"))
        request = requests[f"{endpoint.name}.request"]
        paths[endpoint.route] = {"post": push_operation(endpoint, request, examples)}
    url = read_json(data_path("schemas") / DEFS_FILE)["$defs"]["url"]
    family_paths, family_schemas = families.family_paths(
        success_schema, partial_schema, callback_url_pattern(url["pattern"], callback_allow)
    )
    paths.update(family_paths)
    schemas.update(family_schemas)
    for row in control.ROUTES:
        operations = paths.setdefault(control.PREFIX + row.path, {})
        operations[row.method.lower()] = control_operation(row)
    schemas.update(CONTROL_SCHEMAS)
    schemas.update(body_schemas())
    schemas.update(requests)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "OneAll Push API sandbox",
            "version": __version__,
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "http://127.0.0.1:8080", "description": "the default address"}],
        "tags": [
            {"name": "push", "description": "The push resources (HTTP Basic)"},
            *({"name": provider} for provider in PROVIDERS),
            *(
                {"name": family, "description": f"The {family} calls around the push"}
                for family in FAMILIES
            ),
            {"name": "control-plane", "description": "The sandbox's own calls, under /__sandbox/"},
            {
                "name": ARMING_TAG,
                "description": "Changes how later requests are answered (faults, seed, reset): "
                "leave out of fuzz runs",
            },
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {f"Error{status}": error_response(status) for status in statuses},
            "securitySchemes": {
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "user name: the site's public key; password: its private key",
                }
            },
        },
    }


def document(settings: Settings | None = None, server: str | None = None) -> Schema:
    """The document for these settings, with ``server`` as its only server URL when given."""
    settings = settings or Settings()
    built = build_document(
        settings.allow_unknown_keys,
        settings.identities,
        settings.callback_allow,
        settings.validation,
    )
    if server is None:
        return built
    return {**built, "servers": [{"url": server, "description": "this sandbox"}]}


def document_json(settings: Settings | None = None, server: str | None = None) -> str:
    return json.dumps(document(settings, server), indent=2, ensure_ascii=False) + "\n"


@functools.lru_cache(maxsize=16)
def served(settings: Settings, server: str) -> bytes:
    return json.dumps(document(settings, server), ensure_ascii=False).encode()
