"""The planner's scenario form and its checks: one place for what the Airflow trigger form shows (sections,
help, number widgets, allowed ids) and for the fast ``validate`` task that refuses a bad conf by field.

What Airflow checks at trigger time (HTTP 400 from the REST API, an error under the field in the form) is
what one Param's JSON schema can say: types and ranges, ``scenario_id`` not ``baseline``, allowed modes,
plant / market / product ids of the latest published weekly run, the shape of every list item (no unknown
item keys; a demand shock names a market or a product). Airflow validates each Param alone, so rules that
span fields (an unknown top-level key, both budgets, both output targets, a week beyond the horizon, ids of
another base run) are refused by the DAG's first task ``validate`` within seconds, with the field and the
reason as the run's note (see co2plan.airflow_plugin). Nothing here imports the solver.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Refusal", "scenario_param_specs", "scenario_dag_params", "current_ids", "check_conf",
           "normalise_conf", "scenario_note", "trigger_body", "with_run_scenario_id", "refusal_text",
           "FORM_DEFAULTS", "SECTIONS", "supplier_outage_refusals"]

#: a scenario never writes over the weekly baseline, and plans the weekly horizon unless told otherwise
FORM_DEFAULTS = {"scenario_id": "scenario", "horizon_weeks": 26}

EXTRA_KEYS = ("base_run_id", "pareto_points")
LIST_FIELDS = ("demand_shocks", "plant_capacity", "banned_modes", "mode_limits", "renewable_share")
MODE_LABELS = {"road": "Road freight", "rail": "Rail freight", "sea": "Sea freight", "air": "Air freight"}

#: the form's sections, in order; every field belongs to one
SECTIONS: dict[str, tuple[str, ...]] = {
    "Scenario": ("scenario_id", "base_run_id", "horizon_weeks", "start_week", "demand_quantile"),
    "CO2": ("co2_budget_t", "co2_reduction_pct", "carbon_price_eur_per_t", "transport_basis"),
    "Demand and output": ("demand_shocks", "output_target_units", "output_target_pct"),
    "Plants": ("plant_capacity", "renewable_share", "max_move_pct", "current_plan_weeks"),
    "Transport": ("banned_modes", "mode_limits"),
    "Pareto": ("pareto_points",),
    "Penalties (advanced)": ("unmet_penalty_eur_per_unit", "co2_slack_penalty_eur_per_t",
                             "output_slack_penalty_eur_per_unit"),
    "Solver (advanced)": ("solver", "highs_method", "time_limit_s", "threads"),
}
_SECTION_OF = {f: s for s, fields in SECTIONS.items() for f in fields}

_LIST_HELP = {
    "demand_shocks": ("Scale demand of one market, one product, or one product in one market. Each item: "
                      "`market_id` and/or `product_id` (at least one), `pct` (-100..1000), optional `from_week`, "
                      "`to_week` (1-based horizon weeks). Example: "
                      '`[{"market_id": "%(market)s", "pct": 10, "from_week": 1, "to_week": 8}]`'),
    "plant_capacity": ("Plant outage (`capacity_pct` 0) or capacity change. Each item: `plant_id`, "
                       "`capacity_pct` (0..500), optional `from_week`, `to_week`. Example: "
                       '`[{"plant_id": "%(plant)s", "capacity_pct": 0, "from_week": 3, "to_week": 6}]`'),
    "mode_limits": ("Limit every lane of a transport mode to a share of its capacity. Each item: `mode` "
                    "(road, rail, sea, air), `capacity_pct` (0 bans). Example: "
                    '`[{"mode": "air", "capacity_pct": 50}]`'),
    "renewable_share": ("Renewable electricity share at a plant (scales its market-based scope 2). Each item: "
                        "`plant_id`, `share_pct` (0..100). Example: "
                        '`[{"plant_id": "%(plant)s", "share_pct": 60}]`'),
}


@dataclass(frozen=True)
class Refusal:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


def refusal_text(refusals: list[Refusal] | list[dict]) -> str:
    items = [r if isinstance(r, Refusal) else Refusal(**r) for r in refusals]
    return "REFUSED — " + "; ".join(str(r) for r in items)


def current_ids(root: str | None = None) -> dict[str, list[str]] | None:
    """Plant, market and product ids of the latest published weekly run (``ids`` of latest.json), or None.
    Cheap: one small JSON file, never parquet (this runs when the DAG file is parsed)."""
    try:
        from core import catalog, lake

        uri = catalog.latest_pointer_uri(root)
        if not lake.exists(uri):
            return None
        ids = json.loads(lake.read_bytes(uri)).get("ids")
        if not isinstance(ids, dict):
            return None
        out = {k: sorted(str(v) for v in ids.get(k) or []) for k in ("plant_id", "market_id", "product_id")}
        return out if all(out.values()) else None
    except Exception:  # noqa: BLE001 - the form works without enums
        return None


def _id_schema(prop: dict[str, Any], values: list[str] | None, nullable: bool) -> None:
    if not values:
        return
    prop["enum"] = [None, *values] if nullable else list(values)


def scenario_param_specs(ids: dict[str, list[str]] | None = None) -> dict[str, tuple[Any, dict[str, Any]]]:
    """name -> (default, JSON schema with Airflow form keys) for every scenario Param, in section order."""
    from core.params import field_schemas
    from optimisation import ScenarioParams

    specs = dict(field_schemas(ScenarioParams))
    specs["base_run_id"] = (None, {"type": ["null", "string"], "title": "Base run",
                                   "description": "Lake run id whose validated data and forecasts to plan on; "
                                                  "empty = the latest weekly run."})
    specs["pareto_points"] = (0, {"type": "integer", "minimum": 0, "maximum": 30, "not": {"const": 1},
                                  "title": "Pareto points",
                                  "description": "Also sweep the CO2 budget over this many points "
                                                 "(0 = no sweep, else >= 2)."})
    ids = ids or {}
    out: dict[str, tuple[Any, dict[str, Any]]] = {}
    for name, (default, schema) in specs.items():
        schema = copy.deepcopy(schema)
        default = FORM_DEFAULTS.get(name, default)
        if name == "scenario_id":
            schema["not"] = {"enum": ["baseline"]}
            schema["description"] = ("name of the scenario (not 'baseline', the weekly plan's): names the lake "
                                     "paths and the run. Left at 'scenario', the Run ID typed under Advanced "
                                     "options (e.g. cut15) becomes the scenario id")
        if name == "co2_reduction_pct":
            schema["title"] = "CO2 reduction (% below this scenario's own plan without a budget)"
            schema["description"] = ("budget = (1 - pct/100) x CO2e of the cost-optimal plan of this same "
                                     "scenario solved without a budget — not the weekly baseline plan")
        if name == "banned_modes":
            modes = list(schema["items"]["enum"])
            schema["type"] = ["null", "array"]
            schema["uniqueItems"] = True
            schema["examples"] = modes
            schema["values_display"] = {m: MODE_LABELS.get(m, m) for m in modes}
            schema["description"] = "transport modes the plan may not use: " + ", ".join(modes)
            default = None
        elif name in LIST_FIELDS:
            schema["type"] = ["null", "array"]
            item = schema["items"]
            props = item.get("properties", {})
            if "plant_id" in props:
                _id_schema(props["plant_id"], ids.get("plant_id"), nullable=False)
            if name == "demand_shocks":
                _id_schema(props["market_id"], ids.get("market_id"), nullable=True)
                _id_schema(props["product_id"], ids.get("product_id"), nullable=True)
                item["anyOf"] = [{"required": ["market_id"], "properties": {"market_id": {"type": "string"}}},
                                 {"required": ["product_id"], "properties": {"product_id": {"type": "string"}}}]
            example = {"plant": (ids.get("plant_id") or ["P_DE_WOB"])[0],
                       "market": (ids.get("market_id") or ["M_DE"])[0]}
            md = _LIST_HELP[name] % example
            if "plant_id" in props and ids.get("plant_id"):
                md += "  \nPlant ids: " + ", ".join(f"`{p}`" for p in ids["plant_id"])
            if name == "demand_shocks" and ids.get("market_id"):
                md += ("  \nMarket ids: " + ", ".join(f"`{m}`" for m in ids["market_id"])
                       + "  \nProduct ids: " + ", ".join(f"`{p}`" for p in ids["product_id"]))
            schema["description"] = None  # the form shows description_md only without a description
            schema["description_md"] = md
            default = None
        schema["section"] = _SECTION_OF.get(name, "Scenario")
        out[name] = (default, schema)
    order = [f for fields in SECTIONS.values() for f in fields]
    return {name: out[name] for name in sorted(out, key=lambda n: order.index(n) if n in order else len(order))}


def scenario_dag_params(root: str | None = None) -> dict:
    """Airflow Params of the scenario DAG (ids of the latest published run as enums when there is one)."""
    from airflow.sdk import Param

    return {name: Param(default, **schema) for name, (default, schema) in scenario_param_specs(
        current_ids(root)).items()}


def normalise_conf(conf: dict[str, Any]) -> dict[str, Any]:
    """A list field cleared in the form arrives as null: the same as an empty list."""
    return {k: ([] if k in LIST_FIELDS and v is None else v) for k, v in conf.items()}


def _field_of(loc: tuple, msg: str) -> str:
    if loc:
        return ".".join(str(p) for p in loc)
    head = msg.removeprefix("Value error, ").split(":", 1)[0].split(" and ")[0].strip()
    return head if head.replace("_", "").isalnum() else "conf"


def _base_ids(base: str, root: str | None) -> dict[str, set[str]]:
    from co2plan.pipeline import resolve_run
    from core import catalog

    try:
        base = resolve_run(base, root)  # a week's run id reads its published attempt's tables
    except LookupError:
        pass  # not published: read the id as given (a missing table is refused below by the caller)
    out = {}
    for table, col in (("plants", "plant_id"), ("markets", "market_id"), ("products", "product_id")):
        out[col] = set(catalog.VALIDATED[table].read(base, root=root)[col].astype(str))
    return out


def check_conf(conf: dict[str, Any], root: str | None = None, check_base: bool = True) -> list[Refusal]:
    """Every reason to refuse a scenario conf, each with the field it concerns. Empty list = accepted."""
    from jsonschema import Draft202012Validator
    from pydantic import ValidationError

    from optimisation import ScenarioParams

    conf = normalise_conf(dict(conf))
    known = set(ScenarioParams.model_fields) | set(EXTRA_KEYS)
    refusals = [Refusal(k, f"unknown parameter (known: {', '.join(sorted(known))})")
                for k in sorted(set(conf) - known)]
    specs = scenario_param_specs(None)
    for name, value in conf.items():
        if name not in specs or (value is None and name in LIST_FIELDS):
            continue
        schema = {k: v for k, v in specs[name][1].items()
                  if k not in ("section", "description_md", "values_display", "examples")}
        errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
        for err in errors[:1]:
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.path)
            reason = err.message
            if err.validator == "not" and name == "scenario_id":
                reason = "'baseline' is the weekly plan's id; choose another name"
            elif err.validator == "anyOf" and name == "demand_shocks":
                reason = "a demand shock needs market_id, product_id or both"
            refusals.append(Refusal(name + path, reason))
    if refusals:
        return refusals
    try:
        p = ScenarioParams.model_validate({k: v for k, v in conf.items() if k in ScenarioParams.model_fields})
    except ValidationError as e:
        return [Refusal(_field_of(tuple(err["loc"]), err["msg"]), err["msg"].removeprefix("Value error, "))
                for err in e.errors()]
    if not check_base:
        return []
    from co2plan.pipeline import latest_weekly_run

    try:
        base = conf.get("base_run_id") or latest_weekly_run(root)
        ids = _base_ids(base, root)
    except (LookupError, OSError, FileNotFoundError) as e:
        return [Refusal("base_run_id", f"no usable weekly run: {e}")]
    for name, items in (("plant_capacity", p.plant_capacity), ("renewable_share", p.renewable_share)):
        for i, item in enumerate(items):
            if item.plant_id not in ids["plant_id"]:
                refusals.append(Refusal(f"{name}[{i}].plant_id", f"unknown plant {item.plant_id!r} in run {base} "
                                                                 f"(plants: {', '.join(sorted(ids['plant_id']))})"))
    for i, shock in enumerate(p.demand_shocks):
        for col, val in (("market_id", shock.market_id), ("product_id", shock.product_id)):
            if val is not None and val not in ids[col]:
                refusals.append(Refusal(f"demand_shocks[{i}].{col}", f"unknown {col[:-3]} {val!r} in run {base}"))
    refusals += supplier_outage_refusals(conf, root)  # issue 16
    return refusals


def _short(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def scenario_note(conf: dict[str, Any]) -> str:
    """``<scenario_id> · base <run> · <the parameters that differ from the defaults>`` for the run's note."""
    conf = normalise_conf(dict(conf))
    specs = scenario_param_specs(None)
    parts = [str(conf.get("scenario_id") or FORM_DEFAULTS["scenario_id"]),
             f"base {conf.get('base_run_id') or 'latest weekly run'}"]
    for name, value in conf.items():
        if name in ("scenario_id", "base_run_id") or name not in specs:
            continue
        default = specs[name][0]
        if value == default or (value in (None, []) and default in (None, [])):
            continue
        parts.append(f"{name}={json.dumps(value, separators=(',', ':')) if isinstance(value, list) else _short(value)}")
    return " · ".join(parts)[:1000]


