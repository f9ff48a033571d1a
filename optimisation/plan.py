"""Pure-table core of the planning stage: inputs + scenario in, plan tables + KPIs out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from optimisation.inputs import PlanInputs
from optimisation.kpis import compute_kpis, plan_tables
from optimisation.model import PlanModel, build_model
from optimisation.scenario import ScenarioParams, as_params
from optimisation.solve import SolveResult, resolve_with_budget, solve

log = logging.getLogger(__name__)


@dataclass
class PlanOutcome:
    model: PlanModel
    result: SolveResult
    tables: dict[str, pd.DataFrame]  # production_plan, flows, unmet (empty frames without a solution)
    kpis: dict[str, Any]


def run_plan(inputs: PlanInputs, params: ScenarioParams | dict | None = None) -> PlanOutcome:
    """Build and solve one scenario. ``co2_reduction_pct`` first solves without a budget (the
    baseline plan of the same scenario), then re-solves with budget = (1 - pct/100) x baseline CO2e."""
    params = as_params(params)
    model = build_model(inputs, params)
    result = solve(model)
    baseline = None
    if params.co2_reduction_pct is not None and result.has_solution:
        baseline = compute_kpis(model, result)["co2e_total_t"]
        first_seconds = result.solve_seconds
        result = resolve_with_budget(model, baseline * (1.0 - params.co2_reduction_pct / 100.0))
        result.solve_seconds += first_seconds
    kpis = compute_kpis(model, result)
    if baseline is not None:
        kpis["co2_baseline_t"] = baseline
    tables = plan_tables(model) if result.has_solution else {
        "production_plan": pd.DataFrame(columns=["plant_id", "product_id", "week", "units"]),
        "flows": pd.DataFrame(columns=["lane_id", "plant_id", "market_id", "mode", "product_id", "week",
                                       "arrival_week", "units", "tonnes", "tco2e", "cost_eur"]),
        "unmet": pd.DataFrame(columns=["product_id", "market_id", "week", "demand_units", "units"]),
    }
    return PlanOutcome(model=model, result=result, tables=tables, kpis=kpis)
