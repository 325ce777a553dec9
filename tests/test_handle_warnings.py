"""What the pytest handle tells a test about the API around the push: a page size above the
maximum is clamped with a warning, which the handle's journal and ``assert_no_warnings``
report as they report a doubtful push body."""

from __future__ import annotations

import pytest
import requests

from sandbox.testing.handle import SandboxHandle


def test_a_clamped_page_is_a_warning_the_handle_reports(sandbox_server: SandboxHandle) -> None:
    token = sandbox_server.connect("facebook")["user"]["identity"]["identity_token"]
    url = f"{sandbox_server.url}/pull/identities/{token}/facebook/pages.json"
    answer = requests.get(url, params={"num_pages": 501}, auth=sandbox_server.auth, timeout=10)
    assert answer.status_code == 200
    pagination = answer.json()["response"]["result"]["data"]["pages"]["pagination"]
    assert pagination["entries_per_page"] == 500

    (call,) = sandbox_server.journal.filter("pull.facebook.pages")
    assert call.warnings == ("num_pages=501 is more than 500: pages hold 500 entries",)
    assert call.warnings[0] in answer.headers["X-Sandbox-Warning"]
    with pytest.raises(AssertionError, match=r"1 call\(s\) had:\n.*pull.facebook.pages") as error:
        sandbox_server.assert_no_warnings()
    assert "warning: num_pages=501 is more than 500" in str(error.value)
    sandbox_server.assert_no_warnings("users.list")  # other resources: nothing to report


def test_a_page_within_the_maximum_warns_of_nothing(sandbox_server: SandboxHandle) -> None:
    answer = requests.get(
        f"{sandbox_server.url}/users.json",
        params={"entries_per_page": 500},
        auth=sandbox_server.auth,
        timeout=10,
    )
    assert answer.status_code == 200 and "X-Sandbox-Warning" not in answer.headers
    (call,) = sandbox_server.journal.filter("users.list")
    assert call.warnings == ()
    sandbox_server.assert_no_warnings()
