"""The pytest plugin, exercised the way users meet it: fresh test files run by pytester."""

from __future__ import annotations

import pytest

# Subprocesses: in-process runs share (and restore) sys.modules, which confuses requests.
pytestmark = pytest.mark.filterwarnings("default")

USES_BOTH_FIXTURES = """
import aiohttp
import pytest
import requests

TWEET = {"request": {"push": {"post": {"message": "hello"}}}}


@pytest.mark.asyncio
async def test_async_fixture(sandbox):
    token = sandbox.identity("twitter")
    async with aiohttp.ClientSession() as session:
        url = sandbox.push_url("twitter/post.json", token)
        async with session.post(url, json=TWEET, headers=sandbox.headers) as response:
            assert response.status == 200
    sandbox.assert_pushed("twitter.post", times=1, identity=token, body={"message": "hello"})


def test_threaded_fixture(sandbox_server):
    token = sandbox_server.identity("twitter")
    url = sandbox_server.push_url("twitter/post.json", token)
    assert requests.post(url, json=TWEET, auth=sandbox_server.auth, timeout=5).status_code == 200
    assert len(sandbox_server.journal) == 1


def test_threaded_fixture_is_reset_before_each_test(sandbox_server):
    assert len(sandbox_server.journal) == 0


@pytest.mark.sandbox(seed=7, faults=[{"resource": "twitter.post", "preset": "rate_limited"}])
def test_marker_applies_runtime_settings(sandbox_server):
    token = sandbox_server.identity("twitter")
    url = sandbox_server.push_url("twitter/post.json", token)
    response = requests.post(url, json=TWEET, auth=sandbox_server.auth, timeout=5)
    assert response.status_code == 429
    assert sandbox_server.state.seed == 7


def test_marker_settings_are_restored(sandbox_server):
    assert sandbox_server.state.seed is None
    assert sandbox_server.state.faults.rules == []


@pytest.mark.sandbox(max_body=100)
def test_other_settings_get_a_server_of_their_own(sandbox_server):
    assert sandbox_server.state.settings.max_body == 100


@pytest.mark.asyncio
@pytest.mark.sandbox(strict_identities=True)
async def test_marker_on_the_async_fixture(sandbox):
    assert sandbox.state.identities.strict
"""


@pytest.mark.slow
def test_each_fixture_and_the_marker_in_a_fresh_test_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(USES_BOTH_FIXTURES)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=7)


