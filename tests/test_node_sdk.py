"""OneAll's official Node SDK (npm ``oneall``) against the sandbox, through the SDK's own request
code: tests/clients/node/run.js performs the calls of tests/clients/node/calls.json and reports
each HTTP exchange. A sandbox that refuses what the SDK sends breaks every Node integration's
tests, so this is the sandbox's contract with that client, not a test of the SDK."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.api.datafiles import data_path
from sandbox.api.push import ENDPOINTS
from sandbox.testing.handle import SandboxHandle

NODE_CLIENT = Path(__file__).resolve().parent / "clients" / "node"
RUN_JS = NODE_CLIENT / "run.js"
CALLS: list[dict[str, Any]] = json.loads((NODE_CLIENT / "calls.json").read_text())["calls"]
PUSH_CALLS = [call for call in CALLS if call["kind"] == "push"]
SDK_CALLS = [call for call in CALLS if call["kind"] == "sdk"]
OUT_OF_SCOPE_CALLS = [call for call in CALLS if call["kind"] == "out_of_scope"]
# The identity the API-around calls connect as, and whose user they read, publish for, delete.
CONNECTED_PROVIDER = "twitter"


@pytest.fixture(scope="module")
def node() -> str:
    """The node executable; without it or the installed SDK the module is skipped, except on
    CI (CI=true), where a skipped client test would hide that the client was never run."""
    found = shutil.which("node")
    if found is None:
        reason = "node is not on PATH"
    elif not (NODE_CLIENT / "node_modules" / "oneall").is_dir():
        reason = "the Node SDK is not installed: run `npm ci --prefix tests/clients/node`"
    else:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the Node SDK tests must run)")
    pytest.skip(reason)


def plan_vars() -> dict[str, str]:
    """Identity tokens by provider and their publishing targets, from the built-in identities."""
    identities = json.loads((data_path("fixtures") / "identities.json").read_text())["identities"]
    found: dict[str, str] = {}
    for identity in identities:
        provider = identity["provider"]
        if not identity.get("consent") or provider in found:
            continue
        found[provider] = identity["token"]
        for kind, name in (
            ("pages", "facebook_page"),
            ("groups", "facebook_group"),
            ("companies", "linkedin_company"),
            ("boards", "pinterest_board"),
            ("playlists", "youtube_playlist"),
        ):
            if identity.get(kind):
                found[name] = identity[kind][0]["id"]
    return found


def run_calls(
    node: str, sandbox: SandboxHandle, calls: list[dict[str, Any]], tmp_path: Path, **extra: str
) -> dict[str, dict[str, Any]]:
    """Each call's report line from run.js, by call id."""
    plan = {
        "base_url": sandbox.url,
        "public_key": sandbox.public_key,
        "private_key": sandbox.private_key,
        "vars": {**plan_vars(), **extra},
        "calls": calls,
    }
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    done = subprocess.run(
        [node, str(RUN_JS), str(plan_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"run.js failed ({done.returncode}): {done.stderr}"
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    reports = {line["id"]: line for line in lines}
    assert list(reports) == [call["id"] for call in calls], done.stdout
    return reports


def envelope_problem(report: dict[str, Any], status: int) -> str | None:
    """What is wrong with an answer that should be ``status`` in OneAll's envelope, if anything."""
    if report.get("error"):
        return str(report["error"])
    body = report["body"]
    if report["status"] != status:
        return f"HTTP {report['status']}, expected {status}: {json.dumps(body)[:400]}"
    try:
        answered = body["response"]["request"]["status"]
    except (TypeError, KeyError):
        return f"no OneAll envelope: {json.dumps(body)[:400]}"
    flag = "success" if status < 400 else "error"
    if answered.get("code") != status or answered.get("flag") != flag:
        return f"envelope status {answered}, expected code {status} and flag {flag!r}"
    if status < 400 and report["sdk"]["error"] is not None:
        return f"the SDK reported an error: {report['sdk']['error']}"
    return None


def failures(problems: dict[str, str]) -> str:
    return f"{len(problems)} call(s) failed:\n" + "\n".join(
        f"  {call_id}: {problem}" for call_id, problem in problems.items()
    )


def test_the_calls_publish_to_every_push_resource() -> None:
    """A resource added to the catalog needs its call here, or the SDK never meets it."""
    assert sorted(call["resource"] for call in PUSH_CALLS) == sorted(e.name for e in ENDPOINTS)


@pytest.mark.sandbox(deprecated="allow")
def test_every_push_resource_answers_the_node_sdk(
    node: str, sandbox_server: SandboxHandle, tmp_path: Path
) -> None:
    reports = run_calls(node, sandbox_server, PUSH_CALLS, tmp_path)
    problems: dict[str, str] = {}
    for call in PUSH_CALLS:
        report = reports[call["id"]]
        problem = envelope_problem(report, call["expect"]["status"])
        if problem is None:
            data = report["body"]["response"].get("result", {}).get("data", {})
            if data.get("provider") != call["resource"].split(".")[0]:
                problem = f"result.data names provider {data.get('provider')!r}"
        if problem is not None:
            problems[call["id"]] = problem
    assert not problems, failures(problems)

    # The sandbox journaled exactly what the SDK put on the wire, once per resource.
    tokens = plan_vars()
    for call in PUSH_CALLS:
        request = reports[call["id"]]["request"]
        assert request["method"] == "POST"
        sandbox_server.assert_pushed(
            call["resource"],
            times=1,
            identity=tokens[call["resource"].split(".")[0]],
            body=request["body"],
            status=200,
        )


def connect(sandbox: SandboxHandle, provider: str) -> tuple[str, str | None]:
    """A Social Login connection of the built-in ``provider`` identity, made the way a test
    suite without a browser makes one (oneall-api.md §2: ``POST /__sandbox/connections``), and
    what went wrong making it: then a token no connection has, so that the SDK's calls still
    run and the failure lists every one of them."""
    answer = requests.post(
        f"{sandbox.url}/__sandbox/connections",
        json={"provider": provider, "identity_token": plan_vars()[provider]},
        timeout=10,
    )
    try:
        token = answer.json()["connection_token"]
    except (ValueError, KeyError, TypeError):
        token = None
    if answer.status_code in (200, 201) and isinstance(token, str):
        return token, None
    problem = f"POST /__sandbox/connections answered {answer.status_code}: {answer.text[:300]}"
    return "00000000-0000-4000-8000-000000000000", problem


def test_the_api_around_the_push_answers_the_node_sdk(
    node: str, sandbox_server: SandboxHandle, tmp_path: Path
) -> None:
    """Connection, users, identities and sharing messages, each with the SDK's own method and
    in the order an integration makes them; reads after deletes must answer 404."""
    token, problem = connect(sandbox_server, CONNECTED_PROVIDER)
    reports = run_calls(node, sandbox_server, SDK_CALLS, tmp_path, connection_token=token)
    problems = {"connect": problem} if problem else {}
    for call in SDK_CALLS:
        report = reports[call["id"]]
        problem = envelope_problem(report, call["expect"]["status"])
        if problem is None and call["expect"]["data"] and not report["sdk"]["data"].get("data"):
            problem = (
                f"{call['method']} found no data where the SDK reads it: "
                f"{json.dumps(report['body'])[:400]}"
            )
        if problem is not None:
            problems[call["id"]] = problem
    assert not problems, failures(problems)

    connected = reports["connections.read"]["body"]["response"]["result"]["data"]
    assert connected["user"]["identity"]["identity_token"] == plan_vars()[CONNECTED_PROVIDER]


def test_the_calls_the_sandbox_does_not_emulate_say_so_to_the_node_sdk(
    node: str, sandbox_server: SandboxHandle, tmp_path: Path
) -> None:
    """The SDK's contacts, user publish, providers, short URL, SSO, analytics and discussion
    calls: the 404 of oneall-api.md §7 in the envelope, naming the nearest emulated call, never
    a generic unknown path (which a Node integration would mistake for a wrong subdomain)."""
    reports = run_calls(node, sandbox_server, OUT_OF_SCOPE_CALLS, tmp_path)
    problems: dict[str, str] = {}
    for call in OUT_OF_SCOPE_CALLS:
        report = reports[call["id"]]
        problem = envelope_problem(report, call["expect"]["status"])
        if problem is None:
            info = report["body"]["response"]["request"]["status"]["info"]
            if "does not emulate" not in info or "nearest call it emulates is" not in info:
                problem = f"{report['request']['method']} {report['request']['path']}: {info}"
        if problem is not None:
            problems[call["id"]] = problem
    assert not problems, failures(problems)
