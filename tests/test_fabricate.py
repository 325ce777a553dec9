"""Result data shapes, per-identity reproducibility and Twitter snowflakes."""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sandbox.model import results as fabricate
from sandbox.model.identities import Identity
from sandbox.model.results import Fabricator, IdSource, Push, ResultFactory, make_user

if TYPE_CHECKING:
    from collections.abc import Mapping

FACEBOOK = Identity(
    token="5f2ff82c-882f-43f2-b1c4-28193402decf",
    provider="facebook",
    user={"id": "100004512345678", "name": "Ada Lovelace", "screen_name": "ada.lovelace"},
    pages=[{"id": "104582931357924", "name": "Analytical Engines Ltd"}],
    groups=[{"id": "1784269101234567", "name": "Victorian Computing Society"}],
)
LINKEDIN = Identity(
    token="5aab3f12-f7b7-4b88-8493-c9a8ff4d4daa",
    provider="linkedin",
    user={"id": "x7Kq2mPz9T", "name": "Grace Hopper", "screen_name": "grace-hopper"},
)
PINTEREST = Identity(
    token="4962248e-56ad-44a2-96cf-63415c6a8647",
    provider="pinterest",
    user={"id": "549755813888123456", "name": "Hedy Lamarr", "screen_name": "hedylamarr"},
)
TWITTER = Identity(
    token="16b2eacb-c86e-4fdb-b482-2836b59ee40e",
    provider="twitter",
    user={"id": "1524719876543210497", "name": "Alan Turing", "screen_name": "alanturing"},
)
TWITTER_B = Identity(
    token="68370a54-ccac-402e-837c-ce6709e5dfd9",
    provider="twitter",
    user={"id": "1524719876543210498", "name": "Charles Babbage", "screen_name": "cbabbage"},
)
YOUTUBE = Identity(
    token="6172457d-07e9-40f8-be3b-1267b4184164",
    provider="youtube",
    user={"id": "UCx9fQ2LmN7pR4sT6vW8yZ1a", "name": "Katherine Johnson"},
    channel={"id": "UCx9fQ2LmN7pR4sT6vW8yZ1a", "title": "Orbital Mechanics"},
)
PLAYLIST = "PLr3Xw9bT5nQ1mZ7kV2cJ8hY4dF6gS0aLe"

B64 = r"[A-Za-z0-9_-]"
VIDEO_ID = B64 + r"{10}[AEIMQUYcgkosw048]"  # 64 bits: the last character carries 4 of them
MS_2026 = 1767225600000


def push(
    fab: Fabricator,
    identity: Identity,
    node: Mapping[str, Any],
    params: Mapping[str, str] | None = None,
) -> Push:
    return Push(identity, node, params or {}, fab.ids(identity))


