"""The OpenAPI document: valid, complete, in step with what the sandbox checks, and fuzzed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import validate

from sandbox.__main__ import main
from sandbox.api import envelope
from sandbox.api.control import ROUTES
from sandbox.api.datafiles import data_path
from sandbox.api.errors import BadRequest
from sandbox.api.push import BY_NAME, ENDPOINTS, Endpoint
from sandbox.config import Settings
from sandbox.http.app import create_app
from sandbox.http.dashboard import UI_PREFIX
from sandbox.http.login import callback_problem
from sandbox.model.jobs import callback_refusal
from sandbox.model.results import RESULTS
from sandbox.model.sandbox import compiled_validators
from sandbox.openapi import document as openapi
from sandbox.openapi.document import ARMING_TAG, build_document
from tests.conftest import AUTH, ENDPOINT_IDS, ClientFactory, Contract, example, push_path

Client = Any
DOCUMENT = build_document()  # the strict profile's: every rule of the schemas, precisely
# What the sandbox serves with the default settings: the live profile's (spec §6).
SERVED = build_document(validation=Settings().validation)
OPERATIONS = [
    (method, path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]
# The options of every fuzz run: the README's long run adds more examples and a seed.
FUZZ_OPTIONS = (
    f"--auth={Settings().public_key}:{Settings().private_key}",
    f"--exclude-tag={ARMING_TAG}",
    "--checks=all",
    "--workers=1",  # hypothesis parses lambdas with ast in each worker: CPython 3.11 races
)


@pytest.mark.parametrize("allow_unknown_keys", [False, True])
def test_document_is_valid_openapi_3_1(allow_unknown_keys: bool) -> None:
    document = build_document(allow_unknown_keys)
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert "X-Sandbox-Fault" in document["info"]["description"]


def test_every_route_is_documented_and_every_operation_is_served() -> None:
    routes = {
        (route.method.lower(), route.resource.canonical)
        for route in create_app(Settings()).router.routes()
        if route.resource is not None
        and route.method != "HEAD"  # HEAD comes with GET
        # the dashboard's pages are HTML for people, not API (tests/test_dashboard.py)
        and not route.resource.canonical.startswith(UI_PREFIX)
    }
    documented = {(method, path) for method, path, _ in OPERATIONS}
    assert routes == documented


def test_every_result_factory_has_a_schema_file_and_no_file_is_left_over() -> None:
    files = {path.stem for path in (data_path("schemas") / "results").glob("*.json")}
    assert {endpoint.result for endpoint in ENDPOINTS} == files == set(RESULTS)


def test_push_operations_use_basic_auth_and_name_their_errors() -> None:
    for endpoint in ENDPOINTS:
        operation = DOCUMENT["paths"][endpoint.route]["post"]
        assert operation["operationId"] == endpoint.name
        assert operation["security"] == [{"basic": []}]
        assert set(operation["responses"]) == {"200", *map(str, openapi.PUSH_ERRORS)}
        assert operation.get("deprecated", False) == endpoint.deprecated
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert names == set(re.findall(r"\{(\w+)\}", endpoint.route))
        assert "X-Sandbox-Fault" not in json.dumps(operation)


def test_only_the_calls_that_change_later_answers_are_tagged_arming() -> None:
    tagged = {(method, path) for method, path, op in OPERATIONS if ARMING_TAG in op.get("tags", ())}
    assert tagged == {
        ("post", "/__sandbox/faults"),
        ("post", "/__sandbox/seed"),
        ("post", "/__sandbox/reset"),
        ("post", "/__sandbox/identities/{token}/expire"),
    }
    assert len(ROUTES) == len([op for op in OPERATIONS if op[1].startswith("/__sandbox/")])


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_each_example_is_a_valid_request_and_is_the_documented_example(
    openapi_contract: Contract, endpoint: Endpoint
) -> None:
    body = example(endpoint)
    openapi_contract.validator(f"#/components/schemas/{endpoint.name}.request").validate(body)
    media = DOCUMENT["paths"][endpoint.route]["post"]["requestBody"]["content"]
    assert media["application/json"]["example"] == body


IMAGE_URLS = [
    "https://example.com/a.png",
    "https://example.com/a.JPEG?size=large",
    "https://example.com/a",
    "https://example.com/a.",
    "https://example.com/",
    "https://example.com",
    "https://example.com/a.b.gif#x.exe",
    "https://example.com/dir.exe/",
    "https://example.com/x.png/a.pdf",
    "https://example.com/a.pdf",
    "https://example.com/a.webp",
    "https://example.com/a.tiff?.png",
    "http://user@[::1]:8080/a.Png",
    "https://example.com/a.png ",
]


@pytest.mark.parametrize("url", IMAGE_URLS)
@pytest.mark.parametrize("name", ["twitter.picture", "pinterest.board.pin"])
def test_image_url_pattern_says_what_the_sandbox_checks(
    openapi_contract: Contract, name: str, url: str
) -> None:
    endpoint = BY_NAME[name]
    body = example(endpoint)
    node = body["request"]["push"][endpoint.node]
    node[key_of(node)] = url
    try:
        compiled_validators(False).validate(name, body)
        accepted = True
    except BadRequest:
        accepted = False
    ref = f"#/components/schemas/{name}.request"
    assert openapi_contract.validator(ref).is_valid(body) == accepted
    # and read as ECMA-262, the dialect of JSON Schema patterns (Rust's jsonschema)
    ecma = pytest.importorskip("jsonschema_rs")
    schemas = DOCUMENT["components"]["schemas"]
    push = schemas[f"{name}.request"]["properties"]["request"]["properties"]["push"]
    key = push["properties"][endpoint.node]["properties"][key_of(node)]
    image = schemas[key["$ref"].rsplit("/", 1)[-1]]
    assert ecma.validator_for(image).is_valid(url) == accepted


def key_of(node: dict[str, Any]) -> str:
    return "url" if "url" in node else "picture"


CALLBACK_URLS = [
    "http://localhost/cb",
    "http://LOCALHOST:8080/cb?x=1",
    "http://a.b.localhost/x",
    "http://u:p@127.0.0.1:9/x",
    "http://127.255.0.1",
    "http://[::1]:80/",
    "http://callbacks.EXAMPLE.com/x",
    "http://[fe80::1]/",
    "http://example.com/",
    "http://localhost./",
    "http://localhostx/",
    "http://127.0.0.01/",
    "http://128.0.0.1/",
    "http://-a.localhost/",
    "http://[::2]/",
    "https://a[@127.0.0.1/",  # urlsplit refuses a stray bracket: once a 500
    "http://localhost:8[0/",
    "http://u]@localhost/",
]


@pytest.mark.parametrize("url", CALLBACK_URLS)
def test_callback_url_pattern_says_what_the_sandbox_checks(url: str) -> None:
    allowed = ("callbacks.example.com", "fe80::1")
    schemas = build_document(callback_allow=allowed)["components"]["schemas"]
    push = schemas["youtube.video.request"]["properties"]["request"]["properties"]["push"]
    callback = push["properties"]["video"]["properties"]["callback_url"]
    url_pattern = DOCUMENT["components"]["schemas"]["url"]["pattern"]
    accepted = bool(re.search(url_pattern, url)) and callback_refusal(url, allowed) is None
    assert bool(re.search(callback["pattern"], url)) == accepted
    ecma = pytest.importorskip("jsonschema_rs")
    assert ecma.validator_for(callback).is_valid(url) == accepted


@pytest.mark.parametrize(
    "url", [*CALLBACK_URLS, "ftp://localhost/", "localhost/cb", "http://localhost/a b", ""]
)
def test_login_callback_uri_pattern_says_what_the_consent_page_checks(url: str) -> None:
    allowed = ("callbacks.example.com", "fe80::1")
    document = build_document(callback_allow=allowed)
    consent = document["paths"]["/socialize/connect/direct/{provider}/"]["get"]
    schema = next(p["schema"] for p in consent["parameters"] if p["name"] == "callback_uri")
    accepted = callback_problem(url, allowed) is None
    assert bool(re.search(schema["pattern"], url)) == accepted
    ecma = pytest.importorskip("jsonschema_rs")
    assert ecma.validator_for(schema).is_valid(url) == accepted


def test_image_url_pattern_is_derived_from_the_url_pattern() -> None:
    assert "[Pp][Nn][Gg]" in DOCUMENT["components"]["schemas"]["image_url"]["pattern"]
    with pytest.raises(Exception, match="no longer ends in"):
        openapi.image_url_pattern("^https?://.*$", ["png"])


async def test_served_document_names_the_sandbox_it_came_from(client: Client) -> None:
    response = await client.get("/__sandbox/openapi.json")
    served = await response.json()
    assert served["servers"] == [
        {"url": str(client.make_url("/")).rstrip("/"), "description": "this sandbox"}
    ]
    assert {**served, "servers": SERVED["servers"]} == json.loads(json.dumps(SERVED))


def test_cli_prints_the_document_and_exits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(SERVED))
    assert main(["--openapi", "--validation", "strict"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(DOCUMENT))
    assert main(["--openapi", "--validation", "strict", "--allow-unknown-keys"]) == 0
    schema = json.loads(capsys.readouterr().out)["components"]["schemas"]["twitter.post.request"]
    post = schema["properties"]["request"]["properties"]["push"]["properties"]["post"]
    assert "additionalProperties" not in post


# --- the check every test's client makes (tests/conftest.py) --------------------------------


async def test_an_answer_that_breaks_its_schema_fails_the_request(
    aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await aiohttp_client(create_app(Settings()))
    success = envelope.success
    monkeypatch.setattr(envelope, "success", lambda path, data: success(path, {**data, "x": 1}))
    endpoint = BY_NAME["twitter.post"]
    with pytest.raises(AssertionError, match=r"twitter.post.success.*'x' was unexpected"):
        await client.post(
            push_path(endpoint), json=example(endpoint), headers={"Authorization": AUTH}
        )
    failure = envelope.failure
    monkeypatch.setattr(envelope, "failure", lambda path, status, info: failure(path, 418, info))
    with pytest.raises(AssertionError, match=r"Error401.*401 was expected"):
        await client.post(push_path(endpoint), json=example(endpoint))


async def test_a_route_without_a_row_fails_the_request(aiohttp_client: ClientFactory) -> None:
    app = create_app(Settings())
    app.router.add_get("/__sandbox/widgets", widgets)
    client = await aiohttp_client(app)
    with pytest.raises(
        AssertionError, match="GET /__sandbox/widgets is not in the OpenAPI document"
    ):
        await client.get("/__sandbox/widgets")


async def widgets(request: web.Request) -> web.Response:
    return web.json_response({"widgets": []})


async def test_other_paths_are_not_checked(aiohttp_client: ClientFactory) -> None:
    receiver = web.Application()  # e.g. a test's receiver of video callbacks
    receiver.router.add_post("/callback", widgets)
    client = await aiohttp_client(receiver)
    assert (await client.post("/callback")).status == 200


async def test_answers_broken_on_purpose_by_a_fault_are_not_checked(client: Client) -> None:
    endpoint = BY_NAME["twitter.post"]
    for fault in ("html; status=503", "malformed", "empty"):
        headers = {"Authorization": AUTH, "X-Sandbox-Fault": fault}
        response = await client.post(push_path(endpoint), json=example(endpoint), headers=headers)
        assert response.status in (200, 503)
    headers = {"Authorization": AUTH, "X-Sandbox-Fault": "rate_limited"}
    response = await client.post(push_path(endpoint), json=example(endpoint), headers=headers)
    assert response.status == 429  # an error a fault makes is still checked: the envelope


# --- fuzzing ---------------------------------------------------------------------------------


@contextmanager
def running_sandbox(log: Path, *args: str) -> Iterator[str]:
    """``oneall-sandbox --port 0`` in a process of its own; yields its URL."""
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--port", "0", "--seed", "1", "-q", *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("Sandbox listening on "), ready + log.read_text()
        yield ready.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.slow
@pytest.mark.parametrize("validation", ["live", "strict"])
def test_bounded_fuzz_run_finds_nothing(tmp_path: Path, validation: str) -> None:
    """Every phase of Schemathesis (examples, coverage, fuzzing, stateful), positive and
    negative cases, every check, on every operation but the arming ones: a few seconds. In
    each validation profile, against the document the sandbox serves for it."""
    with running_sandbox(tmp_path / "sandbox.log", "--validation", validation) as url:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{url}/__sandbox/openapi.json",
                *FUZZ_OPTIONS,
                "--max-examples=3",
                "--generation-deterministic",
                "--no-color",
            ],
            capture_output=True,
            check=False,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    report = result.stdout[-12000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    # Loaded from its URL, the document's own path is not an operation to Schemathesis.
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", result.stdout)
    assert selected is not None, report
    arming = len([op for _, _, op in OPERATIONS if ARMING_TAG in op["tags"]])
    assert int(selected[2]) == len(OPERATIONS) - 1, report
    assert int(selected[1]) == int(selected[3]) == int(selected[2]) - arming, report
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in result.stdout, report


def test_every_call_around_the_push_is_an_operation_named_as_in_its_catalog() -> None:
    from sandbox.api.families import CALLS

    for call in CALLS:
        operation = DOCUMENT["paths"][call.path][call.method.lower()]
        assert operation["operationId"] == call.name
        assert operation["tags"] == [call.family]
        if call.family == "pull":  # shapes OneAll does not publish: said to be ours
            assert "ours" in operation["description"]
        if call.schema is not None:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{call.name}.request"}
        if not call.html:
            assert operation["security"] == [{"basic": []}]
            assert "401" in operation["responses"]
