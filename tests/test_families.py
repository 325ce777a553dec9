"""The API around the push (oneall-api.md): site, connections, users, identities, the Pull API,
expired tokens, sharing messages, out-of-scope calls and fault rules naming a family. Every
answer here is also checked against the OpenAPI document (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.api.families import BY_NAME, CALLS, SCHEMAS
from sandbox.api.live import IDENTITY_NOT_FOUND, provider_refused
from sandbox.api.push import BY_NAME as PUSHES
from sandbox.config import Settings
from sandbox.http.app import create_app
from sandbox.model.answers import ANSWERS
from sandbox.testing.handle import SandboxHandle
from tests.conftest import AUTH, NO_CONSENT_TOKEN, TOKENS, ClientFactory, example, push_path

Client = Any
HEADERS = {"Authorization": AUTH}
UNKNOWN = "0badf00d-0000-4000-8000-000000000000"


async def get(client: Client, path: str, status: int = 200, **options: Any) -> Any:
    response = await client.get(path, headers=HEADERS, **options)
    body = await response.json()
    assert response.status == status, body
    assert body["response"]["request"]["status"]["code"] == status
    return body["response"].get("result", {}).get("data", body["response"]["request"])


async def call(client: Client, method: str, path: str, status: int = 200, **options: Any) -> Any:
    response = await client.request(method, path, headers=HEADERS, **options)
    body = await response.json()
    assert response.status == status, body
    return body["response"].get("result", {}).get("data", body["response"]["request"])


async def connect(client: Client, provider: str, **given: Any) -> dict[str, Any]:
    response = await client.post("/__sandbox/connections", json={"provider": provider, **given})
    body: dict[str, Any] = await response.json()
    assert response.status == 201, body
    return body


def test_every_call_has_its_answer_and_schema_file() -> None:
    for row in CALLS:
        assert row.html or row.answer in ANSWERS, row.name
    from sandbox.api.datafiles import data_path

    for schema in SCHEMAS:
        assert (data_path("schemas") / f"{schema}.json").is_file()


# --- site ---------------------------------------------------------------------------------


async def test_ping_checks_the_site_keys(client: Client) -> None:
    assert await get(client, "/tools/ping.json") == {}
    response = await client.get("/tools/ping.json")
    assert response.status == 401
    assert (await response.json())["response"]["request"]["status"]["code"] == 401


# --- connections, users, identities -------------------------------------------------------


async def test_a_connection_reads_as_the_integrations_read_it(client: Client) -> None:
    made = await connect(client, "twitter", identity_token=TOKENS["twitter"])
    data = await get(client, f"/connections/{made['connection_token']}.json")
    assert data["plugin"] == {
        "key": "social_login",
        "data": {"status": "success", "action": "login"},
    }
    assert data["connection"]["connection_token"] == made["connection_token"]
    identity = data["user"]["identity"]
    assert identity["identity_token"] == TOKENS["twitter"]
    assert identity["displayName"] == "Alan Turing"
    assert identity["source"] == {"name": "Twitter", "key": "twitter"}
    assert data["user"]["user_token"] == identity["user_token"]
    listed = await get(client, "/connections.json")
    assert [e["connection_token"] for e in listed["connections"]["entries"]] == [
        made["connection_token"]
    ]
    await get(client, f"/connections/{UNKNOWN}.json", 404)


async def test_a_refused_family_call_says_the_sandbox_detail_beside_the_live_info(
    client: Client,
) -> None:
    response = await client.get(f"/connections/{UNKNOWN}.json", headers=HEADERS)
    assert response.status == 404
    body = await response.json()
    info = body["response"]["request"]["status"]["info"]
    assert info == "No connection has been found for the specified connection_token"
    detail = response.headers["X-Sandbox-Detail"]
    assert UNKNOWN in detail and "--max-connections" in detail
    journal = await (await client.get("/__sandbox/journal")).json()
    assert journal["entries"][-1]["detail"] == detail


async def test_a_head_request_answers_the_get_without_its_body(client: Client) -> None:
    got = await client.get("/tools/ping.json", headers=HEADERS)
    head = await client.head("/tools/ping.json", headers=HEADERS)
    assert head.status == got.status == 200
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    assert await head.read() == b""


async def test_a_network_the_sandbox_does_not_emulate_fails_its_publication_not_the_request(
    client: Client,
) -> None:
    user = (await get(client, f"/identities/{TOKENS['twitter']}.json"))["identity"]["user_token"]
    body = {
        "request": {
            "sharing_message": {
                "parts": {"text": {"body": "Hello"}},
                "publish_for_user": {"user_token": user, "providers": ["twitter", "instagram"]},
            }
        }
    }
    response = await client.post("/sharing/messages.json", json=body, headers=HEADERS)
    assert response.status == 207
    entries = (await response.json())["response"]["result"]["data"]["sharing_message"][
        "publications"
    ]["entries"]
    assert [(e["provider"], e["status"]["code"]) for e in entries] == [
        ("twitter", 200),
        ("instagram", 404),
    ]
    assert (
        "instagram is not a network the sandbox emulates" in (response.headers["X-Sandbox-Warning"])
    )


async def test_a_new_user_connection_makes_an_identity_pushes_can_use(client: Client) -> None:
    made = await connect(client, "linkedin")
    identity = made["user"]["identity"]
    endpoint = PUSHES["linkedin.post"]
    response = await client.post(
        push_path(endpoint, identity["identity_token"]), json=example(endpoint), headers=HEADERS
    )
    assert response.status == 200
    user = await get(client, f"/users/{made['user']['user_token']}.json")
    assert [i["identity_token"] for i in user["user"]["identities"]] == [identity["identity_token"]]
    assert user["user"]["num_logins"] == 1


@pytest.mark.parametrize("settings", [Settings(seed=7)])
async def test_seeded_tokens_are_the_same_in_every_run(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    runs = []
    for _ in range(2):
        client = await aiohttp_client(create_app(settings))
        made = await connect(client, "facebook")
        runs.append((made["connection_token"], made["user"]["identity"]["identity_token"]))
    assert runs[0] == runs[1]


async def test_a_seeded_sandbox_registers_the_same_identity_in_every_run(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    runs = []
    for _ in range(2):
        client = await aiohttp_client(create_app(settings))
        response = await client.post("/__sandbox/identities", json={"provider": "twitter"})
        assert response.status == 201
        identity = await response.json()
        runs.append((identity["token"], identity["user_token"], identity["user"]))
    assert runs[0] == runs[1]


async def test_users_and_identities_lists_are_paginated(client: Client) -> None:
    data = await get(client, "/identities.json?entries_per_page=2&page=2&order_direction=asc")
    page = data["identities"]
    assert page["pagination"] == {
        "current_page": 2,
        "total_pages": 3,
        "entries_per_page": 2,
        "total_entries": 6,
        "order_direction": "asc",
        "order": "asc",
    }
    assert page["count"] == 2
    assert [e["identity_token"] for e in page["entries"]] == [
        TOKENS["pinterest"],
        TOKENS["twitter"],
    ]
    past = await get(client, "/users.json?page=9")
    assert past["users"]["entries"] == [] and past["users"]["pagination"]["total_entries"] == 6
    refused = await get(client, "/users.json?order_direction=sideways", 400)
    assert refused["status"]["info"] == (
        "The query parameter order_direction must be asc or desc, got 'sideways'"
    )
    await get(client, "/users.json?page=0", 400)
    response = await client.get("/users.json?entries_per_page=501", headers=HEADERS)
    assert response.status == 200
    assert "500" in response.headers["X-Sandbox-Warning"]
    assert (await response.json())["response"]["result"]["data"]["users"]["pagination"][
        "entries_per_page"
    ] == 500


async def test_a_deleted_identity_answers_404_and_is_not_registered_again(client: Client) -> None:
    token = TOKENS["twitter"]
    await call(client, "DELETE", f"/identities/{token}.json", 400)  # no confirm_deletion
    deleted = await call(client, "DELETE", f"/identities/{token}.json?confirm_deletion=true")
    assert deleted["identity"]["identity_token"] == token
    info = await get(client, f"/identities/{token}.json", 404)
    assert info["status"]["info"] == IDENTITY_NOT_FOUND
    endpoint = PUSHES["twitter.post"]
    response = await client.post(push_path(endpoint), json=example(endpoint), headers=HEADERS)
    assert response.status == 404
    assert (await response.json())["response"]["request"]["status"]["info"] == IDENTITY_NOT_FOUND
    listed = await get(client, "/identities.json")
    assert token not in [e["identity_token"] for e in listed["identities"]["entries"]]


async def test_reads_never_register_a_token(client: Client) -> None:
    await get(client, f"/identities/{UNKNOWN}.json", 404)
    await get(client, f"/pull/identities/{UNKNOWN}/facebook/pages.json", 404)
    listed = await get(client, "/identities.json")
    assert listed["identities"]["pagination"]["total_entries"] == 6


async def test_deleting_a_user_deletes_its_identities(client: Client) -> None:
    made = await connect(client, "twitter", identity_token=TOKENS["twitter"])
    user_token = made["user"]["user_token"]
    await call(
        client,
        "PUT",
        f"/identities/{TOKENS['linkedin']}/link.json",
        json={"request": {"user": {"user_token": user_token}}},
    )
    await call(client, "DELETE", f"/users/{user_token}.json", 400)
    await call(client, "DELETE", f"/users/{user_token}.json?confirm_deletion=true")
    await get(client, f"/users/{user_token}.json", 404)
    for provider in ("twitter", "linkedin"):
        await get(client, f"/identities/{TOKENS[provider]}.json", 404)


async def test_link_moves_an_identity_to_another_user(client: Client) -> None:
    twitter = await get(client, f"/identities/{TOKENS['twitter']}.json")
    target = twitter["identity"]["user_token"]
    linkedin = await get(client, f"/identities/{TOKENS['linkedin']}.json")
    old = linkedin["identity"]["user_token"]
    moved = await call(
        client,
        "PUT",
        f"/identities/{TOKENS['linkedin']}/link.json",
        json={"request": {"user": {"user_token": target}}},
    )
    assert moved["identity"]["user_token"] == target
    assert [i["provider"] for i in moved["user"]["identities"]] == ["twitter", "linkedin"]
    await get(client, f"/users/{old}.json", 404)  # its last identity left it
    refused = await call(
        client,
        "PUT",
        f"/identities/{TOKENS['linkedin']}/link.json",
        400,
        json={"request": {"user": {}}},
    )
    assert "[request->user]" in refused["status"]["info"]
    await call(
        client,
        "PUT",
        f"/identities/{TOKENS['linkedin']}/link.json",
        404,
        json={"request": {"user": {"user_token": UNKNOWN}}},
    )


# --- Pull API -----------------------------------------------------------------------------


async def test_pull_lists_targets_and_those_pushes_created(client: Client) -> None:
    pages = await get(client, f"/pull/identities/{TOKENS['facebook']}/facebook/pages.json")
    entries = pages["pages"]["entries"]
    assert {e["page_id"] for e in entries} == {"104582931357924", "112233445566778"}
    assert all(e["page_location"].startswith("https://www.facebook.com/") for e in entries)
    endpoint = PUSHES["pinterest.board"]
    created = await client.post(push_path(endpoint), json=example(endpoint), headers=HEADERS)
    board_id = (await created.json())["response"]["result"]["data"]["board_id"]
    boards = await get(client, f"/pull/identities/{TOKENS['pinterest']}/pinterest/boards.json")
    assert boards["boards"]["entries"][0]["board_id"] == board_id  # newest first
    assert boards["boards"]["count"] == 3
    await get(client, f"/pull/identities/{TOKENS['twitter']}/facebook/pages.json", 403)


async def test_pull_lists_what_the_identity_published_newest_first(client: Client) -> None:
    endpoint = PUSHES["facebook.page.post"]
    ids = []
    for page_id in ("104582931357924", "112233445566778", "104582931357924"):
        body = {"request": {"push": {"page": {"id": page_id, "message": "hello"}}}}
        response = await client.post(push_path(endpoint), json=body, headers=HEADERS)
        ids.append((await response.json())["response"]["result"]["data"]["post_id"])
    token = TOKENS["facebook"]
    posts = await get(client, f"/pull/identities/{token}/facebook/posts.json?num_posts=2")
    assert [e["post_id"] for e in posts["posts"]["entries"]] == [ids[2], ids[1]]
    on_page = await get(
        client, f"/pull/identities/{token}/facebook/page/104582931357924/posts.json"
    )
    assert [e["post_id"] for e in on_page["posts"]["entries"]] == [ids[2], ids[0]]
    tweets = await get(client, f"/pull/identities/{TOKENS['twitter']}/twitter/tweets.json")
    assert tweets["tweets"]["entries"] == []
    channels = await get(client, f"/pull/identities/{TOKENS['youtube']}/youtube/channels.json")
    assert channels["channels"]["entries"][0]["name"] == "Orbital Mechanics"


# --- expired tokens -----------------------------------------------------------------------


async def test_an_expired_token_refuses_pushes_until_synchronized(client: Client) -> None:
    token = TOKENS["twitter"]
    endpoint = PUSHES["twitter.post"]
    response = await client.post(f"/__sandbox/identities/{token}/expire")
    assert response.status == 200
    refused = await client.post(push_path(endpoint), json=example(endpoint), headers=HEADERS)
    assert refused.status == 403
    body = await refused.json()
    assert body["response"]["request"]["status"]["info"] == provider_refused("post")
    assert "synchronize" in refused.headers["X-Sandbox-Detail"]
    path = f"/identities/{token}/synchronize.json"
    await call(client, "PUT", path, json={"request": {}})  # the Node SDK's body: no token update
    still = await client.post(push_path(endpoint), json=example(endpoint), headers=HEADERS)
    assert still.status == 403
    forced = {"request": {"synchronize": {"force_token_update": True}}}
    await call(client, "PUT", path, json=forced)
    ok = await client.post(push_path(endpoint), json=example(endpoint), headers=HEADERS)
    assert ok.status == 200


async def test_a_new_connection_ends_an_expired_token(client: Client) -> None:
    token = TOKENS["linkedin"]
    await client.post(f"/__sandbox/identities/{token}/expire")
    endpoint = PUSHES["linkedin.post"]
    refused = await client.post(push_path(endpoint), json=example(endpoint), headers=HEADERS)
    assert refused.status == 403
    await connect(client, "linkedin", identity_token=token)
    ok = await client.post(push_path(endpoint), json=example(endpoint), headers=HEADERS)
    assert ok.status == 200


async def test_the_token_expired_preset_leaves_the_identity_expired(client: Client) -> None:
    endpoint = PUSHES["twitter.post"]
    rule = {"resource": "twitter.post", "preset": "provider_token_expired", "times": 1}
    assert (await client.post("/__sandbox/faults", json=rule)).status == 201
    statuses = []
    for _ in range(3):
        response = await client.post(push_path(endpoint), json=example(endpoint), headers=HEADERS)
        statuses.append(response.status)
    assert statuses == [403, 403, 403]  # fired once; the state answers the next ones
    rules = await (await client.get("/__sandbox/faults")).json()
    assert rules["rules"][0]["fired"] == 1


# --- sharing messages ---------------------------------------------------------------------


async def test_a_sharing_message_publishes_through_the_push_machinery(client: Client) -> None:
    user = (await get(client, f"/identities/{TOKENS['twitter']}.json"))["identity"]["user_token"]
    await call(
        client,
        "PUT",
        f"/identities/{TOKENS['linkedin']}/link.json",
        json={"request": {"user": {"user_token": user}}},
    )
    parts = {
        "text": {"body": "Hello"},
        "link": {"url": "https://example.org/", "name": "Example"},
    }
    body = {
        "request": {
            "sharing_message": {
                "parts": parts,
                "publish_for_user": {"user_token": user, "providers": ["twitter", "linkedin"]},
            }
        }
    }
    created = await call(client, "POST", "/sharing/messages.json", json=body)
    message = created["sharing_message"]
    entries = message["publications"]["entries"]
    assert [(e["provider"], e["status"]["code"]) for e in entries] == [
        ("twitter", 200),
        ("linkedin", 200),
    ]
    assert entries[0]["message"]["id"].isdigit()
    journal = await (await client.get("/__sandbox/journal?resource=twitter.post")).json()
    [pushed] = journal["entries"]
    assert pushed["request"]["body"]["request"]["push"]["post"]["message"] == (
        "Hello https://example.org/"
    )
    token = message["sharing_message_token"]
    assert (await get(client, f"/sharing/messages/{token}.json"))["sharing_message"] == message
    listed = await get(client, "/sharing/messages.json")
    assert listed["sharing_messages"]["count"] == 1
    again = await call(
        client,
        "POST",
        f"/sharing/messages/{token}.json",
        json={
            "request": {
                "sharing_message": {"publish_for_identity": {"identity_token": TOKENS["twitter"]}}
            }
        },
    )
    assert again["sharing_message"]["publications"]["count"] == 3
    await call(client, "DELETE", f"/sharing/messages/{token}.json?confirm_deletion=true")
    await get(client, f"/sharing/messages/{token}.json", 404)


async def test_a_failed_publication_answers_207(client: Client) -> None:
    body = {
        "request": {
            "sharing_message": {
                "parts": {"text": {"body": "no link"}},
                "publish_for_identity": {"identity_token": TOKENS["linkedin"]},
            }
        }
    }
    response = await client.post("/sharing/messages.json", json=body, headers=HEADERS)
    assert response.status == 207
    data = (await response.json())["response"]["result"]["data"]
    [entry] = data["sharing_message"]["publications"]["entries"]
    assert entry["status"]["code"] == 400 and "link" in entry["status"]["message"]
    rule = {"resource": "twitter.post", "preset": "server_error"}
    assert (await client.post("/__sandbox/faults", json=rule)).status == 201
    body["request"]["sharing_message"]["publish_for_identity"]["identity_token"] = TOKENS["twitter"]
    response = await client.post("/sharing/messages.json", json=body, headers=HEADERS)
    assert response.status == 207
    data = (await response.json())["response"]["result"]["data"]
    assert data["sharing_message"]["publications"]["entries"][0]["status"]["code"] == 500
    no_consent = {
        "request": {
            "sharing_message": {
                "parts": {"text": {"body": "hi"}},
                "publish_for_identity": {"identity_token": NO_CONSENT_TOKEN},
            }
        }
    }
    response = await client.post("/sharing/messages.json", json=no_consent, headers=HEADERS)
    assert response.status == 207


async def test_a_sharing_body_is_validated(client: Client) -> None:
    body = {"request": {"sharing_message": {"parts": {}}}}
    refused = await call(client, "POST", "/sharing/messages.json", 400, json=body)
    assert "publish_for_user or publish_for_identity" in refused["status"]["info"]


# --- out of scope, faults by family --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "nearest"),
    [
        (f"/identities/{UNKNOWN}/contacts.json", "GET /identities/<identity_token>.json"),
        (f"/users/{UNKNOWN}/publish.json", "POST /sharing/messages.json"),
        (f"/pull/identities/{UNKNOWN}/youtube/videos.json", "youtube/playlists.json"),
        ("/providers/facebook/pages.json", "facebook/pages.json"),
        ("/storage/users.json", "GET /users/<user_token>.json"),
    ],
)
async def test_out_of_scope_calls_name_the_nearest_emulated_one(
    client: Client, path: str, nearest: str
) -> None:
    info = await get(client, path, 404)
    assert "does not emulate" in info["status"]["info"] and nearest in info["status"]["info"]


async def test_a_fault_rule_reaches_a_family_only_when_it_names_it(client: Client) -> None:
    assert (await client.post("/__sandbox/faults", json={"preset": "server_error"})).status == 201
    await get(client, f"/identities/{TOKENS['twitter']}.json")  # * is every push resource
    await client.delete("/__sandbox/faults")
    rule = {"resource": "identities.*", "preset": "overloaded", "times": 1}
    assert (await client.post("/__sandbox/faults", json=rule)).status == 201
    await get(client, f"/identities/{TOKENS['twitter']}.json", 503)
    await get(client, f"/identities/{TOKENS['twitter']}.json")
    journal = await (await client.get("/__sandbox/journal?resource=identities.read")).json()
    assert [e["response"]["status"] for e in journal["entries"]] == [200, 503, 200]
    bad = await client.post("/__sandbox/faults", json={"resource": "nothing.*", "effect": "reset"})
    assert bad.status == 400
    pull = {"resource": "pull.facebook.pages", "preset": "rate_limited"}
    assert (await client.post("/__sandbox/faults", json=pull)).status == 201
    response = await client.get(
        f"/pull/identities/{TOKENS['facebook']}/facebook/pages.json", headers=HEADERS
    )
    assert response.status == 429 and response.headers["Retry-After"] == "60"


async def test_wrong_method_on_a_family_path_says_what_it_accepts(client: Client) -> None:
    response = await client.post("/users.json", headers=HEADERS)
    assert response.status == 405
    info = (await response.json())["response"]["request"]["status"]["info"]
    assert "GET" in info and "push resources" not in info


async def test_the_consent_page_says_which_words_it_takes(client: Client) -> None:
    path = "/socialize/connect/direct/twitter/?callback_uri=http://localhost:9/cb"
    page = await client.get(path)
    buttons = await page.text()
    assert 'name="decision" value="allow"' in buttons and 'value="deny"' in buttons
    refused = await client.get(path + "&force_reauth=yes")
    assert refused.status == 400
    assert "force_reauth must be true or false, got &#x27;yes&#x27;" in await refused.text()
    form = {"callback_uri": "http://localhost:9/cb", "decision": "maybe"}
    refused = await client.post(path, data=form)
    assert refused.status == 400
    assert "The decision must be allow or deny, got &#x27;maybe&#x27;" in await refused.text()


def test_family_calls_are_named_once() -> None:
    assert BY_NAME["pull.facebook.page.posts"].path.endswith("/facebook/page/{page_id}/posts.json")
    assert len({(c.method, c.path) for c in CALLS}) == len(CALLS)


# --- the pytest handle, strict identities -------------------------------------------------


def test_the_handle_connects_and_expires_tokens(sandbox_server: SandboxHandle) -> None:
    connection = sandbox_server.connect("facebook")
    token = connection["user"]["identity"]["identity_token"]
    assert connection["plugin"]["data"]["action"] == "login"
    url = sandbox_server.push_url("facebook/page/post.json", token)
    body = {"request": {"push": {"page": {"id": "42", "message": "hi"}}}}
    assert requests.post(url, json=body, auth=sandbox_server.auth, timeout=10).status_code == 200
    sandbox_server.expire_token(token)
    assert requests.post(url, json=body, auth=sandbox_server.auth, timeout=10).status_code == 403
    again = sandbox_server.connect("facebook", token)
    assert again["user"]["user_token"] == connection["user"]["user_token"]
    assert requests.post(url, json=body, auth=sandbox_server.auth, timeout=10).status_code == 200


@pytest.mark.parametrize("settings", [Settings(strict_identities=True)])
async def test_strict_identities_offer_no_new_user(client: Client) -> None:
    response = await client.post("/__sandbox/connections", json={"provider": "twitter"})
    assert response.status == 400
    page = await client.get("/socialize/connect/direct/twitter/?callback_uri=http://localhost:9/cb")
    text = await page.text()
    assert page.status == 200
    assert 'value="new"' not in text and TOKENS["twitter"] in text


async def test_a_fault_on_a_sharing_publication_words_it_as_the_push_would(
    client: Client,
) -> None:
    rule = {"resource": "twitter.post", "preset": "provider_token_expired", "times": 1}
    assert (await client.post("/__sandbox/faults", json=rule)).status == 201
    body = {
        "request": {
            "sharing_message": {
                "parts": {"text": {"body": "hi"}},
                "publish_for_identity": {"identity_token": TOKENS["twitter"]},
            }
        }
    }
    response = await client.post("/sharing/messages.json", json=body, headers=HEADERS)
    assert response.status == 207
    data = (await response.json())["response"]["result"]["data"]
    [entry] = data["sharing_message"]["publications"]["entries"]
    assert entry["status"] == {"flag": "error", "code": 403, "message": provider_refused("post")}
    # the preset left the identity expired: a push is refused too
    endpoint = PUSHES["twitter.post"]
    refused = await client.post(push_path(endpoint), json=example(endpoint), headers=HEADERS)
    assert refused.status == 403


@pytest.mark.parametrize("settings", [Settings(seed=7, faults=(Path("token-expired"),))])
async def test_the_token_expired_scenario_until_synchronized(client: Client) -> None:
    endpoint = PUSHES["twitter.post"]
    statuses = []
    for _ in range(4):
        response = await client.post(push_path(endpoint), json=example(endpoint), headers=HEADERS)
        statuses.append(response.status)
    assert statuses == [200, 200, 403, 403]
    sync = {"request": {"synchronize": {"force_token_update": True}}}
    await call(client, "PUT", f"/identities/{TOKENS['twitter']}/synchronize.json", json=sync)
    response = await client.post(push_path(endpoint), json=example(endpoint), headers=HEADERS)
    assert response.status == 200


async def test_a_fault_on_the_consent_page_is_an_html_page(client: Client) -> None:
    rule = {"resource": "login.*", "preset": "overloaded"}
    assert (await client.post("/__sandbox/faults", json=rule)).status == 201
    page = await client.get("/socialize/connect/direct/twitter/?callback_uri=http://localhost/")
    assert page.status == 503 and page.content_type == "text/html"
    assert "overloaded" in await page.text()


async def test_social_link_on_the_consent_page_moves_the_identity(client: Client) -> None:
    twitter = await get(client, f"/identities/{TOKENS['twitter']}.json")
    user_token = twitter["identity"]["user_token"]
    form = {
        "service": "social_link",
        "user_token": user_token,
        "callback_uri": "http://localhost:3000/linked",
        "identity": TOKENS["facebook"],
        "decision": "allow",
    }
    page = await client.post("/socialize/connect/direct/facebook/", data=form)
    text = await page.text()
    assert page.status == 200 and 'action="http://localhost:3000/linked"' in text
    assert 'name="oa_action" value="social_link"' in text
    token = text.split('name="connection_token" value="')[1].split('"')[0]
    connection = await get(client, f"/connections/{token}.json")
    assert connection["plugin"] == {
        "key": "social_link",
        "data": {"status": "success", "action": "link_identity"},
    }
    user = await get(client, f"/users/{user_token}.json")
    assert [i["provider"] for i in user["user"]["identities"]] == ["twitter", "facebook"]
    unknown = {**form, "user_token": UNKNOWN}
    refused = await client.post("/socialize/connect/direct/facebook/", data=unknown)
    assert refused.status == 404 and refused.content_type == "text/html"


@pytest.mark.parametrize(
    ("provider", "path", "listing", "first"),
    [
        ("facebook", "facebook/groups.json", "groups", {"group_id": "1784269101234567"}),
        ("linkedin", "linkedin/companies.json", "companies", {"company_id": "2414183"}),
        (
            "youtube",
            "youtube/playlists.json",
            "playlists",
            {"playlist_id": "PLr3Xw9bT5nQ1mZ7kV2cJ8hY4dF6gS0aLe", "name": "Trajectories"},
        ),
    ],
)
async def test_pull_lists_each_kind_of_target(
    client: Client, provider: str, path: str, listing: str, first: dict[str, str]
) -> None:
    data = await get(client, f"/pull/identities/{TOKENS[provider]}/{path}")
    [entry] = data[listing]["entries"]
    assert first.items() <= entry.items()
    noun = next(iter(first)).removesuffix("_id")
    assert entry[f"{noun}_location"].startswith("https://")
