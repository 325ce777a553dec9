"""End-to-end behaviour of the push pipeline over real HTTP, parametrized over the catalog."""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.test_utils import TestClient, make_mocked_request

from sandbox.api import live
from sandbox.api.errors import PayloadTooLarge
from sandbox.api.push import BY_NAME, ENDPOINTS, Endpoint
from sandbox.config import Settings
from sandbox.http.app import create_app, read_body
from sandbox.http.appkeys import SANDBOX
from tests.conftest import (
    AUTH,
    ENDPOINT_IDS,
    NO_CONSENT_TOKEN,
    TOKENS,
    ClientFactory,
    example,
    push_path,
)

Client = TestClient[web.Request, web.Application]
DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}")
UUID_ANY = "0b1e6f0a-1111-4222-8333-944455556666"

# The shape of every id a resource returns (spec §5).
ID_SHAPES = {
    "facebook": {
        "post_id": r"\d{15,17}_\d{15,17}",
        "picture_id": r"\d{15,17}",
        "video_id": r"\d{15,17}",
    },
    "linkedin": {"post_id": r"urn:li:share:\d{19}"},
    "pinterest": {"pin_id": r"\d{18}", "board_id": r"\d{18}"},
    "twitter": {"post_id": r"\d{19}", "picture_id": r"\d{19}", "video_id": r"\d{19}"},
    "youtube": {
        "video_id": r"[A-Za-z0-9_-]{11}",
        "playlist_id": r"PL[A-Za-z0-9_-]{32}",
        "playlist_item_id": r"[A-Za-z0-9_-]{20,}",
        "section_id": r"UC[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{11}",
    },
}
LOCATIONS = {
    "facebook": r"https://www\.facebook\.com/\S+",
    "linkedin": r"https://www\.linkedin\.com/feed/update/urn:li:share:\d{19}/",
    "pinterest": r"https://www\.pinterest\.com/\S+/",
    "twitter": r"https://twitter\.com/alanturing/status/\d{19}",
    "youtube": r"https://www\.youtube\.com/(watch\?v=|playlist\?list=)\S+",
}


async def push(
    client: Client,
    endpoint: Endpoint,
    body: Any = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any], Any]:
    sent_headers = {"Authorization": AUTH, **(headers or {})}
    payload = example(endpoint) if body is None else body
    response = await client.post(push_path(endpoint, token), json=payload, headers=sent_headers)
    return response.status, dict(response.headers), await response.json()


def status_of(answer: Any) -> dict[str, Any]:
    status: dict[str, Any] = answer["response"]["request"]["status"]
    return status


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
async def test_each_resource_answers_its_example_with_result_data(
    client: Client, endpoint: Endpoint
) -> None:
    status, headers, answer = await push(client, endpoint)
    assert status == 200, answer
    request = answer["response"]["request"]
    assert request["status"] == {
        "flag": "success",
        "code": 200,
        "info": "Your request has been processed successfully",
    }
    assert request["resource"] == push_path(endpoint)
    assert DATE.fullmatch(request["date"])
    assert headers["Content-Type"].startswith("application/json")
    assert "Content-Length" in headers
    data = answer["response"]["result"]["data"]
    assert data["provider"] == endpoint.provider
    assert isinstance(data["object"], str)
    shapes = ID_SHAPES[endpoint.provider]
    id_keys = [key for key in data if key.endswith("_id") and key in shapes]
    assert id_keys, data
    for key in id_keys:
        assert re.fullmatch(shapes[key], data[key]), (key, data[key])
    for key in (key for key in data if key.endswith("_location")):
        assert re.fullmatch(LOCATIONS[endpoint.provider], data[key]), (key, data[key])


async def test_facebook_post_ids_are_owned_by_the_page_or_the_user(client: Client) -> None:
    _, _, page = await push(client, BY_NAME["facebook.page.post"])
    _, _, profile = await push(client, BY_NAME["facebook.post"])
    assert page["response"]["result"]["data"]["post_id"].startswith("104582931357924_")
    assert profile["response"]["result"]["data"]["post_id"].startswith("100004512345678_")


async def test_picture_without_create_post_makes_no_post(client: Client) -> None:
    body = {
        "request": {"push": {"picture": {"url": "https://example.com/a.png", "create_post": False}}}
    }
    status, _, answer = await push(client, BY_NAME["facebook.picture"], body)
    assert status == 200
    data = answer["response"]["result"]["data"]
    assert "picture_id" in data and "post_id" not in data


