"""Shared test helpers: settings, an app client, the example bodies."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sandbox.app import basic_credentials, create_app
from sandbox.catalog import ENDPOINTS, Endpoint
from sandbox.config import Settings
from sandbox.datafiles import data_path

AUTH = basic_credentials(Settings().public_key, Settings().private_key)
TOKENS = {
    "facebook": "5f2ff82c-882f-43f2-b1c4-28193402decf",
    "linkedin": "5aab3f12-f7b7-4b88-8493-c9a8ff4d4daa",
    "pinterest": "4962248e-56ad-44a2-96cf-63415c6a8647",
    "twitter": "16b2eacb-c86e-4fdb-b482-2836b59ee40e",
    "youtube": "6172457d-07e9-40f8-be3b-1267b4184164",
}
NO_CONSENT_TOKEN = "68370a54-ccac-402e-837c-ce6709e5dfd9"
PATH_PARAMS = {
    "board_id": "549755885175678901",
    "playlist_id": "PLr3Xw9bT5nQ1mZ7kV2cJ8hY4dF6gS0aLe",
}

ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


def example(endpoint: Endpoint) -> dict[str, Any]:
    path = data_path("fixtures") / "requests" / f"{endpoint.name}.json"
    body: dict[str, Any] = json.loads(path.read_text())
    return body


def push_path(endpoint: Endpoint, token: str | None = None) -> str:
    return endpoint.route.format(token=token or TOKENS[endpoint.provider], **PATH_PARAMS)


@pytest.fixture
def settings() -> Settings:
    return Settings(seed=7)


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, settings: Settings
) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(create_app(settings))


ENDPOINT_IDS = [endpoint.name for endpoint in ENDPOINTS]


pytest_plugins = ("pytester",)
