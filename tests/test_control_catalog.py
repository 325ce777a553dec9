"""The control plane is declared once: its catalog (sandbox.api.control) is what the router serves
and what the OpenAPI document says, and each request body is one schema file under
schemas/control/, checked by the engine and published as it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sandbox.api.control import BODIES, PREFIX, ROUTES, Route
from sandbox.api.datafiles import data_path
from sandbox.api.errors import SettingsError
from sandbox.api.push import BY_NAME, PROVIDERS
from sandbox.config import Settings
from sandbox.http.app import create_app
from sandbox.model.faults import rule_schema
from sandbox.model.identities import TARGET_KINDS
from sandbox.openapi.document import build_document
from sandbox.validation import bodies
from tests.conftest import AUTH, example, push_path

Client = TestClient[web.Request, web.Application]
DOCUMENT = build_document()
COMPONENTS: dict[str, Any] = DOCUMENT["components"]["schemas"]
VIDEO = BY_NAME["twitter.video"]


def info(answer: dict[str, Any]) -> str:
    return str(answer["response"]["request"]["status"]["info"])


async def refused(client: Client, path: str, body: Any, status: int = 400) -> str:
    response = await client.post(path, json=body)
    assert response.status == status, await response.text()
    return info(await response.json())


# --- one catalog --------------------------------------------------------------------------------


def test_the_document_has_every_control_route_and_no_other() -> None:
    documented = {
        (method.upper(), path.removeprefix(PREFIX))
        for path, operations in DOCUMENT["paths"].items()
        if path.startswith(PREFIX)
        for method in operations
    }
    assert documented == {(route.method, route.path) for route in ROUTES}


async def filled(client: Client, route: Route) -> str:
    """The route's path with real ids in it: an identity, an armed fault, a running job."""
    path = route.path
    if "{token}" in path:
        answer = await (await client.post(PREFIX + "identities", json={"provider": "x"})).json()
        assert "provider" in info(answer)
        made = await client.post(PREFIX + "identities", json={"provider": "twitter"})
        path = path.replace("{token}", (await made.json())["token"])
    if path == "faults/{id}":
        armed = await client.post(PREFIX + "faults", json={"preset": "rate_limited"})
        path = path.replace("{id}", str((await armed.json())["rules"][0]["id"]))
    if path == "jobs/{id}/finish":
        video = await client.post(
            push_path(VIDEO), json=example(VIDEO), headers={"Authorization": AUTH}
        )
        path = path.replace("{id}", video.headers["X-Sandbox-Job"])
    return PREFIX + path


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
async def test_every_catalog_route_is_served_as_documented(
    aiohttp_client: Any, route: Route
) -> None:
    """Served at its path and method, answering the status its row says (the client checks the
    answer against the document's schema for it)."""
    client = await aiohttp_client(create_app(Settings(seed=7)))
    path = await filled(client, route)
    body_schema = {"FaultRules": "FaultRule"}.get(route.body or "", route.body or "")
    body = COMPONENTS.get(body_schema, {}).get("example")
    response = await client.request(route.method, path, json=body)
    if route.path == "ca.pem":  # documented 404 without --tls, from its own handler
        assert response.status == 404
        assert "plain HTTP" in info(await response.json())
        return
    assert response.status == route.status, await response.text()


# --- the bodies: one schema file each -------------------------------------------------------------


@pytest.mark.parametrize(("name", "file"), BODIES.items())
def test_each_body_in_the_document_is_its_schema_file(name: str, file: str) -> None:
    """Embedded as the engine reads it; its $defs stand beside it as NAME.def."""
    embedded = dict(COMPONENTS[name])
    defs = {
        key.removeprefix(f"{name}."): value
        for key, value in COMPONENTS.items()
        if key.startswith(f"{name}.")
    }
    if defs:
        embedded["$defs"] = defs
    text = json.dumps(embedded).replace(f"#/components/schemas/{name}.", "#/$defs/")
    read = rule_schema() if file == "fault-rule" else bodies.schema(f"control/{file}")
    assert json.loads(text) == read
    raw = (data_path("schemas") / "control" / f"{file}.json").read_text("utf-8")
    if "x-enum" not in raw and "x-pattern" not in raw:  # nothing the code fills in
        assert embedded == json.loads(raw)