@pytest.mark.parametrize("name", ["twitter.video", "youtube.video"])
async def test_asynchronous_videos_are_queued(client: Client, name: str) -> None:
    _, _, answer = await push(client, BY_NAME[name])
    assert answer["response"]["result"]["data"]["processing_status"] == "queued"


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
async def test_body_is_json_whatever_the_content_type(
    client: Client, content_type: str | None
) -> None:
    headers = {"Authorization": AUTH}
    if content_type:
        headers["Content-Type"] = content_type
    endpoint = BY_NAME["twitter.post"]
    raw = b'{"request":{"push":{"post":{"message":"see https:\\/\\/example.com\\/x"}}}}'
    response = await client.post(push_path(endpoint), data=raw, headers=headers)
    assert response.status == 200, await response.text()


async def test_host_header_does_not_matter(client: Client) -> None:
    endpoint = BY_NAME["twitter.post"]
    for host in ("mysite.api.localhost:8080", "127.0.0.1", "anything.example"):
        response = await client.post(
            push_path(endpoint),
            json=example(endpoint),
            headers={"Authorization": AUTH, "Host": host},
        )
        assert response.status == 200


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("authorization", "words"),
    [
        (None, "Authentication required"),
        ("Bearer abc", "Unsupported authentication scheme"),
        ("Basic !!!", "Malformed HTTP Basic credentials"),
        (basic(Settings().public_key, "f2e52630-0000-4c90-8bde-e92c1f7211f4"), "private key"),
        (basic("00000000-0000-4000-8000-000000000000", Settings().private_key), "public key"),
    ],
)
async def test_bad_credentials_are_refused_with_401(
    client: Client, authorization: str | None, words: str
) -> None:
    endpoint = BY_NAME["twitter.post"]
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.post(push_path(endpoint), json=example(endpoint), headers=headers)
    answer = await response.json()
    assert response.status == 401
    assert status_of(answer)["code"] == 401
    assert status_of(answer)["flag"] == "error"
    assert status_of(answer)["info"] == live.UNAUTHORIZED  # the live API's (spec §7)
    assert words in response.headers["X-Sandbox-Detail"]  # the sandbox's own
    assert "result" not in answer["response"]


async def test_identity_of_another_provider_is_refused_naming_both(client: Client) -> None:
    status, _, answer = await push(client, BY_NAME["twitter.post"], token=TOKENS["facebook"])
    assert status == 403
    info = status_of(answer)["info"]
    assert "Facebook" in info and "Twitter" in info


async def test_identity_without_consent_is_refused(client: Client) -> None:
    status, _, answer = await push(client, BY_NAME["twitter.post"], token=NO_CONSENT_TOKEN)
    assert status == 403
    assert "permission to publish" in status_of(answer)["info"]


@pytest.mark.parametrize(
    "token", ["not-a-token", "5F2FF82C", "5f2ff82c-882f-43f2-b1c4-28193402decg"]
)
async def test_token_that_is_not_a_uuid_is_not_found(client: Client, token: str) -> None:
    status, headers, answer = await push(client, BY_NAME["twitter.post"], token=token)
    assert status == 404
    assert status_of(answer)["info"] == live.IDENTITY_NOT_FOUND
    assert "No identity found for the identity_token" in headers["X-Sandbox-Detail"]


async def test_unknown_uuid_is_registered_on_first_use(client: Client) -> None:
    status, _, _ = await push(client, BY_NAME["twitter.post"], token=UUID_ANY)
    assert status == 200
    listed = await (await client.get("/__sandbox/identities")).json()
    auto = [i for i in listed["identities"] if i["token"] == UUID_ANY]
    assert auto and auto[0]["provider"] == "twitter" and auto[0]["origin"] == "auto"
    # bound to its first provider from now on
    status, _, _ = await push(client, BY_NAME["youtube.playlist"], token=UUID_ANY)
    assert status == 403


async def test_strict_mode_knows_only_known_tokens_and_their_targets(
    aiohttp_client: ClientFactory,
) -> None:
    client = await aiohttp_client(create_app(Settings(strict_identities=True)))
    status, headers, answer = await push(client, BY_NAME["twitter.post"], token=UUID_ANY)
    assert status == 404
    assert status_of(answer)["info"] == live.IDENTITY_NOT_FOUND
    assert UUID_ANY in headers["X-Sandbox-Detail"]
    body = {"request": {"push": {"page": {"id": "999999999999999", "message": "hi"}}}}
    status, _, answer = await push(client, BY_NAME["facebook.page.post"], body)
    assert status == 404
    assert "[request->push->page->id] 999999999999999 is not a page" in status_of(answer)["info"]
    assert "104582931357924 (Analytical Engines Ltd)" in status_of(answer)["info"]
    pin = BY_NAME["pinterest.board.pin"]
    response = await client.post(
        pin.route.format(token=TOKENS["pinterest"], board_id="123456789012345678"),
        json=example(pin),
        headers={"Authorization": AUTH},
    )
    assert response.status == 404
    assert "The board in the path 123456789012345678" in status_of(await response.json())["info"]


