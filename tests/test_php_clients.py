"""The exact requests OneAll's PHP client code sends (oneall/php-sdk, current and release
2.1.0, and oneall/php-api-examples; tests/clients/php/push_requests.json, provenance sdk)
replayed byte for byte against the sandbox, in both validation profiles, with what spec §6
says of each: in ``live`` a 200 with the right warnings, in ``strict`` a 200 or a 400 naming
the key; what no profile accepts (§6's last row) a 400 naming the key in both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sandbox.config import Settings
from sandbox.http.app import create_app
from tests.conftest import AUTH, TOKENS, ClientFactory

Client = TestClient[web.Request, web.Application]
REQUESTS = Path(__file__).resolve().parent / "clients" / "php" / "push_requests.json"
ENTRIES: list[dict[str, Any]] = [
    entry for entry in json.loads(REQUESTS.read_text())["entries"] if entry["sent"]
]
# The host YouTube::pushVideos gives as its callback_url: the sandbox calls back loopback or
# the hosts allowed with --callback-allow only (and no callback is due during the test).
CALLBACK_HOST = "www.example.com"

# What differs from "200, no warning" in both profiles: per profile, the status and the keys
# of the node named, in order, by the warnings (200) or by the refusal (400).
EXPECTED: dict[str, dict[str, tuple[int, list[str]]]] = {
    # release 2.1.0's Facebook::post: link as {url, ...}, attachments [$pictureId] = [null]
    "php-sdk.Facebook.post.defaults": {
        "live": (200, ["link", "attachments"]),
        "strict": (400, ["link", "attachments"]),
    },
    "php-sdk.Facebook.post.all": {"live": (200, ["link"]), "strict": (400, ["link"])},
    # {"url": "www.oneall.com"}: not an absolute URL, refused whatever the profile
    "php-sdk.Facebook.post.int_picture_id": {
        "live": (400, ["link"]),
        "strict": (400, ["link", "attachments"]),
    },
    # the refactor line's page post: its default $link = '' goes out as "link": ""
    "php-sdk.Facebook.pushPagePosts.defaults": {"live": (200, ["link"]), "strict": (400, ["link"])},
    # lib/push_api: "https://www.fcbarcelona.com/ " (a trailing space)
    "php-sdk.lib.push_identity_linkedin_post": {
        "live": (200, ["link"]),
        "strict": (400, ["link"]),
    },
    # php-api-examples: attachment ids as JSON numbers
    "php-api-examples.twitter.twitter_publish": {
        "live": (200, ["attachments"]),
        "strict": (400, ["attachments"]),
    },
    # §6's last row, both profiles: a required key null or empty, a wrong object node
    "php-api-examples.linkedin.publish": {"live": (400, ["link"]), "strict": (400, ["link"])},
    "php-api-examples.youtube.publish_videos": {
        "live": (400, ["video_url", "title"]),
        "strict": (400, ["video_url", "title"]),
    },
    "php-sdk.Twitter.upload.all_039b9f8_to_post_json": {
        "live": (400, []),
        "strict": (400, []),
    },
    "php-api-examples.twitter.twitter_upload_image.release_039b9f8": {
        "live": (400, []),
        "strict": (400, []),
    },
}
WRONG_NODE = "The request cannot be processed. Please verify the format of the [request->push->"


@pytest.fixture(params=["live", "strict"])
async def served(
    request: pytest.FixtureRequest, aiohttp_client: ClientFactory
) -> tuple[Client, str]:
    """A sandbox in each validation profile, and the profile's name."""
    settings = Settings(
        seed=1,
        validation=request.param,
        callback_allow=(CALLBACK_HOST,),
        processing_time=3600,
    )
    return await aiohttp_client(create_app(settings)), request.param


def test_every_push_entry_is_replayed_and_the_table_names_only_entries() -> None:
    assert len(ENTRIES) >= 40
    assert set(EXPECTED) <= {entry["id"] for entry in ENTRIES}


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["id"] for entry in ENTRIES])
async def test_what_the_php_client_sends(served: tuple[Client, str], entry: dict[str, Any]) -> None:
    client, validation = served
    provider = entry["path"].split("/")[4]
    path = entry["path"].replace("{identity_token}", TOKENS[provider])
    headers = {
        name: value
        for name, value in entry["headers"].items()
        if name.lower() not in ("host", "authorization", "expect")
    }
    if entry["content_type"]:
        headers["Content-Type"] = entry["content_type"]
    response = await client.post(
        path, data=entry["raw"].encode(), headers={**headers, "Authorization": AUTH}
    )
    answer = await response.json()
    info = answer["response"]["request"]["status"]["info"]
    warnings = response.headers.getall("X-Sandbox-Warning", [])
    node = next(iter(entry["body"]["request"]["push"]))
    status, keys = EXPECTED.get(entry["id"], {}).get(validation, (200, []))
    assert response.status == status, info
    named = [f"[request->push->{node}->{key}]" for key in keys]
    if status == 200:
        assert [w.split(" ", 1)[0] for w in warnings] == named, warnings
    elif info.startswith(WRONG_NODE):
        assert "is missing: this resource expects a" in response.headers["X-Sandbox-Detail"]
    else:  # each key named, itself or one of its items
        assert all(part in info or part[:-1] + "->" in info for part in named), info
