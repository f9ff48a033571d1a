"""Lake stages of the optimiser (plain functions; the DAGs and the CLI call these).

Reads   validated/<run_id>/{plants, products, plant_products, markets, lanes, emission_factors,
        demand_history, production_history, shipments}
        forecast/<forecast_run_id or run_id>/{demand_forecast, plant_emission_coefficients}
        (stand-ins with a logged warning when absent)
Writes  plan/<run_id>/<scenario_id>/{production_plan, flows, unmet, kpis}
        plan/<run_id>/<scenario_id>/pareto_frontier  (pareto)
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from core import catalog, lake
from optimisation.inputs import OPTIONAL_TABLES, REQUIRED_TABLES, InputError, PlanInputs
from optimisation.kpis import kpi_table
from optimisation.pareto import pareto_frontier
from optimisation.plan import run_plan
from optimisation.scenario import ScenarioParams, as_params

log = logging.getLogger(__name__)


def load_inputs(run_id: str, root: str | None, params: ScenarioParams,
                forecast_run_id: str | None = None) -> tuple[PlanInputs, dict[str, str]]:
    """PlanInputs from the lake; returns (inputs, sources) where sources says where the forecast
    tables came from ("forecast/<id>" or "stand-in")."""
    available = set(catalog.VALIDATED.present(run_id, root))
    missing = [t for t in REQUIRED_TABLES if t not in available]
    if missing:
        raise InputError(f"{catalog.VALIDATED.folder_uri(run_id, root)}: missing table(s) {missing}")
    tables = {t: catalog.VALIDATED[t].read(run_id, root=root)
              for t in (*REQUIRED_TABLES, *(t for t in OPTIONAL_TABLES if t in available))}
    fc_run = forecast_run_id or run_id
    sources: dict[str, str] = {}
    found: dict[str, pd.DataFrame | None] = {}
    for d in (catalog.DEMAND_FORECAST, catalog.PLANT_EMISSION_COEFFICIENTS):
        found[d.table] = d.read(fc_run, root=root) if d.exists(fc_run, root=root) else None
        sources[d.table] = f"{d.stage}/{fc_run}" if found[d.table] is not None else "stand-in"
        if found[d.table] is None:
            log.warning("%s not found: using the stand-in %s", d.uri(fc_run, root=root), d.table)
    forecast, coefficients = found[catalog.DEMAND_FORECAST.table], found[catalog.PLANT_EMISSION_COEFFICIENTS.table]
    inputs = PlanInputs.from_tables(tables, forecast, coefficients, horizon_weeks=params.horizon_weeks,
                                    start_week=params.start_week)
    _sourcing_inputs(inputs, run_id, root, params, sources)
    return inputs, sources


def _sourcing_inputs(inputs: PlanInputs, run_id: str, root: str | None, params: ScenarioParams,
                     sources: dict[str, str]) -> None:
    """issue 16: the supply stage's sourcing options and component needs, when the run has them."""
    if not params.use_sourcing:
        return
    if catalog.SOURCING_OPTIONS.exists(run_id, root=root) and catalog.COMPONENT_NEEDS.exists(run_id, root=root):
        inputs.sourcing_options = catalog.SOURCING_OPTIONS.read(run_id, root=root)
        inputs.component_needs = catalog.COMPONENT_NEEDS.read(run_id, root=root)
        if catalog.SOURCING_UPSTREAM.exists(run_id, root=root):
            inputs.sourcing_upstream = catalog.SOURCING_UPSTREAM.read(run_id, root=root)
        sources["sourcing_options"] = f"{catalog.SOURCING_OPTIONS.stage}/{run_id}"


def resolve_budget(run_id: str, root: str | None, params: ScenarioParams, inputs: PlanInputs) -> ScenarioParams:
    """Fill in what the lake knows: ``boundary="ledger"`` becomes the boundary the emissions ledger reports
    (manifest section accounting; operational control without one), and a trajectory without
    ``base_year_co2e_t`` takes the ledger's base-year total under the same boundary and scopes."""
    from optimisation.emissions import base_year_totals

    update: dict[str, Any] = {}
    boundary = params.boundary
    if boundary == "ledger":
        acc = lake.read_manifest(run_id, root).get("accounting", {}) or {}
        boundary = acc.get("boundary") or "operational_control"
        update["boundary"] = boundary
    if params.trajectory_rate_pct is not None and params.base_year_co2e_t is None:
        if not catalog.EMISSIONS_LEDGER.exists(run_id, root=root):
            raise InputError(f"trajectory_rate_pct: no emissions ledger in run {run_id} to take the base year from; "
                             "run the accounting stage or give base_year and base_year_co2e_t")
        ledger = catalog.EMISSIONS_LEDGER.read(run_id, root=root)
        try:
            year, total = base_year_totals(ledger, inputs.plants, boundary, params.budget_scopes, params.base_year)
        except ValueError as err:
            raise InputError(str(err)) from err
        update.update(base_year=year, base_year_co2e_t=total)
        log.info("trajectory: base year %d, %.0f t CO2e (%s, %s)", year, total, boundary,
                 "+".join(params.budget_scopes))
    return params.model_copy(update=update) if update else params


