"""Shared test helpers: settings, an app client whose every answer is checked against the
OpenAPI document, the example bodies."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import jsonschema
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from sandbox.api.datafiles import data_path
from sandbox.api.push import ENDPOINTS, Endpoint
from sandbox.config import Settings
from sandbox.http.app import ENTRY, basic_credentials, create_app
from sandbox.openapi.document import CONTROL_PREFIX, build_document

AUTH = basic_credentials(Settings().public_key, Settings().private_key)
TOKENS = {
    "facebook": "5f2ff82c-882f-43f2-b1c4-28193402decf",
    "linkedin": "5aab3f12-f7b7-4b88-8493-c9a8ff4d4daa",
    "pinterest": "4962248e-56ad-44a2-96cf-63415c6a8647",
    "twitter": "16b2eacb-c86e-4fdb-b482-2836b59ee40e",
    "youtube": "6172457d-07e9-40f8-be3b-1267b4184164",
}
NO_CONSENT_TOKEN = "68370a54-ccac-402e-837c-ce6709e5dfd9"
PATH_PARAMS = {
    "board_id": "549755885175678901",
    "playlist_id": "PLr3Xw9bT5nQ1mZ7kV2cJ8hY4dF6gS0aLe",
}

ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


def example(endpoint: Endpoint) -> dict[str, Any]:
    path = data_path("fixtures") / "requests" / f"{endpoint.name}.json"
    body: dict[str, Any] = json.loads(path.read_text())
    return body


def push_path(endpoint: Endpoint, token: str | None = None) -> str:
    return endpoint.route.format(token=token or TOKENS[endpoint.provider], **PATH_PARAMS)


# --- every answer against the OpenAPI document ------------------------------------------------

DOCUMENT_URI = "urn:oneall-sandbox:openapi"
CHECKED_PATHS = (
    "/push/",
    CONTROL_PREFIX,
    # the API around the push (the consent page under /socialize/ is HTML)
    "/tools/",
    "/connections",
    "/users",
    "/identities",
    "/pull/",
    "/sharing/",
)
# Fault effects that break the answer on purpose: no envelope to check.
BROKEN_ON_PURPOSE = frozenset({"empty", "malformed", "html", "reset"})


class Contract:
    """The response schemas of the OpenAPI document, each compiled on first use and kept for
    the session: which schema an answer must match, and what is wrong with one that does not."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
        self.validators: dict[str, Any] = {}

    def validator(self, ref: str) -> Any:
        validator = self.validators.get(ref)
        if validator is None:
            schema = {"$ref": DOCUMENT_URI + ref}
            validator = jsonschema.Draft202012Validator(schema, registry=self.registry)
            self.validators[ref] = validator
        return validator

    def schema_ref(self, method: str, template: str | None, status: int) -> tuple[str, str]:
        """The ``$ref`` of the schema for this answer, and a problem when there is none."""
        documented = "get" if method == "HEAD" else method.lower()  # HEAD comes with GET
        operation = self.document["paths"].get(template or "", {}).get(documented)
        if operation is None:
            if template is not None and status < 400:
                return "", f"{method} {template} is not in the OpenAPI document: add its row "
                "(sandbox/api/control.py: ROUTES for the control plane)"
            return "#/components/schemas/Error", ""  # unknown path or method: an error envelope
        answer = operation["responses"].get(str(status))
        if answer is None:
            if status >= 400:
                return "#/components/schemas/Error", ""
            return "", f"status {status} is not documented for {method} {template}"
        if "$ref" in answer:
            answer = self.document["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]]
        return str(answer["content"]["application/json"]["schema"]["$ref"]), ""

    def problems(
        self, method: str, template: str | None, response: web.StreamResponse
    ) -> list[str]:
        if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
            return []  # streamed (a slow_body fault): nothing to read here
        ref, problem = self.schema_ref(method, template, response.status)
        if problem:
            return [problem]
        if response.content_type != "application/json":
            return [f"Content-Type {response.content_type}, not application/json"]
        try:
            body = json.loads(response.body)
        except ValueError as error:
            return [f"the body is not JSON ({error}): {response.body[:200]!r}"]
        errors = [
            f"{error.json_path}: {error.message}" for error in self.validator(ref).iter_errors(body)
        ]
        if response.status >= 400 and not errors:
            code = body["response"]["request"]["status"]["code"]
            if code != response.status:
                errors.append(f"status.code {code} is not the HTTP status")
        return [f"breaks {ref}: {error}" for error in errors[:5]]


@pytest.fixture(scope="session")
def openapi_contract() -> Contract:
    return Contract(build_document())


class Watch:
    """A middleware put first on an app under test: it checks every answer as sent."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.found: list[str] = []

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[Any]]
    ) -> web.StreamResponse:
        if not request.path.startswith(CHECKED_PATHS):  # e.g. a test's callback receiver
            return await handler(request)
        where = f"{request.method} {request.path}"
        try:
            response: web.StreamResponse = await handler(request)
        except Exception as error:
            self.found.append(f"{where}: {error!r} escaped the envelope (a bare 500)")
            raise
        entry = request.get(ENTRY)
        fault = entry.fault if entry is not None else None
        transport = request.transport
        if fault and (
            fault["effect"] in BROKEN_ON_PURPOSE or transport is None or transport.is_closing()
        ):
            return response
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else None
        problems = self.contract.problems(request.method, template, response)
        self.found += [f"{where} -> {response.status}: {problem}" for problem in problems]
        return response

    def check(self) -> None:
        found, self.found = self.found, []
        if found:
            raise AssertionError(
                "answers that break the OpenAPI document:\n  " + "\n  ".join(found)
            )


@pytest.fixture
def aiohttp_client(
    aiohttp_client: ClientFactory, openapi_contract: Contract
) -> Iterator[ClientFactory]:
    """pytest-aiohttp's factory, each answer of an app it serves on a push or control-plane
    path checked against the OpenAPI response schema of its operation and status (the error
    envelope for the others): the request that got a bad answer fails, naming what is wrong."""
    watches: list[Watch] = []

    async def checked_client(app: Any, *args: Any, **kwargs: Any) -> Any:
        watch = Watch(openapi_contract)
        watches.append(watch)
        if isinstance(app, web.Application):
            app.middlewares.insert(0, watch.middleware)
        client = await aiohttp_client(app, *args, **kwargs)
        request = client._request

        async def checked_request(method: str, path: Any, **options: Any) -> Any:
            try:
                return await request(method, path, **options)
            finally:
                watch.check()

        client._request = checked_request
        return client

    yield checked_client
    for watch in watches:
        watch.check()


@pytest.fixture
def settings() -> Settings:
    return Settings(seed=7)


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, settings: Settings
) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(create_app(settings))


ENDPOINT_IDS = [endpoint.name for endpoint in ENDPOINTS]


pytest_plugins = ("pytester", "tests.browser")  # tests.browser: the browser and page fixtures
