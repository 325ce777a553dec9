"""The control plane's catalog: every route under ``/__sandbox/``, one row each, named once.

``sandbox.http.control`` builds the router from these rows (each row names its handler) and
``sandbox.openapi.document`` documents them; ``--help`` lists their paths. A request body is a
JSON Schema file, ``schemas/control/<file>.json`` (:data:`BODIES`), checked by
``sandbox.validation.bodies`` and embedded as it is in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PREFIX = "/__sandbox/"

# The states a video job goes through, in order (GET /__sandbox/jobs?state=).
# Which way an exchange of the journal went: a request to the sandbox, or a callback it sent.
INBOUND, OUTBOUND = DIRECTIONS = ("inbound", "outbound")
QUEUED, PROCESSING, SUCCEEDED, FAILED = JOB_STATES = ("queued", "processing", "succeeded", "failed")

# The request bodies: their component name in the OpenAPI document, and their file under
# schemas/control/.
BODIES: dict[str, str] = {
    "NewIdentity": "identity",
    "NewConnection": "connections",
    "FaultRule": "fault-rule",
    "NewSeed": "seed",
    "NoBody": "no-body",
}

Schema = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Route:
    """One control-plane route: ``path`` under /__sandbox/; ``handler`` the name of its function
    in ``sandbox.http.control``; ``answer`` and ``body`` the names of the schemas of its answer
    and of its request body (a key of :data:`BODIES`, or a composite of them: FaultRules);
    ``errors`` the statuses it answers besides its own; ``arming``: it changes how later
    requests are answered (not for fuzzing)."""

    method: str
    path: str
    handler: str
    answer: str
    summary: str
    status: int = 200
    body: str | None = None
    body_required: bool = True
    errors: tuple[int, ...] = ()
    arming: bool = False
    query: Mapping[str, Schema] = field(default_factory=dict)
    params: Mapping[str, Schema] = field(default_factory=dict)  # of the path
    media: str = "application/json"  # of the answer


TOKEN: Schema = {"$ref": "#/components/schemas/Token"}  # a lowercase UUID
JOURNAL_QUERY: dict[str, Schema] = {
    "resource": {"type": "string"},
    "identity": {"type": "string"},
    "status": {"type": "integer"},
    "since": {"type": "integer", "description": "only entries with a greater id"},
    "direction": {
        "type": "string",
        "description": f"{INBOUND} (requests to the sandbox) or {OUTBOUND} (its video callbacks)",
    },
    "body": {
        "description": "JSON (URL-encoded) contained in the request body or in its object node, "
        'e.g. {"message":"hello"}',
        "content": {"application/json": {"schema": {}}},
    },
    "warnings": {
        "type": "string",
        "enum": ["0", "1"],
        "description": "1: only entries with warnings, 0: only entries without",
    },
}
_READS_JSON: dict[str, Any] = {"errors": (400, 413)}
_OPTIONAL_BODY: dict[str, Any] = {"body": "NoBody", "body_required": False}
# method, path, handler, answer, summary, and the other fields of the Route
_Row = tuple[str, str, str, str, str, dict[str, Any]]

# fmt: off
_ROWS: tuple[_Row, ...] = (
    ("GET", "health", "health", "Health", "Ready, version and number of resources", {}),
    ("GET", "identities", "list_identities", "IdentityList",
     "Every identity, with its targets and origin", {}),
    ("POST", "identities", "register_identity", "Identity", "Register an identity",
     {"status": 201, "body": "NewIdentity", "errors": (400, 409, 413)}),
    ("POST", "connections", "make_connection", "Connection",
     "Make the connection the consent page would make, without a browser",
     {"status": 201, "body": "NewConnection", "errors": (400, 404, 413)}),
    ("POST", "identities/{token}/expire", "expire_token", "ExpiredIdentity",
     "Expire the identity's network access token: its pushes answer 403 until it is "
     "synchronized (force_token_update) or connects again",
     {"params": {"token": TOKEN}, "errors": (404,), "arming": True}),
    ("GET", "faults", "list_faults", "ArmedRules", "The armed fault rules and their counters",
     {}),
    ("POST", "faults", "arm_faults", "ArmedRules",
     "Arm fault rules: one, a list, or {rules: [...]}; a bad rule arms none",
     {"status": 201, "body": "FaultRules", **_READS_JSON, "arming": True}),
    ("DELETE", "faults", "clear_faults", "Removed", "Remove every fault rule", {}),
    ("DELETE", "faults/{id}", "remove_fault", "Removed", "Remove one fault rule",
     {"params": {"id": {"type": "integer"}}, "errors": (404,)}),
    ("GET", "journal", "read_journal", "Journal", "The push exchanges, oldest first, filtered",
     {"query": JOURNAL_QUERY, "errors": (400,)}),
    ("DELETE", "journal", "clear_journal", "Journal", "Forget every journal entry", {}),
    ("GET", "objects", "list_objects", "Objects", "What was published",
     {"query": {"identity": {"type": "string"}}}),
    ("POST", "seed", "set_seed", "Seed",
     "Restart every random source from a seed (null: unseeded)",
     {"body": "NewSeed", **_READS_JSON, "arming": True}),
    ("POST", "reset", "reset", "Reset",
     "Back to the start-up state: identities, journal, faults, objects, seed",
     {"errors": (413,), "arming": True}),
    ("GET", "jobs", "list_jobs", "Jobs",
     "Every asynchronous video job, its state and its callback deliveries",
     {"query": {"state": {"enum": list(JOB_STATES)}}, "errors": (400,)}),
    ("POST", "jobs/finish", "finish_jobs", "Jobs",
     "End the processing of every unfinished job now", {**_OPTIONAL_BODY, **_READS_JSON}),
    ("POST", "jobs/{id}/finish", "finish_jobs", "Jobs", "End the processing of one job now",
     {"params": {"id": {"type": "string", "description": "the X-Sandbox-Job header's value"}},
      **_OPTIONAL_BODY, "errors": (400, 404, 413)}),
    ("GET", "openapi.json", "openapi_document", "OpenAPI", "This document", {}),
    ("GET", "ca.pem", "ca_certificate", "CaCertificate",
     "With --tls: the CA certificate (PEM) that signs the sandbox's HTTPS certificate",
     {"errors": (404,), "media": "application/x-pem-file"}),
)
# fmt: on
ROUTES: tuple[Route, ...] = tuple(Route(*row[:5], **row[5]) for row in _ROWS)
BY_PATH: dict[str, Route] = {f"{route.method} {route.path}": route for route in ROUTES}


def route_summary() -> str:
    """Every control-plane path with its methods, in the table's order: ``GET, POST
    identities; ...`` (the command's --help)."""
    methods: dict[str, list[str]] = {}
    for route in ROUTES:
        methods.setdefault(route.path, []).append(route.method)
    return "; ".join(f"{', '.join(verbs)} {path}" for path, verbs in methods.items())
