"""The planner's scenario form, generated from ``ScenarioParams`` (via ``core.params.field_schemas``):
numbers as number inputs, enums as selects, lists of enums as checkboxes, lists of models as repeatable
row groups; business fields first, solver fields last. :func:`parse_form` turns the posted fields back into
a conf dict and :func:`validate` checks it with the same rules the DAG applies (``pipeline.scenario_params``),
returning errors per field so nothing is triggered on bad input."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from co2plan.pipeline import scenario_params
from core.params import field_schemas
from optimisation import ScenarioParams

__all__ = ["widgets", "parse_form", "validate", "SOLVER_FIELDS", "EXTRA_ROWS"]

#: objective weights and solver settings: shown after the business fields, folded
SOLVER_FIELDS = ("unmet_penalty_eur_per_unit", "co2_slack_penalty_eur_per_t", "output_slack_penalty_eur_per_unit",
                 "solver", "highs_method", "time_limit_s", "threads")
#: blank rows offered for each repeatable list (more with the "add row" button)
EXTRA_ROWS = 2


def _types(schema: dict) -> list[str]:
    if "anyOf" in schema:  # nested models keep pydantic's anyOf: [<type>, null]
        return [t for b in schema["anyOf"] for t in _types(b)]
    t = schema.get("type")
    return [t] if isinstance(t, str) else list(t or [])


def _flat(schema: dict) -> dict:
    """anyOf branches merged into one schema (constraints of the non-null branch kept)."""
    if "anyOf" not in schema:
        return schema
    merged = {k: v for k, v in schema.items() if k != "anyOf"}
    for b in schema["anyOf"]:
        merged.update({k: v for k, v in b.items() if k != "type"})
    return merged


def _scalar(name: str, default: Any, schema: dict, value: Any = None) -> dict:
    types = _types(schema)
    schema = _flat(schema)
    nullable = "null" in types
    enum = [e for e in schema.get("enum", []) if e is not None]
    w = {"name": name, "title": schema.get("title", name), "help": schema.get("description", ""),
         "nullable": nullable, "default": default, "value": default if value is None else value}
    if enum:
        w.update(kind="select", choices=enum)
    elif "integer" in types or "number" in types:
        step = "1" if "integer" in types else "any"
        lo = schema.get("minimum", schema.get("exclusiveMinimum"))
        hi = schema.get("maximum", schema.get("exclusiveMaximum"))
        w.update(kind="number", step=step, min=lo, max=hi)
    else:
        w.update(kind="text", pattern=schema.get("pattern"), maxlength=schema.get("maxLength"))
    return w


def widgets(values: dict | None = None, choices: dict[str, list[str]] | None = None) -> dict[str, list[dict]]:
    """{"business": [...], "solver": [...]} widget specs, filled with ``values`` (a conf) when given.
    ``choices``: known ids per field name (plant_id, market_id, product_id) offered as datalists."""
    values = values or {}
    out: dict[str, list[dict]] = {"business": [], "solver": []}
    for name, (default, schema) in field_schemas(ScenarioParams).items():
        group = "solver" if name in SOLVER_FIELDS else "business"
        if "array" in _types(schema):
            items = schema.get("items", {})
            current = values.get(name, default) or []
            if "enum" in items:
                w = {"name": name, "title": schema.get("title", name), "help": schema.get("description", ""),
                     "kind": "checkboxes", "choices": items["enum"], "value": list(current)}
            else:
                fields = []
                for sub, sub_schema in items.get("properties", {}).items():
                    sw = _scalar(sub, sub_schema.get("default"), sub_schema)
                    sw["required"] = sub in items.get("required", [])
                    sw["datalist"] = sub if sub in (choices or {}) else None
                    fields.append(sw)
                rows = [dict(r) for r in current] + [{} for _ in range(EXTRA_ROWS)]
                w = {"name": name, "title": schema.get("title", name), "help": schema.get("description", ""),
                     "kind": "rows", "fields": fields, "rows": rows}
        else:
            w = _scalar(name, default, schema, values.get(name))
        out[group].append(w)
    return out


def _convert(text: str, schema: dict) -> Any:
    types = _types(schema)
    text = text.strip()
    if text == "":
        return None
    if "integer" in types:
        f = float(text)
        return int(f) if f == int(f) else f  # pydantic names the non-integer
    if "number" in types:
        return float(text)
    return text


def parse_form(form: Any) -> tuple[dict, dict[str, str]]:
    """Posted fields -> (conf, conversion errors by field). ``form`` is a multi-dict (``getlist``)."""
    conf: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, (_default, schema) in field_schemas(ScenarioParams).items():
        if "array" in _types(schema):
            items = schema.get("items", {})
            if "enum" in items:
                conf[name] = [v for v in form.getlist(name) if v in items["enum"]]
                continue
            props = items.get("properties", {})
            rows, i = [], 0
            while i < 200 and any(f"{name}-{i}-{s}" in form for s in props):
                row = {}
                for sub, sub_schema in props.items():
                    raw = str(form.get(f"{name}-{i}-{sub}", ""))
                    try:
                        v = _convert(raw, sub_schema)
                    except ValueError:
                        errors[f"{name}-{i}-{sub}"] = "not a number"
                        v = None
                    if v is not None:
                        row[sub] = v
                if row:
                    rows.append(row)
                i += 1
            conf[name] = rows
            continue
        if name not in form:
            continue
        try:
            v = _convert(str(form.get(name, "")), schema)
        except ValueError:
            errors[name] = "not a number"
            continue
        if v is None and "null" not in _types(schema):
            continue  # empty non-nullable field: the model default applies
        conf[name] = v
    return conf, errors


def validate(conf: dict) -> dict[str, str]:
    """Errors by field name ("" for cross-field rules); empty when the scenario may be triggered."""
    errors: dict[str, str] = {}
    try:
        ScenarioParams.model_validate(conf)
    except ValidationError as e:
        for err in e.errors():
            loc = [str(x) for x in err.get("loc", ())]
            key = "-".join(loc) if loc else ""
            msg = err.get("msg", "invalid").removeprefix("Value error, ")
            errors.setdefault(key, msg)
        return errors
    try:
        scenario_params(conf)
    except ValueError as e:
        errors[""] = str(e)
    return errors
