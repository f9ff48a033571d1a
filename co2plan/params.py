"""Airflow trigger-form Params from a pydantic model's JSON schema (no Airflow import here).

Each model field becomes one Param whose JSON schema is the field's own schema with ``$ref``s
inlined, so Airflow validates it on trigger and renders titles and descriptions in the form.
"""

from __future__ import annotations

import copy
from typing import Any


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]])
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return _inline({**target, **rest}, defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def field_schemas(model_cls) -> dict[str, tuple[Any, dict[str, Any]]]:
    """name -> (default, json schema of that field) for every field of a pydantic model."""
    schema = model_cls.model_json_schema()
    defs = schema.get("$defs", {})
    out: dict[str, tuple[Any, dict[str, Any]]] = {}
    for name, prop in schema.get("properties", {}).items():
        prop = _inline(prop, defs)
        default = prop.pop("default", None)
        field = model_cls.model_fields[name]
        if default is None and field.default_factory is not None:
            default = field.default_factory()
        if hasattr(default, "model_dump"):
            default = default.model_dump(mode="json")
        out[name] = (default, prop)
    return out