# (factory, identity, node, params, {key: full-match regex}); keys must match exactly, in order.
CASES: list[tuple[ResultFactory, Identity, dict[str, Any], dict[str, str], dict[str, str]]] = [
    (
        fabricate.facebook_post,
        FACEBOOK,
        {"message": "hi"},
        {},
        {
            "provider": "facebook",
            "object": "post",
            "post_id": r"100004512345678_[1-9]\d{15}",
            "post_location": r"https://www\.facebook\.com/100004512345678/posts/[1-9]\d{15}",
        },
    ),
    (
        fabricate.facebook_post,
        FACEBOOK,
        {"id": 104582931357924, "message": "hi"},  # an int id from the body
        {},
        {
            "provider": "facebook",
            "object": "post",
            "post_id": r"104582931357924_\d{16}",
            "post_location": r"https://www\.facebook\.com/104582931357924/posts/\d{16}",
        },
    ),
    (
        fabricate.facebook_picture,
        FACEBOOK,
        {"id": "1784269101234567", "url": "https://example.com/a.png"},
        {},
        {
            "provider": "facebook",
            "object": "picture",
            "picture_id": r"[1-9]\d{15}",
            "picture_location": r"https://www\.facebook\.com/photo\.php\?fbid=[1-9]\d{15}",
            "post_id": r"1784269101234567_\d{16}",
            "post_location": r"https://www\.facebook\.com/1784269101234567/posts/\d{16}",
        },
    ),
    (
        fabricate.facebook_picture,
        FACEBOOK,
        {"url": "https://example.com/a.png", "create_post": False},
        {},
        {
            "provider": "facebook",
            "object": "picture",
            "picture_id": r"[1-9]\d{15}",
            "picture_location": r"https://www\.facebook\.com/photo\.php\?fbid=[1-9]\d{15}",
        },
    ),
    (
        fabricate.facebook_video,
        FACEBOOK,
        {"id": "104582931357924", "url": "https://example.com/a.mp4"},
        {},
        {
            "provider": "facebook",
            "object": "video",
            "video_id": r"[1-9]\d{15}",
            "video_location": r"https://www\.facebook\.com/104582931357924/videos/[1-9]\d{15}/",
            "post_id": r"104582931357924_\d{16}",
            "post_location": r"https://www\.facebook\.com/104582931357924/posts/\d{16}",
        },
    ),
    (
        fabricate.facebook_video,
        FACEBOOK,
        {"url": "https://example.com/a.mp4", "create_post": False},
        {},
        {
            "provider": "facebook",
            "object": "video",
            "video_id": r"\d{16}",
            "video_location": r"https://www\.facebook\.com/100004512345678/videos/\d{16}/",
        },
    ),
    (
        fabricate.linkedin_post,
        LINKEDIN,
        {"link": "https://example.com/", "company": 2414183},
        {},
        {
            "provider": "linkedin",
            "object": "post",
            "post_id": r"urn:li:share:[1-9]\d{18}",
            "post_location": r"https://www\.linkedin\.com/feed/update/urn:li:share:[1-9]\d{18}/",
        },
    ),
    (
        fabricate.pinterest_pin,
        PINTEREST,
        {"picture": "https://example.com/a.jpg"},
        {"board_id": "549755885175678901"},
        {
            "provider": "pinterest",
            "object": "pin",
            "pin_id": r"[1-9]\d{17}",
            "pin_location": r"https://www\.pinterest\.com/pin/[1-9]\d{17}/",
        },
    ),
    (
        fabricate.pinterest_board,
        PINTEREST,
        {"name": "Café  Recipes & Stuff!"},
        {},
        {
            "provider": "pinterest",
            "object": "board",
            "board_id": r"[1-9]\d{17}",
            "board_location": r"https://www\.pinterest\.com/hedylamarr/cafe-recipes-stuff/",
            "board_name": r"Café  Recipes & Stuff!",
        },
    ),
    (
        fabricate.twitter_post,
        TWITTER,
        {"message": "hello"},
        {},
        {
            "provider": "twitter",
            "object": "post",
            "post_id": r"[1-9]\d{18}",
            "post_location": r"https://twitter\.com/alanturing/status/[1-9]\d{18}",
        },
    ),
    (
        fabricate.twitter_picture,
        TWITTER,
        {"url": "https://example.com/a.gif"},
        {},
        {
            "provider": "twitter",
            "object": "picture",
            "picture_id": r"[1-9]\d{18}",
            "expires_after_secs": "86400",
        },
    ),
    (
        fabricate.twitter_video,
        TWITTER,
        {"video_url": "https://example.com/a.mp4"},
        {},
        {
            "provider": "twitter",
            "object": "video",
            "video_id": r"[1-9]\d{18}",
            "processing_status": "queued",
        },
    ),
    (
        fabricate.youtube_video,
        YOUTUBE,
        {"video_url": "https://example.com/a.mp4", "title": "T"},
        {},
        {
            "provider": "youtube",
            "object": "video",
            "video_id": VIDEO_ID,
            "video_location": r"https://www\.youtube\.com/watch\?v=" + VIDEO_ID,
            "processing_status": "queued",
        },
    ),
    (
        fabricate.youtube_playlist_item,
        YOUTUBE,
        {"video_id": "dQw4w9WgXcQ"},
        {"playlist_id": PLAYLIST},
        {
            "provider": "youtube",
            "object": "playlist_item",
            "playlist_item_id": r"UEx[A-Za-z0-9_-]{65}",
            "playlist_id": PLAYLIST,
            "video_id": "dQw4w9WgXcQ",
        },
    ),
    (
        fabricate.youtube_playlist,
        YOUTUBE,
        {"title": "Mine"},
        {},
        {
            "provider": "youtube",
            "object": "playlist",
            "playlist_id": r"PL" + B64 + "{32}",
            "playlist_location": r"https://www\.youtube\.com/playlist\?list=PL" + B64 + "{32}",
        },
    ),
    (
        fabricate.youtube_channel_section,
        YOUTUBE,
        {"type": "recent_uploads"},
        {},
        {
            "provider": "youtube",
            "object": "section",
            "section_id": r"UCx9fQ2LmN7pR4sT6vW8yZ1a\." + VIDEO_ID,
        },
    ),
]


