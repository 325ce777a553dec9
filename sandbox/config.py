"""Settings: command-line flags over ``SANDBOX_*`` environment variables over built-in defaults.

Nothing else in the package reads the environment. Every option is one row of ``OPTIONS``:
the flag, the env variable, the parser and the help text all come from it.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sandbox.api.errors import SettingsError

DEFAULT_PUBLIC_KEY = "1c9f6d26-770d-42f1-91bc-754dc31d00f0"
DEFAULT_PRIVATE_KEY = "f2e52630-52fa-4c90-8bde-e92c1f7211f4"
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that can be configured; the defaults work with zero configuration."""

    host: str = "127.0.0.1"
    port: int = 8080
    seed: int | None = None
    public_key: str = DEFAULT_PUBLIC_KEY
    private_key: str = DEFAULT_PRIVATE_KEY
    identities: Path | None = None
    strict_identities: bool = False
    allow_unknown_keys: bool = False
    deprecated: str = "allow"
    max_body: int = MIB
    max_auto_identities: int = 10_000
    log_level: str = "info"
    quiet: bool = False
    faults: tuple[Path, ...] = ()
    journal_size: int = 10_000
    journal_file: Path | None = None
    processing_time: float = 2.0
    callback_retries: int = 3
    callback_allow: tuple[str, ...] = ()
    grace: float = 5.0
    admin_token: str | None = None

    def __post_init__(self) -> None:
        for name in ("public_key", "private_key"):
            value = getattr(self, name)
            if not UUID_PATTERN.fullmatch(value):
                raise SettingsError(
                    f"{name.replace('_', ' ')} {value!r} is not a lowercase UUID "
                    "(8-4-4-4-12 hex digits, as OneAll issues them)"
                )
        if self.deprecated not in ("allow", "refuse"):
            raise SettingsError(f"deprecated must be 'allow' or 'refuse', got {self.deprecated!r}")
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port must be between 0 and 65535, got {self.port}")
        if self.processing_time < 0:
            raise SettingsError(
                f"processing time must be 0 or more seconds, got {self.processing_time}"
            )
        if self.callback_retries < 1:
            raise SettingsError(
                f"callback retries must be at least 1 try, got {self.callback_retries}"
            )
        if self.journal_size < 1:
            raise SettingsError(f"journal size must be at least 1, got {self.journal_size}")
        if not 0 <= self.grace <= 3600:
            raise SettingsError(f"grace must be between 0 and 3600 seconds, got {self.grace}")
        if self.max_body < 1:
            raise SettingsError(f"max body must be at least 1 byte, got {self.max_body}")

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


# ---------------------------------------------------------------------------------------------
# Parsers shared by flags and environment variables: each raises ValueError with a short reason.

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected one of 1/0/true/false/yes/no")


def parse_size(text: str) -> int:
    """Bytes, with an optional k/KiB/M/MiB suffix: ``1048576``, ``512k``, ``2MiB``."""
    match = re.fullmatch(r"\s*(\d+)\s*(|b|k|kb|kib|m|mb|mib)\s*", text.lower())
    if not match:
        raise ValueError("expected a size in bytes such as 1048576, 512k or 2MiB")
    number, unit = int(match.group(1)), match.group(2)
    return number * (1024 if unit.startswith("k") else MIB if unit.startswith("m") else 1)


def parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("expected a whole number") from None


def parse_seconds(text: str) -> float:
    try:
        return float(text.strip().removesuffix("s"))
    except ValueError:
        raise ValueError("expected a number of seconds such as 2, 0.5 or 0") from None