#: run ids Airflow generates itself (``manual__<timestamp>`` from the UI's form, ...): they name no scenario
AUTO_RUN_PREFIXES = ("manual", "scheduled", "backfill", "asset_triggered", "dataset_triggered")


def with_run_scenario_id(conf: dict[str, Any], run_id: str | None) -> dict[str, Any]:
    """The planner names the run in the trigger form (Advanced options -> Run ID, e.g. ``cut15``) and leaves
    the scenario id at its default: the run's name becomes the scenario id, so run, note, lake paths and
    MLflow runs share one name. ``<sid>__<stamp>`` (what ``trigger_body`` sends) gives ``<sid>``; ids Airflow
    generated and a scenario id typed in the form are left as they are."""
    if conf.get("scenario_id") not in (None, "", FORM_DEFAULTS["scenario_id"]) or not run_id:
        return conf
    head = str(run_id).split("__", 1)[0]
    if head in AUTO_RUN_PREFIXES or head == "baseline" or not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", head):
        return conf
    return {**conf, "scenario_id": head}


def trigger_body(conf: dict[str, Any], now=None) -> dict[str, Any]:
    """Body of ``POST /api/v2/dags/scenario_plan/dagRuns``: the run named by the scenario id, with its note."""
    from datetime import UTC, datetime

    now = now or datetime.now(UTC)
    sid = conf.get("scenario_id") or FORM_DEFAULTS["scenario_id"]
    return {"dag_run_id": f"{sid}__{now:%Y%m%dT%H%M%S}", "logical_date": None, "conf": conf,
            "note": scenario_note(conf)}


