"""The shipped fault scenarios by name, wherever the sandbox is installed: the flag, the
variable, the marker and the control plane; files still work by path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sandbox.__main__ import main
from sandbox.api.datafiles import data_path
from sandbox.api.errors import SettingsError
from sandbox.config import load_settings
from sandbox.model.faults import FaultPlan, scenarios
from sandbox.testing.handle import run

Client = TestClient[web.Request, web.Application]
SHIPPED = sorted(path.stem for path in (data_path("fixtures") / "faults").iterdir())


def presets(plan: FaultPlan) -> list[str | None]:
    return [rule.preset for rule in plan.rules]


def test_every_file_in_fixtures_faults_is_a_scenario_by_its_name() -> None:
    assert list(scenarios()) == SHIPPED
    assert {"rate-limited", "flaky", "token-expired", "provider-down"} <= set(SHIPPED)


def test_list_faults_prints_one_line_each_with_what_it_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--list-faults"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == SHIPPED
    for line in lines:
        assert len(line.split(maxsplit=1)) == 2, f"no description: {line!r}"
    assert any(line.startswith("rate-limited") and "rate limited" in line for line in lines)


def test_the_flag_and_the_variable_take_names() -> None:
    by_flag = load_settings(["--faults", "rate-limited", "--faults", "token-expired"], {})
    by_env = load_settings([], {"SANDBOX_FAULTS": "rate-limited,token-expired"})
    for settings in (by_flag, by_env):
        plan = FaultPlan.from_files(settings.faults, seed=None)
        assert presets(plan) == ["rate_limited", "provider_token_expired"]
        assert plan.rules[0].after == 5


def test_a_name_with_its_suffix_and_the_old_checkout_path_work_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not a checkout: fixtures/faults/ is not here
    for given in ("rate-limited.toml", "fixtures/faults/rate-limited.toml"):
        assert presets(FaultPlan.from_files([Path(given)], seed=None)) == ["rate_limited"]


def test_a_file_by_path_still_works_and_wins_over_a_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("rate-limited").write_text('[[rules]]\npreset = "server_error"\n')
    mine = tmp_path / "mine.toml"
    mine.write_text('[[rules]]\npreset = "overloaded"\n')
    plan = FaultPlan.from_files([Path("rate-limited"), mine], seed=None)
    assert presets(plan) == ["server_error", "overloaded"]


def test_an_unknown_name_is_refused_listing_the_names() -> None:
    with pytest.raises(SettingsError) as refused:
        FaultPlan.from_files([Path("rate-limitd")], seed=None)
    message = str(refused.value)
    assert message.startswith("fault scenario rate-limitd: no such file")
    assert "the shipped scenarios are " + ", ".join(SHIPPED) in message


def test_the_command_refuses_an_unknown_name_before_it_serves() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "--port", "0", "--faults", "nope"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "no shipped scenario of that name" in done.stderr
    assert "rate-limited" in done.stderr


def test_the_marker_and_the_handle_take_names_paths_and_rules(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text('[[rules]]\npreset = "overloaded"\n')
    with run() as handle:
        handle.apply({"faults": "rate-limited"})
        assert presets(handle.state.faults) == ["rate_limited"]
        handle.apply({"faults": ["token-expired", mine, {"preset": "server_error"}]})
        assert presets(handle.state.faults) == [
            "rate_limited",
            "provider_token_expired",
            "overloaded",
            "server_error",
        ]


async def arm(client: Client, body: Any) -> tuple[int, Any]:
    response = await client.post("/__sandbox/faults", json=body)
    return response.status, await response.json()


async def test_the_control_plane_arms_a_scenario_by_name(client: Client) -> None:
    status, answer = await arm(client, "rate-limited")
    assert status == 201
    assert [(rule["preset"], rule["after"]) for rule in answer["rules"]] == [("rate_limited", 5)]

    status, answer = await arm(client, {"rules": ["token-expired", {"preset": "overloaded"}]})
    assert status == 201
    assert [rule["preset"] for rule in answer["rules"]] == ["provider_token_expired", "overloaded"]
    listed = (await (await client.get("/__sandbox/faults")).json())["rules"]
    assert [rule["id"] for rule in listed] == [1, 2, 3]


@pytest.mark.parametrize("given", ["rate-limitd", "/etc/hostname", "../fixtures/faults/flaky.toml"])
async def test_the_control_plane_takes_names_only_and_lists_them(
    client: Client, given: str
) -> None:
    status, answer = await arm(client, ["rate-limited", given])
    assert status == 400
    info = answer["response"]["request"]["status"]["info"]
    assert f"/1: unknown fault scenario {given!r}; the scenarios are flaky" in info
    assert (await (await client.get("/__sandbox/faults")).json())["rules"] == []
