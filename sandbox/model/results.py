"""Result data: provider ID shapes and locations, one small factory per object kind.

Every factory takes a :class:`Push` (what one accepted request says) and returns the
``result.data`` node: ``provider`` and ``object`` first, then ``<object>_id``,
``<object>_location`` where the network gives the object a public page, and ``post_id`` /
``post_location`` where a post is created (spec §4). The shapes follow the networks (spec §5)
so that client code validating ids or parsing locations behaves as it would live.

Randomness is per identity: each identity draws from its own :class:`IdSource`, keyed from
``"<seed>:<token>"``, so with a seed the results of one identity do not depend on what other
identities do in between. Without a seed every run differs.

An IdSource holds no random generator, only a 16-byte key and a counter: draw ``n`` is the
BLAKE2b hash of ``n`` under that key. A ``random.Random`` weighs 2.5 KB, and the sandbox keeps
the state of every identity, up to 10,000 automatically registered ones by default: one int each, a
whole source only for those used last.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import unicodedata
import zlib
from base64 import urlsafe_b64encode
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sandbox.api.named import by_name

if TYPE_CHECKING:
    from sandbox.model.identities import Identity

# Twitter's snowflake epoch, 2010-11-04T01:42:54.657Z, in ms (spec §5).
TWITTER_EPOCH_MS = 1288834974657
# Where a seeded identity's virtual clock starts: 2026-01-01T00:00:00Z, in ms.
VIRTUAL_START_MS = 1767225600000
# Each id a seeded identity makes moves its virtual clock forward by 1 to this many ms.
VIRTUAL_MAX_STEP_MS = 5000
# Twitter user ids are snowflakes too; auto-registered users "joined" in this window.
_USER_JOINED_MS = (1546300800000, 1735689600000)  # 2019-01-01 .. 2025-01-01: 19 digits

FACEBOOK_ID_DIGITS = 16  # Facebook object ids are 15-17 digits; 16 is today's common length.
LINKEDIN_SHARE_DIGITS = 19
PINTEREST_ID_DIGITS = 18

_POW10 = tuple(10**n for n in range(21))
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


@cache
def _words() -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Faker's en_US first names, last names and catch-phrase words (:mod:`words`), read on
    first use: a sandbox that fabricates no user never loads them."""
    from sandbox.model.words import FIRST_NAMES, LAST_NAMES, PHRASE_WORDS

    return FIRST_NAMES, LAST_NAMES, PHRASE_WORDS


def slug(text: str, separator: str = "-") -> str:
    """ASCII lowercase words joined by ``separator``, as Pinterest board URLs and handles use."""
    ascii_text = (
        text
        if text.isascii()  # most names: no accent to take off
        else unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    )
    return _SLUG_JUNK.sub(separator, ascii_text.lower()).strip(separator)


def segment(text: object) -> str:
    """One URL path segment: ids and handles come from requests and registrations, so a
    location stays a URL (no spaces, no extra slashes) whatever they hold."""
    value = str(text)
    if value.isascii() and value.isalnum():  # most ids and handles: nothing to quote
        return value
    return quote(value, safe="")


def _snowflake(ms: int, worker: int, sequence: int) -> str:
    return str(((ms - TWITTER_EPOCH_MS) << 22) | (worker << 12) | sequence)


def snowflake_parts(snowflake: str | int) -> tuple[int, int, int]:
    """``(ms since the Unix epoch, worker, sequence)`` of a Twitter id: to read ids back."""
    value = int(snowflake)
    return (value >> 22) + TWITTER_EPOCH_MS, (value >> 12) & 0x3FF, value & 0xFFF


def twitter_worker(token: str) -> int:
    """The 10 worker bits of an identity: stable, so two identities' ids rarely collide."""
    return zlib.crc32(token.encode()) & 0x3FF


def _key(material: str) -> bytes:
    return hashlib.blake2b(material.encode(), digest_size=16).digest()


_MS_BITS = 42  # a ms timestamp until 2109, in an IdSource's saved state
_MS_MASK = (1 << _MS_BITS) - 1

# How many identities' sources a Fabricator keeps whole (key, keyed hashers, state), most
# recently used first: an identity pushing again skips deriving its key. The others are kept
# as one int each. A source weighs 1 to 2 KB (less than 2 MB in all).
LIVE_SOURCES = 1024


