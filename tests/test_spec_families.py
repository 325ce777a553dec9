"""oneall-api.md read as an examiner would read it: the behaviours it states that
tests/test_families.py does not pin, each through HTTP against the app (every answer also
checked against the OpenAPI document by tests/conftest.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sandbox.api.calls import Call
from sandbox.api.families import CALLS, OUT_OF_SCOPE
from sandbox.api.live import IDENTITY_NOT_FOUND, UNAUTHORIZED
from sandbox.api.push import BY_NAME as PUSHES
from sandbox.api.push import ENDPOINTS
from sandbox.config import Settings
from sandbox.http.app import basic_credentials
from tests.conftest import TOKENS, example, push_path
from tests.test_families import HEADERS, UNKNOWN, Client, call, connect, get

FACEBOOK_PAGE = "104582931357924"


def share(token: str, parts: dict[str, Any]) -> dict[str, Any]:
    return {
        "request": {
            "sharing_message": {"parts": parts, "publish_for_identity": {"identity_token": token}}
        }
    }


async def push(client: Client, name: str, token: str | None = None) -> int:
    endpoint = PUSHES[name]
    response = await client.post(
        push_path(endpoint, token), json=example(endpoint), headers=HEADERS
    )
    status: int = response.status
    return status


# --- §1 site --------------------------------------------------------------------------------


async def test_ping_refuses_keys_that_are_not_the_sites(client: Client) -> None:
    wrong = basic_credentials(Settings().public_key, "not-the-private-key")
    response = await client.get("/tools/ping.json", headers={"Authorization": wrong})
    assert response.status == 401
    status = (await response.json())["response"]["request"]["status"]
    assert status == {"flag": "error", "code": 401, "info": UNAUTHORIZED}
    right = await client.get("/tools/ping.json", headers=HEADERS)
    assert (await right.json())["response"]["request"]["status"]["flag"] == "success"


@pytest.mark.parametrize("row", [c for c in CALLS if c.authenticated], ids=lambda c: c.name)
async def test_every_call_checks_the_site_keys(client: Client, row: Call) -> None:
    path = re.sub(r"\{\w+\}", UNKNOWN, row.path)
    response = await client.request(row.method, path)
    assert response.status == 401
    assert (await response.json())["response"]["request"]["status"]["info"] == UNAUTHORIZED


# --- §2 connections -------------------------------------------------------------------------

IDENTITY_FIELDS = {
    "identity_token",
    "provider",
    "source",
    "displayName",
    "name",
    "preferredUsername",
    "emails",
    "thumbnailUrl",
    "pictureUrl",
    "profileUrl",
    "urls",
}


async def test_a_connection_holds_every_field_the_spec_lists_and_reads_twice(
    client: Client,
) -> None:
    made = await connect(client, "facebook", identity_token=TOKENS["facebook"])
    path = f"/connections/{made['connection_token']}.json"
    data = await get(client, path)
    assert await get(client, path) == data  # single-use in spirit; a second read is allowed
    assert {"connection_token", "date", "plugin"} <= data["connection"].keys()
    assert data["plugin"]["key"] == data["connection"]["plugin"] == "social_login"
    user = data["user"]
    identity = user["identity"]
    assert identity.keys() >= IDENTITY_FIELDS
    assert {"givenName", "familyName", "formatted"} <= identity["name"].keys()
    assert all({"value", "is_verified"} <= email.keys() for email in identity["emails"])
    assert identity["source"] == {"name": "Facebook", "key": "facebook"}
    assert isinstance(identity["urls"], list)
    assert user["identities"] == [{"identity_token": TOKENS["facebook"], "provider": "facebook"}]
    listed = await get(client, "/connections.json")
    [entry] = listed["connections"]["entries"]
    assert entry == {
        "connection_token": made["connection_token"],
        "status": "success",
        "date_creation": entry["date_creation"],
        "callback_uri": None,
    }


async def test_social_link_without_a_browser_joins_the_identity_to_the_user(
    client: Client,
) -> None:
    twitter = await connect(client, "twitter", identity_token=TOKENS["twitter"])
    user_token = twitter["user"]["user_token"]
    old = (await get(client, f"/identities/{TOKENS['facebook']}.json"))["identity"]["user_token"]
    linked = await connect(
        client,
        "facebook",
        identity_token=TOKENS["facebook"],
        user_token=user_token,
        service="social_link",
        callback_uri="http://localhost:3000/linked",
    )
    assert linked["plugin"] == {
        "key": "social_link",
        "data": {"status": "success", "action": "link_identity"},
    }
    assert linked["user"]["user_token"] == user_token
    user = await get(client, f"/users/{user_token}.json")
    assert [i["provider"] for i in user["user"]["identities"]] == ["twitter", "facebook"]
    await get(client, f"/users/{old}.json", 404)  # left without identities: gone
    listed = await get(client, "/connections.json")
    assert listed["connections"]["entries"][0]["callback_uri"] == "http://localhost:3000/linked"
    no_user = {"provider": "facebook", "service": "social_link"}
    assert (await client.post("/__sandbox/connections", json=no_user)).status == 404


async def test_the_consent_page_takes_every_query_parameter_of_the_spec(client: Client) -> None:
    query = "service=social_login&callback_uri=http://localhost:3000/cb&nonce=n-1&force_reauth=true"
    page = await client.get(f"/socialize/connect/direct/facebook/?{query}")
    text = await page.text()
    assert page.status == 200 and page.content_type == "text/html"
    assert "Ada Lovelace" in text and 'value="new"' in text
    assert 'name="nonce" value="n-1"' in text  # carried to the decision


# --- §3 users and identities ------------------------------------------------------------------


async def test_users_and_identities_answer_the_fields_the_spec_lists(client: Client) -> None:
    users = (await get(client, "/users.json"))["users"]
    assert all(
        {"user_token", "date_creation", "date_last_login", "num_logins", "identities"}
        <= entry.keys()
        for entry in users["entries"]
    )
    identities = (await get(client, "/identities.json"))["identities"]
    assert all(
        {"identity_token", "user_token", "provider", "date_creation"} <= entry.keys()
        for entry in identities["entries"]
    )
    one = identities["entries"][0]
    user = (await get(client, f"/users/{one['user_token']}.json"))["user"]
    assert {"user_token", "date_creation", "identities"} <= user.keys()
    assert user["identities"][0].keys() >= IDENTITY_FIELDS
    read = (await get(client, f"/identities/{one['identity_token']}.json"))["identity"]
    made = await connect(client, one["provider"], identity_token=one["identity_token"])
    assert read.keys() == made["user"]["identity"].keys()  # "as in a connection"


async def test_one_model_behind_pushes_registrations_and_connections(client: Client) -> None:
    auto = "0a0a0a0a-0000-4000-8000-000000000001"
    assert await push(client, "twitter.post", auto) == 200  # registered by the push
    identity = (await get(client, f"/identities/{auto}.json"))["identity"]
    user = (await get(client, f"/users/{identity['user_token']}.json"))["user"]
    assert [i["identity_token"] for i in user["identities"]] == [auto]
    registered = await client.post(
        "/__sandbox/identities",
        json={"provider": "linkedin", "user_token": identity["user_token"]},
    )
    assert registered.status == 201
    user = (await get(client, f"/users/{identity['user_token']}.json"))["user"]
    assert [i["provider"] for i in user["identities"]] == ["twitter", "linkedin"]
    listed = await get(client, "/identities.json?entries_per_page=500")
    assert auto in {e["identity_token"] for e in listed["identities"]["entries"]}


async def test_a_deleted_user_tombstones_its_identities_everywhere(client: Client) -> None:
    made = await connect(client, "twitter", identity_token=TOKENS["twitter"])
    user_token = made["user"]["user_token"]
    await call(
        client,
        "PUT",
        f"/identities/{TOKENS['facebook']}/link.json",
        json={"request": {"user": {"user_token": user_token}}},
    )
    deleted = await call(client, "DELETE", f"/users/{user_token}.json?confirm_deletion=true")
    assert len(deleted["user"]["identities"]) == 2
    for name, provider in (("twitter.post", "twitter"), ("facebook.page.post", "facebook")):
        endpoint = PUSHES[name]
        response = await client.post(
            push_path(endpoint, TOKENS[provider]), json=example(endpoint), headers=HEADERS
        )
        assert response.status == 404  # not registered again by the push
        body = await response.json()
        assert body["response"]["request"]["status"]["info"] == IDENTITY_NOT_FOUND
    listed = await get(client, "/identities.json")
    tokens = {e["identity_token"] for e in listed["identities"]["entries"]}
    assert not tokens & {TOKENS["twitter"], TOKENS["facebook"]}
    body = share(TOKENS["twitter"], {"text": {"body": "hi"}})
    await call(client, "POST", "/sharing/messages.json", 404, json=body)
    for_user = {
        "request": {
            "sharing_message": {
                "parts": {"text": {"body": "hi"}},
                "publish_for_user": {"user_token": user_token},
            }
        }
    }
    await call(client, "POST", "/sharing/messages.json", 404, json=for_user)
    await call(
        client,
        "PUT",
        f"/identities/{TOKENS['linkedin']}/link.json",
        404,
        json={"request": {"user": {"user_token": user_token}}},
    )
    again = {"provider": "twitter", "identity_token": TOKENS["twitter"]}
    assert (await client.post("/__sandbox/connections", json=again)).status == 404


@pytest.mark.parametrize("settings", [Settings(seed=7, max_tombstones=1)])
async def test_a_forgotten_tombstone_lets_its_token_register_again(client: Client) -> None:
    for provider in ("twitter", "linkedin"):
        path = f"/identities/{TOKENS[provider]}.json?confirm_deletion=true"
        await call(client, "DELETE", path)
    assert await push(client, "twitter.post") == 200  # its tombstone was the oldest: forgotten
    assert await push(client, "linkedin.post") == 404  # still remembered


READS = [c for c in CALLS if c.method == "GET" and c.token_param is not None and not c.html]


@pytest.mark.parametrize("row", READS, ids=lambda c: c.name)
async def test_no_read_registers_a_token(client: Client, row: Call) -> None:
    path = re.sub(r"\{\w+\}", UNKNOWN, row.path)
    if row.token_param == "page_id":  # not the first parameter: the identity is
        path = row.path.replace("{identity_token}", UNKNOWN).replace("{page_id}", FACEBOOK_PAGE)
    await get(client, path, 404)
    listed = await get(client, "/identities.json")
    assert UNKNOWN not in {e["identity_token"] for e in listed["identities"]["entries"]}
    await get(client, f"/identities/{UNKNOWN}.json", 404)


@pytest.mark.parametrize(
    ("body", "content_type", "ends_expiry"),
    [
        (b"", None, False),  # no body at all: the defaults
        (b'{"request":{}}', "application/json", False),  # the Node SDK
        (  # the PHP lib/ scripts: raw JSON under libcurl's form content type
            b'{"request":{"synchronize":{"update_user_data":true,"force_token_update":true}}}',
            "application/x-www-form-urlencoded",
            True,
        ),
        (b'{"request":{"synchronize":{"force_token_update":"true"}}}', "application/json", True),
        (b'{"request":{"synchronize":{"update_user_data":false}}}', "application/json", False),
    ],
)
async def test_synchronize_takes_every_body_the_clients_send(
    client: Client, body: bytes, content_type: str | None, ends_expiry: bool
) -> None:
    token = TOKENS["twitter"]
    assert (await client.post(f"/__sandbox/identities/{token}/expire")).status == 200
    headers = {**HEADERS, **({"Content-Type": content_type} if content_type else {})}
    response = await client.put(f"/identities/{token}/synchronize.json", data=body, headers=headers)
    assert response.status == 200, await response.text()
    data = (await response.json())["response"]["result"]["data"]
    assert data["identity"]["identity_token"] == token
    assert await push(client, "twitter.post") == (200 if ends_expiry else 403)


# --- lists: one pagination convention, every list call --------------------------------------

LISTS = [c for c in CALLS if c.listing is not None]


def list_path(row: Call) -> str:
    token = TOKENS[row.provider] if row.provider else ""
    return row.path.replace("{identity_token}", token).replace("{page_id}", FACEBOOK_PAGE)


async def fill(client: Client) -> None:
    """Two entries at least in every list: connections, sharing messages (each a tweet),
    posts on a Facebook page, boards and playlists created by pushes."""
    for _ in range(2):
        await connect(client, "twitter", identity_token=TOKENS["twitter"])
        body = share(TOKENS["twitter"], {"text": {"body": "hi"}})
        await call(client, "POST", "/sharing/messages.json", json=body)
        assert await push(client, "facebook.page.post") == 200
        assert await push(client, "pinterest.board") == 200
        assert await push(client, "youtube.playlist") == 200


def test_every_list_of_the_spec_is_a_list_call() -> None:
    assert {c.name for c in LISTS} == {
        "connections.list",
        "users.list",
        "identities.list",
        "sharing.messages.list",
        *(c.name for c in CALLS if c.family == "pull"),
    }
    assert all(c.page_size == f"num_{c.listing}" for c in LISTS if c.family == "pull")


@pytest.mark.parametrize("row", LISTS, ids=lambda c: c.name)
async def test_every_list_follows_the_one_pagination_convention(client: Client, row: Call) -> None:
    await fill(client)
    path = list_path(row)
    node = (await get(client, path))[row.listing]
    total = node["pagination"]["total_entries"]
    assert node["pagination"] == {
        "current_page": 1,
        "total_pages": max(1, -(-total // 25)),
        "entries_per_page": 25,
        "total_entries": total,
        "order_direction": "desc",
        "order": "desc",
    }
    assert node["count"] == len(node["entries"]) == min(total, 25)
    assert total >= 1
    size = row.page_size
    first = (await get(client, f"{path}?{size}=1&page=1"))[row.listing]
    assert first["count"] == 1 and first["pagination"]["total_pages"] == total
    if total >= 2:
        asc = (await get(client, f"{path}?order_direction=asc"))[row.listing]["entries"]
        assert asc == list(reversed(node["entries"]))  # desc, newest first, is the default
    past = (await get(client, f"{path}?page={total + 1}&{size}=1"))[row.listing]
    assert past["entries"] == [] and past["count"] == 0
    assert past["pagination"]["total_entries"] == total
    response = await client.get(f"{path}?{size}=501", headers=HEADERS)
    assert response.status == 200
    assert "500" in response.headers["X-Sandbox-Warning"]
    clamped = (await response.json())["response"]["result"]["data"][row.listing]
    assert clamped["pagination"]["entries_per_page"] == 500
    await get(client, f"{path}?order_direction=newest", 400)
    # what the SDKs send: the PHP SDK's Pagination, an empty num_* when none is given
    await get(client, f"{path}?page=1&{size}=250&order_direction=asc")
    await get(client, f"{path}?{size}=")


# --- §4 Pull API ----------------------------------------------------------------------------


async def test_posts_list_what_sharing_messages_published_too(client: Client) -> None:
    body = share(TOKENS["facebook"], {"text": {"body": "Shared"}})
    created = await call(client, "POST", "/sharing/messages.json", json=body)
    [entry] = created["sharing_message"]["publications"]["entries"]
    posts = await get(client, f"/pull/identities/{TOKENS['facebook']}/facebook/posts.json")
    assert [p["post_id"] for p in posts["posts"]["entries"]] == [entry["message"]["id"]]


async def test_a_playlist_a_push_created_is_a_target_at_once(client: Client) -> None:
    endpoint = PUSHES["youtube.playlist"]
    created = await client.post(push_path(endpoint), json=example(endpoint), headers=HEADERS)
    playlist_id = (await created.json())["response"]["result"]["data"]["playlist_id"]
    path = f"/pull/identities/{TOKENS['youtube']}/youtube/playlists.json"
    entries = (await get(client, path))["playlists"]["entries"]
    assert entries[0]["playlist_id"] == playlist_id and len(entries) == 2  # newest first


# --- §6 sharing messages --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "parts", "resource", "node"),
    [
        (
            "facebook",
            {"video": {"url": "https://v.example.org/a.mp4"}, "text": {"body": "hi"}},
            "facebook.video",
            {"url": "https://v.example.org/a.mp4", "description": "hi"},
        ),
        (
            "facebook",
            {"picture": {"url": "https://p.example.org/a.jpg"}, "text": {"body": "hi"}},
            "facebook.picture",
            {"url": "https://p.example.org/a.jpg", "description": "hi"},
        ),
        (
            "facebook",
            {"text": {"body": "hi"}, "link": {"url": "https://example.org/"}},
            "facebook.post",
            {"message": "hi", "link": "https://example.org/"},
        ),
        (
            "twitter",
            {"video": {"url": "https://v.example.org/a.mp4"}, "picture": {"url": "x"}},
            "twitter.video",
            {"video_url": "https://v.example.org/a.mp4"},
        ),
        (
            "twitter",
            {"picture": {"url": "https://p.example.org/a.jpg"}},
            "twitter.picture",
            {"url": "https://p.example.org/a.jpg"},
        ),
        (
            "linkedin",
            {
                "picture": {"url": "https://p.example.org/a.jpg"},
                "link": {"url": "https://example.org/"},
                "text": {"body": "hi"},
            },
            "linkedin.post",
            {
                "link": "https://example.org/",
                "message": "hi",
                "picture": "https://p.example.org/a.jpg",
            },
        ),
    ],
    ids=["fb-video", "fb-picture", "fb-post", "tw-video", "tw-picture", "li-picture"],
)
async def test_each_part_publishes_as_the_spec_says(
    client: Client, provider: str, parts: dict[str, Any], resource: str, node: dict[str, Any]
) -> None:
    created = await call(
        client, "POST", "/sharing/messages.json", json=share(TOKENS[provider], parts)
    )
    [entry] = created["sharing_message"]["publications"]["entries"]
    assert entry["status"]["code"] == 200 and entry["resource"] == resource
    journal = await (await client.get(f"/__sandbox/journal?resource={resource}")).json()
    [pushed] = journal["entries"]
    assert pushed["request"]["body"] == {"request": {"push": {PUSHES[resource].node: node}}}


async def test_a_text_only_share_to_linkedin_fails_with_the_pushs_own_wording(
    client: Client,
) -> None:
    direct = await client.post(
        push_path(PUSHES["linkedin.post"]),
        json={"request": {"push": {"post": {"message": "no link"}}}},
        headers=HEADERS,
    )
    assert direct.status == 400
    wording = (await direct.json())["response"]["request"]["status"]["info"]
    response = await client.post(
        "/sharing/messages.json",
        json=share(TOKENS["linkedin"], {"text": {"body": "no link"}}),
        headers=HEADERS,
    )
    assert response.status == 207
    [entry] = (await response.json())["response"]["result"]["data"]["sharing_message"][
        "publications"
    ]["entries"]
    assert entry["status"] == {"flag": "error", "code": 400, "message": wording}
    assert entry["message"] is None


async def test_a_sharing_message_answers_every_field_the_spec_lists(client: Client) -> None:
    parts = {
        "text": {"body": "Hello"},
        "link": {"url": "https://example.org/", "name": "N", "caption": "C", "description": "D"},
        "flags": {"enable_tracking": 1},
    }
    created = await call(
        client, "POST", "/sharing/messages.json", json=share(TOKENS["facebook"], parts)
    )
    message = created["sharing_message"]
    assert {
        "sharing_message_token",
        "date_creation",
        "date_last_published",
        "parts",
        "publications",
    } <= message.keys()
    assert message["parts"] == parts
    assert message["publications"]["count"] == 1
    [entry] = message["publications"]["entries"]
    assert entry["provider"] == "facebook" and entry["identity_token"] == TOKENS["facebook"]
    assert entry["status"] == {
        "flag": "success",
        "code": 200,
        "message": entry["status"]["message"],
    }
    assert entry["message"]["id"] and entry["message"]["location"].startswith("https://")
    path = f"/sharing/messages/{message['sharing_message_token']}.json"
    republish = {
        "request": {
            "sharing_message": {"publish_for_identity": {"identity_token": TOKENS["facebook"]}}
        }
    }
    again = await call(client, "POST", path, json=republish)
    assert again["sharing_message"]["publications"]["count"] == 2
    assert again["sharing_message"]["parts"] == parts
    await call(client, "DELETE", f"{path}?confirm_deletion=true")
    await call(client, "DELETE", f"{path}?confirm_deletion=true", 404)
    await call(client, "POST", path, 404, json=republish)


async def test_publish_for_user_publishes_with_each_named_provider(client: Client) -> None:
    user = (await get(client, f"/identities/{TOKENS['twitter']}.json"))["identity"]["user_token"]
    body = {
        "request": {
            "sharing_message": {
                "parts": {"text": {"body": "hi"}},
                "publish_for_user": {"user_token": user, "providers": ["twitter", "facebook"]},
            }
        }
    }
    response = await client.post("/sharing/messages.json", json=body, headers=HEADERS)
    assert response.status == 207  # the user has no Facebook identity: that one failed
    entries = (await response.json())["response"]["result"]["data"]["sharing_message"][
        "publications"
    ]["entries"]
    assert [(e["provider"], e["status"]["code"]) for e in entries] == [
        ("twitter", 200),
        ("facebook", 404),
    ]


# --- §5 expired tokens ----------------------------------------------------------------------


async def test_a_new_connection_on_the_consent_page_ends_an_expired_token(client: Client) -> None:
    token = TOKENS["twitter"]
    await client.post(f"/__sandbox/identities/{token}/expire")
    assert await push(client, "twitter.post") == 403
    form = {
        "service": "social_login",
        "callback_uri": "http://localhost:3000/cb",
        "identity": token,
        "decision": "allow",
    }
    page = await client.post("/socialize/connect/direct/twitter/", data=form)
    assert page.status == 200 and 'name="connection_token"' in await page.text()
    assert await push(client, "twitter.post") == 200


# --- §7 out of scope ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/storage/users.json"),
        ("GET", "/sso/sessions.json"),
        ("GET", "/shorturls.json"),
        ("GET", "/sharing/analytics/snapshots.json"),
        ("GET", "/site/allowed-domains.json"),
        ("GET", f"/pull/identities/{UNKNOWN}/facebook/likes.json"),
        ("GET", f"/pull/identities/{UNKNOWN}/youtube/videos.json"),
        ("GET", f"/pull/identities/{UNKNOWN}/linkedin/company/2414183/posts.json"),
        ("GET", "/providers/facebook/pages.json"),
        ("GET", f"/identities/{UNKNOWN}/contacts.json"),
        ("POST", f"/users/{UNKNOWN}/publish.json"),
    ],
)
async def test_each_call_the_spec_puts_out_of_scope_answers_its_404(
    client: Client, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=HEADERS, json={"request": {}})
    assert response.status == 404
    status = (await response.json())["response"]["request"]["status"]
    assert status["flag"] == "error" and status["code"] == 404
    assert "does not emulate" in status["info"] and "Unknown resource" not in status["info"]


def test_the_nearest_call_each_refusal_names_is_emulated() -> None:
    emulated = {f"{c.method} {c.display_path}" for c in CALLS}
    emulated |= {f"POST /push/identities/<identity_token>/{e.path}" for e in ENDPOINTS}
    for _, _, what, nearest in OUT_OF_SCOPE:
        assert nearest.split(" (")[0] in emulated, (what, nearest)


# --- §8 fault rules naming a family ---------------------------------------------------------

FAMILY_PATTERNS = [
    ("connections.*", "GET", "/connections.json"),
    ("identities.read", "GET", f"/identities/{TOKENS['twitter']}.json"),
    ("pull.facebook.pages", "GET", f"/pull/identities/{TOKENS['facebook']}/facebook/pages.json"),
    ("sharing.messages.create", "POST", "/sharing/messages.json"),
    ("site.ping", "GET", "/tools/ping.json"),
    ("users.*", "GET", "/users.json"),
]


@pytest.mark.parametrize(("pattern", "method", "path"), FAMILY_PATTERNS)
async def test_a_rule_naming_a_family_reaches_that_call_only(
    client: Client, pattern: str, method: str, path: str
) -> None:
    rule = {"resource": pattern, "preset": "overloaded", "times": 1}
    assert (await client.post("/__sandbox/faults", json=rule)).status == 201
    for _, other_method, other in FAMILY_PATTERNS:
        if other != path:
            body = share(TOKENS["twitter"], {"text": {"body": "hi"}})
            response = await client.request(other_method, other, headers=HEADERS, json=body)
            assert response.status == 200, (pattern, other)
    body = share(TOKENS["twitter"], {"text": {"body": "hi"}})
    response = await client.request(method, path, headers=HEADERS, json=body)
    assert response.status == 503
    info = (await response.json())["response"]["request"]["status"]["info"]
    assert info  # in the envelope, as a push's fault is
    assert (await client.request(method, path, headers=HEADERS, json=body)).status == 200


async def test_a_rule_for_every_push_resource_leaves_the_families_alone(client: Client) -> None:
    assert (await client.post("/__sandbox/faults", json={"preset": "server_error"})).status == 201
    for _, method, path in FAMILY_PATTERNS:
        body = share(TOKENS["twitter"], {"text": {"body": "hi"}})
        response = await client.request(method, path, headers=HEADERS, json=body)
        if path == "/sharing/messages.json":
            assert response.status == 207  # the call answers; its publication is a push
        else:
            assert response.status == 200, path


# --- bounded stores (issue 17: connections, sharing messages; tombstones above) -------------


@pytest.mark.parametrize("settings", [Settings(seed=7, max_connections=1, max_sharing_messages=1)])
async def test_connections_and_sharing_messages_forget_their_oldest(client: Client) -> None:
    first = await connect(client, "twitter", identity_token=TOKENS["twitter"])
    second = await connect(client, "twitter", identity_token=TOKENS["twitter"])
    await get(client, f"/connections/{first['connection_token']}.json", 404)
    await get(client, f"/connections/{second['connection_token']}.json")
    listed = await get(client, "/connections.json")
    assert listed["connections"]["pagination"]["total_entries"] == 1
    tokens = []
    for _ in range(2):
        body = share(TOKENS["twitter"], {"text": {"body": "hi"}})
        created = await call(client, "POST", "/sharing/messages.json", json=body)
        tokens.append(created["sharing_message"]["sharing_message_token"])
    await get(client, f"/sharing/messages/{tokens[0]}.json", 404)
    await get(client, f"/sharing/messages/{tokens[1]}.json")
