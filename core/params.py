"""Typed parameters from one pydantic model: Airflow trigger-form Params and command-line options.

No Airflow import here. :func:`field_schemas` gives each model field's JSON schema with ``$ref``s
inlined and optional fields written as ``type: ["null", <type>]`` (Airflow's trigger form renders that
as a number/text input; pydantic's ``anyOf: [<type>, null]`` would render as a free-text box and send
numbers as strings). :func:`add_cli_options` adds one ``--option`` per field to an argparse parser with
the same defaults, choices and help, so a default lives in the model and nowhere else.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # argparse is only needed by the CLI; DAG files import this module at parse time
    import argparse

__all__ = ["field_schemas", "add_cli_options", "options_to_conf"]


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


def _nullable_as_type_list(prop: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [{type: X, ...}, {type: null}]`` -> ``{type: ["null", X], ...}`` (constraints kept)."""
    branches = prop.get("anyOf")
    if not isinstance(branches, list) or len(branches) != 2:
        return prop
    nulls = [b for b in branches if b == {"type": "null"}]
    other = [b for b in branches if b != {"type": "null"}]
    if len(nulls) != 1 or len(other) != 1 or not isinstance(other[0].get("type"), str):
        return prop
    out = {k: v for k, v in prop.items() if k != "anyOf"}
    merged = dict(other[0])
    merged["type"] = ["null", merged["type"]]
    if "enum" in merged:
        merged["enum"] = [*merged["enum"], None]
    return {**merged, **out}


def _nullable_deep(node: Any) -> Any:
    """:func:`_nullable_as_type_list` at every level (array items, object properties), so no ``anyOf``
    of a type and null is left anywhere in a field's schema."""
    if isinstance(node, dict):
        node = _nullable_as_type_list({k: _nullable_deep(v) for k, v in node.items()})
        return node
    if isinstance(node, list):
        return [_nullable_deep(v) for v in node]
    return node


def field_schemas(model_cls) -> dict[str, tuple[Any, dict[str, Any]]]:
    """name -> (default, json schema of that field) for every field of a pydantic model."""
    schema = model_cls.model_json_schema()
    defs = schema.get("$defs", {})
    out: dict[str, tuple[Any, dict[str, Any]]] = {}
    for name, prop in schema.get("properties", {}).items():
        prop = _nullable_deep(_inline(prop, defs))
        default = prop.pop("default", None)
        field = model_cls.model_fields[name]
        if default is None and field.default_factory is not None:
            default = field.default_factory()
        if hasattr(default, "model_dump"):
            default = default.model_dump(mode="json")
        out[name] = (default, prop)
    return out


_PY_TYPES = {"integer": int, "number": float, "string": str}


def _converter(types: list[str]):
    base = next((_PY_TYPES[t] for t in types if t in _PY_TYPES), str)
    nullable = "null" in types

    def convert(text: str):
        if nullable and text.strip().lower() in ("", "none", "null"):
            return None
        return base(text)

    convert.__name__ = base.__name__  # argparse names the type in its error message
    return convert


def add_cli_options(parser: argparse.ArgumentParser, model_cls, aliases: dict[str, list[str]] | None = None,
                    skip: tuple[str, ...] = ()) -> None:
    """One ``--field-name`` option per model field (plus ``aliases[field]``), default from the model.
    Fields whose schema is not a scalar (lists, objects) are skipped: pass them as JSON elsewhere."""
    for name, (default, schema) in field_schemas(model_cls).items():
        if name in skip:
            continue
        types = schema.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        flags = [f"--{name.replace('_', '-')}", *(aliases or {}).get(name, [])]
        help_ = schema.get("title", name)
        if schema.get("description"):
            help_ += f": {schema['description']}"
        help_ = help_.replace("%", "%%") + " (default: %(default)s)"
        if types == ["boolean"]:  # --flag / --no-flag
            import argparse

            parser.add_argument(*flags, dest=name, default=default, action=argparse.BooleanOptionalAction,
                                help=help_)
            continue
        if not types or not set(types) <= {"null", *_PY_TYPES}:
            continue
        choices = [c for c in schema.get("enum", []) if c is not None] or None
        parser.add_argument(*flags, dest=name, default=default, type=_converter(types), choices=choices,
                            help=help_)


def options_to_conf(args: argparse.Namespace, model_cls, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The model's fields from parsed options, validated by the model (pydantic names a bad field)."""
    conf = {name: getattr(args, name) for name in model_cls.model_fields
            if name not in skip and hasattr(args, name)}
    return model_cls.model_validate(conf).model_dump(mode="json")