class IdSource:
    """One identity's source of ids. Seeded, it is reproducible and its clock is virtual.

    ``secret`` (unseeded only) keys the source from ``"<secret>:<token>"`` instead of fresh
    random bytes: the same secret and token give the same draws, as a seed does, within one run.

    ``state`` goes on from a source's :attr:`state` (draw counter, clock and sequence in one
    int): the :class:`Fabricator` keeps that int, not the source, for identities not used lately.
    """

    __slots__ = ("_counter", "_hashers", "_key", "_ms", "_sequence", "_virtual", "worker")

    def __init__(
        self,
        token: str,
        seed: int | None,
        stream: str = "",
        *,
        secret: str | None = None,
        state: int | None = None,
    ) -> None:
        if seed is not None:
            self._key = _key(f"{seed}:{token}{stream}")
        elif secret is not None:
            self._key = _key(f"{secret}:{token}{stream}")
        else:
            self._key = os.urandom(16)
        # A keyed BLAKE2b per digest size, nothing hashed yet: a draw copies one, cheaper than
        # keying a new hash each time.
        self._hashers: dict[int, hashlib.blake2b] = {}
        self._virtual = seed is not None
        self.worker = twitter_worker(token)
        if state is None:
            self._counter = 0
            self._ms = VIRTUAL_START_MS if self._virtual else 0
            # Unseeded, start the sequence anywhere: two sandboxes (or runs) posting for the
            # same identity in the same millisecond must not make the same id.
            self._sequence = 0 if self._virtual else self._bits(12)
        else:
            self._sequence = state & 0xFFF
            self._ms = (state >> 12) & _MS_MASK
            self._counter = state >> (12 + _MS_BITS)

    @property
    def state(self) -> int:
        """Draw counter, clock and sequence in one int, to go on from later."""
        return ((self._counter << _MS_BITS | self._ms) << 12) | self._sequence

    def _bytes(self, nbytes: int) -> bytes:
        """``nbytes`` (at most 64) random bytes: the next draw of this source."""
        hasher = self._hashers.get(nbytes)
        if hasher is None:
            hasher = self._hashers[nbytes] = hashlib.blake2b(digest_size=nbytes, key=self._key)
        self._counter += 1
        draw = hasher.copy()
        draw.update(self._counter.to_bytes(8, "little"))
        return draw.digest()

    def _bits(self, k: int) -> int:
        """``k`` (at most 512) random bits: the first ``k`` bits of the next draw."""
        nbytes = (k + 7) >> 3
        return int.from_bytes(self._bytes(nbytes)) >> (8 * nbytes - k)

    def below(self, n: int) -> int:
        """Uniform in ``range(n)``: draws of ``n``'s bit length until one falls below ``n``."""
        # The loop of _bits, its sizes worked out once: this is the draw most ids make.
        k = n.bit_length()
        nbytes = (k + 7) >> 3
        shift = 8 * nbytes - k
        while True:
            value = int.from_bytes(self._bytes(nbytes)) >> shift
            if value < n:
                return value

    def digits(self, n: int) -> str:
        """``n`` decimal digits, no leading zero (the networks' numeric ids)."""
        low = _POW10[n - 1]
        return str(low + self.below(9 * low))

    def hex_digits(self, n: int) -> str:
        """``n`` uppercase hexadecimal digits (a YouTube playlist item's suffix)."""
        return self._bytes((n + 1) >> 1).hex()[:n].upper()  # the first 4n bits

    def alphabet(self, n: int, chars: str) -> str:
        """``n`` characters drawn from ``chars`` (one draw: ``n`` digits in base ``len(chars)``)."""
        base = len(chars)
        value = self.below(base**n)
        picked = []
        for _ in range(n):
            value, index = divmod(value, base)
            picked.append(chars[index])
        return "".join(picked)

    def base64url(self, nbytes: int) -> str:
        """``nbytes`` random bytes in URL-safe base64 without padding: YouTube's id alphabet.

        8 bytes give a video id (11 characters), 16 a channel id body (22), 24 a playlist id
        body (32); the last character then carries only the bits YouTube's do.
        """
        return urlsafe_b64encode(self._bytes(nbytes)).rstrip(b"=").decode()

    def snowflake(self) -> str:
        """A 19-digit Twitter id, strictly greater than this identity's previous one.

        Seeded, the clock starts at 2026-01-01 and steps 1 to 5000 ms per id; unseeded, it is
        the real clock, held back from going backwards. The sequence counts per identity; if
        it wraps within one millisecond, the next millisecond is borrowed.
        """
        sequence = (self._sequence + 1) & 0xFFF
        if self._virtual:
            self._ms += 1 + self.below(VIRTUAL_MAX_STEP_MS)
        else:
            now = time.time_ns() // 1_000_000
            if now > self._ms:
                self._ms = now
            elif sequence == 0:
                self._ms += 1
        self._sequence = sequence
        return _snowflake(self._ms, self.worker, sequence)

    def user_snowflake(self) -> str:
        """A Twitter user id: a snowflake from some moment the user joined, before today."""
        first, end = _USER_JOINED_MS
        ms = first + self.below(end - first)
        return _snowflake(ms, self.worker, self._bits(12))


