"""The resource table: the only place the Push API's resources are named.

A row says where a resource lives, which object node its body carries, which target it
publishes to and how its result data is made. Its dotted ``name`` is used everywhere:
the schema file (``schemas/<name>.json``), the example body
(``fixtures/requests/<name>.json``), journal entries and fault patterns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.api.datafiles import read_schema

PUSH_PREFIX = "/push/identities/{token}/"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a request names the page, group, board ... it publishes to.

    ``kind`` is the identity's list (``pages``, ``groups``, ``companies``, ``boards``,
    ``playlists``); the id is read from the path parameter ``param`` or the node key ``key``.
    """

    kind: str
    key: str | None = None
    param: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    path: str
    node: str
    result: str  # the result factory's name in sandbox.model.results.RESULTS
    target: Target | None = None
    creates: str | None = None
    deprecated: bool = False
    asynchronous: bool = False
    provider: str = field(init=False)  # the name's first part, read by every push

    def __post_init__(self) -> None:
        object.__setattr__(self, "provider", self.name.split(".", 1)[0])

    @property
    def route(self) -> str:
        """The aiohttp route pattern, ``{token}`` and path parameters included."""
        return PUSH_PREFIX + self.path

    @property
    def display_path(self) -> str:
        """The path as documentation writes it, e.g. ``.../pinterest/board/<board_id>/pin.json``."""
        return self.route.replace("{token}", "<identity_token>").replace("{", "<").replace("}", ">")


PAGE = Target("pages", key="id")
GROUP = Target("groups", key="id")

ENDPOINTS: tuple[Endpoint, ...] = (
    # Facebook: the three profile resources are deprecated since 2018-08-01 (spec §4).
    Endpoint("facebook.post", "facebook/post.json", "post", "facebook_post", deprecated=True),
    Endpoint(
        "facebook.picture",
        "facebook/picture.json",
        "picture",
        "facebook_picture",
        deprecated=True,
    ),
    Endpoint("facebook.video", "facebook/video.json", "video", "facebook_video", deprecated=True),
    Endpoint("facebook.group.post", "facebook/group/post.json", "group", "facebook_post", GROUP),
    Endpoint(
        "facebook.group.picture",
        "facebook/group/picture.json",
        "group",
        "facebook_picture",
        GROUP,
    ),
    Endpoint(
        "facebook.group.video",
        "facebook/group/video.json",
        "group",
        "facebook_video",
        GROUP,
    ),
    Endpoint("facebook.page.post", "facebook/page/post.json", "page", "facebook_post", PAGE),
    Endpoint(
        "facebook.page.picture",
        "facebook/page/picture.json",
        "page",
        "facebook_picture",
        PAGE,
    ),
    Endpoint("facebook.page.video", "facebook/page/video.json", "page", "facebook_video", PAGE),
    # LinkedIn
    Endpoint("linkedin.post", "linkedin/post.json", "post", "linkedin_post"),
    Endpoint(
        "linkedin.company.post",
        "linkedin/company/post.json",
        "post",
        "linkedin_post",
        Target("companies", key="company"),
    ),
    # Pinterest
    Endpoint(
        "pinterest.board.pin",
        "pinterest/board/{board_id}/pin.json",
        "pin",
        "pinterest_pin",
        Target("boards", param="board_id"),
    ),
    Endpoint(
        "pinterest.pin",
        "pinterest/pin.json",
        "pin",
        "pinterest_pin",
        Target("boards", key="board"),
    ),
    Endpoint(
        "pinterest.board",
        "pinterest/board.json",
        "board",
        "pinterest_board",
        creates="boards",
    ),
    # Twitter
    Endpoint("twitter.post", "twitter/post.json", "post", "twitter_post"),
    Endpoint("twitter.picture", "twitter/picture.json", "picture", "twitter_picture"),
    Endpoint("twitter.video", "twitter/video.json", "video", "twitter_video", asynchronous=True),
    # YouTube
    Endpoint("youtube.video", "youtube/video.json", "video", "youtube_video", asynchronous=True),
    Endpoint(
        "youtube.playlist.video",
        "youtube/playlist/{playlist_id}/video.json",
        "video",
        "youtube_playlist_item",
        Target("playlists", param="playlist_id"),
    ),
    Endpoint(
        "youtube.playlist",
        "youtube/playlist.json",
        "playlist",
        "youtube_playlist",
        creates="playlists",
    ),
    Endpoint(
        "youtube.channel.section",
        "youtube/channel/section.json",
        "section",
        "youtube_channel_section",
    ),
)

BY_NAME: dict[str, Endpoint] = {endpoint.name: endpoint for endpoint in ENDPOINTS}
# Each network's key (in paths, bodies and results) and the name people read (in wording).
PROVIDER_NAMES: dict[str, str] = {
    "facebook": "Facebook",
    "linkedin": "LinkedIn",
    "pinterest": "Pinterest",
    "twitter": "Twitter",
    "youtube": "YouTube",
}
PROVIDERS: tuple[str, ...] = tuple(PROVIDER_NAMES)


# Where a fact comes from (spec, "provenance"): OneAll's documentation, its SDKs, the networks'
# own (net), or the sandbox's inference (ours). Only doc and sdk count as found.
SOURCES = ("doc", "sdk", "net", "ours")
FOUND_SOURCES = frozenset({"doc", "sdk"})


def provenance(endpoint: Endpoint) -> dict[str, str]:
    """The ``x-source`` of the resource's request body and of its result data, from their
    schemas (``schemas/<name>.json``, ``schemas/results/<result>.json``)."""
    return {
        "body": str(read_schema("", endpoint.name).get("x-source", "ours")),
        "result": str(read_schema("results", endpoint.result).get("x-source", "ours")),
    }


def inferred(endpoint: Endpoint) -> list[str]:
    """What of the resource was found in no OneAll documentation or SDK: "body", "result"."""
    return [part for part, source in provenance(endpoint).items() if source not in FOUND_SOURCES]
