"""Canned answers: the data of a success chosen by a rule (``{"resource": "twitter.post",
"answer": {"post_id": "..."}}``), merged into what the sandbox fabricates.

The result is fabricated as usual first (its ids are used up, so a seeded run stays the same
whether a canned answer applies or not), then the rule's data is merged in (objects key by
key, anything else replaced) and the whole checked against the resource's result schema
(``schemas/results/<factory>.json``, the file the OpenAPI document embeds). A rule whose data
one of its resources could never accept is refused when it is armed, naming the key.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from sandbox.api.datafiles import read_schema
from sandbox.api.errors import ProviderError
from sandbox.api.push import ENDPOINTS

if TYPE_CHECKING:  # faults imports this module where a rule is checked
    from sandbox.model.faults import Fault

RESULT_OF = {endpoint.name: endpoint.result for endpoint in ENDPOINTS}


@functools.cache
def _validator(factory: str, pointer: tuple[str, ...] = ()) -> jsonschema_rs.Validator:
    """The result schema of ``factory``, or the part of it at ``pointer`` (property names)."""
    return jsonschema_rs.validator_for(_schema_at(factory, pointer), offline=True)


def _schema_at(factory: str, pointer: tuple[str, ...]) -> dict[str, Any]:
    schema = read_schema("results", factory)
    for name in pointer:
        schema = schema["properties"][name]
    return schema


def merge(data: Mapping[str, Any], answer: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with ``answer`` merged in: an object into an object key by key, anything else
    in place of what was there."""
    merged = dict(data)
    for key, value in answer.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = merge(current, value)
        else:
            merged[key] = value
    return merged


def answer_problem(answer: object, resource_pattern: str, where: str) -> str | None:
    """Why ``answer`` can never be part of the result of a resource the pattern names (the
    message names the key and the resource), or None."""
    if not isinstance(answer, Mapping) or not answer:
        return f'{where}answer: must be an object of result keys, such as {{"post_id": "..."}}'
    resources = [name for name in RESULT_OF if fnmatch.fnmatchcase(name, resource_pattern)]
    for resource in resources:
        problem = _key_problem(RESULT_OF[resource], (), answer, f"{where}answer/", resource)
        if problem is not None:
            return problem
    return None


def _key_problem(
    factory: str, pointer: tuple[str, ...], answer: Mapping[str, Any], where: str, resource: str
) -> str | None:
    schema = _schema_at(factory, pointer)
    properties: Mapping[str, Any] = schema.get("properties", {})
    for key, value in answer.items():
        if key not in properties:
            if schema.get("additionalProperties") is False:
                return (
                    f"{where}{key}: the result of {resource} has no {key}; its keys are "
                    f"{', '.join(properties)}"
                )
            continue
        inner = properties[key]
        if isinstance(value, Mapping) and "properties" in inner:  # merged key by key
            problem = _key_problem(factory, (*pointer, key), value, f"{where}{key}/", resource)
        else:
            error = next(iter(_validator(factory, (*pointer, key)).iter_errors(value)), None)
            problem = (
                None
                if error is None
                else f"{where}{key}: {error.message}, as the result of {resource} needs"
            )
        if problem is not None:
            return problem
    return None


def result_problem(resource: str, data: Mapping[str, Any]) -> str | None:
    """Why a merged result breaks the resource's result schema, or None."""
    error = next(iter(_validator(RESULT_OF[resource]).iter_errors(data)), None)
    if error is None:
        return None
    where = "/".join(str(part) for part in error.instance_path)
    return f"{where or 'the result'}: {error.message}"


def canned_data(resource: str, canned: Fault, data: Mapping[str, Any]) -> dict[str, Any]:
    """The fabricated result with the rule's data merged in. A merge that breaks the result
    schema is the sandbox's refusal (500), never an answer the real API could not give."""
    assert canned.answer is not None
    merged = merge(data, canned.answer)
    problem = result_problem(resource, merged)
    if problem is not None:
        raise ProviderError(
            f"The canned answer (rule {canned.id}) makes a result {resource} cannot return: "
            f"{problem}",
            status=500,
        )
    return merged
