"""Identities kept compact: lazy targets, users made on demand, created targets bounded."""

from __future__ import annotations

import sys

from sandbox.model.identities import Identity, IdentityStore, TargetList
from sandbox.model.results import Fabricator, make_user

TOKEN = "00000000-0000-4000-8000-000000000001"
OTHER = "00000000-0000-4000-8000-000000000002"


def store(fab: Fabricator, *, max_auto: int = 10, max_created: int = 3) -> IdentityStore:
    return IdentityStore(
        [],
        source="test",
        strict=False,
        max_auto=max_auto,
        user_maker=fab.user_maker,
        max_created=max_created,
        on_forget=fab.forget,
    )


def test_created_targets_are_bounded_oldest_first_the_given_ones_stay() -> None:
    identity = Identity(TOKEN, "pinterest", {"id": "1"}, boards=[{"id": "b0"}], max_created=2)
    for index in range(1, 5):
        identity.boards.append({"id": f"b{index}"})
    assert [board["id"] for board in identity.boards] == ["b0", "b3", "b4"]
    targets = TargetList([{"id": "x"}], limit=1)
    targets.append({"id": "y"})
    targets.append({"id": "z"})
    assert targets == [{"id": "x"}, {"id": "z"}]


def test_an_auto_identity_makes_no_target_list_until_one_is_used() -> None:
    identity = store(Fabricator(1)).resolve(TOKEN, "pinterest")
    assert identity.targets == {kind: [] for kind in identity.targets}
    assert identity.find_target("boards", "b") is None
    identity.boards.append({"id": "b", "name": "B"})
    assert identity.find_target("boards", "b") == {"id": "b", "name": "B"}


def test_an_auto_identity_user_is_made_on_demand_and_stable() -> None:
    fab = Fabricator(5)
    identity = store(fab).resolve(TOKEN, "twitter")
    assert identity.user == identity.user == make_user("twitter", TOKEN, 5)
    identity.user["name"] = "Changed"  # a copy: the user kept for the next read is as made
    assert identity.user == make_user("twitter", TOKEN, 5)
    fab.reseed(6)  # an identity registered before keeps its user
    assert identity.user == make_user("twitter", TOKEN, 5)
    assert store(fab).resolve(TOKEN, "twitter").user == make_user("twitter", TOKEN, 6)


def test_without_a_seed_an_auto_user_is_stable_within_a_run_only() -> None:
    identity = store(Fabricator(None)).resolve(TOKEN, "facebook")
    assert identity.user == identity.user
    users = {store(Fabricator(None)).resolve(TOKEN, "facebook").user["id"] for _ in range(5)}
    assert len(users) == 5


def test_auto_identities_are_forgotten_oldest_first_with_their_ids() -> None:
    fab = Fabricator(1)
    identities = store(fab, max_auto=1)
    first = identities.resolve(TOKEN, "twitter")
    drawn = fab.ids(first).snowflake()
    identities.resolve(OTHER, "twitter")
    assert [identity.token for identity in identities.all()] == [OTHER]
    again = identities.resolve(TOKEN, "twitter")  # registered anew: its ids start over
    assert fab.ids(again).snowflake() == drawn


def test_the_provider_is_one_string() -> None:
    identity = Identity(TOKEN, "".join(["you", "tube"]), {"id": "1"})
    assert identity.provider is sys.intern("youtube")