#: wall-clock figures: logged to MLflow and the manifest, kept out of the lake tables so that re-running
#: a run id rewrites byte-identical files
TIMING_KPIS = ("solve_seconds", "build_seconds")


def _deterministic(name: str, df: pd.DataFrame) -> pd.DataFrame:
    if name == "kpis":
        return df[~df["kpi"].isin(TIMING_KPIS)].reset_index(drop=True)
    return df.drop(columns=[c for c in TIMING_KPIS if c in df.columns])


def _write(tables: dict[str, pd.DataFrame], run_id: str, scenario_id: str, root: str | None) -> dict[str, str]:
    return {name: catalog.PLAN[name].write(_deterministic(name, df), run_id, scenario_id, root)
            for name, df in tables.items()}


def optimise(run_id: str, root: str | None = None, params: ScenarioParams | dict | None = None,
             forecast_run_id: str | None = None, scenario_id: str = "baseline",
             log_mlflow: bool = True) -> dict[str, Any]:
    """Solve one scenario on a lake run; write the plan tables; log to MLflow; return URIs + KPIs.

    ``scenario_id`` names the output folder (it overrides ``params.scenario_id``). The returned dict
    is JSON-able (XCom / manifest): {"status", "has_solution", "uris", "kpis", "sources", "mlflow_run_id"}.
    Without a solution nothing is written to the lake (``uris`` is empty)."""
    params = as_params(params).model_copy(update={"scenario_id": scenario_id})
    inputs, sources = load_inputs(run_id, root, params, forecast_run_id)
    params = resolve_budget(run_id, root, params, inputs)
    outcome = run_plan(inputs, params)
    tables = dict(outcome.tables)
    tables["kpis"] = kpi_table(outcome.kpis)
    gwp = plan_gwp_set(inputs, sources, forecast_run_id or run_id, root)
    tables = with_gwp_column(tables, gwp)  # issue 15: which GWP set the plan's CO2e uses
    sources = {**sources, "co2e_gwp_set": gwp}
    has_solution = outcome.result.has_solution
    # without a solution the previous plan of this run/scenario (if any) stays as it was
    uris = _write(tables, run_id, scenario_id, root) if has_solution else {}
    mlflow_run = None
    if log_mlflow:
        from optimisation.tracking import log_solve

        mlflow_run = log_solve(f"{run_id}/{scenario_id}", {**params.flat_params(), "run_id": run_id,
                                                            "forecast_run_id": forecast_run_id or run_id,
                                                            **{f"source.{k}": v for k, v in sources.items()}},
                               outcome.kpis, tables, tags={"run_id": run_id, "scenario_id": scenario_id,
                                                                    "kind": "plan"})
    kpis = {k: v for k, v in outcome.kpis.items()}
    summary = {"status": outcome.result.status, "has_solution": has_solution, "uris": uris, "kpis": kpis,
               "sources": sources, "mlflow_run_id": mlflow_run}
    lake.update_manifest(run_id, f"optimise/{scenario_id}",
                         {"status": summary["status"], "uris": uris, "sources": sources,
                          "mlflow_run_id": mlflow_run, "params": params.model_dump(mode="json")}, root)
    if not outcome.result.has_solution:
        log.error("scenario %s on run %s: no plan (%s)", scenario_id, run_id, outcome.result.status)
    return summary