async def test_created_board_and_playlist_become_targets_at_once(
    aiohttp_client: ClientFactory,
) -> None:
    client = await aiohttp_client(create_app(Settings(strict_identities=True)))
    _, _, answer = await push(client, BY_NAME["pinterest.board"])
    board_id = answer["response"]["result"]["data"]["board_id"]
    pin = BY_NAME["pinterest.board.pin"]
    response = await client.post(
        pin.route.format(token=TOKENS["pinterest"], board_id=board_id),
        json=example(pin),
        headers={"Authorization": AUTH},
    )
    assert response.status == 200, await response.text()
    _, _, answer = await push(client, BY_NAME["youtube.playlist"])
    playlist_id = answer["response"]["result"]["data"]["playlist_id"]
    item = BY_NAME["youtube.playlist.video"]
    response = await client.post(
        item.route.format(token=TOKENS["youtube"], playlist_id=playlist_id),
        json=example(item),
        headers={"Authorization": AUTH},
    )
    assert response.status == 200, await response.text()


async def test_registered_identity_works_in_strict_mode(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(create_app(Settings(strict_identities=True)))
    response = await client.post(
        "/__sandbox/identities", json={"provider": "facebook", "pages": [{"id": "42", "name": "P"}]}
    )
    assert response.status == 201
    identity = await response.json()
    assert re.fullmatch(r"[0-9a-f-]{36}", identity["token"])
    body = {"request": {"push": {"page": {"id": "42", "message": "hello"}}}}
    status, _, answer = await push(
        client, BY_NAME["facebook.page.post"], body, token=identity["token"]
    )
    assert status == 200, answer
    assert answer["response"]["result"]["data"]["post_id"].startswith("42_")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"provider": "myspace"}, "/provider: must be one of"),
        ({"provider": {}}, "/provider: must be one of"),
        ({"provider": "twitter", "token": "abc"}, "/token: must be a lowercase UUID"),
        ({"provider": "twitter", "pagez": []}, "unknown key pagez"),
        (
            {"provider": "facebook", "user": {"name": "No Id"}},
            "/user: must be an object with an id",
        ),
        ({"provider": "twitter", "user": {"id": 1, "screen_name": 2}}, "/user: must be an object"),
        (
            {"provider": "facebook", "pages": [{"id": True}]},
            "/pages/0: must be an object with an id",
        ),
        (
            {"provider": "youtube", "channel": {"title": "T"}},
            "/channel: must be an object with an id",
        ),
    ],
)
async def test_bad_identity_registration_names_the_key(
    client: Client, body: dict[str, Any], words: str
) -> None:
    response = await client.post("/__sandbox/identities", json=body)
    assert response.status == 400
    assert words in status_of(await response.json())["info"]


async def test_deprecated_profile_resources_succeed_with_a_header_by_default(
    client: Client,
) -> None:
    status, headers, _ = await push(client, BY_NAME["facebook.post"])
    assert status == 200
    assert headers["Deprecation"] == "@1533081600"


