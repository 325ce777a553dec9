"""The Pull API: what an identity may publish to, and what it published (oneall-api.md §4).
The paths are documented; the answers' shapes are ours."""

from __future__ import annotations

from sandbox.api.calls import Call

PULL_PREFIX = "/pull/identities/{identity_token}/"


def _pull(name: str, path: str, listing: str, summary: str) -> Call:
    provider = name.split(".", maxsplit=1)[0]
    return Call(
        f"pull.{name}",
        "GET",
        PULL_PREFIX + path,
        "pull",
        summary,
        listing=listing,
        page_size=f"num_{listing}",
        source="ours",
        provider=provider,
    )


CALLS: tuple[Call, ...] = (
    _pull("facebook.pages", "facebook/pages.json", "pages", "The Facebook pages of the identity"),
    _pull(
        "facebook.groups", "facebook/groups.json", "groups", "The Facebook groups of the identity"
    ),
    _pull("facebook.posts", "facebook/posts.json", "posts", "What the identity posted on Facebook"),
    _pull(
        "facebook.page.posts",
        "facebook/page/{page_id}/posts.json",
        "posts",
        "What the identity posted on one of its pages",
    ),
    _pull(
        "linkedin.companies",
        "linkedin/companies.json",
        "companies",
        "The LinkedIn company pages the identity administers",
    ),
    _pull("pinterest.boards", "pinterest/boards.json", "boards", "The Pinterest boards"),
    _pull("youtube.playlists", "youtube/playlists.json", "playlists", "The YouTube playlists"),
    _pull("youtube.channels", "youtube/channels.json", "channels", "The YouTube channels"),
    _pull("twitter.tweets", "twitter/tweets.json", "tweets", "What the identity tweeted"),
)