class Fabricator:
    """Hands out each identity's :class:`IdSource`, going on from its previous draws: the
    sources of the :data:`LIVE_SOURCES` identities used last are kept, the others' state as
    one int per token."""

    __slots__ = ("_live", "_seed", "_states", "_users")

    def __init__(self, seed: int | None) -> None:
        self._seed = seed
        self._users = UserMaker(seed, os.urandom(8).hex())
        self._states: dict[str, int] = {}
        # Least recently used first; an OrderedDict, as a dict's oldest entry is slow to
        # find once many have been removed from its front.
        self._live: OrderedDict[str, IdSource] = OrderedDict()

    @property
    def seed(self) -> int | None:
        return self._seed

    def reseed(self, seed: int | None) -> None:
        """Restart from ``seed``: every identity starts its sequence again on next use."""
        self._seed = seed
        self._users = UserMaker(seed, os.urandom(8).hex())
        self._states.clear()
        self._live.clear()

    def ids(self, identity: Identity) -> IdSource:
        """The identity's source, going on from its previous draws: for the request at hand, as
        a later call for other identities may retire it (its draws after that are not kept)."""
        token = identity.token
        live = self._live
        source = live.get(token)
        if source is None:
            source = live[token] = IdSource(
                token, self._seed, secret=self._users.secret, state=self._states.pop(token, None)
            )
            if len(live) > LIVE_SOURCES:
                retired, oldest = live.popitem(last=False)
                self._states[retired] = oldest.state
        else:
            live.move_to_end(token)
        return source

    def forget(self, token: str) -> None:
        """Drop a token's state, so memory stays bounded when identities come and go."""
        self._states.pop(token, None)
        self._live.pop(token, None)

    def user_maker(self) -> UserMaker:
        """``make_user`` for the current seed, or without one for this run's secret: the same
        token always gives the same user, so an identity can make its user again when asked
        instead of keeping it (the maker stays the same across later reseeds)."""
        return self._users


@dataclass(frozen=True, slots=True)
class UserMaker:
    """Makes the users of automatically registered identities under one seed (or secret)."""

    seed: int | None
    secret: str

    def __call__(self, provider: str, token: str) -> dict[str, Any]:
        return dict(_made_user(self.seed, self.secret, provider, token))


@lru_cache(maxsize=LIVE_SOURCES)
def _made_user(seed: int | None, secret: str, provider: str, token: str) -> dict[str, Any]:
    """An identity's user is read at most pushes and made again at each read (see Identity):
    the users made last are kept, as making one takes several draws (UserMaker hands out
    copies, so no caller changes a kept one)."""
    return _make_user(provider, IdSource(token, seed, ":user", secret=secret))


@dataclass(slots=True)
class Push:
    """What a result factory sees of one accepted request."""

    identity: Identity
    node: Mapping[str, Any]
    params: Mapping[str, str]
    ids: IdSource


ResultFactory = Callable[[Push], dict[str, Any]]


def _data(provider: str, object_kind: str, **keys: Any) -> dict[str, Any]:
    """A ``result.data`` node: ``provider`` and ``object`` first, as the live API orders them."""
    return {"provider": provider, "object": object_kind, **keys}


