"""Request bodies of the API around the push (``schemas/<family>/<name>.json``) and of the
control plane's own JSON calls: checked with jsonschema, each refusal naming the first bad key
in the ``[request->user->user_token]`` notation the push uses."""

from __future__ import annotations

import functools
import importlib
import json
from typing import Any

from sandbox.api.datafiles import data_path
from sandbox.api.errors import BadRequest

_SHOWN = 60


@functools.cache
def validator(schema: str) -> Any:
    """The compiled validator of ``schemas/<schema>.json``, once per process."""
    path = data_path("schemas") / f"{schema}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    # jsonschema ships no type information: its validator and errors are used as ``Any``.
    return importlib.import_module("jsonschema").Draft202012Validator(document)


def check(schema: str, body: Any) -> Any:
    """``body`` when it fits the schema; else BadRequest naming where and why."""
    errors = sorted(
        validator(schema).iter_errors(body), key=lambda error: (len(error.path), error.message)
    )
    if not errors:
        return body
    error = errors[0]
    where = "[" + "->".join(str(part) for part in error.path) + "]" if error.path else "The body"
    shown = json.dumps(error.instance, ensure_ascii=False)
    if len(shown) > _SHOWN:
        shown = shown[:_SHOWN] + "…"
    reason = _reason(error)
    raise BadRequest(f"{where} {reason}, got {shown}")


def _reason(error: Any) -> str:
    validator_name = error.validator
    if validator_name == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"must hold the key {missing}"
    if validator_name == "pattern":
        return "must be a lowercase UUID (8-4-4-4-12 hex digits)"
    if validator_name == "enum":
        return "must be one of " + ", ".join(json.dumps(v) for v in error.validator_value)
    if validator_name == "type":
        return f"must be of type {error.validator_value}"
    if validator_name == "anyOf":
        required = [key for branch in error.validator_value for key in branch.get("required", ())]
        if required and all(set(branch) == {"required"} for branch in error.validator_value):
            return "must hold one of the keys " + " or ".join(required)
        return "is not any of the accepted forms"
    if validator_name == "additionalProperties":
        return f"has a key it does not take: {error.message!s}"
    return f"is invalid: {error.message!s}"
