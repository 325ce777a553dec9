"""Settings: flags over SANDBOX_* variables over defaults, and refusals that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.api.errors import SettingsError
from sandbox.config import Settings, load_settings


def test_defaults_work_with_no_configuration() -> None:
    settings = load_settings([], {})
    assert settings == Settings()
    assert (settings.host, settings.port, settings.max_body) == ("127.0.0.1", 8080, 1024 * 1024)


def test_environment_sets_every_kind_of_value() -> None:
    settings = load_settings(
        [],
        {
            "SANDBOX_PORT": "9001",
            "SANDBOX_SEED": "42",
            "SANDBOX_STRICT_IDENTITIES": "yes",
            "SANDBOX_ALLOW_UNKNOWN_KEYS": "0",
            "SANDBOX_MAX_BODY": "2MiB",
            "SANDBOX_IDENTITIES": "/tmp/ids.json",
            "SANDBOX_DEPRECATED": "refuse",
        },
    )
    assert settings.port == 9001
    assert settings.seed == 42
    assert settings.strict_identities is True
    assert settings.allow_unknown_keys is False
    assert settings.max_body == 2 * 1024 * 1024
    assert settings.identities == Path("/tmp/ids.json")
    assert settings.deprecated == "refuse"


def test_flags_win_over_the_environment() -> None:
    settings = load_settings(
        ["--port", "7000", "--seed", "1"], {"SANDBOX_PORT": "9001", "SANDBOX_SEED": "2"}
    )
    assert (settings.port, settings.seed) == (7000, 1)


def test_quiet_means_warnings_only() -> None:
    assert load_settings(["-q"], {}).log_level == "warning"
    assert load_settings([], {"SANDBOX_QUIET": "true"}).log_level == "warning"


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"SANDBOX_PORT": "eighty"}, "SANDBOX_PORT='eighty': expected a whole number"),
        ({"SANDBOX_STRICT_IDENTITIES": "maybe"}, "expected one of 1/0/true/false/yes/no"),
        ({"SANDBOX_MAX_BODY": "lots"}, "expected a size in bytes"),
        ({"SANDBOX_DEPRECATED": "sometimes"}, "expected one of allow, refuse"),
        ({"SANDBOX_PUBLIC_KEY": "not-a-key"}, "public key 'not-a-key' is not a lowercase UUID"),
        ({"SANDBOX_PORT": "70000"}, "port must be between 0 and 65535"),
    ],
)
def test_bad_environment_values_say_which_and_why(environ: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_settings([], environ)


@pytest.mark.parametrize(
    ("flag", "value"), [("--port", "x"), ("--max-body", "big"), ("--deprecated", "never")]
)
def test_bad_flags_exit_with_usage(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        load_settings([flag, value], {})
    assert exit_info.value.code == 2
    assert flag in capsys.readouterr().err