def _located(
    provider: str, object_kind: str, object_id: str, location: str, **keys: Any
) -> dict[str, Any]:
    """The node of an object with a public page: ``<object>_id`` and ``<object>_location``
    come first after ``provider`` and ``object``, named after the object's kind."""
    return _data(
        provider,
        object_kind,
        **{f"{object_kind}_id": object_id, f"{object_kind}_location": location},
        **keys,
    )


# --- Facebook ------------------------------------------------------------------------------
# Posts are "<owner>_<number>" where the owner is the page or group published to (its id is
# the node's "id"), else the user. Locations: posts and videos under the owner, pictures by
# photo.php (the URL Facebook itself prints for a photo id).

_FACEBOOK = "https://www.facebook.com/"
_FACEBOOK_PHOTO = "https://www.facebook.com/photo.php?fbid="


def _facebook_owner(push: Push) -> str:
    owner = push.node.get("id")
    return str(owner if owner is not None else push.identity.user["id"])


def _facebook_add_post(data: dict[str, Any], owner: str, ids: IdSource) -> dict[str, Any]:
    number = ids.digits(FACEBOOK_ID_DIGITS)
    data["post_id"] = f"{owner}_{number}"
    data["post_location"] = f"{_FACEBOOK}{segment(owner)}/posts/{number}"
    return data


def facebook_post(push: Push) -> dict[str, Any]:
    return _facebook_add_post(_data("facebook", "post"), _facebook_owner(push), push.ids)


def facebook_picture(push: Push) -> dict[str, Any]:
    picture_id = push.ids.digits(FACEBOOK_ID_DIGITS)
    data = _located("facebook", "picture", picture_id, _FACEBOOK_PHOTO + picture_id)
    if push.node.get("create_post", True):
        _facebook_add_post(data, _facebook_owner(push), push.ids)
    return data


def facebook_video(push: Push) -> dict[str, Any]:
    owner = _facebook_owner(push)
    video_id = push.ids.digits(FACEBOOK_ID_DIGITS)
    data = _located(
        "facebook", "video", video_id, f"{_FACEBOOK}{segment(owner)}/videos/{video_id}/"
    )
    if push.node.get("create_post", True):
        _facebook_add_post(data, owner, push.ids)
    return data


# --- LinkedIn ------------------------------------------------------------------------------


def linkedin_post(push: Push) -> dict[str, Any]:
    urn = "urn:li:share:" + push.ids.digits(LINKEDIN_SHARE_DIGITS)
    return _located("linkedin", "post", urn, f"https://www.linkedin.com/feed/update/{urn}/")


# --- Pinterest -----------------------------------------------------------------------------


def _pinterest_user(identity: Identity) -> str:
    user = identity.user
    return segment(user.get("screen_name") or user["id"])


def pinterest_pin(push: Push) -> dict[str, Any]:
    pin_id = push.ids.digits(PINTEREST_ID_DIGITS)
    return _located("pinterest", "pin", pin_id, f"https://www.pinterest.com/pin/{pin_id}/")


def pinterest_board(push: Push) -> dict[str, Any]:
    """Also returns ``board_name``: the new board becomes a target known by its name."""
    name = str(push.node["name"])
    board_slug = slug(name) or "board"
    return _located(
        "pinterest",
        "board",
        push.ids.digits(PINTEREST_ID_DIGITS),
        f"https://www.pinterest.com/{_pinterest_user(push.identity)}/{board_slug}/",
        board_name=name,
    )


# --- Twitter -------------------------------------------------------------------------------
# Media (pictures, videos) have no public page until attached to a tweet: no location. An
# unattached picture expires after 24 h (spec §4): said the way Twitter's media API says it.

MEDIA_EXPIRES_AFTER_SECS = 86400


def twitter_post(push: Push) -> dict[str, Any]:
    post_id = push.ids.snowflake()
    # Twitter's own link for a tweet whose author's handle is not known: /i/web/status/<id>.
    screen_name = push.identity.user.get("screen_name")
    screen_name = segment(screen_name) if screen_name else "i/web"
    return _located(
        "twitter", "post", post_id, f"https://twitter.com/{screen_name}/status/{post_id}"
    )


def twitter_picture(push: Push) -> dict[str, Any]:
    return _data(
        "twitter",
        "picture",
        picture_id=push.ids.snowflake(),
        expires_after_secs=MEDIA_EXPIRES_AFTER_SECS,
    )


