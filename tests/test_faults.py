"""Fault rules without a server: building and refusing rules, the header form, scenario files
and the plan's evaluation (matching, after/times counting, seeded dice, reset)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.api.datafiles import data_path
from sandbox.api.errors import SettingsError
from sandbox.config import Settings, load_settings
from sandbox.http.app import create_app
from sandbox.model.faults import (
    DEFAULT_HANG_MS,
    EFFECTS,
    PRESETS,
    Fault,
    FaultPlan,
    FaultSpecError,
    build_fault,
    parse_header,
)

TWITTER = "16b2eacb-c86e-4fdb-b482-2836b59ee40e"
OTHER = "0b1e6f0a-1111-4222-8333-944455556666"
SHIPPED = sorted((data_path("fixtures") / "faults").iterdir())


def build(spec: object) -> Fault:
    return build_fault(spec, "/", rule_id=1, source="api")


def fires(
    plan: FaultPlan, calls: int, resource: str = "twitter.post", identity: str = TWITTER
) -> list[int | None]:
    """For each call, the id of the rule that fired, or None."""
    provider = resource.partition(".")[0]
    picked = (plan.pick(resource, provider, identity) for _ in range(calls))
    return [rule.id if rule else None for rule in picked]


# --- building a rule --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_builds_to_a_known_effect(name: str) -> None:
    rule = build({"preset": name})
    assert rule.preset == name
    assert rule.effect in EFFECTS
    if rule.effect == "error":
        assert rule.status is not None and 400 <= rule.status <= 599
        assert rule.info


def test_defaults_match_every_request_forever() -> None:
    rule = build({"effect": "empty"})
    assert (rule.resource, rule.identity, rule.provider) == ("*", None, None)
    assert (rule.after, rule.times, rule.probability) == (0, None, 1.0)
    assert rule.max_ms == DEFAULT_HANG_MS
    assert build({"preset": "timeout"}).max_ms == 30_000


def test_keys_given_win_over_the_preset() -> None:
    rule = build({"preset": "rate_limited", "status": 503, "info": "slow down"})
    assert (rule.effect, rule.status, rule.info) == ("error", 503, "slow down")
    assert rule.headers == {"Retry-After": "60"}
    rule.headers["X"] = "y"  # a rule's headers are its own, not the preset's
    assert PRESETS["rate_limited"]["headers"] == {"Retry-After": "60"}


def test_null_means_not_given() -> None:
    rule = build({"preset": "server_error", "after": None, "times": None, "resource": None})
    assert (rule.after, rule.times, rule.resource, rule.status) == (0, None, "*", 500)


def test_to_json_lists_id_counters_and_source() -> None:
    listed = build_fault({"preset": "overloaded"}, "/", rule_id=7, source="file").to_json()
    assert listed["id"] == 7 and listed["source"] == "file"
    assert (listed["matched"], listed["fired"]) == (0, 0)
    json.dumps(listed)  # serialisable as it is


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"preset": "server_error", "colour": "red"}, "/colour: unknown key"),
        ({"preset": "rate_limted"}, "/preset: unknown preset 'rate_limted'"),
        ({}, "/effect: must be one of error, delay"),
        ({"effect": "explode"}, "/effect: must be one of"),
        ({"effect": "error"}, "/status: the error effect needs a status from 400 to 599"),
        ({"effect": "error", "status": 200}, "/status: must be a whole number from 400 to 599"),
        ({"effect": "error", "status": "500"}, "/status: must be a whole number"),
        ({"effect": "html", "status": 500}, "/status: an html page has status 502, 503 or 504"),
        ({"preset": "server_error", "times": 0}, "/times: must be a whole number from 1"),
        ({"preset": "server_error", "after": -1}, "/after: must be a whole number from 0"),
        ({"preset": "server_error", "after": True}, "/after: must be a whole number"),
        ({"preset": "server_error", "probability": 1.5}, "/probability: must be from 0 to 1"),
        ({"preset": "server_error", "probability": "often"}, "/probability: must be a number"),
        ({"effect": "delay", "delay_ms": "500"}, "/delay_ms: must be a whole number"),
        ({"effect": "delay", "delay_ms": 2.5}, "/delay_ms: must be a whole number"),
        ({"effect": "slow_body", "chunks": 0}, "/chunks: must be a whole number from 1"),
        ({"effect": "hang", "max_ms": -5}, "/max_ms: must be a whole number from 0"),
        ({"preset": "server_error", "info": 5}, "/info: must be a string"),
        ({"preset": "server_error", "identity": 5}, "/identity: must be a string"),
        ({"preset": "server_error", "provider": "myspace"}, "/provider: must be one of facebook"),
        ({"preset": "server_error", "resource": "twiter.*"}, "/resource: 'twiter.*' matches no"),
        ({"preset": "server_error", "headers": {"Retry-After": 60}}, "/headers: must be an"),
        ({"preset": "server_error", "headers": ["Retry-After"]}, "/headers: must be an"),
        (
            {"preset": "server_error", "headers": {"Retry-After": "1\r\nSet-Cookie: a=b"}},
            "/headers: the value of Retry-After has a line break",
        ),
        ({"preset": "server_error", "headers": {"Retry After": "1"}}, "is not a header name"),
    ],
)
def test_bad_rules_are_refused_naming_the_key(spec: dict[str, Any], words: str) -> None:
    with pytest.raises(FaultSpecError) as refused:
        build(spec)
    assert words in str(refused.value)


def test_a_rule_that_is_not_an_object_is_refused_naming_its_place() -> None:
    with pytest.raises(FaultSpecError, match=r"^/rules/1: a rule must be an object"):
        FaultPlan().arm([{"preset": "server_error"}, ["server_error"]], where_prefix="/rules/")
    # a string is a scenario's name: a preset's name is pointed to its place
    with pytest.raises(
        FaultSpecError,
        match=r"^/rules/1: unknown fault scenario 'server_error'.*"
        r'a preset is given as \{"preset": "server_error"\}',
    ):
        FaultPlan().arm([{"preset": "server_error"}, "server_error"], where_prefix="/rules/")
    with pytest.raises(FaultSpecError, match=r"^/: a rule must be an object"):
        FaultPlan().arm([42], indexed=False)


def test_a_bad_list_arms_nothing_and_uses_no_ids() -> None:
    plan = FaultPlan()
    with pytest.raises(FaultSpecError, match=r"^/rules/1/times:"):
        plan.arm(
            [{"preset": "server_error"}, {"preset": "overloaded", "times": 0}],
            where_prefix="/rules/",
        )
    assert plan.rules == []
    assert [rule.id for rule in plan.arm([{"preset": "server_error"}])] == [1]


def test_arm_numbers_rules_in_order() -> None:
    plan = FaultPlan()
    first = plan.arm([{"preset": "server_error"}, {"preset": "overloaded"}])
    second = plan.arm([{"effect": "empty"}])
    assert [rule.id for rule in first + second] == [1, 2, 3]
    assert [rule.id for rule in plan.rules] == [1, 2, 3]


# --- the X-Sandbox-Fault header ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "spec"),
    [
        ("rate_limited", {"preset": "rate_limited"}),
        ("delay; delay_ms=500", {"effect": "delay", "delay_ms": 500}),
        (
            " delay ;delay_ms = 500; jitter_ms=100; ",
            {"effect": "delay", "delay_ms": 500, "jitter_ms": 100},
        ),
        ("timeout; max_ms=100", {"preset": "timeout", "max_ms": 100}),
        (
            "error; status=500; info=404",
            {"effect": "error", "status": 500, "info": "404"},
        ),
        (
            "error; status=503; probability=0.5",
            {"effect": "error", "status": 503, "probability": 0.5},
        ),
        ("html; status=504", {"effect": "html", "status": 504}),
    ],
)
def test_header_is_a_rule_spec(header: str, spec: dict[str, Any]) -> None:
    assert parse_header(header) == spec
    build(parse_header(header))


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("delay; 500", "'500' must be written key=value"),
        ("delay; delay_ms=fast", "delay_ms: must be a whole number"),
        ("explode", "effect: must be one of"),
        ("rate_limited; colour=red", "colour: unknown key"),
    ],
)
def test_bad_header_is_refused_naming_the_key(header: str, words: str) -> None:
    with pytest.raises(FaultSpecError) as refused:
        build_fault(parse_header(header), "X-Sandbox-Fault: ", rule_id=0, source="header")
    assert words in str(refused.value)


# --- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("*", "facebook.page.post", True),
        ("twitter.*", "twitter.post", True),
        ("twitter.*", "twitter.picture", True),
        ("twitter.*", "facebook.post", False),
        ("facebook.page.*", "facebook.page.video", True),
        ("facebook.page.*", "facebook.post", False),
        ("facebook.*", "facebook.group.post", True),  # * matches across dots
        ("*.post", "facebook.page.post", True),
        ("twitter.post", "twitter.post", True),
        ("twitter.post", "twitter.picture", False),
    ],
)
def test_resource_glob(pattern: str, resource: str, expected: bool) -> None:
    rule = build({"preset": "server_error", "resource": pattern})
    assert rule.matches(resource, resource.partition(".")[0], TWITTER) is expected


def test_identity_and_provider_narrow_the_match() -> None:
    by_identity = build({"preset": "server_error", "identity": TWITTER})
    assert by_identity.matches("twitter.post", "twitter", TWITTER)
    assert not by_identity.matches("twitter.post", "twitter", OTHER)
    by_provider = build({"preset": "server_error", "provider": "facebook"})
    assert by_provider.matches("facebook.page.post", "facebook", OTHER)
    assert not by_provider.matches("twitter.post", "twitter", OTHER)


# --- evaluation -------------------------------------------------------------------------------


def test_after_and_times_count_exactly() -> None:
    plan = FaultPlan()
    plan.arm([{"preset": "server_error", "after": 2, "times": 3}])
    assert fires(plan, 7) == [None, None, 1, 1, 1, None, None]
    assert (plan.rules[0].matched, plan.rules[0].fired) == (7, 3)


def test_without_times_a_rule_fires_forever() -> None:
    plan = FaultPlan()
    plan.arm([{"preset": "server_error", "after": 1}])
    assert fires(plan, 5) == [None, 1, 1, 1, 1]


def test_first_rule_that_fires_wins_and_a_silent_match_lets_the_next_be_tried() -> None:
    plan = FaultPlan()
    plan.arm(
        [
            {"preset": "rate_limited", "after": 1, "times": 1},
            {"preset": "server_error", "times": 2},
            {"preset": "overloaded"},
        ]
    )
    assert fires(plan, 5) == [2, 1, 2, 3, 3]
    assert [(rule.matched, rule.fired) for rule in plan.rules] == [(5, 1), (4, 2), (2, 2)]


def test_a_rule_that_does_not_match_counts_nothing() -> None:
    plan = FaultPlan()
    plan.arm([{"preset": "server_error", "resource": "facebook.*"}])
    assert fires(plan, 3) == [None, None, None]
    assert (plan.rules[0].matched, plan.rules[0].fired) == (0, 0)


def test_probability_zero_never_fires_and_one_always_does() -> None:
    plan = FaultPlan(seed=1)
    plan.arm([{"preset": "server_error", "probability": 0}, {"preset": "overloaded"}])
    assert fires(plan, 20) == [2] * 20
    assert plan.rules[0].matched == 20


def dice_pattern(seed: int | None, interleave: bool = False) -> list[bool]:
    plan = FaultPlan(seed=seed)
    plan.arm([{"preset": "server_error", "probability": 0.5}])
    pattern = []
    for _ in range(40):
        if interleave:
            fires(plan, 2, "facebook.page.post", OTHER)
        pattern.append(fires(plan, 1)[0] is not None)
    return pattern


def test_seeded_dice_fail_the_same_calls_whatever_other_identities_do() -> None:
    alone = dice_pattern(42)
    assert alone == dice_pattern(42, interleave=True)
    assert any(alone) and not all(alone)
    assert dice_pattern(43) != alone


def test_reseed_restarts_the_dice() -> None:
    plan = FaultPlan(seed=5)
    plan.arm([{"preset": "server_error", "probability": 0.5}])
    first = fires(plan, 30)
    plan.reseed(5)
    assert fires(plan, 30) == first


def test_remove_and_clear() -> None:
    plan = FaultPlan()
    plan.arm([{"preset": "server_error"}, {"preset": "overloaded"}, {"effect": "empty"}])
    assert plan.remove(2) and not plan.remove(2)
    assert [rule.id for rule in plan.rules] == [1, 3]
    assert plan.clear() == 2 and plan.rules == []
    assert plan.pick("twitter.post", "twitter", TWITTER) is None


# --- scenario files ---------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", SHIPPED, ids=[path.name for path in SHIPPED])
def test_shipped_scenarios_load(path: Path) -> None:
    plan = FaultPlan.from_files([path], seed=1)
    assert plan.rules and all(rule.source == "file" for rule in plan.rules)


def test_toml_and_json_files_arm_in_order(tmp_path: Path) -> None:
    toml = write(
        tmp_path,
        "a.toml",
        '[[rules]]\npreset = "rate_limited"\nafter = 1\n\n'
        '[[rules]]\nresource = "twitter.*"\neffect = "delay"\ndelay_ms = 10\n'
        'headers = {"X-Why" = "test"}\n',
    )
    js = write(tmp_path, "b.json", json.dumps({"rules": [{"preset": "overloaded", "times": 2}]}))
    plan = FaultPlan.from_files([toml, js], seed=None)
    assert [(r.id, r.preset or r.effect) for r in plan.rules] == [
        (1, "rate_limited"),
        (2, "delay"),
        (3, "overloaded"),
    ]
    assert plan.rules[1].headers == {"X-Why": "test"}


def test_reset_rearms_the_files_rules_with_counters_at_zero(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", '[[rules]]\npreset = "server_error"\ntimes = 1\n')
    plan = FaultPlan.from_files([path], seed=3)
    assert fires(plan, 2) == [1, None]
    plan.clear()
    plan.arm([{"effect": "empty"}])
    plan.reset()
    assert [(r.id, r.source, r.matched, r.fired) for r in plan.rules] == [(1, "file", 0, 0)]
    assert fires(plan, 2) == [1, None]


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        (
            "bad.toml",
            '[[rules]]\npreset = "server_error"\n\n[[rules]]\npreset = "overloaded"\ncolour = 1\n',
            "bad.toml: rules[1].colour: unknown key",
        ),
        (
            "bad.json",
            '{"rules": [{"preset": "server_error", "probability": 2}]}',
            "bad.json: rules[0].probability: must be from 0 to 1",
        ),
        ("bad.toml", '[[rules]]\npreset = "nope"\n', "bad.toml: rules[0].preset: unknown preset"),
        ("bad.toml", "rules = [1]\n", "bad.toml: rules[0]: a rule must be an object"),
        ("bad.toml", 'preset = "server_error"\n', "must hold a list of rules"),
        ("bad.json", '[{"preset": "server_error"}]', "must hold a list of rules"),
        ("bad.toml", "[[rules]\n", "is not valid TOML"),
        ("bad.json", "{", "is not valid JSON"),
    ],
)
def test_bad_files_stop_start_up_naming_file_rule_and_key(
    tmp_path: Path, name: str, text: str, words: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(SettingsError) as refused:
        FaultPlan.from_files([path], seed=None)
    assert words in str(refused.value)
    assert str(path) in str(refused.value)
    with pytest.raises(SettingsError, match=name):
        create_app(Settings(faults=(path,)))


def test_missing_file_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"fault scenario .*nope\.toml: no such file"):
        FaultPlan.from_files([tmp_path / "nope.toml"], seed=None)


def test_faults_flag_repeats_and_variable_takes_commas() -> None:
    assert load_settings(["--faults", "a.toml", "--faults", "b.json"], {}).faults == (
        Path("a.toml"),
        Path("b.json"),
    )
    assert load_settings([], {"SANDBOX_FAULTS": "a.toml, b.json"}).faults == (
        Path("a.toml"),
        Path("b.json"),
    )
    assert load_settings(["--journal-size", "5"], {"SANDBOX_JOURNAL_FILE": "j.jsonl"}) == Settings(
        journal_size=5, journal_file=Path("j.jsonl")
    )


def test_a_listed_rule_can_be_armed_again_as_listed() -> None:
    plan = FaultPlan()
    (listed,) = plan.arm([{"resource": "twitter.*", "preset": "rate_limited", "times": 2}])
    listed.matched, listed.fired = 5, 2
    (again,) = plan.arm([listed.to_json()])
    assert (again.id, again.matched, again.fired) == (2, 0, 0)
    assert (again.resource, again.status, again.times) == ("twitter.*", 429, 2)


def test_a_callback_delay_needs_its_delay() -> None:
    with pytest.raises(FaultSpecError, match=r"/delay_ms: callback_delay needs a delay_ms above 0"):
        FaultPlan().arm([{"effect": "callback_delay"}], indexed=False)


def test_a_rule_is_checked_against_the_bounds_of_its_published_schema() -> None:
    """schemas/control/fault-rule.json is the one statement of a rule's bounds: the refusal
    quotes it, and the OpenAPI document publishes it as it is."""
    from sandbox.api.datafiles import read_schema
    from sandbox.model.faults import FaultSpecError, build_fault, rule_schema
    from sandbox.openapi.document import document

    times = read_schema("control", "fault-rule")["properties"]["times"]
    with pytest.raises(FaultSpecError, match=f"from {times['minimum']} to {times['maximum']}"):
        build_fault(
            {"preset": "rate_limited", "times": times["maximum"] + 1}, "/", rule_id=1, source="t"
        )
    assert document()["components"]["schemas"]["FaultRule"] == rule_schema()
    assert "x-enum" not in json.dumps(rule_schema())
