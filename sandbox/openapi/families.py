"""The API around the push in the OpenAPI document: one operation per catalog row of every
family, their request schemas from ``schemas/<family>/``, their answers' shapes (those the spec
marks *ours* say so in their description)."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from sandbox.api.calls import Call
from sandbox.api.connections import SERVICES
from sandbox.api.envelope import FLAGS
from sandbox.api.families import CALLS
from sandbox.api.login import BOOLEANS, DECISIONS, FORM_TYPES
from sandbox.api.push import PROVIDERS
from sandbox.model.identities import TARGET_NOUNS
from sandbox.model.pages import DEFAULT_ORDER, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ORDER_DIRECTIONS
from sandbox.openapi.components import embedded
from sandbox.validation import bodies

Schema = dict[str, Any]
SCHEMAS = "#/components/schemas/"
FAMILY_ERRORS = (400, 401, 403, 404, 405, 413, 429, 500, 502, 503)
PARTIAL = 207
UUID = {"type": "string", "pattern": bodies.PATTERNS["uuid"]}  # a lowercase UUID
TEXT = {"type": "string"}
DATE = {"type": ["string", "null"], "description": "RFC 2822 with a numeric zone"}


def ref(name: str) -> Schema:
    return {"$ref": SCHEMAS + name}


def obj(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


def listing(entry: Schema) -> Schema:
    return obj(
        ["pagination", "count", "entries"],
        pagination=ref("Pagination"),
        count={"type": "integer", "minimum": 0},
        entries={"type": "array", "items": entry},
    )


POST_ENTRY = obj(
    ["post_id", "post_location", "resource", "date_creation"],
    post_id=TEXT,
    post_location={"type": ["string", "null"]},
    object={"type": ["string", "null"]},
    resource=TEXT,
    date_creation=DATE,
)
OURS = "The shape of this answer is not published by OneAll: it is the sandbox's own (ours)."

SCHEMAS_OF_FAMILIES: dict[str, Schema] = {
    "Pagination": obj(
        [
            "current_page",
            "total_pages",
            "entries_per_page",
            "total_entries",
            "order_direction",
            "order",
        ],
        current_page={"type": "integer", "minimum": 1},
        total_pages={"type": "integer", "minimum": 1},
        entries_per_page={"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        total_entries={"type": "integer", "minimum": 0},
        order_direction={"enum": list(ORDER_DIRECTIONS)},
        order={"enum": list(ORDER_DIRECTIONS), "description": "the same as order_direction"},
    ),
    "FamilyIdentity": obj(
        [
            "identity_token",
            "user_token",
            "provider",
            "source",
            "displayName",
            "name",
            "preferredUsername",
            "emails",
            "profileUrl",
        ],
        identity_token=UUID,
        user_token=UUID,
        provider={"enum": list(PROVIDERS)},
        date_creation=DATE,
        source=obj(["name", "key"], name=TEXT, key={"enum": list(PROVIDERS)}),
        displayName=TEXT,
        name=obj(["formatted"], givenName=TEXT, familyName=TEXT, formatted=TEXT),
        preferredUsername=TEXT,
        emails={"type": "array", "items": obj(["value"], value=TEXT)},
        thumbnailUrl=TEXT,
        pictureUrl=TEXT,
        profileUrl=TEXT,
        urls={"type": "array"},
    ),
    "FamilyUser": obj(
        ["user_token", "date_creation", "identities"],
        user_token=UUID,
        date_creation=DATE,
        date_last_login=DATE,
        num_logins={"type": "integer", "minimum": 0},
        identities={"type": "array", "items": ref("FamilyIdentity")},
    ),
    "ConnectionData": obj(
        ["connection", "plugin", "user"],
        connection=obj(["connection_token", "date"], connection_token=UUID, date=DATE),
        plugin=obj(
            ["key", "data"],
            key={"enum": list(SERVICES)},
            data=obj(["status", "action"], status=TEXT, action=TEXT),
        ),
        user=obj(
            ["user_token", "identity", "identities"],
            user_token=UUID,
            identity=obj(["identity_token", "provider"]),
            identities={"type": "array", "items": obj(["identity_token", "provider"])},
        ),
    ),
    "SharingMessage": obj(
        ["sharing_message_token", "date_creation", "parts", "publications"],
        sharing_message_token=UUID,
        date_creation=DATE,
        date_last_published=DATE,
        parts={"type": "object"},
        publications=obj(
            ["count", "entries"],
            count={"type": "integer", "minimum": 0},
            entries={
                "type": "array",
                "items": obj(
                    ["provider", "identity_token", "status", "message"],
                    provider={
                        "type": "string",
                        "description": "as named by the request: a network the sandbox does "
                        "not emulate fails with 404",
                    },
                    identity_token={"type": ["string", "null"]},
                    status=obj(
                        ["flag", "code", "message"],
                        flag={"enum": list(FLAGS)},
                        code={"type": "integer"},
                        message=TEXT,
                    ),
                    message={
                        "type": ["object", "null"],
                        "description": "the id and location of what was published (ours)",
                    },
                ),
            },
        ),
    ),
}


def data_schema(call: Call) -> Schema:
    """``result.data`` of one call."""
    name = call.name
    if call.family == "pull":
        assert call.listing is not None
        noun = TARGET_NOUNS.get(call.listing)
        entry = (
            obj([f"{noun}_id", "name", f"{noun}_location"], name=TEXT)
            if noun is not None
            else POST_ENTRY
        )
        return {**obj([call.listing], **{call.listing: listing(entry)}), "description": OURS}
    entries: dict[str, Schema] = {
        "connections.list": obj(
            ["connection_token", "status", "date_creation"], connection_token=UUID, status=TEXT
        ),
        "users.list": obj(
            ["user_token", "date_creation", "identities"],
            user_token=UUID,
            identities={"type": "array", "items": obj(["identity_token", "provider"])},
        ),
        "identities.list": obj(
            ["identity_token", "user_token", "provider", "date_creation"],
            identity_token=UUID,
            user_token=UUID,
            provider={"enum": list(PROVIDERS)},
        ),
        "sharing.messages.list": ref("SharingMessage"),
    }
    if name in entries:
        assert call.listing is not None
        return obj([call.listing], **{call.listing: listing(entries[name])})
    if name == "connections.read":
        return ref("ConnectionData")
    if name in ("users.read", "users.delete"):
        return obj(["user"], user=ref("FamilyUser"))
    if name == "identities.link":
        return obj(["identity", "user"], identity=ref("FamilyIdentity"), user=ref("FamilyUser"))
    if call.family == "identities":
        return obj(["identity"], identity=ref("FamilyIdentity"))
    if call.family == "sharing":
        return obj(["sharing_message"], sharing_message=ref("SharingMessage"))
    return {"type": "object", "description": "empty: the keys are right"}


def request_schemas(call: Call) -> dict[str, Schema]:
    """``schemas/<family>/<name>.json`` as ``<name>.request``, its ``$defs`` as components of
    their own (``<name>.defs.<def>``)."""
    assert call.schema is not None
    schema = bodies.schema(call.schema)
    schema.pop("$schema", None)
    return embedded(f"{call.name}.request", schema, f"{call.name}.defs.")


def _parameters(call: Call) -> list[Schema]:
    parameters: list[Schema] = []
    for name in re.findall(r"\{(\w+)\}", call.path):
        schema: Schema = (
            {"enum": list(PROVIDERS)}
            if name == "provider"
            else UUID
            if name.endswith("_token")
            else {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
        )
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if call.listing is not None:
        parameters += [
            {
                "name": "page",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "default": 1},
                "description": "1-based; a page past the end has no entries",
            },
            {
                "name": call.page_size,
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "default": DEFAULT_PAGE_SIZE},
                "description": f"page size; more than {MAX_PAGE_SIZE} is clamped to "
                f"{MAX_PAGE_SIZE}, with an X-Sandbox-Warning header",
            },
            {
                "name": "order_direction",
                "in": "query",
                "schema": {"enum": list(ORDER_DIRECTIONS), "default": DEFAULT_ORDER},
                "description": "by creation date",
            },
        ]
    if call.method == "DELETE":
        parameters.append(
            {
                "name": "confirm_deletion",
                "in": "query",
                "required": call.family != "sharing",
                "schema": {"enum": ["true"]},
                "description": "without it the deletion is refused with 400",
            }
        )
    return parameters


def login_query(callback_pattern: str) -> dict[str, Schema]:
    """The consent page's parameters; ``callback_pattern``: where the browser may be sent
    back, the hosts video callbacks may reach (the document's callback URL pattern)."""
    return {
        "callback_uri": {
            "type": "string",
            "pattern": callback_pattern,
            "description": "the integration's page that reads the connection: an absolute "
            "http(s) URL to a loopback host or one allowed with --callback-allow",
        },
        "service": {"enum": list(SERVICES), "default": SERVICES[0]},
        "nonce": TEXT,
        "force_reauth": {"enum": list(BOOLEANS)},
        "user_token": {**UUID, "description": "with social_link: the user the identity joins"},
    }


def _html(description: str) -> Schema:
    return {"description": description, "content": {"text/html": {"schema": TEXT}}}


def operation(call: Call, login: Mapping[str, Schema]) -> Schema:
    op: Schema = {
        "operationId": call.name,
        "summary": call.summary,
        "tags": [call.family],
        "parameters": _parameters(call),
    }
    if call.source == "ours":
        op["description"] = OURS if not call.html else "A page for a person (ours)."
    if call.html:
        if call.method == "GET":
            op["parameters"] += [
                {"name": name, "in": "query", "required": name == "callback_uri", "schema": schema}
                for name, schema in login.items()
            ]
        op["security"] = []
        op["responses"] = {
            "200": _html("The consent page, or the auto-submitting form back to callback_uri"),
            "400": _html("A bad callback_uri or service: an error page, never a redirect"),
            "403": _html("An identity of another network"),
            "404": _html("An unknown network, identity or user"),
            "413": _html("A form over --max-body"),
            "415": _html("A decision that is not a form"),
        }
        if call.method == "POST":
            fields = {**login, "identity": TEXT}
            op["requestBody"] = {
                "required": True,
                "content": {
                    FORM_TYPES[0]: {
                        "schema": obj(
                            ["callback_uri"],
                            decision={"enum": list(DECISIONS)},
                            **fields,
                        )
                    }
                },
            }
        return op
    op["security"] = [{"basic": []}]
    op["responses"] = {
        "200": {
            "description": call.summary,
            "content": {"application/json": {"schema": ref(f"{call.name}.success")}},
        },
        **{
            str(status): {"$ref": f"#/components/responses/Error{status}"}
            for status in FAMILY_ERRORS
        },
    }
    if call.family == "sharing" and call.method == "POST":
        op["responses"][str(PARTIAL)] = {
            "description": "At least one publication failed: each entry says how it went",
            "content": {"application/json": {"schema": ref(f"{call.name}.partial")}},
        }
    if call.schema is not None:
        op["requestBody"] = {
            "required": call.name != "identities.synchronize",
            "content": {"application/json": {"schema": ref(f"{call.name}.request")}},
        }
    return op


def family_paths(
    success: Any, partial: Any, callback_pattern: str
) -> tuple[dict[str, Schema], dict[str, Schema]]:
    """``(paths, component schemas)`` of every family call; ``success(data_ref)`` and
    ``partial(data_ref)`` make the envelopes around a call's data; ``callback_pattern`` is
    where the consent page may send the browser back."""
    login = login_query(callback_pattern)
    paths: dict[str, Schema] = {}
    schemas: dict[str, Schema] = copy.deepcopy(SCHEMAS_OF_FAMILIES)
    for call in CALLS:
        paths.setdefault(call.path, {})[call.method.lower()] = operation(call, login)
        if call.html:
            continue
        schemas[f"{call.name}.data"] = data_schema(call)
        schemas[f"{call.name}.success"] = success(ref(f"{call.name}.data"))
        if call.family == "sharing" and call.method == "POST":
            schemas[f"{call.name}.partial"] = partial(ref(f"{call.name}.data"))
        if call.schema is not None:
            schemas.update(request_schemas(call))
    return paths, schemas