@pytest.mark.parametrize(("factory", "identity", "node", "params", "shape"), CASES)
def test_result_shapes(
    factory: ResultFactory,
    identity: Identity,
    node: dict[str, Any],
    params: dict[str, str],
    shape: dict[str, str],
) -> None:
    for seed in (7, None):
        fab = Fabricator(seed)
        for _ in range(50):
            data = factory(push(fab, identity, node, params))
            assert list(data) == list(shape)
            for key, pattern in shape.items():
                assert re.fullmatch(pattern, str(data[key])), (key, data[key])


def test_ids_from_the_node_and_path_are_strings() -> None:
    fab = Fabricator(1)
    data = fabricate.youtube_playlist_item(
        push(fab, YOUTUBE, {"video_id": 12345}, {"playlist_id": PLAYLIST})
    )
    assert data["video_id"] == "12345"
    assert fabricate.facebook_post(push(fab, FACEBOOK, {"id": 42}))["post_id"].startswith("42_")


def test_playlist_item_id_decodes_to_the_playlist_and_a_hex_suffix() -> None:
    fab = Fabricator(3)
    data = fabricate.youtube_playlist_item(
        push(fab, YOUTUBE, {"video_id": "dQw4w9WgXcQ"}, {"playlist_id": PLAYLIST})
    )
    decoded = base64.urlsafe_b64decode(data["playlist_item_id"] + "==").decode()
    assert re.fullmatch(re.escape(PLAYLIST) + r"\.[0-9A-F]{16}", decoded)


def test_section_falls_back_to_the_user_channel() -> None:
    identity = Identity("0" * 8 + "-0000-4000-8000-" + "0" * 12, "youtube", {"id": "UC" + "a" * 22})
    data = fabricate.youtube_channel_section(push(Fabricator(1), identity, {"type": "x"}))
    assert data["section_id"].startswith("UC" + "a" * 22 + ".")


def test_twitter_post_without_screen_name_uses_the_anonymous_link() -> None:
    identity = Identity("0" * 8 + "-0000-4000-8000-" + "0" * 12, "twitter", {"id": "1"})
    data = fabricate.twitter_post(push(Fabricator(1), identity, {"message": "m"}))
    assert data["post_location"] == f"https://twitter.com/i/web/status/{data['post_id']}"


