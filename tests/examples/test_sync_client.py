"""How-to: a synchronous client (requests) against the threaded sandbox (shown in the README)."""

from __future__ import annotations

import pytest
import requests

from sandbox.testing.handle import SandboxHandle


@pytest.mark.sandbox(seed=42)
def test_sync_client_publishes_a_pin(sandbox_server: SandboxHandle) -> None:
    token = sandbox_server.identity("pinterest", boards=[{"id": "1234", "name": "Ideas"}])
    url = sandbox_server.push_url("pinterest/board/1234/pin.json", token)
    body = {"request": {"push": {"pin": {"picture": "https://example.com/cat.jpg"}}}}

    response = requests.post(url, json=body, auth=sandbox_server.auth, timeout=5)

    assert response.status_code == 200
    assert response.json()["response"]["result"]["data"]["pin_id"].isdigit()
    sandbox_server.assert_pushed("pinterest.board.pin", times=1, identity=token)