def pareto(run_id: str, root: str | None = None, params: ScenarioParams | dict | None = None,
           forecast_run_id: str | None = None, scenario_id: str = "baseline", n_points: int = 8,
           log_mlflow: bool = True) -> dict[str, Any]:
    """Epsilon-constraint CO2 sweep on a lake run; writes plan/<run_id>/<scenario_id>/pareto_frontier."""
    params = as_params(params).model_copy(update={"scenario_id": scenario_id})
    inputs, sources = load_inputs(run_id, root, params, forecast_run_id)
    params = resolve_budget(run_id, root, params, inputs)
    frontier = pareto_frontier(inputs, params, n_points=n_points)
    frontier = with_gwp_column({"f": frontier}, plan_gwp_set(inputs, sources, forecast_run_id or run_id, root))["f"]
    uri = catalog.PARETO_FRONTIER.write(_deterministic(catalog.PARETO_FRONTIER.table, frontier), run_id,
                                        scenario_id, root)
    mlflow_run = None
    if log_mlflow:
        from optimisation.tracking import log_solve

        k = {"n_points": float(len(frontier)), "status": ",".join(sorted(set(frontier["status"]))),
             "co2e_min_t": float(frontier["co2e_t"].min()), "co2e_max_t": float(frontier["co2e_t"].max()),
             "cost_min_eur": float(frontier["cost_eur"].min()), "cost_max_eur": float(frontier["cost_eur"].max())}
        mlflow_run = log_solve(f"{run_id}/{scenario_id}/pareto", {**params.flat_params(), "run_id": run_id,
                                                                   "n_points": n_points}, k,
                               {"pareto_frontier": frontier},
                               tags={"run_id": run_id, "scenario_id": scenario_id, "kind": "pareto"},
                               parent_run_id=lake.read_manifest(run_id, root).get(
                                   f"optimise/{scenario_id}", {}).get("mlflow_run_id"))
    lake.update_manifest(run_id, f"pareto/{scenario_id}", {"uri": uri, "points": len(frontier),
                                                           "sources": sources}, root)
    return {"uri": uri, "points": len(frontier), "sources": sources, "mlflow_run_id": mlflow_run,
            "frontier": frontier.to_dict(orient="records")}


# ----------------------------------------------------------------------------- issue 15: co2e_gwp_set
#: columns that hold t CO2e in the plan tables
CO2E_COLUMNS = ("tco2e", "co2e_t", "abated_t", "potential_t", "cumulative_t", "co2_budget_t")


def plan_gwp_set(inputs: PlanInputs, sources: dict[str, str], forecast_run_id: str, root: str | None) -> str:
    """The GWP set of the plan's CO2e, as one label: the plant coefficients' set (the emissions forecaster's
    ``gwp_set`` in the forecast manifest, or the stand-in's AR5) and the freight factors' set (CO2e rows as
    their publisher states them, e.g. DESNZ -> AR5). One set: its name; else ``mixed: plants X, freight Y``."""
    from core.ghg import publisher_gwp_set
    from optimisation.inputs import STAND_IN_GWP_SET

    plant_sets = {STAND_IN_GWP_SET} if sources.get("plant_emission_coefficients") == "stand-in" else set()
    if not plant_sets:
        m = lake.read_manifest(forecast_run_id, root)
        em = m.get("forecast/emissions") or m.get("forecast", {}).get("emissions", {})
        plant_sets = {str(em.get("gwp_set", STAND_IN_GWP_SET))}
        fc = catalog.PLANT_EMISSION_COEFFICIENTS.read(forecast_run_id, root=root)
        if set(inputs.coefficients["plant_id"]) - set(fc["plant_id"]):  # stand-in rows for plants it lacked
            plant_sets.add(STAND_IN_GWP_SET)
    ef = inputs.emission_factors
    modes = {f"freight_{m}" for m in inputs.lanes["mode"].unique()}
    fr = ef[ef["activity"].isin(modes) & (ef["gas"] == "CO2e")]
    freight_sets = {publisher_gwp_set(s) or "as published" for s in fr.get("source", pd.Series(dtype=str))}
    sets = plant_sets | freight_sets
    if len(sets) == 1:
        return next(iter(sets))
    return f"mixed: plants {'/'.join(sorted(plant_sets))}, freight {'/'.join(sorted(freight_sets))}"


def with_gwp_column(tables: dict[str, pd.DataFrame], gwp_set: str) -> dict[str, pd.DataFrame]:
    """Each plan table that holds t CO2e (and the KPI table) gets a ``co2e_gwp_set`` column."""
    out = {}
    for name, df in tables.items():
        if name == "kpis" or any(c in df.columns for c in CO2E_COLUMNS):
            df = df.assign(co2e_gwp_set=gwp_set)
        out[name] = df
    return out
