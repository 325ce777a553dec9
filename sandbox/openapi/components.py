"""How a schema file becomes components of the OpenAPI document: as it is, but for its
``$defs``, which a document cannot hold where a ``$ref`` of the file would find them."""

from __future__ import annotations

from typing import Any

from sandbox.validation.bodies import walk

Schema = dict[str, Any]
SCHEMAS = "#/components/schemas/"
_DEFS = "#/$defs/"


def embedded(name: str, schema: Schema, defs_prefix: str) -> dict[str, Schema]:
    """``schema`` as the component ``name``, each of its ``$defs`` as a component of its own,
    ``<defs_prefix><def>``, and its ``$ref`` links pointed at them. ``schema`` is changed."""
    defs: dict[str, Schema] = schema.pop("$defs", {})
    for node in walk([schema, defs]):
        target = node.get("$ref")
        if isinstance(target, str) and target.startswith(_DEFS):
            node["$ref"] = SCHEMAS + defs_prefix + target.removeprefix(_DEFS)
    return {name: schema, **{defs_prefix + key: value for key, value in defs.items()}}