async def test_deprecated_profile_resources_can_be_refused(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(create_app(Settings(deprecated="refuse")))
    status, _, answer = await push(client, BY_NAME["facebook.picture"])
    assert status == 403
    info = status_of(answer)["info"]
    assert "2018-08-01" in info and "facebook/page/picture.json" in info


@pytest.mark.parametrize(
    "path",
    [
        f"/push/identities/{TOKENS['twitter']}/twitter/post.json/",
        f"/push/identities/{TOKENS['twitter']}/twitter/post.JSON",
        f"/push/identities/{TOKENS['twitter']}/twitter//post.json",
        f"/push/identities/{TOKENS['twitter']}/twitter/posts.json",
        "/push/identities/twitter/post.json",
        "/",
    ],
)
async def test_unknown_paths_are_404_in_the_envelope(client: Client, path: str) -> None:
    response = await client.post(path, json={}, headers={"Authorization": AUTH})
    assert response.status == 404
    answer = await response.json()
    assert status_of(answer)["code"] == 404
    assert "Unknown resource" in status_of(answer)["info"]


async def test_unknown_path_suggests_the_closest_resource(client: Client) -> None:
    path = f"/push/identities/{TOKENS['twitter']}/twitter/posts.json"
    response = await client.post(path, json={}, headers={"Authorization": AUTH})
    info = status_of(await response.json())["info"]
    assert "did you mean /push/identities/<identity_token>/twitter/post.json?" in info


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
async def test_other_methods_are_405_with_allow_post(client: Client, method: str) -> None:
    endpoint = BY_NAME["twitter.post"]
    response = await client.request(method, push_path(endpoint), headers={"Authorization": AUTH})
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    body = await response.read()
    if method == "HEAD":
        assert body == b""
    else:
        assert status_of(await response.json())["code"] == 405


async def test_body_over_the_limit_is_413(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(create_app(Settings(max_body=1024)))
    endpoint = BY_NAME["twitter.post"]
    message = "x" * 1100
    body = {"request": {"push": {"post": {"message": message}}}}
    status, _, answer = await push(client, endpoint, body)
    assert status == 413
    assert "larger than 1024 bytes" in status_of(answer)["info"]


async def test_body_arrived_whole_is_still_held_to_the_limit() -> None:
    """A body received before the pipeline reads it (e.g. inflated from a small gzip) is taken
    in one piece: the limit applies to it all the same."""

    def arrived(body: bytes) -> web.Request:
        content = StreamReader(mock.Mock(), 2**16, loop=asyncio.get_running_loop())
        content.feed_data(body)
        content.feed_eof()
        return make_mocked_request("POST", "/", payload=content)

    sandbox = create_app(Settings(max_body=1024))[SANDBOX]
    assert await read_body(arrived(b"x" * 1024), sandbox) == b"x" * 1024
    with pytest.raises(PayloadTooLarge, match="larger than 1024 bytes"):
        await read_body(arrived(b"x" * 1025), sandbox)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"", "The request body is empty"),
        (b"{not json", "The request body is not valid JSON"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
async def test_unparseable_bodies_are_400(client: Client, raw: bytes, words: str) -> None:
    endpoint = BY_NAME["twitter.post"]
    response = await client.post(push_path(endpoint), data=raw, headers={"Authorization": AUTH})
    assert response.status == 400
    assert words in status_of(await response.json())["info"]


async def test_bom_before_the_body_is_tolerated(client: Client) -> None:
    endpoint = BY_NAME["twitter.post"]
    raw = b"\xef\xbb\xbf" + b'{"request":{"push":{"post":{"message":"hi"}}}}'
    response = await client.post(push_path(endpoint), data=raw, headers={"Authorization": AUTH})
    assert response.status == 200


async def test_invalid_key_is_400_naming_it(client: Client) -> None:
    body = {"request": {"push": {"picture": {"url": "foo"}}}}
    status, _, answer = await push(client, BY_NAME["twitter.picture"], body)
    assert status == 400
    assert status_of(answer)["code"] == 400
    assert "[request->push->picture->url]" in status_of(answer)["info"]


async def test_wrong_node_names_the_expected_one(client: Client) -> None:
    body = {"request": {"push": {"picture": {"url": "https://example.com/a.png"}}}}
    status, _, answer = await push(client, BY_NAME["twitter.post"], body)
    assert status == 400
    assert "[request->push->post]" in status_of(answer)["info"]


async def test_unknown_key_is_ignored_with_allow_unknown_keys(
    aiohttp_client: ClientFactory,
) -> None:
    client = await aiohttp_client(create_app(Settings(allow_unknown_keys=True)))
    body = {"request": {"push": {"post": {"message": "hi", "mood": "happy"}}}}
    status, _, _ = await push(client, BY_NAME["twitter.post"], body)
    assert status == 200


async def run_sequence(client: Client, sequence: list[str]) -> list[Any]:
    results = []
    for name in sequence:
        _, _, answer = await push(client, BY_NAME[name])
        results.append(answer["response"]["result"]["data"])
    return results


async def test_same_seed_same_calls_same_ids_whatever_other_identities_do(
    aiohttp_client: ClientFactory,
) -> None:
    twitter_calls = ["twitter.post", "twitter.picture", "twitter.post"]
    first = await aiohttp_client(create_app(Settings(seed=42)))
    second = await aiohttp_client(create_app(Settings(seed=42)))
    alone = await run_sequence(first, twitter_calls)
    interleaved = []
    for name in twitter_calls:
        await run_sequence(second, ["facebook.page.post", "youtube.video"])
        interleaved += await run_sequence(second, [name])
    assert alone == interleaved
    other_seed = await aiohttp_client(create_app(Settings(seed=43)))
    assert await run_sequence(other_seed, twitter_calls) != alone


async def test_without_seed_each_run_differs(aiohttp_client: ClientFactory) -> None:
    first = await aiohttp_client(create_app(Settings()))
    second = await aiohttp_client(create_app(Settings()))
    assert await run_sequence(first, ["twitter.post"]) != await run_sequence(
        second, ["twitter.post"]
    )


async def test_health_counts_the_resources(client: Client) -> None:
    response = await client.get("/__sandbox/health")
    assert response.status == 200
    data = await response.json()
    assert data["status"] == "ok" and data["resources"] == 21


async def test_every_answer_has_content_length(client: Client) -> None:
    endpoint = BY_NAME["twitter.post"]
    for method, path in [
        ("POST", push_path(endpoint)),
        ("GET", push_path(endpoint)),
        ("POST", "/nope"),
    ]:
        response = await client.request(method, path, json=example(endpoint))
        assert "Content-Length" in response.headers
        assert response.headers.get("Transfer-Encoding") is None


@pytest.mark.parametrize(
    ("path", "allow"),
    [("/__sandbox/health", "GET, HEAD"), ("/__sandbox/faults", "DELETE, GET, HEAD, POST")],
)
async def test_control_plane_405_lists_the_methods_the_path_takes(
    client: Client, path: str, allow: str
) -> None:
    response = await client.request("PUT", path)
    assert response.status == 405
    assert response.headers["Allow"] == allow
    assert status_of(await response.json())["info"].endswith(f"it accepts {allow} only")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("status=teapot", "must be a whole number, got 'teapot'"),
        ("status=", "must be a whole number, got ''"),
        ("since=%D9%A3", "must be a whole number"),  # an Arabic-Indic digit: int() takes it
        ("status=200&status=404", "must be given once, got 2"),
    ],
)
async def test_journal_filters_that_are_not_one_whole_number_are_refused(
    client: Client, query: str, words: str
) -> None:
    response = await client.get(f"/__sandbox/journal?{query}")
    assert response.status == 400
    assert words in status_of(await response.json())["info"]