def parse_path(text: str) -> Path:
    return Path(text).expanduser()


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its flag, its ``SANDBOX_*`` variable, how to read it and what it means."""

    name: str
    help: str
    parse: Callable[[str], Any] = str
    metavar: str | None = None
    choices: Sequence[str] | None = None
    short: str | None = None
    kind: str = "value"  # "value", "switch" (a boolean flag) or "list" (repeatable)
    shown_default: str | None = None  # for --help, where the default is None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return "SANDBOX_" + self.name.upper()


OPTIONS: tuple[Option, ...] = (
    Option("host", "address to listen on (0.0.0.0 for every interface)", metavar="ADDR"),
    Option("port", "port to listen on; 0 picks a free one", parse_int, "PORT"),
    Option(
        "seed",
        "seed for every random source: same calls, same ids",
        parse_int,
        "N",
        shown_default="none, ids differ each run",
    ),
    Option("public_key", "the site's public key (HTTP Basic user name)", metavar="UUID"),
    Option("private_key", "the site's private key (HTTP Basic password)", metavar="UUID"),
    Option(
        "identities",
        "JSON file of identities to load instead of the built-in ones",
        parse_path,
        "FILE",
        shown_default="the built-in fixtures/identities.json",
    ),
    Option(
        "strict_identities",
        "only known identity tokens work and targets must belong to them, as on the live API",
        parse_bool,
        kind="switch",
    ),
    Option(
        "allow_unknown_keys",
        "accept and ignore keys a resource does not define (default: refuse them)",
        parse_bool,
        kind="switch",
    ),
    Option(
        "deprecated",
        "Facebook profile resources: 'allow' (answer as before 2018) or 'refuse' (as today)",
        choices=("allow", "refuse"),
    ),
    Option(
        "max_body", "largest request body accepted, e.g. 1048576, 512k, 2MiB", parse_size, "SIZE"
    ),
    Option(
        "max_auto_identities",
        "automatically registered identities kept; the oldest are forgotten first",
        parse_int,
        "N",
    ),
    Option(
        "log_level",
        "debug, info (one line per request), warning or error",
        choices=("debug", "info", "warning", "error"),
    ),
    Option(
        "quiet",
        "only warnings and errors (same as --log-level warning)",
        parse_bool,
        short="-q",
        kind="switch",
    ),
    Option(
        "faults",
        "fault scenario (TOML or JSON) armed at start-up and by POST /__sandbox/reset; "
        "repeat the flag, or separate files with commas in the variable",
        parse_path,
        "FILE",
        kind="list",
        shown_default="none",
    ),
    Option(
        "journal_size",
        "exchanges kept in the journal (and published objects); the oldest are dropped first",
        parse_int,
        "N",
    ),
    Option(
        "journal_file",
        "also append every journal entry to FILE, one JSON object per line",
        parse_path,
        "FILE",
        shown_default="none",
    ),
    Option(
        "processing_time",
        "seconds an asynchronous video (twitter/video.json, youtube/video.json) takes to "
        "process before its callback; 0 means at once",
        parse_seconds,
        "SECONDS",
    ),
    Option(
        "callback_retries",
        "tries to deliver a video callback when the receiver fails or times out "
        "(0.5 s, then 1 s, ... apart)",
        parse_int,
        "N",
    ),
    Option(
        "callback_allow",
        "a host besides loopback that may receive video callbacks; repeatable, "
        "comma-separated in the variable",
        metavar="HOST",
        kind="list",
        shown_default="loopback only",
    ),
    Option(
        "grace",
        "on SIGTERM or Ctrl-C, seconds requests in flight get to finish before they are cut",
        parse_seconds,
        "SECONDS",
    ),
    Option(
        "admin_token",
        "require Authorization: Bearer TOKEN on the control plane (/__sandbox/, except health)",
        metavar="TOKEN",
        shown_default="none, the control plane is open",
    ),
)


def _env_value(option: Option, environ: Mapping[str, str]) -> Any:
    raw = environ.get(option.env)
    if raw is None or raw == "":
        return None
    try:
        if option.kind == "list":
            return tuple(option.parse(item.strip()) for item in raw.split(",") if item.strip())
        value = option.parse(raw)
    except ValueError as error:
        raise SettingsError(f"{option.env}={raw!r}: {error}") from None
    if option.choices is not None and value not in option.choices:
        raise SettingsError(f"{option.env}={raw!r}: expected one of {', '.join(option.choices)}")
    return value


def _flag_type(option: Option) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return option.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = option.metavar or option.name
    return convert


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add one argument per option; each help line names its env variable and default."""
    defaults = Settings()
    for option in OPTIONS:
        default = getattr(defaults, option.name)
        shown = option.shown_default or default
        help_text = f"{option.help} [env {option.env}; default {shown}]"
        names = [option.flag] + ([option.short] if option.short else [])
        if option.kind == "switch":
            parser.add_argument(
                *names, dest=option.name, action="store_const", const=True, help=help_text
            )
        elif option.kind == "list":
            parser.add_argument(
                *names,
                dest=option.name,
                type=_flag_type(option),
                action="append",
                metavar=option.metavar,
                help=help_text,
            )
        else:
            parser.add_argument(
                *names,
                dest=option.name,
                type=_flag_type(option),
                choices=option.choices,
                metavar=option.metavar or (None if option.choices else option.name.upper()),
                help=help_text,
            )


def settings_from(namespace: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """Merge parsed flags over the environment over defaults; raises SettingsError."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        flag_value = getattr(namespace, option.name, None)
        if isinstance(flag_value, list):
            flag_value = tuple(flag_value)
        value = flag_value if flag_value is not None else _env_value(option, environ)
        if value is not None:
            values[option.name] = value
    if values.get("quiet") and "log_level" not in values:
        values["log_level"] = "warning"
    return Settings(**values)


def load_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from a command line and environment, for scripts and tests."""
    parser = argparse.ArgumentParser()
    add_options(parser)
    return settings_from(parser.parse_args(argv), os.environ if environ is None else environ)