def test_locations_stay_urls_whatever_the_ids_and_handles_hold() -> None:
    fab = Fabricator(1)
    page = fabricate.facebook_video(push(fab, FACEBOOK, {"id": "my page/../x", "url": "u"}))
    assert page["post_id"].startswith("my page/../x_")
    assert page["video_location"].startswith("https://www.facebook.com/my%20page%2F..%2Fx/videos/")
    assert page["post_location"].startswith("https://www.facebook.com/my%20page%2F..%2Fx/posts/")
    handle = Identity(TWITTER.token, "twitter", {"id": "1", "screen_name": "a b"})
    tweet = fabricate.twitter_post(push(fab, handle, {"message": "m"}))
    assert tweet["post_location"].startswith("https://twitter.com/a%20b/status/")
    pinner = Identity(PINTEREST.token, "pinterest", {"id": "1", "screen_name": "é/è"})
    board = fabricate.pinterest_board(push(fab, pinner, {"name": "Board"}))
    assert board["board_location"] == "https://www.pinterest.com/%C3%A9%2F%C3%A8/board/"


def test_board_with_an_unsluggable_name() -> None:
    data = fabricate.pinterest_board(push(Fabricator(1), PINTEREST, {"name": "日本"}))
    assert data["board_location"] == "https://www.pinterest.com/hedylamarr/board/"


# --- reproducibility -----------------------------------------------------------------------


def run(fab: Fabricator, identity: Identity, n: int = 5) -> list[dict[str, Any]]:
    """A fixed mix of requests for one identity."""
    out = []
    for _ in range(n):
        for factory, who, node, params, _shape in CASES:
            if who.provider == identity.provider:
                out.append(factory(push(fab, identity, node, params)))
    return out


@pytest.mark.parametrize("identity", [FACEBOOK, LINKEDIN, PINTEREST, TWITTER, YOUTUBE])
def test_same_seed_same_results(identity: Identity) -> None:
    assert run(Fabricator(42), identity) == run(Fabricator(42), identity)


def test_other_identities_do_not_disturb_one_identity() -> None:
    alone = run(Fabricator(42), TWITTER)
    fab = Fabricator(42)
    mixed: list[dict[str, Any]] = []
    for _ in range(5):
        for factory, who, node, params, _shape in CASES:
            if who is TWITTER:
                mixed.append(factory(push(fab, TWITTER, node, params)))
            else:
                factory(push(fab, who, node, params))
            fabricate.twitter_post(push(fab, TWITTER_B, {"message": "noise"}))
    assert mixed == alone


def test_different_seeds_differ() -> None:
    assert run(Fabricator(1), FACEBOOK) != run(Fabricator(2), FACEBOOK)
    assert run(Fabricator(1), YOUTUBE) != run(Fabricator(2), YOUTUBE)


def test_no_seed_differs_between_fabricators() -> None:
    assert run(Fabricator(None), PINTEREST) != run(Fabricator(None), PINTEREST)
    assert run(Fabricator(None), YOUTUBE) != run(Fabricator(None), YOUTUBE)


def test_known_value_for_a_seed() -> None:
    """Pins the seeding rule (draw n = BLAKE2b(n) keyed by BLAKE2b("<seed>:<token>"), rejection
    sampled to the range): a change of scheme must be deliberate."""
    key = hashlib.blake2b(f"5:{FACEBOOK.token}".encode(), digest_size=16).digest()
    span, counter = 9 * 10**15, 0
    while True:  # draws of span's bit length (53 bits: 7 bytes shifted right by 3)
        counter += 1
        digest = hashlib.blake2b(counter.to_bytes(8, "little"), digest_size=7, key=key).digest()
        value = int.from_bytes(digest, "big") >> 3
        if value < span:
            break
    expected = str(10**15 + value)
    data = fabricate.facebook_picture(push(Fabricator(5), FACEBOOK, {"url": "u"}))
    assert data["picture_id"] == expected


def test_reseed_restarts_sequences() -> None:
    fab = Fabricator(9)
    first = run(fab, TWITTER)
    assert run(fab, TWITTER) != first  # the sequence moves on
    fab.reseed(9)
    assert run(fab, TWITTER) == first
    fab.reseed(10)
    assert run(fab, TWITTER) == run(Fabricator(10), TWITTER)