def twitter_video(push: Push) -> dict[str, Any]:
    return _data(
        "twitter",
        "video",
        video_id=push.ids.snowflake(),
        processing_status="queued",
    )


# --- YouTube -------------------------------------------------------------------------------
# Video ids are 64 bits, channel ids "UC" + 128 bits, playlist ids "PL" + 192 bits, all in
# URL-safe base64. A playlist item id is the base64 of "<playlist id>.<16 hex digits>"; a
# channel section id is "<channel id>.<11 characters>", as the YouTube Data API returns them.


def youtube_video(push: Push) -> dict[str, Any]:
    video_id = push.ids.base64url(8)
    location = f"https://www.youtube.com/watch?v={video_id}"
    return _located("youtube", "video", video_id, location, processing_status="queued")


def youtube_playlist_item(push: Push) -> dict[str, Any]:
    playlist_id = str(push.params["playlist_id"])
    item = f"{playlist_id}.{push.ids.hex_digits(16)}"
    return _data(
        "youtube",
        "playlist_item",
        playlist_item_id=urlsafe_b64encode(item.encode()).rstrip(b"=").decode(),
        playlist_id=playlist_id,
        video_id=str(push.node["video_id"]),
    )


def youtube_playlist(push: Push) -> dict[str, Any]:
    playlist_id = "PL" + push.ids.base64url(24)
    location = f"https://www.youtube.com/playlist?list={playlist_id}"
    return _located("youtube", "playlist", playlist_id, location)


def youtube_channel_section(push: Push) -> dict[str, Any]:
    identity = push.identity
    channel = identity.channel or identity.user
    return _data(
        "youtube",
        "section",
        section_id=f"{channel['id']}.{push.ids.base64url(8)}",
    )


# --- Automatically registered identities ---------------------------------------------------

# How each network spells a handle made from a person's name (as in fixtures/identities.json).
_HANDLE_SEPARATOR = {"facebook": ".", "linkedin": "-"}
_TWITTER_HANDLE_MAX = 15
_LINKEDIN_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def make_user(provider: str, token: str, seed: int | None) -> dict[str, Any]:
    """A user record for an identity registered on first use: ``id``, ``name``, ``screen_name``
    and, for YouTube, ``channel_title``. The same ``(seed, token)`` always gives the same user;
    it draws from its own stream so the identity's result ids are unaffected. Without a seed,
    every call differs (see :meth:`Fabricator.user_maker` for a stable one)."""
    return _make_user(provider, IdSource(token, seed, ":user"))


def _make_user(provider: str, ids: IdSource) -> dict[str, Any]:
    if provider == "facebook":
        user_id = "1000" + ids.digits(11)  # profile ids made since 2009: 15 digits, "1000..."
    elif provider == "twitter":
        user_id = ids.user_snowflake()
    elif provider == "pinterest":
        user_id = ids.digits(PINTEREST_ID_DIGITS)
    elif provider == "linkedin":
        user_id = ids.alphabet(10, _LINKEDIN_ID_CHARS)
    elif provider == "youtube":
        user_id = "UC" + ids.base64url(16)
    else:
        raise ValueError(f"unknown provider {provider!r}")

    first_names, last_names, phrase_words = _words()
    name = f"{first_names[ids.below(len(first_names))]} {last_names[ids.below(len(last_names))]}"
    screen_name = slug(name, _HANDLE_SEPARATOR.get(provider, ""))
    if provider == "twitter":
        screen_name = screen_name[:_TWITTER_HANDLE_MAX]
    user: dict[str, Any] = {"id": user_id, "name": name, "screen_name": screen_name}
    if provider == "youtube":
        phrase = " ".join(words[ids.below(len(words))] for words in phrase_words)
        user["channel_title"] = phrase.title()
    return user


# The catalog names each resource's factory by its name here (``Endpoint.result``).
RESULTS: dict[str, ResultFactory] = by_name(
    facebook_post,
    facebook_picture,
    facebook_video,
    linkedin_post,
    pinterest_pin,
    pinterest_board,
    twitter_post,
    twitter_picture,
    twitter_video,
    youtube_video,
    youtube_playlist_item,
    youtube_playlist,
    youtube_channel_section,
)