# ---- issue 16: supplier outages and sourcing (optimisation.sourcing)
LIST_FIELDS = (*LIST_FIELDS, "supplier_outage")
SECTIONS["Suppliers"] = ("supplier_outage", "sourcing_risk_eur_per_unit", "use_sourcing")
_SECTION_OF.update({f: "Suppliers" for f in SECTIONS["Suppliers"]})
_LIST_HELP["supplier_outage"] = (
    "A supplier (`supplier_id`) or every qualified supplier in a `country` unavailable (`capacity_pct` 0, the "
    "default) or limited, optional `from_week`, `to_week`. The plan re-sources from each plant's other qualified "
    "suppliers or moves production; the report says what moved. Example: "
    '`[{"supplier_id": "S_BAT_001", "from_week": 3}]`')


def supplier_outage_refusals(conf: dict[str, Any], root: str | None = None) -> list[Refusal]:
    """Refusals for ``supplier_outage`` items naming a supplier or country that is not a qualified supplier in
    the base run's sourcing options (or a base run without sourcing options)."""
    from co2plan.pipeline import latest_weekly_run, resolve_run
    from core import catalog

    items = conf.get("supplier_outage") or []
    if not items:
        return []
    base = conf.get("base_run_id") or latest_weekly_run(root)
    try:
        base = resolve_run(base, root)
    except LookupError:
        pass
    if not catalog.SOURCING_OPTIONS.exists(base, root=root):
        return [Refusal("supplier_outage", f"run {base} has no sourcing options (supply stage not run)")]
    opt = catalog.SOURCING_OPTIONS.read(base, root=root)
    sids, countries = set(opt["supplier_id"].astype(str)), set(opt["country"].astype(str))
    if catalog.SOURCING_UPSTREAM.exists(base, root=root):  # tier 2+ suppliers and countries behind them
        up = catalog.SOURCING_UPSTREAM.read(base, root=root)
        sids |= set(up["node_id"].astype(str))
        countries |= set(up["country"].dropna().astype(str))
    out = []
    for i, item in enumerate(items):
        sid, country = item.get("supplier_id"), item.get("country")
        if sid is not None and sid not in sids:
            out.append(Refusal(f"supplier_outage[{i}].supplier_id", f"unknown supplier {sid!r}: supplies no "
                                                                    f"plant's key components in run {base}"))
        if country is not None and country not in countries:
            out.append(Refusal(f"supplier_outage[{i}].country", f"no key-component supplier in country "
                                                                f"{country!r} in run {base} "
                                                                f"({', '.join(sorted(countries))})"))
    return out


