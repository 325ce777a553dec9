"""The compiled checks accept exactly what the schemas accept (fastjsonschema is the referee),
on the examples and on thousands of mutations of them; what they cannot check they refuse to
compile."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import fastjsonschema
import pytest

from sandbox.api.datafiles import data_path
from sandbox.api.push import ENDPOINTS, Endpoint
from sandbox.validation.checks import Unsupported, compile_check
from tests.conftest import example

SCHEMAS = data_path("schemas")
DEFS = json.loads((SCHEMAS / "_defs.json").read_text())["$defs"]
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.0, 1.5, 2**70, "", "x", "a b", "https://example.com/a.png",
    "https://example.com/a b", "ftp://x", "x" * 3000, [], ["1"], [1, 2, 3, 4, 5], {}, {"k": "v"},
    "public", "single_playlist",
]  # fmt: skip


def full_schema(endpoint: Endpoint) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{endpoint.name}.json").read_text())
    schema.setdefault("$defs", {}).update(copy.deepcopy(DEFS))
    return schema


def mutations(body: dict[str, Any], rng: random.Random, count: int) -> list[Any]:
    """Bodies with node keys dropped, retyped or added, and envelopes broken."""
    found: list[Any] = [body, {}, [], None, {"request": {}}, {"request": {"push": {}}}]
    node_name = next(iter(body["request"]["push"]))
    keys = [*body["request"]["push"][node_name], "id", "url", "title", "zeta", "position"]
    for _ in range(count):
        mutated = copy.deepcopy(body)
        node = mutated["request"]["push"][node_name]
        for _ in range(rng.randint(1, 3)):
            key = rng.choice(keys)
            if rng.random() < 0.2:
                node.pop(key, None)
            else:
                node[key] = copy.deepcopy(rng.choice(ODD_VALUES))
        if rng.random() < 0.05:
            mutated["request"]["push"]["other"] = {}
        found.append(mutated)
    return found


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[endpoint.name for endpoint in ENDPOINTS])
def test_a_compiled_check_agrees_with_the_schema(endpoint: Endpoint) -> None:
    schema = full_schema(endpoint)
    check = compile_check(schema)
    referee = fastjsonschema.compile(schema, use_default=False, use_formats=False)
    rng = random.Random(endpoint.name)
    outcomes = []
    for body in mutations(example(endpoint), rng, 400):
        try:
            referee(body)
            expected = True
        except fastjsonschema.JsonSchemaValueException:
            expected = False
        assert check(body) is expected, json.dumps(body)[:300]
        outcomes.append(expected)
    assert True in outcomes and False in outcomes  # both kinds were tried


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "patternProperties": {"^x": {}}},
        {"not": {"type": "string"}},
        {"enum": [1, True]},
        {"$ref": "https://example.com/schema.json"},
        {"items": [{"type": "string"}]},
    ],
)
def test_a_keyword_it_cannot_check_is_refused(schema: dict[str, Any]) -> None:
    with pytest.raises(Unsupported):
        compile_check(schema)


@pytest.mark.parametrize(
    ("schema", "valid", "invalid"),
    [
        ({"type": "integer"}, [1, 2.0, -3], [1.5, True, "1", None]),
        ({"type": ["string", "null"], "maxLength": 2}, ["ab", None], ["abc", 1]),
        ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, [-1, 0.5, "x"], [1, 3]),
        ({"anyOf": [{"type": "string"}, {"type": "array", "maxItems": 1}]}, ["", [1]], [[1, 2]]),
        (
            {"additionalProperties": {"type": "string"}, "properties": {"n": {}}},
            [{"n": 1}, {"a": "b"}],
            [{"a": 1}],
        ),
        ({"enum": ["a", "b"]}, ["a"], ["c", 1, None]),
        ({"exclusiveMaximum": 3, "minProperties": 0}, [2, "x"], [3, 3.0]),
        (
            {"properties": {"a": {"description": "anything"}}, "maxProperties": 1},
            [{"a": 1}],
            [{"a": 1, "b": 2}],
        ),
    ],
)  # fmt: skip
def test_keywords_mean_what_json_schema_says(
    schema: dict[str, Any], valid: list[Any], invalid: list[Any]
) -> None:
    check = compile_check(schema)
    assert [check(value) for value in valid] == [True] * len(valid)
    assert [check(value) for value in invalid] == [False] * len(invalid)