def test_the_tables_the_schemas_name_are_the_codes() -> None:
    assert COMPONENTS["NewIdentity"]["properties"]["provider"]["enum"] == list(PROVIDERS)
    assert COMPONENTS["NewConnection"]["properties"]["provider"]["enum"] == list(PROVIDERS)
    assert "x-enum" not in json.dumps(DOCUMENT) and "x-pattern" not in json.dumps(DOCUMENT)
    properties = COMPONENTS["NewIdentity"]["properties"]
    assert TARGET_KINDS == ("pages", "groups", "companies", "boards", "playlists")
    assert all(properties[kind]["$ref"].endswith("NewIdentity.targets") for kind in TARGET_KINDS)


# --- refusals: the engine's, every bad key by its pointer ----------------------------------------


async def test_a_bad_identity_names_every_bad_key_by_its_pointer(client: Client) -> None:
    said = await refused(
        client,
        PREFIX + "identities",
        {"provider": "myspace", "consent": 1, "pages": [{"id": "1"}, {"name": "no id"}]},
    )
    assert said.startswith("Cannot register the identity: ")
    assert "/consent: must be true or false, got 1" in said
    assert f'/provider: must be one of {", ".join(PROVIDERS)}, got "myspace"' in said
    assert (
        '/pages/1: must be an object with an id (a non-empty string or an integer), got {"name"'
        in said
    )
    assert "/pages/0" not in said
    assert (await client.get(PREFIX + "identities")).status == 200


async def test_an_unknown_identity_key_is_named_with_the_keys_it_takes(client: Client) -> None:
    said = await refused(client, PREFIX + "identities", {"provider": "twitter", "pagez": []})
    assert "the body has the unknown key pagez (it takes provider, token" in said


async def test_a_taken_token_is_still_409_and_a_big_body_413(aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(Settings(max_body=100)))
    token = "0b0f7b6e-4a7d-4a83-9a43-8e8fa3a0c0aa"
    assert (
        await client.post(PREFIX + "identities", json={"provider": "twitter", "token": token})
    ).status == 201
    said = await refused(
        client, PREFIX + "identities", {"provider": "twitter", "token": token}, 409
    )
    assert f"/token: {token} is already the token of a twitter identity" in said
    await refused(client, PREFIX + "identities", {"provider": "twitter", "x": "y" * 200}, 413)


async def test_a_seed_is_a_whole_number_said_once(client: Client) -> None:
    said = await refused(client, PREFIX + "seed", {"seed": "five"})
    assert said == 'Cannot set the seed: /seed: must be null or a whole number, got "five"'
    answer = await (await client.post(PREFIX + "seed", json={"seed": 5.0})).json()
    assert answer == {"seed": 5}
    assert type(answer["seed"]) is int


async def test_a_bad_connection_names_the_key_by_its_pointer(client: Client) -> None:
    said = await refused(client, PREFIX + "connections", {"provider": "twitter", "user_token": "u"})
    assert said == (
        "Cannot make the connection: /user_token: must be a lowercase UUID (8-4-4-4-12 hex "
        'digits), got "u"'
    )


@pytest.mark.parametrize("path", ["jobs/finish", "jobs/{id}/finish"])
async def test_finishing_jobs_takes_no_body_or_an_empty_object(client: Client, path: str) -> None:
    video = await client.post(
        push_path(VIDEO), json=example(VIDEO), headers={"Authorization": AUTH}
    )
    url = PREFIX + path.replace("{id}", video.headers["X-Sandbox-Job"])
    said = await refused(client, url, {"job": "all"})
    assert said == (
        "Cannot finish the jobs: the body must be empty (the call takes no body) or {}, got "
        '{"job": "all"}'
    )
    assert "must be empty" in await refused(client, url, [])
    assert (await client.post(url, data=b"")).status == 200
    assert (await client.post(url, json={})).status == 200


# --- the identities of a file have the same shape ------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "words"),
    [
        ({"provider": "myspace"}, "identities/0/provider: must be one of facebook"),
        (
            {"provider": "twitter", "pages": [{}]},
            "identities/0/pages/0: must be an object with an id",
        ),
        ({"provider": "twitter", "replace": True}, "identities/0/replace: a file's identities"),
    ],
    ids=["provider", "target", "replace"],
)
def test_an_identities_file_is_checked_against_the_same_schema(
    tmp_path: Path, identity: dict[str, Any], words: str
) -> None:
    path = tmp_path / "ids.json"
    token = {"token": "0b0f7b6e-4a7d-4a83-9a43-8e8fa3a0c0ab"}
    path.write_text(json.dumps({"identities": [{**token, **identity}]}))
    with pytest.raises(SettingsError, match=f"{path}: {words}"):
        create_app(Settings(identities=path))