# --- issue 14: driver what-ifs (re-forecast with the champion on changed known-in-advance drivers)
LIST_FIELDS = (*LIST_FIELDS, "driver_changes")
SECTIONS["Demand and output"] = (*SECTIONS["Demand and output"], "driver_changes")
_SECTION_OF["driver_changes"] = "Demand and output"
_LIST_HELP["driver_changes"] = (
    "Change a known-in-advance demand driver; demand is re-forecast with the champion model. Each item: "
    "`driver` (incentive_eur, promo_discount_pct, list_price_pct, working_days, end_of_sale), `value`, optional "
    "`market_id`, `from_week`, `to_week` (1-based horizon weeks), `powertrain` (incentive, default BEV), "
    "`product_id`. Example, the BEV subsidy ends in week 10: "
    '`[{"market_id": "%(market)s", "driver": "incentive_eur", "value": 0, "from_week": 10}]`')
_check_conf_before_drivers = check_conf


def check_conf(conf: dict[str, Any], root: str | None = None, check_base: bool = True) -> list[Refusal]:  # noqa: F811
    """``check_conf`` plus: every ``driver_changes`` market and product exists in the base run."""
    refusals = _check_conf_before_drivers(conf, root, check_base)
    changes = normalise_conf(dict(conf)).get("driver_changes") or []
    if refusals or not check_base or not changes:
        return refusals
    from co2plan.pipeline import latest_weekly_run

    base = conf.get("base_run_id") or latest_weekly_run(root)
    ids = _base_ids(base, root)
    for i, ch in enumerate(changes):
        for col in ("market_id", "product_id"):
            val = ch.get(col)
            if val is not None and val not in ids[col]:
                refusals.append(Refusal(f"driver_changes[{i}].{col}", f"unknown {col[:-3]} {val!r} in run {base}"))
    return refusals