@pytest.mark.slow
def test_settings_fixture_can_be_overridden_in_conftest(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
from sandbox.config import Settings

@pytest.fixture(scope="session")
def sandbox_settings():
    return Settings(port=0, seed=99, public_key="00000000-0000-4000-8000-000000000001")
"""
    )
    pytester.makepyfile(
        """
def test_uses_overridden_settings(sandbox_server):
    assert sandbox_server.public_key == "00000000-0000-4000-8000-000000000001"
    assert sandbox_server.state.seed == 99
"""
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


@pytest.mark.slow
def test_failing_assert_pushed_lists_the_near_misses(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import requests

def test_wrong_message(sandbox_server):
    token = sandbox_server.identity("twitter")
    url = sandbox_server.push_url("twitter/post.json", token)
    body = {"request": {"push": {"post": {"message": "what was really sent"}}}}
    requests.post(url, json=body, auth=sandbox_server.auth, timeout=5)
    sandbox_server.assert_pushed("twitter.post", body={"message": "what the test expected"})
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*at least one call to twitter.post with body=*what the test expected*found 0*",
            "*Closest recorded calls:*",
            "*twitter.post identity=* -> 200: *what was really sent*",
        ]
    )


@pytest.mark.slow
def test_unfired_rule_is_a_warning_or_with_expect_fired_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
def test_warns(sandbox_server):
    sandbox_server.fail("youtube.video", preset="quota_exceeded")

def test_errors(sandbox_server):
    sandbox_server.fail("youtube.video", preset="quota_exceeded", expect_fired=True)
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: fault rule * (quota_exceeded on youtube.video) never fired*",
            "*UnfiredFaultWarning: fault rule * (quota_exceeded on youtube.video) never fired*",
        ]
    )


@pytest.mark.slow
def test_runs_under_xdist_with_isolated_sandboxes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest
import requests

@pytest.mark.parametrize("n", range(8))
def test_isolated(sandbox_server, n):
    token = sandbox_server.identity("twitter")
    url = sandbox_server.push_url("twitter/post.json", token)
    body = {"request": {"push": {"post": {"message": f"call {n}"}}}}
    assert requests.post(url, json=body, auth=sandbox_server.auth, timeout=5).status_code == 200
    assert [call.identity for call in sandbox_server.journal] == [token]
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=8)


@pytest.mark.slow
def test_run_serves_outside_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        script="""
import requests
import sandbox

with sandbox.run(seed=3) as handle:
    token = handle.identity("linkedin")
    url = handle.push_url("linkedin/post.json", token)
    body = {"request": {"push": {"post": {"link": "https://example.com/"}}}}
    answer = requests.post(url, json=body, auth=handle.auth, timeout=5).json()
    print("POSTED", answer["response"]["result"]["data"]["post_id"])
"""
    )
    result = pytester.runpython(pytester.path / "script.py")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["POSTED urn:li:share:*"])


ZERO_CONFIGURATION = """
import aiohttp
import pytest
import requests

import sandbox as sandbox_package

TWEET = {"request": {"push": {"post": {"message": "hello"}}}}


async def post(handle):
    token = handle.identity("twitter")
    async with aiohttp.ClientSession() as session:
        url = handle.push_url("twitter/post.json", token)
        async with session.post(url, json=TWEET, headers=handle.headers) as response:
            return response.status


async def test_async_without_a_marker(sandbox):
    assert await post(sandbox) == 200
    sandbox.assert_pushed("twitter.post", times=1)


@pytest.fixture
def tweeter(sandbox):
    return sandbox


async def test_async_through_a_fixture_of_the_project(tweeter):
    assert await post(tweeter) == 200


async def test_async_with_the_threaded_fixture(sandbox_server):
    assert await post(sandbox_server) == 200


def test_threaded(sandbox_server):
    token = sandbox_server.identity("twitter")
    url = sandbox_server.push_url("twitter/post.json", token)
    assert requests.post(url, json=TWEET, auth=sandbox_server.auth, timeout=5).status_code == 200


def test_run():
    with sandbox_package.run(seed=1) as handle:
        token = handle.identity("twitter")
        url = handle.push_url("twitter/post.json", token)
        assert requests.post(url, json=TWEET, auth=handle.auth, timeout=5).status_code == 200
"""


@pytest.mark.parametrize(
    "ini", ["", "asyncio_mode = strict", "asyncio_mode = auto"], ids=["empty", "strict", "auto"]
)
def test_a_project_with_no_configuration_needs_no_marker_and_sees_no_warning(
    pytester: pytest.Pytester, ini: str
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(ZERO_CONFIGURATION)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=5, warnings=0)
    output = result.stdout.str() + result.stderr.str()
    assert "Warning" not in output  # pytest-asyncio's about an unset loop scope among them


def test_a_loop_scope_the_project_sets_is_kept(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = module\n")
    pytester.makepyfile(
        """
async def test_scope(sandbox, pytestconfig):
    assert pytestconfig.getini("asyncio_default_fixture_loop_scope") == "module"
"""
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_without_pytest_asyncio_the_threaded_fixture_works_and_the_async_one_says_why(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = pytester.mkdir("blocked")
    for name in ("pytest_asyncio", "pytest_aiohttp"):
        (blocked / name).mkdir()
        (blocked / name / "__init__.py").write_text(f"raise ImportError('no {name} here')\n")
    monkeypatch.setenv("PYTHONPATH", str(blocked))
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(
        """
import requests

def test_threaded(sandbox_server):
    url = sandbox_server.url + "/__sandbox/health"
    assert requests.get(url, timeout=5).status_code == 200

def test_async_fixture(sandbox):
    pass
"""
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:aiohttp"
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*needs pytest-asyncio: pip install 'oneall-push-sandbox?pytest?'*"]
    )
