"""The two validation profiles (spec §6): ``live`` takes doubtful input with a warning,
``strict`` refuses it; warnings reach the headers, the journal, the log and the handle."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sandbox.api.headers import MAX_BYTES, MAX_CHARS, MAX_HEADERS, header_value
from sandbox.api.push import BY_NAME
from sandbox.config import Settings
from sandbox.http.app import create_app
from sandbox.testing.handle import SandboxHandle
from sandbox.validation.profiles import INPUT_CLASSES
from tests.conftest import AUTH, ClientFactory, push_path

Client = TestClient[web.Request, web.Application]
URL_PHRASE = "must be a fully qualified http or https URL (at most 2048 characters, no spaces)"


def body(node: str, **keys: Any) -> dict[str, Any]:
    return {"request": {"push": {node: keys}}}


# One case per row of §6's table but the last: resource, node keys, the warnings live gives,
# and the words of strict's refusal (None: accepted in both, with no warning).
ROWS: list[tuple[str, str, dict[str, Any], list[str], str | None]] = [
    (
        "empty-array-for-an-array",
        "twitter.post",
        {"message": "Hello World!", "attachments": []},
        [],
        None,
    ),
    (
        "unknown-key",
        "facebook.post",
        {"message": "Hi", "privacy": "EVERYONE"},
        [
            "[request->push->post->privacy] is not a key of post; ignored "
            "(allowed keys: attachments, link, message)"
        ],
        "[request->push->post->privacy] is not a key of post; "
        "allowed keys: attachments, link, message",
    ),
    (
        "empty-string",
        "facebook.page.post",
        {"id": "104582931357924", "message": "Hello", "attachments": [], "link": ""},
        ["[request->push->page->link] is an empty string; treated as absent"],
        f'[request->push->page->link] {URL_PHRASE}, got ""',
    ),
    (
        "null",
        "youtube.video",
        {"video_url": "https://example.com/v.mp4", "title": "T", "description": None},
        ["[request->push->video->description] is null; treated as absent"],
        "[request->push->video->description] must be a string, got null",
    ),
    (
        "null-elements",
        "facebook.post",
        {"message": "Hello", "attachments": [None]},
        ["[request->push->post->attachments] holds null elements; they are dropped"],
        "[request->push->post->attachments->0] must be an id (a non-empty string), got null",
    ),
    (
        "empty-array-for-a-string",
        "facebook.post",
        {"message": "Hello", "link": []},
        [
            "[request->push->post->link] is an empty array where a fully qualified http or "
            "https URL (at most 2048 characters, no spaces) is expected; treated as absent"
        ],
        f"[request->push->post->link] {URL_PHRASE}, got an array",
    ),
    (
        "number-ids",
        "twitter.post",
        {"message": "Hi !", "attachments": [123456789, 987654321]},
        [
            "[request->push->post->attachments] holds an id sent as a JSON number; taken as "
            'its decimal string (["123456789", "987654321"])'
        ],
        "[request->push->post->attachments->0] must be an id (a non-empty string), "
        "got a number (123456789)",
    ),
    (
        "padded-url",
        "linkedin.post",
        {"link": "https://www.fcbarcelona.com/ "},
        [
            "[request->push->post->link] has whitespace around the URL; trimmed to "
            '"https://www.fcbarcelona.com/"'
        ],
        f'[request->push->post->link] {URL_PHRASE}, got "https://www.fcbarcelona.com/ "',
    ),
    (
        "spelled-boolean",
        "facebook.picture",
        {"url": "https://example.com/a.png", "create_post": "false"},
        [
            '[request->push->picture->create_post] is a string ("false"), not a boolean; '
            "taken as false"
        ],
        '[request->push->picture->create_post] must be a boolean, got a string ("false")',
    ),
    (
        "boolean-as-number",
        "facebook.video",
        {"url": "https://example.com/a.mp4", "create_post": 1},
        ["[request->push->video->create_post] is a number (1), not a boolean; taken as true"],
        "[request->push->video->create_post] must be a boolean, got a number (1)",
    ),
    (
        "not-an-image-extension",
        "facebook.picture",
        {"url": "https://example.com/report.pdf"},
        [
            "[request->push->picture->url] points to a .pdf file, not an image (jpeg, png, "
            "gif, bmp or tiff); accepted, as the live API judges the file it fetches"
        ],
        "[request->push->picture->url] must point to an image (jpeg, png, gif, bmp or tiff), "
        "got a .pdf file",
    ),
    (
        "url-object",
        "facebook.post",
        {"message": "Hello", "link": {"url": "https://www.oneall.com/", "name": "OneAll"}},
        [
            "[request->push->post->link] is an object where a URL is expected; its url "
            '"https://www.oneall.com/" is taken, the rest ignored'
        ],
        f"[request->push->post->link] {URL_PHRASE}, got an object",
    ),
]

# §6's last row: 400 in both profiles.
ALWAYS_REFUSED: list[tuple[str, str, Any, str]] = [
    (
        "required-missing",
        "twitter.post",
        body("post"),
        "[request->push->post->message] is required",
    ),
    (
        "required-null",
        "linkedin.post",
        body("post", link=None),
        f"[request->push->post->link] {URL_PHRASE}, got null",
    ),
    (
        "required-empty",
        "youtube.video",
        body("video", video_url="", title=""),
        "[request->push->video->title] must not be empty",
    ),
    (
        "wrong-type",
        "twitter.post",
        body("post", message=42),
        "[request->push->post->message] must be a non-empty string, got a number (42)",
    ),
    (
        "long-tweet",
        "twitter.post",
        body("post", message="a" * 281),
        "[request->push->post->message] must be at most 280 characters as Twitter counts them",
    ),
    (
        "relative-url",
        "facebook.post",
        body("post", message="Hi", link="www.oneall.com"),
        f'[request->push->post->link] {URL_PHRASE}, got "www.oneall.com"',
    ),
    (
        "long-url",
        "facebook.post",
        body("post", message="Hi", link="https://example.com/" + "a" * 2048),
        "[request->push->post->link] must be at most 2048 characters, got 2068",
    ),
    (
        "wrong-node",
        "twitter.post",
        body("picture", url="https://example.com/a.png"),
        "The request cannot be processed. Please verify the format of the "
        "[request->push->post] node.",
    ),
    ("not-json", "twitter.post", "{not json", "The request body is not valid JSON"),
]


@pytest.fixture
async def live(aiohttp_client: ClientFactory) -> Client:
    return await aiohttp_client(create_app(Settings(seed=7)))


@pytest.fixture
async def strict(aiohttp_client: ClientFactory) -> Client:
    return await aiohttp_client(create_app(Settings(seed=7, validation="strict")))


async def send(
    client: Client, resource: str, sent: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], list[str], str | None]:
    endpoint = BY_NAME[resource]
    data = sent if isinstance(sent, str) else json.dumps(sent)
    response = await client.post(
        push_path(endpoint), data=data, headers={"Authorization": AUTH, **(headers or {})}
    )
    answer = await response.json()
    warnings = response.headers.getall("X-Sandbox-Warning", [])
    return response.status, answer, warnings, response.headers.get("X-Sandbox-Detail")


async def journal(client: Client, query: str = "") -> list[dict[str, Any]]:
    response = await client.get(f"/__sandbox/journal{query}")
    entries: list[dict[str, Any]] = (await response.json())["entries"]
    return entries


def info(answer: dict[str, Any]) -> str:
    return str(answer["response"]["request"]["status"]["info"])


def test_every_input_class_has_a_case() -> None:
    covered = {
        "empty_optional": "empty-string",
        "null_items": "null-elements",
        "empty_array_for_scalar": "empty-array-for-a-string",
        "number_id": "number-ids",
        "padded_url": "padded-url",
        "url_object": "url-object",
        "spelled_boolean": "spelled-boolean",
    }
    assert {row.name for row in INPUT_CLASSES} == set(covered)
    assert set(covered.values()) <= {case[0] for case in ROWS}


@pytest.mark.parametrize(
    ("resource", "node", "warnings", "refusal"),
    [case[1:] for case in ROWS],
    ids=[case[0] for case in ROWS],
)
async def test_each_doubtful_input_in_both_profiles(  # noqa: PLR0917
    live: Client,
    strict: Client,
    resource: str,
    node: dict[str, Any],
    warnings: list[str],
    refusal: str | None,
) -> None:
    sent = body(BY_NAME[resource].node, **node)
    status, answer, said, _ = await send(live, resource, sent)
    assert (status, said) == (200, warnings), info(answer)
    entry = (await journal(live))[-1]
    assert entry["warnings"] == warnings
    assert entry["request"]["body"] == sent  # the journal keeps the body as sent
    status, answer, said, _ = await send(strict, resource, sent)
    if refusal is None:
        assert (status, said) == (200, [])
    else:
        assert status == 400
        assert refusal in info(answer)
        assert said == []


@pytest.mark.parametrize(
    ("resource", "sent", "words"),
    [case[1:] for case in ALWAYS_REFUSED],
    ids=[case[0] for case in ALWAYS_REFUSED],
)
async def test_bad_input_is_refused_in_both_profiles(
    live: Client, strict: Client, resource: str, sent: Any, words: str
) -> None:
    for client in (live, strict):
        status, answer, _, _ = await send(client, resource, sent)
        assert status == 400
        assert answer["response"]["request"]["status"]["flag"] == "error"
        assert words in info(answer)


async def test_the_header_chooses_the_profile_per_request(live: Client, strict: Client) -> None:
    sent = body("post", message="Hi", mesage="typo")
    status, _, _, _ = await send(live, "facebook.post", sent, {"X-Sandbox-Validation": "strict"})
    assert status == 400
    status, _, said, _ = await send(strict, "facebook.post", sent, {"X-Sandbox-Validation": "live"})
    assert status == 200 and len(said) == 1
    status, answer, _, _ = await send(live, "facebook.post", sent, {"X-Sandbox-Validation": "lax"})
    assert status == 400
    assert info(answer) == "X-Sandbox-Validation must be one of live, strict, got 'lax'"


async def test_results_see_the_normalised_values(live: Client) -> None:
    """``"create_post": "false"`` is false: no post is created with the picture."""
    sent = body("picture", url="https://example.com/a.png", create_post="false")
    status, answer, _, _ = await send(live, "facebook.picture", sent)
    assert status == 200
    assert "post_id" not in answer["response"]["result"]["data"]
    sent = body("picture", url="https://example.com/a.png", create_post="true")
    _, answer, _, _ = await send(live, "facebook.picture", sent)
    assert "post_id" in answer["response"]["result"]["data"]


async def test_refusals_and_faulted_answers_carry_the_warnings_too(live: Client) -> None:
    sent = body("post", message="", link="", colour="red")
    status, answer, said, _ = await send(live, "facebook.post", sent)
    assert status == 400
    assert info(answer) == "[request->push->post] needs at least one of message, link"
    assert said == [
        "[request->push->post->link] is an empty string; treated as absent",
        "[request->push->post->colour] is not a key of post; ignored "
        "(allowed keys: attachments, link, message)",
    ]
    sent = body("post", message="Hi", colour="red")
    status, _, faulted, _ = await send(
        live, "facebook.post", sent, {"X-Sandbox-Fault": "rate_limited"}
    )
    assert status == 429
    _, _, plain, _ = await send(live, "facebook.post", sent)
    assert faulted == plain and len(plain) == 1  # a fault never changes what is warned


async def test_allow_unknown_keys_ignores_them_with_a_warning_in_strict(
    aiohttp_client: ClientFactory,
) -> None:
    client = await aiohttp_client(
        create_app(Settings(validation="strict", allow_unknown_keys=True))
    )
    status, _, said, _ = await send(client, "facebook.post", body("post", message="Hi", tags=1))
    assert status == 200
    assert said == [
        "[request->push->post->tags] is not a key of post; ignored "
        "(allowed keys: attachments, link, message)"
    ]
    status, answer, _, _ = await send(client, "facebook.post", body("post", link="", tags=1))
    assert status == 400 and "[request->push->post->link]" in info(answer)


async def test_the_journal_filters_on_warnings(live: Client) -> None:
    await send(live, "facebook.post", body("post", message="Hi"))
    await send(live, "facebook.post", body("post", message="Hi", colour=1))
    assert [len(entry["warnings"]) for entry in await journal(live, "?warnings=1")] == [1]
    assert [len(entry["warnings"]) for entry in await journal(live, "?warnings=0")] == [0]
    response = await live.get("/__sandbox/journal?warnings=2")
    assert response.status == 400
    refused = await response.json()
    info = refused["response"]["request"]["status"]["info"]
    assert info == "The query parameter warnings must be 0 or 1, got 2"


async def test_warning_headers_are_ascii_and_bounded(live: Client) -> None:
    node: dict[str, Any] = {"message": "Hi", "k\x00\x07ey\u00e9\U0001f600": 1}
    node.update({f"unknown_{n:04}_" + "x" * 200: n for n in range(1000)})
    status, _, said, _ = await send(live, "facebook.post", body("post", **node))
    assert status == 200
    assert said[0].startswith("[request->push->post->key\\u00e9\\ud83d\\ude00] is not a key")
    assert len(said) == MAX_HEADERS + 1
    assert said[-1] == "and 981 more warnings (see the journal)"
    assert all(value.isascii() and len(value) <= MAX_CHARS for value in said)
    assert sum(len("X-Sandbox-Warning: \r\n") + len(value) for value in said) <= MAX_BYTES
    entry = (await journal(live))[-1]
    assert len(entry["warnings"]) == 100 and entry["warnings"][-1] == "and 902 more warnings"


def test_a_header_value_is_cut_without_breaking_an_escape() -> None:
    value = header_value("a" * 250 + "é" * 10)
    assert len(value) <= MAX_CHARS and value.endswith("...")
    assert value == "a" * 250 + "..."


async def test_the_access_log_line_shows_the_warnings(
    live: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="sandbox.access"):
        await send(live, "facebook.post", body("post", message="Hi", colour=1))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "sandbox.access"]
    assert line.endswith(
        "[warnings: [request->push->post->colour] is not a key of post; "
        "ignored (allowed keys: attachments, link, message)]"
    )


async def test_the_handle_shows_and_asserts_warnings(sandbox: SandboxHandle) -> None:
    import aiohttp

    token = sandbox.identity("facebook")
    url = sandbox.push_url("facebook/post.json", token)
    async with aiohttp.ClientSession() as session:
        sent = body("post", message="Hi", colour=1)
        async with session.post(url, json=sent, headers=sandbox.headers) as response:
            assert response.status == 200
    (call,) = sandbox.journal
    assert call.warnings == (
        "[request->push->post->colour] is not a key of post; ignored "
        "(allowed keys: attachments, link, message)",
    )
    with pytest.raises(AssertionError, match="colour"):
        sandbox.assert_no_warnings()
    with pytest.raises(AssertionError, match=r"warning: \[request->push->post->colour\]"):
        sandbox.assert_pushed("facebook.post", status=400)
    sandbox.assert_no_warnings("twitter.post")


@pytest.mark.sandbox(validation="strict")
async def test_the_marker_sets_the_profile(sandbox: SandboxHandle) -> None:
    import aiohttp

    token = sandbox.identity("facebook")
    url = sandbox.push_url("facebook/post.json", token)
    async with aiohttp.ClientSession() as session:
        sent = body("post", message="Hi", colour=1)
        async with session.post(url, json=sent, headers=sandbox.headers) as response:
            assert response.status == 400
    sandbox.assert_no_warnings()