def test_ids_go_on_per_token_and_are_forgettable() -> None:
    fab = Fabricator(9)
    first = fabricate.twitter_post(push(fab, TWITTER, {"message": "m"}))
    other = fabricate.twitter_post(push(fab, TWITTER_B, {"message": "m"}))
    second = fabricate.twitter_post(push(fab, TWITTER, {"message": "m"}))
    assert len({first["post_id"], other["post_id"], second["post_id"]}) == 3
    assert int(second["post_id"]) > int(first["post_id"])  # the state went on
    fab.forget(TWITTER.token)
    fab.forget("never-seen")  # forgetting an unknown token is harmless
    assert fabricate.twitter_post(push(fab, TWITTER, {"message": "m"})) == first
    fabricate.twitter_post(push(fab, TWITTER, {"message": "m"}))
    assert fabricate.twitter_post(push(fab, TWITTER_B, {"message": "m"})) != other


def test_a_retired_source_goes_on_where_it_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past LIVE_SOURCES identities, the source used least recently is kept as its state only:
    taken up again, it goes on as if it had stayed."""
    expected = run(Fabricator(42), TWITTER, n=10)
    monkeypatch.setattr(fabricate, "LIVE_SOURCES", 1)
    fab = Fabricator(42)
    first = run(fab, TWITTER)
    fabricate.twitter_post(push(fab, TWITTER_B, {"message": "noise"}))
    assert first + run(fab, TWITTER) == expected


def test_unseeded_ids_go_on_per_token() -> None:
    fab = Fabricator(None)
    posts = [fabricate.twitter_post(push(fab, TWITTER, {"message": "m"})) for _ in range(50)]
    ids = [post["post_id"] for post in posts]
    assert all(int(a) < int(b) for a, b in itertools.pairwise(ids))
    pins = {fabricate.pinterest_pin(push(fab, PINTEREST, {}))["pin_id"] for _ in range(50)}
    assert len(pins) == 50


# --- snowflakes ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [123, None])
def test_snowflakes(seed: int | None) -> None:
    source = IdSource(TWITTER.token, seed)
    worker = fabricate.twitter_worker(TWITTER.token)
    assert worker == zlib.crc32(TWITTER.token.encode()) & 0x3FF
    before = time.time_ns() // 1_000_000
    ids = [source.snowflake() for _ in range(10_000)]  # > 4096: the sequence wraps
    after = time.time_ns() // 1_000_000
    assert all(re.fullmatch(r"[1-9]\d{18}", value) for value in ids)
    numbers = [int(value) for value in ids]
    assert all(a < b for a, b in itertools.pairwise(numbers))
    parts = [fabricate.snowflake_parts(value) for value in ids]
    assert {worker_bits for _, worker_bits, _ in parts} == {worker}
    first_sequence = parts[0][2]
    assert [sequence for _, _, sequence in parts[:3]] == [
        (first_sequence + step) & 0xFFF for step in range(3)
    ]
    if seed is not None:
        assert first_sequence == 1
    first_ms, last_ms = parts[0][0], parts[-1][0]
    if seed is None:
        assert before <= first_ms <= after + 5
        assert last_ms <= after + 10_000 // 4096 + 1  # borrowed ms only when the sequence wraps
    else:
        assert MS_2026 < first_ms <= MS_2026 + fabricate.VIRTUAL_MAX_STEP_MS
        assert last_ms - first_ms < 10_000 * fabricate.VIRTUAL_MAX_STEP_MS
        assert parts[1][0] > first_ms


def test_two_identities_have_different_workers() -> None:
    assert fabricate.twitter_worker(TWITTER.token) != fabricate.twitter_worker(TWITTER_B.token)
    a = fabricate.snowflake_parts(IdSource(TWITTER.token, None).snowflake())[1]
    b = fabricate.snowflake_parts(IdSource(TWITTER_B.token, None).snowflake())[1]
    assert a != b


def test_snowflake_parts_reads_the_fields_back() -> None:
    value = ((MS_2026 - fabricate.TWITTER_EPOCH_MS) << 22) | (5 << 12) | 7
    assert fabricate.snowflake_parts(str(value)) == (MS_2026, 5, 7)
    assert fabricate.TWITTER_EPOCH_MS == 1288834974657  # 2010-11-04T01:42:54.657Z


def test_id_source_primitives() -> None:
    source = IdSource("t", 1)
    assert all(re.fullmatch(r"[1-9]\d{14}", source.digits(15)) for _ in range(200))
    assert re.fullmatch(r"[ab]{30}", source.alphabet(30, "ab"))
    assert re.fullmatch(r"[0-9A-F]{16}", source.hex_digits(16))
    assert re.fullmatch(B64 + r"{21}[AQgw]", source.base64url(16))
    assert re.fullmatch(B64 + "{32}", source.base64url(24))


# --- users for automatically registered identities -----------------------------------------

USER_SHAPES = {
    "facebook": (r"1000\d{11}", r"[a-z0-9]+(\.[a-z0-9]+)+"),
    "twitter": (r"[1-9]\d{18}", r"[a-z0-9]{1,15}"),
    "pinterest": (r"[1-9]\d{17}", r"[a-z0-9]+"),
    "linkedin": (r"[A-Za-z0-9]{10}", r"[a-z0-9]+(-[a-z0-9]+)+"),
    "youtube": (r"UC" + B64 + r"{21}[AQgw]", r"[a-z0-9]+"),
}


@pytest.mark.parametrize("provider", sorted(USER_SHAPES))
def test_make_user_shapes(provider: str) -> None:
    id_pattern, handle_pattern = USER_SHAPES[provider]
    for index in range(20):
        token = f"00000000-0000-4000-8000-{index:012d}"
        user = make_user(provider, token, 11)
        assert re.fullmatch(id_pattern, user["id"]), user
        assert re.fullmatch(r"\S+ \S+( \S+)*", user["name"]), user
        assert re.fullmatch(handle_pattern, user["screen_name"]), user
        expected_keys = ["id", "name", "screen_name"]
        if provider == "youtube":
            expected_keys.append("channel_title")
            assert user["channel_title"].strip()
        assert list(user) == expected_keys


def test_make_user_is_deterministic_with_a_seed() -> None:
    for provider in USER_SHAPES:
        assert make_user(provider, TWITTER.token, 5) == make_user(provider, TWITTER.token, 5)
    users = {make_user("facebook", TWITTER.token, seed)["id"] for seed in range(5)}
    assert len(users) == 5
    assert make_user("twitter", TWITTER.token, 5) != make_user("twitter", TWITTER_B.token, 5)


def test_make_user_without_a_seed_differs() -> None:
    ids = {make_user("pinterest", TWITTER.token, None)["id"] for _ in range(5)}
    assert len(ids) == 5


def test_make_user_twitter_id_is_a_past_snowflake() -> None:
    user = make_user("twitter", TWITTER.token, 5)
    ms, worker, _ = fabricate.snowflake_parts(user["id"])
    assert 1546300800000 <= ms < 1735689600000
    assert worker == fabricate.twitter_worker(TWITTER.token)


def test_make_user_does_not_disturb_the_identity_stream() -> None:
    fab = Fabricator(5)
    make_user("twitter", TWITTER.token, 5)
    assert run(fab, TWITTER) == run(Fabricator(5), TWITTER)


def test_make_user_rejects_an_unknown_provider() -> None:
    with pytest.raises(ValueError, match="unknown provider 'myspace'"):
        make_user("myspace", TWITTER.token, 5)


def test_fabricating_users_and_boards_does_not_import_faker() -> None:
    # Faker's package loads 90 modules (7.6 MiB) for the three word lists the sandbox uses
    code = (
        "import sys; from sandbox.model.results import make_user; "
        "print(make_user('pinterest', '0b0c0000-0000-4000-8000-000000000001', 5)['name'] != '', "
        "'faker' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "True False"