async def test_a_fault_rule_whose_preset_is_not_a_string_is_a_400(client: Client) -> None:
    response = await client.post("/__sandbox/faults", json={"preset": {}})
    assert response.status == 400
    assert "preset: unknown preset {}" in status_of(await response.json())["info"]


@pytest.mark.parametrize("query", ["state=", "state=queued&state=failed", "state=done"])
async def test_a_jobs_filter_that_is_not_one_state_is_refused(client: Client, query: str) -> None:
    response = await client.get(f"/__sandbox/jobs?{query}")
    assert response.status == 400
    assert "state must be given once, as one of queued" in status_of(await response.json())["info"]


@pytest.mark.parametrize("rule_id", ["%C2%B2", "1x", "-1", "99"])  # "²" is a digit to isdigit()
async def test_removing_a_fault_rule_that_is_not_there_is_a_404(
    client: Client, rule_id: str
) -> None:
    response = await client.delete(f"/__sandbox/faults/{rule_id}")
    assert response.status == 404
    assert "No fault rule with id" in status_of(await response.json())["info"]


async def test_a_callback_url_whose_host_python_cannot_read_is_a_400(client: Client) -> None:
    body = example(BY_NAME["youtube.video"])
    body["request"]["push"]["video"]["callback_url"] = "https://a[@127.0.0.1/done"
    status, _, answer = await push(client, BY_NAME["youtube.video"], body)
    assert status == 400
    assert "callback_url] must point to a loopback address" in status_of(answer)["info"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"request": {"push": {"page": {"id": 123456789012345678901234567890}}}}',
        b'{"a": [-1234567890123456789012, 9223372036854775807, 1.5e300, 0.1]}',
        b'{"a": "\\ud83d\\ude00 caf\\u00e9", "a": "twice"}',
        b'\xef\xbb\xbf{"bom": true}',
        b'{"nan": NaN}',
    ],
    ids=["long-int", "numbers", "escapes-and-duplicate", "bom", "nan"],
)
def test_a_body_is_read_as_pythons_json_reads_it(raw: bytes) -> None:
    import json

    from sandbox.validation.body import parse_body

    assert repr(parse_body(raw)) == repr(json.loads(raw.removeprefix(b"\xef\xbb\xbf")))


def test_an_answer_is_encoded_as_pythons_json_encodes_it() -> None:
    import json

    from sandbox.api import envelope

    data = {"text": 'q"b\\s/ \x00\x1f\x7f\u2028 é 😀\n\t', "n": [1, -2, True, None], "e": {}}
    path = "/push/identities/x/tw\udcffitter/post.json"  # undecodable bytes in a path
    answer = json.loads(envelope.success(path, data))["response"]
    assert answer["result"]["data"] == data
    assert answer["request"]["resource"] == path
    expected = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    assert expected in envelope.success("/p", data)
