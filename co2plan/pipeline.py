"""The stages of the weekly refresh and of a planner scenario, as plain functions of a lake run id.

This is the one module that composes the stages of features/, models/ and optimisation/; the DAGs
and the command line call it, the stages never do. Every function takes ids and returns a small
JSON-able dict (URIs and figures) that Airflow passes on through XCom and that goes into the run
manifest. Heavy libraries are imported inside the functions.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from core import catalog, lake
from core.settings import sample_dir

log = logging.getLogger("co2plan.pipeline")

SAMPLE_SEED = 7


def lake_run_id(prefix: str, context: dict[str, Any] | None = None, explicit: str | None = None,
                when: Any = None) -> str:
    """Run id of the lake: explicit if given, else ``<prefix>-<Monday of the ISO week>`` of ``when`` or of the Airflow
    run's logical date (or run_after for a manual run). The one rule that names a run; each attempt at a
    run writes under its own key (:func:`run_key`)."""
    if explicit:
        return explicit
    context = context or {}
    params = context.get("params") or {}
    if params.get("run_id"):
        return str(params["run_id"])
    dag_run = context.get("dag_run")
    if when is None and dag_run is not None:
        when = getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
    from co2plan.weekly import week_run_id

    return week_run_id(when, prefix)


#: separates a run id from its attempt id in a lake run key: ``weekly-2026-11-23--a20261202T091500-1f2e``
ATTEMPT_SEP = "--"


def new_attempt(seed: str = "", when: Any = None) -> str:
    """An attempt id ``a<UTC yyyymmddThhmmss>-<4 hex>``: sorts by time; ``seed`` (an Airflow run id) makes
    it reproducible for task retries of one DAG run."""
    import hashlib
    from datetime import UTC, datetime

    when = when or datetime.now(UTC)
    salt = seed or f"{when.isoformat()}-{time.perf_counter_ns()}"
    return f"a{when:%Y%m%dT%H%M%S}-{hashlib.sha1(salt.encode()).hexdigest()[:4]}"


def run_key(run_id: str, attempt: str) -> str:
    """The lake key of one attempt at a run: every stage of the attempt writes under it, so a failed
    attempt never changes what an earlier attempt published."""
    return f"{run_id}{ATTEMPT_SEP}{attempt}"


def split_run_key(key: str) -> tuple[str, str]:
    """(run_id, attempt) of a run key; attempt '' for a plain run id."""
    run_id, _, attempt = key.partition(ATTEMPT_SEP)
    return run_id, attempt


def lake_run_key(prefix: str, context: dict[str, Any] | None = None) -> str:
    """The run key of a DAG run: :func:`lake_run_id` plus the attempt from the conf (the CLI sets it), else
    a new one (now + a random part). Only the first task (extract) calls this; every later task takes the
    key from its XCom, so task retries stay in the attempt. (Airflow run ids cannot serve: two
    ``airflow dags test`` runs of one date share ``manual__<date>``.)"""
    import uuid

    context = context or {}
    params = context.get("params") or {}
    attempt = params.get("attempt") or new_attempt(seed=uuid.uuid4().hex)
    return run_key(lake_run_id(prefix, context), str(attempt))


def resolve_run(id_or_key: str, root: str | None = None) -> str:
    """The lake key to read a run from: a key passes through; a run id resolves to the attempt its
    published pointer names (``published/<run_id>.json``); an unpublished id with a manifest of its own
    (a run from before attempts existed) is itself. Else ``LookupError``."""
    import json

    if ATTEMPT_SEP in id_or_key:
        return id_or_key
    uri = catalog.published_uri(id_or_key, root)
    if lake.exists(uri):
        pointer = json.loads(lake.read_bytes(uri))
        return str(pointer.get("run_key") or pointer["run_id"])
    if "extract" in lake.read_manifest(id_or_key, root):
        return id_or_key
    attempts = [r for r in lake.list_runs(root) if r.startswith(id_or_key + ATTEMPT_SEP)]
    hint = f"; its attempts (none published): {', '.join(attempts[-3:])}" if attempts else ""
    raise LookupError(f"run {id_or_key!r} has no published attempt in the lake{hint}")


def _timed(section: str, run_id: str, fn, *args, **kwargs) -> dict:
    t0 = time.perf_counter()
    out = lake.jsonable(dict(fn(*args, **kwargs) or {}))
    out.setdefault("run_id", run_id)
    out["seconds"] = round(time.perf_counter() - t0, 3)
    print(f"[co2plan] {section}: done in {out['seconds']:.1f} s", flush=True)
    return out


def resolve_source(source: str) -> str:
    """``sample:<size>`` -> the embedded sample's folder, generated on first use; ``env:VAR``, ``${VAR}``
    and ``conn:ID`` references -> the URL (its secrets registered with Airflow's log masker). A URL with
    a password written into it is refused (``core.secrets``)."""
    from core import secrets

    if source.startswith("conn:"):
        from airflow.sdk import Connection

        url = Connection.get(source[5:]).get_uri()
        _mask(Connection.get(source[5:]).password)
        return url
    if source.startswith("env:") or "${" in source:
        url, found = secrets.expand(source)
        for value in found:
            _mask(value)
        return url
    secrets.check_reference(source)
    if not source.startswith("sample:"):
        return source
    from features import sample_is_current, write_sample

    size = source.split(":", 1)[1] or "demo"
    folder = Path(sample_dir(size))
    if not sample_is_current(folder, size, SAMPLE_SEED):
        # absent, or written by another version of the generator (its tables would lack what the code expects)
        log.info("generating the embedded '%s' sample into %s", size, folder)
        write_sample(folder, size=size, seed=SAMPLE_SEED, fmt="parquet")
    return str(folder)


def _mask(secret: str | None) -> None:
    """Have Airflow's task log mask a secret (no-op outside Airflow)."""
    if not secret:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - Airflow is a dependency, but stages may run without it
        return
    mask_secret(secret)


def extract_stage(run_id: str, source: str = "sample:demo", root: str | None = None) -> dict:
    """Extract ``source`` into raw/<run key>. XCom and the return value carry the source as given (a
    reference such as ``env:VAR``), never the resolved URL with its password."""
    from features import extract_to_lake

    src = resolve_source(source)

    def go():
        out = _small(extract_to_lake(src, run_id, root=root))
        out["source"] = out.get("source") if source.startswith("sample:") or src == source else source
        return {"run_id": run_id, **out}

    return _timed("extract", run_id, go)


def validate_stage(run_id: str, root: str | None = None, max_bad_share: float = 0.05) -> dict:
    from features import validate_run

    return _timed("validate", run_id, lambda: _small(validate_run(run_id, root=root, max_bad_share=max_bad_share)))


def account_stage(run_id: str, root: str | None = None, gwp_set: str = "AR5",
                  boundary: str = "operational_control") -> dict:
    from features import account

    return _timed("account", run_id, lambda: _small(account(run_id, root=root, gwp_set=gwp_set,
                                                             boundary=boundary)))


def _small(d: Any) -> dict:
    """Keep XCom small: drop anything that is not JSON-ish scalars, lists or dicts of them."""
    import json

    if not isinstance(d, dict):
        return {"result": str(d)}
    out = {}
    for k, v in d.items():
        try:
            json.dumps(v)
        except TypeError:
            v = str(v)
        out[k] = v
    return out


def train_stage(run_id: str, root: str | None = None, retrain: str = "auto", horizon_weeks: int = 26) -> dict:
    """Train a demand challenger (promoted to champion only if its backtest WAPE is better), or with
    ``retrain="never"`` reuse the champion, training once if there is none."""
    from core import tracking
    from models import registry, train_demand

    tracking.configure()
    if retrain == "never" and registry.champion_version(registry.DEMAND_MODEL) is not None:
        mv = registry.champion_version(registry.DEMAND_MODEL)
        return {"run_id": run_id, "trained": False, "model_version": str(mv.version),
                "model_uri": registry.champion_uri(registry.DEMAND_MODEL)}

    def go():
        out = train_demand(run_id, root=root, horizon=horizon_weeks)
        return {"trained": True, **{k: out[k] for k in ("model_version", "champion_moved", "champion_version",
                                                        "model_uri", "metrics")}}

    return _timed("train demand forecaster", run_id, go)


def forecast_stage(run_id: str, root: str | None = None, horizon_weeks: int = 26, gwp_set: str = "AR5",
                   retrain: str = "auto") -> dict:
    """Demand forecast with the demand champion; plant emission coefficients from the energy champion after
    its gate (``retrain="never"``: the energy champion without training a challenger)."""
    from core import tracking
    from models import forecast_demand, forecast_emissions

    tracking.configure()

    def go():
        d = forecast_demand(run_id, root=root, horizon=horizon_weeks)
        e = forecast_emissions(run_id, root=root, horizon=horizon_weeks, gwp_set=gwp_set, retrain=retrain)
        return {"demand": {k: d[k] for k in ("model_version", "rows", "first_week", "last_week", "total_units")},
                "emissions": _small({k: v for k, v in e.items() if k in (
                    "model_version", "trained", "champion_moved", "coefficients_model_version", "coefficients_from",
                    "rows", "linearisation", "uris")})}

    return _timed("forecast demand and plant emissions", run_id, go)


def optimise_stage(run_id: str, root: str | None = None, horizon_weeks: int = 26, pareto_points: int = 6,
                   params: dict | None = None, scenario_id: str = "baseline",
                   forecast_run_id: str | None = None) -> dict:
    """Solve the plan of one scenario (the weekly baseline by default) and, if asked, sweep the CO2
    budget for the cost/CO2 frontier."""
    from core import tracking
    from optimisation import ScenarioParams, optimise_scenario, pareto_sweep

    tracking.configure()
    p = ScenarioParams.model_validate({"horizon_weeks": horizon_weeks, **(params or {}),
                                       "scenario_id": scenario_id})

    def go():
        out = optimise_scenario(run_id, root=root, params=p, scenario_id=scenario_id, forecast_run_id=forecast_run_id)
        if not out["has_solution"]:
            raise RuntimeError(f"plan {run_id}/{scenario_id}: solver status {out['status']}, no plan; "
                               f"{out['kpis'].get('diagnosis', {}).get('message', '')}")
        res = {"scenario_id": scenario_id, "status": out["status"], "uris": out["uris"], "horizon_weeks": horizon_weeks,
               "kpis": _headline_kpis(out["kpis"]), "mlflow_run_id": out["mlflow_run_id"]}
        if pareto_points:
            fr = pareto_sweep(run_id, root=root, params=p, scenario_id=scenario_id, n_points=pareto_points,
                        forecast_run_id=forecast_run_id)
            res["pareto"] = {"uri": fr["uri"], "points": fr["points"]}
        lake.update_manifest(run_id, f"plan/{scenario_id}", res, root)
        return res

    return _timed(f"optimise {scenario_id}", run_id, go)


HEADLINE = ("status", "objective_eur", "cost_production_eur", "cost_freight_eur", "cost_carbon_eur",
            "co2e_total_t", "co2e_scope1_t", "co2e_scope2_market_t", "co2e_scope2_location_t",
            "co2e_scope3_transport_t", "co2_budget_t", "co2_mac_eur_per_t", "output_units", "demand_units",
            "pipeline_units", "unmet_units", "co2_budget_excess_t",
            "service_level", "solve_seconds", "n_variables",
            # issue 13: what sets the CO2 price, the target trajectory, the boundary
            "co2_price_setter", "on_track", "off_track_t", "cost_to_stay_on_track_eur", "co2e_outside_boundary_t",
            "co2_excess_price_eur_per_t", "abatement_cost_eur",
            # shifts: LP relaxation or whole shifts, and the MILP's distance to its bound
            "operating_mode", "shift_weeks", "co2e_shift_following_t", "mip_gap_pct", "mip_bound_eur", "mip_gap_note")


def _shift_line(k: dict) -> str | None:
    """One line on the shift decisions: whole shifts with the MILP's gap, or the LP relaxation."""
    if k.get("shift_weeks") is None:
        return None
    line = (f"  shifts: {k['shift_weeks']:,.1f} shift-weeks, "
            f"{k.get('co2e_shift_following_t') or 0.0:,.0f} t CO2e of fixed emissions follow them; ")
    if k.get("operating_mode") == "milp":
        gap = k.get("mip_gap_pct")
        gap = None if gap is None or gap != gap else float(gap)  # NaN from the KPI table = not reported (CBC)
        return line + ("whole shifts (MILP), " + (f"gap {gap:.3f} % to the best bound "
                                                   f"{k.get('mip_bound_eur') or 0.0:,.0f} EUR" if gap is not None
                                                   else str(k.get("mip_gap_note", ""))))
    return line + "shifts relaxed to fractions (LP; operating_mode milp for whole shifts)"


def _headline_kpis(kpis: dict) -> dict:
    out = {k: kpis.get(k) for k in HEADLINE if k in kpis}
    out["diagnosis"] = (kpis.get("diagnosis") or {}).get("message", "")
    return out


def _kpis_from_table(df) -> dict:
    scalars = df[df["key"] == ""]
    out: dict[str, Any] = {}
    for row in scalars.itertuples(index=False):
        out[row.kpi] = row.text if row.text else row.value
    return out


def _accounting_tables(run_id: str, root: str | None) -> dict:
    """Issue 15: emissions by source category (fugitive, process, heat, biogenic CO2) and the Scope 3
    coverage statement, when the accounting stage wrote them."""
    import pandas as pd

    out = {}
    cats = lake.read_manifest(run_id, root).get("accounting", {}).get("by_category_t_co2e") or {}
    if cats:
        out["Emissions by source category (history, t CO2e)"] = pd.DataFrame(
            [(*k.split("|", 1), v) for k, v in cats.items()], columns=["scope", "category", "co2e_t"])
    out.update(_carrier_table(lake.read_manifest(run_id, root).get("accounting", {})))
    if catalog.SCOPE3_COVERAGE.exists(run_id, root=root):
        cov = catalog.SCOPE3_COVERAGE.read(run_id, root=root)
        cov = _with_cat1(cov, run_id, root)
        out["Scope 3 coverage"] = cov[["category", "name", "status", "co2e_t", "reason"]]
    if catalog.FACTOR_APPENDIX.exists(run_id, root=root):
        app = catalog.FACTOR_APPENDIX.read(run_id, root=root)
        out["Factor appendix: factors marked approximation"] = app.loc[
            app["status"] == "approximation", ["factor_id", "value", "unit", "year", "source", "co2e_t_gross"]]
    return out


def report_stage(run_id: str, root: str | None = None, scenario_id: str = "baseline") -> dict:
    """Gather the run's tables from the lake, render report/<run_id>/[<scenario>/]report.html and
    summary.png, and log both to MLflow beside the plan's run."""
    import tempfile

    import mlflow

    from co2plan.report import render_report
    from co2plan.report_data import report_data
    from core import tracking

    def go():
        plan_id = f"{run_id}/{scenario_id}"
        data = report_data(run_id, scenario_id, root)
        data.tables["Data plausibility"] = _plausibility_table(lake.read_manifest(run_id, root))
        data.tables.update(_accounting_tables(run_id, root))
        head = data.kpis
        folder = catalog.report_folder(run_id, scenario_id, root)
        with tempfile.TemporaryDirectory() as tmp:  # render locally, then copy into the lake (any fsspec URL)
            local = render_report(data, tmp)
            paths = {kind: lake.atomic_write_bytes(f"{folder}/{Path(p).name}", Path(p).read_bytes())
                     for kind, p in local.items()}
            tracking.configure()
            mlflow.set_experiment("co2plan-plan")
            # the report run is a child of its plan's run, so the experiment lists plans at the top level
            parent = lake.read_manifest(run_id, root).get(f"plan/{scenario_id}", {}).get("mlflow_run_id")
            with mlflow.start_run(run_name=f"{plan_id}/report", parent_run_id=parent or None,
                                  tags={"run_id": run_id, "scenario_id": scenario_id, "kind": "report"}):
                mlflow.log_artifact(local["html"])
                mlflow.log_artifact(local["png"])
        res = {"scenario_id": scenario_id, **paths, "kpis": head}
        lake.update_manifest(run_id, "report" if scenario_id == "baseline" else f"report/{scenario_id}",
                             res, root)
        return res

    return _timed("report", run_id, go)


def publish_stage(run_id: str, root: str | None = None, force: bool = False,
                  min_service_level: float | None = None, max_jump: float | None = None) -> dict:
    """Point ``published/latest.json`` (and ``published/<run_id>.json``) at this attempt's plan and
    report, if the publish gate (``co2plan.publish``) passes or ``force`` is set, and record the whole
    run in MLflow (experiment co2plan-weekly) with the manifest as an artifact."""
    return _timed("publish", run_id, _publish, run_id, root, force, min_service_level, max_jump)


def _publish(key: str, root: str | None, force: bool = False, min_service_level: float | None = None,
             max_jump: float | None = None) -> dict:
    import json

    import mlflow

    from co2plan.publish import GATE_DEFAULTS, PublishRefused, gate_reasons
    from core import tracking

    run_id, _ = split_run_key(key)
    manifest = lake.read_manifest(key, root)
    plan = manifest.get("plan/baseline", {})
    if not plan.get("kpis"):
        raise LookupError(f"run {key} has no baseline plan to publish (manifest sections: "
                          f"{', '.join(sorted(manifest))})")
    kpis = {k: v for k, v in plan.get("kpis", {}).items() if k not in ("solve_seconds", "build_seconds")}
    pointer = {"run_id": run_id, "run_key": key, "plan": plan.get("uris", {}),
               "report": manifest.get("report", {}).get("html"), "kpis": kpis, "ids": _validated_ids(key, root),
               "horizon_weeks": plan.get("horizon_weeks")}
    latest = catalog.latest_pointer_uri(root)
    previous = json.loads(lake.read_bytes(latest)) if lake.exists(latest) else None
    reasons = gate_reasons(manifest, kpis, plan.get("horizon_weeks"), previous,
                           GATE_DEFAULTS["min_service_level"] if min_service_level is None else min_service_level,
                           GATE_DEFAULTS["max_jump"] if max_jump is None else max_jump)
    if reasons and not force:
        lake.update_manifest(key, "publish", {"run_id": run_id, "run_key": key, "status": "refused",
                                              "reasons": reasons}, root)
        raise PublishRefused(key, reasons)
    data = json.dumps(lake.jsonable(pointer), indent=2, sort_keys=True, default=str).encode()
    lake.atomic_write_bytes(catalog.published_uri(run_id, root), data)
    current = (previous or {}).get("run_id", "")
    if run_id >= current:  # re-running an older week republishes that week, not "latest"; same week: last wins
        lake.atomic_write_bytes(latest, data)
    tracking.configure()
    mlflow.set_experiment("co2plan-weekly")
    with mlflow.start_run(run_name=key, tags={"run_id": run_id, "run_key": key}) as r:
        mlflow.log_params({"run_id": run_id, "run_key": key,
                           "source": manifest.get("extract", {}).get("source", "")[:250]})
        mlflow.log_metrics({k: float(v) for k, v in pointer["kpis"].items()
                            if isinstance(v, (int, float)) and not isinstance(v, bool)})
        mlflow.log_dict(manifest, "manifest.json")
        if pointer["report"]:
            mlflow.log_text(lake.read_bytes(pointer["report"]).decode("utf-8"), "report.html")
    out = {"run_id": run_id, "run_key": key, "latest": latest, "mlflow_run_id": r.info.run_id,
           "status": "forced" if reasons else "published", **({"overridden": reasons} if reasons else {})}
    lake.update_manifest(key, "publish", out, root)
    return out


def _validated_ids(run_id: str, root: str | None) -> dict[str, list[str]]:
    """Plant, market and product ids of a run's validated data (the scenario form's enums read these
    from latest.json at DAG parse time, never the parquet files)."""
    out: dict[str, list[str]] = {}
    for table, col in (("plants", "plant_id"), ("markets", "market_id"), ("products", "product_id")):
        try:
            out[col] = sorted(catalog.VALIDATED[table].read(run_id, root=root)[col].astype(str).unique().tolist())
        except (OSError, LookupError, ValueError):
            out[col] = []
    return out


def latest_weekly_run(root: str | None = None) -> str:
    """The lake key of the published weekly plan (``published/latest.json``)."""
    import json

    latest = catalog.latest_pointer_uri(root)
    if lake.exists(latest):
        pointer = json.loads(lake.read_bytes(latest))
        return str(pointer.get("run_key") or pointer["run_id"])
    raise LookupError("no published weekly plan in the lake yet: run the weekly refresh first "
                      "(bash scripts/weekly-refresh.sh)")


SCENARIO_EXTRA_KEYS = ("base_run_id", "pareto_points")


def scenario_params(conf: dict[str, Any]):
    """Validate a scenario's conf: unknown keys (a misspelt field) and the reserved id "baseline" are
    refused by name; cross-field rules come from ScenarioParams."""
    from pydantic import ValidationError

    from co2plan.scenario_form import normalise_conf
    from optimisation import ScenarioParams

    conf = normalise_conf(conf)
    unknown = sorted(set(conf) - set(ScenarioParams.model_fields) - set(SCENARIO_EXTRA_KEYS))
    if unknown:
        raise ValueError(f"scenario refused: unknown parameter(s) {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(ScenarioParams.model_fields))}")
    try:
        p = ScenarioParams.model_validate({k: v for k, v in conf.items() if k in ScenarioParams.model_fields})
    except ValidationError as e:
        raise ValueError(f"scenario refused: {e}") from e
    if p.scenario_id == "baseline":
        raise ValueError("scenario refused: scenario_id 'baseline' is the weekly plan's; choose another name")
    if conf.get("pareto_points") == 1:
        raise ValueError("scenario refused: pareto_points must be 0 (no sweep) or at least 2")
    return p


def validate_scenario_stage(params: dict[str, Any], context: dict[str, Any] | None = None,
                            root: str | None = None) -> dict:
    """The scenario DAG's first task: every reason to refuse the conf, by field, in seconds (no solver
    import). Raises ValueError("REFUSED — field: reason; ...") after pushing the refusals to XCom
    (key ``refusal``) for the run's note; returns the normalised conf with the base run filled in."""
    from co2plan.scenario_form import check_conf, normalise_conf, refusal_text, with_run_scenario_id

    t0 = time.perf_counter()
    ctx = context or {}
    run_id = ctx.get("run_id") or getattr(ctx.get("dag_run"), "run_id", None)
    params = with_run_scenario_id(dict(params), run_id)
    refusals = check_conf(params, root)
    if refusals:
        ti = ctx.get("ti")
        if ti is not None:
            ti.xcom_push(key="refusal", value=[{"field": r.field, "reason": r.reason} for r in refusals])
        raise ValueError(refusal_text(refusals))
    conf = normalise_conf(dict(params))
    conf["base_run_id"] = conf.get("base_run_id") or latest_weekly_run(root)
    print(f"[co2plan] scenario {conf.get('scenario_id')} accepted in {time.perf_counter() - t0:.1f} s "
          f"(base run {conf['base_run_id']})", flush=True)
    return conf


def scenario_stage(params: dict[str, Any], context: dict[str, Any] | None = None, root: str | None = None) -> dict:
    """A planner scenario on a weekly run's data and forecasts (the latest by default)."""
    p = scenario_params(params)
    base = resolve_run(params["base_run_id"], root) if params.get("base_run_id") else latest_weekly_run(root)
    whatif = whatif_forecast_stage(base, p, root) if p.driver_changes else None  # issue 14
    out = optimise_stage(base, root=root, horizon_weeks=p.horizon_weeks, pareto_points=int(params.get(
        "pareto_points") or 0), params=p.model_dump(mode="json"), scenario_id=p.scenario_id,
        forecast_run_id=whatif["forecast_run_id"] if whatif else None)
    return {**out, "run_id": base, **({"whatif": whatif} if whatif else {})}


def _shadow_price_text(k: dict) -> str:
    if k.get("co2_budget_t") is None:
        return "n/a (no CO2 budget)"
    text = f"{k.get('co2_mac_eur_per_t', 0.0):,.2f} EUR/t"
    setter = k.get("co2_price_setter") or ""
    if (k.get("co2_budget_excess_t") or 0.0) > 1e-6:  # said once: the setter's own text says it for "slack"
        text += (f" — off track by {k['co2_budget_excess_t']:,.1f} t: this is the budget-excess price, not an "
                 "abatement cost")
        cost = k.get("cost_to_stay_on_track_eur")
        if isinstance(cost, (int, float)):
            text += f"; cost to stay on track at least {cost:,.0f} EUR"
        if setter and "budget-excess" not in setter:
            text += f" ({setter})"
    elif setter:
        text += f" ({setter})"
    return text


def headline(run_id: str, scenario_id: str = "baseline", root: str | None = None) -> str:
    """The headline KPIs of a run's plan, for the terminal."""
    m = lake.read_manifest(run_id, root)
    plan = m.get(f"plan/{scenario_id}", {})
    k = plan.get("kpis", {})
    rep = m.get("report" if scenario_id == "baseline" else f"report/{scenario_id}", {})
    val = m.get("validate", {})

    def f(key, fmt="{:,.0f}"):
        v = k.get(key)
        return fmt.format(v) if isinstance(v, (int, float)) else str(v)

    lines = [
        f"co2plan {run_id} — scenario {scenario_id}: solver {k.get('status')} in {f('solve_seconds', '{:.1f}')} s "
        f"({f('n_variables')} variables)",
        f"  built {f('output_units')} units; demand {f('demand_units')} units, of which {f('pipeline_units')} "
        f"arrive from shipments already in transit; service level {f('service_level', '{:.1%}')}",
        f"  cost: production {f('cost_production_eur')} EUR, freight {f('cost_freight_eur')} EUR, "
        f"carbon {f('cost_carbon_eur')} EUR",
        f"  CO2e over the horizon: {f('co2e_total_t')} t (scope 1 {f('co2e_scope1_t')}, scope 2 market "
        f"{f('co2e_scope2_market_t')}, scope 3 transport {f('co2e_scope3_transport_t')}); "
        + (f"budget {f('co2_budget_t')} t" if k.get("co2_budget_t") is not None else "no CO2 budget"),
        "  CO2 shadow price: " + _shadow_price_text(k),
        f"  {k.get('diagnosis', '')}",
    ]
    shift = _shift_line(k)
    if shift:
        lines.insert(-1, shift)
    if val:
        lines.append(f"  validation: {val.get('totals', {})}")
        lines += _door_lines(val)
    pub = m.get("publish") if scenario_id == "baseline" else None
    if pub:
        lines.append(f"  publish: {pub.get('status')}"
                     + (": " + "; ".join(pub.get("reasons") or pub.get("overridden") or [])
                        if pub.get("status") != "published" else ""))
    if rep:
        lines.append(f"  report: {rep.get('html')}\n  summary picture: {rep.get('png')}")
    return "\n".join(lines)


def _door_lines(val: dict) -> list[str]:
    """What the door quarantined (top reasons per table) and what plausibility found, for the terminal."""
    lines = []
    for t, c in (val.get("tables") or {}).items():
        if c.get("quarantined"):
            top = sorted((c.get("by_reason") or {}).items(), key=lambda kv: -kv[1])[:3]
            lines.append(f"  quarantined {t}: {c['quarantined']} of {c.get('rows_in')} rows ("
                         + ", ".join(f"{k} x{v}" for k, v in top) + ")")
        if c.get("whitespace_trimmed"):
            lines.append(f"  trimmed spaces around keys in {t}: " + ", ".join(
                f"{k} x{v}" for k, v in c["whitespace_trimmed"].items()))
    plaus = val.get("plausibility") or {}
    for f in plaus.get("findings", []):
        lines.append(f"  plausibility {f['rule']} ({f['policy']}): {f['rows']} row(s), e.g. {f['examples'][0]}")
    if plaus.get("hold"):
        lines.append("  the run is held for review: the publish step will refuse it")
    return lines


def _plausibility_table(manifest: dict):
    """The report's "Data plausibility" table: one row per rule that fired, or one row saying none did."""
    import pandas as pd

    val = manifest.get("validate", {})
    rows = [{"rule": f["rule"], "policy": f["policy"], "rows": f["rows"], "example": f["examples"][0]}
            for f in (val.get("plausibility") or {}).get("findings", [])]
    rows += [{"rule": f"{t}: spaces trimmed around keys", "policy": "normalised", "rows": sum(c[
        "whitespace_trimmed"].values()), "example": ", ".join(c["whitespace_trimmed"])}
             for t, c in (val.get("tables") or {}).items() if c.get("whitespace_trimmed")]
    return pd.DataFrame(rows or [{"rule": "all plausibility rules", "policy": "", "rows": 0, "example": "no findings"}])


def supply_stage(run_id: str, root: str | None = None, log_mlflow: bool = True) -> dict:
    """Issue 16: supplier graph, submission checks + Scope 3 category 1, ESG/news risk and alerts
    (validated/<run> -> supply/<run>); skipped when the run has no supply tables."""
    from suppliers import supply_stage as run_supply

    return _timed("supply", run_id, lambda: _small(run_supply(run_id, root=root, log_mlflow=log_mlflow)))


# --- issue 14: a planner's what-if on known-in-advance demand drivers ("the subsidy in DE ends in week 10")
def whatif_forecast_stage(run_id: str, params, root: str | None = None, horizon_weeks: int | None = None) -> dict:
    """Re-forecast demand with the champion model on the run's driver tables changed by the scenario's
    ``driver_changes`` and write it (with the run's plant coefficients) under the scenario's forecast key
    (``catalog.whatif_forecast_run``); the scenario's plan then reads that forecast. Returns the summary."""
    from core import tracking
    from models import whatif_demand_forecast

    tracking.configure()
    horizon = int(horizon_weeks or 0)
    if not horizon:  # as many weeks as the weekly forecast, at least the scenario's horizon
        base_fc = catalog.DEMAND_FORECAST
        n = base_fc.read(run_id, root=root)["week"].nunique() if base_fc.exists(run_id, root=root) else 0
        horizon = max(int(n), int(params.horizon_weeks))
    out_run = catalog.whatif_forecast_run(run_id, params.scenario_id)

    def go():
        res = whatif_demand_forecast(run_id, [c.model_dump() for c in params.driver_changes], out_run, root=root,
                                     horizon=horizon)
        lake.update_manifest(run_id, f"whatif/{params.scenario_id}", lake.jsonable(res), root)
        return res

    return _timed(f"re-forecast demand for {params.scenario_id}", run_id, go)


def _carrier_table(accounting: dict) -> dict:
    """Issue 15: the report's "Emissions by energy carrier" table (t CO2e of the history, one row per carrier,
    one column per scope under the history's boundary and the same gross, every plant at 100 %: a joint
    venture's coal boiler is outside operational control but shows in the gross columns; biogenic CO2 is
    reported beside the scopes, never in them)."""
    import pandas as pd

    def wide(d: dict, suffix: str) -> pd.DataFrame:
        long = pd.DataFrame([(*k.split("|", 1), v) for k, v in d.items()], columns=["scope", "carrier", "co2e_t"])
        w = long.pivot_table(index="carrier", columns="scope", values="co2e_t", aggfunc="sum", fill_value=0.0)
        order = [c for c in ("scope1", "scope2_location", "scope2_market", "biogenic_co2") if c in w.columns]
        return w[order].add_suffix(suffix)

    cars = accounting.get("by_carrier_t_co2e") or {}
    if not cars:
        return {}
    out = wide(cars, "")
    gross = accounting.get("by_carrier_gross_t_co2e") or {}
    if gross:
        out = out.join(wide(gross, " gross"), how="outer").fillna(0.0)
    out = out.reset_index()
    out.columns.name = None
    return {"Emissions by energy carrier (history, t CO2e)": out}


def _with_cat1(cov, run_id: str, root: str | None):
    """Issue 15: Scope 3 category 1 from the supply stage's scope3_cat1 table (it runs beside accounting, so
    the account stage's coverage table may predate it), on the history's boundary."""
    from features import cat1_total, refresh_coverage

    if not catalog.SCOPE3_CAT1.exists(run_id, root=root):
        return cov
    boundary = lake.read_manifest(run_id, root).get("accounting", {}).get("boundary", "operational_control")
    plants = catalog.VALIDATED["plants"].read(run_id, root=root)
    return refresh_coverage(cov, cat1_total(catalog.SCOPE3_CAT1.read(run_id, root=root), plants, boundary))
