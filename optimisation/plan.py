"""Pure-table core of the planning stage: inputs + scenario in, plan tables + KPIs out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from optimisation.inputs import PlanInputs
from optimisation.kpis import compute_kpis, plan_tables
from optimisation.levers import lever_table, mac_curve, price_setter
from optimisation.model import PlanModel, build_model
from optimisation.scenario import ScenarioParams, as_params
from optimisation.solve import SolveResult, resolve_with_budget, solve


def trajectory_targets(model: PlanModel, params: ScenarioParams) -> dict[str, float]:
    """Budget per period from the base-year emissions and the linear trajectory."""
    from optimisation.emissions import trajectory_budget

    if params.base_year_co2e_t is None or params.base_year is None:
        raise ValueError("trajectory_rate_pct: needs base_year and base_year_co2e_t (the lake stage fills them "
                         "from the emissions ledger)")
    return trajectory_budget(params.base_year_co2e_t, params.base_year, params.trajectory_rate_pct, model.weeks,
                             params.budget_period)

log = logging.getLogger(__name__)


@dataclass
class PlanOutcome:
    model: PlanModel
    result: SolveResult
    tables: dict[str, pd.DataFrame]  # production_plan, flows, unmet (empty frames without a solution)
    kpis: dict[str, Any]


def run_plan(inputs: PlanInputs, params: ScenarioParams | dict | None = None) -> PlanOutcome:
    """Build and solve one scenario. With a CO2 target (``co2_budget_t``, ``co2_reduction_pct`` or a
    trajectory) it first solves without a budget (the baseline plan of the same scenario: "CO2e without a
    budget", ``co2_baseline_t``), then re-solves warm with the budget; ``co2_reduction_pct`` takes
    budget = (1 - pct/100) x the baseline's CO2e per period."""
    params = as_params(params)
    model = build_model(inputs, params)
    absolute = None
    if params.co2_budget_t is not None:  # solve without the budget first: "CO2e without a budget" and its cost
        absolute = {str(q): float(b) for q, b in zip(model.periods["period"], model.periods["budget_t"],
                                                       strict=True)}
        model.set_co2_budget(None)
    result = solve(model)
    baseline = base_k = None
    targeted = (params.co2_reduction_pct is not None or params.trajectory_rate_pct is not None
                or absolute is not None)
    if absolute is not None and not result.has_solution:  # no plan without the budget: solve the one asked for
        model.set_co2_budget(absolute)
        result = solve(model)
        targeted = False
    if targeted and result.has_solution:
        base_k = compute_kpis(model, result)
        baseline = base_k["co2e_total_t"]
        first_seconds = result.solve_seconds
        if absolute is not None:
            budget = absolute
        elif params.co2_reduction_pct is not None:  # each period (1 - pct) below the no-budget plan's
            budget = {q: val * (1.0 - params.co2_reduction_pct / 100.0)
                      for q, val in base_k["co2_plan_t_by_period"].items()}
        else:
            budget = trajectory_targets(model, params)
        result = resolve_with_budget(model, budget)
        result.solve_seconds += first_seconds
    kpis = compute_kpis(model, result)
    if baseline is not None:
        kpis["co2_baseline_t"] = baseline
        if result.has_solution and base_k.get("objective_eur") is not None:
            # objective difference = abatement bought (levers, shifts) + excess tonnes x excess price: when the
            # target is missed the excess part is a lower bound on closing the gap (the LP's marginal cost of
            # abatement is non-decreasing, and it is the excess price at the plan)
            kpis["cost_to_stay_on_track_eur"] = float(kpis["objective_eur"] - base_k["objective_eur"])
            kpis["abatement_cost_eur"] = float(kpis["objective_ex_penalty_eur"] - base_k["objective_ex_penalty_eur"])
            kpis["cost_to_stay_on_track_is_lower_bound"] = not kpis.get("on_track", True)
            kpis["unmet_units_no_target"] = base_k["unmet_units"]
    setter = {"setter": "", "text": ""}
    if result.has_solution and model.co2_budget_t is not None:
        setter = price_setter(model)
        kpis["co2_price_setter"] = setter.get("text", "")
        kpis["co2_price_setter_family"] = setter.get("setter", "")
    tables = plan_tables(model) if result.has_solution else {
        "production_plan": pd.DataFrame(columns=["plant_id", "product_id", "week", "units"]),
        "flows": pd.DataFrame(columns=["lane_id", "plant_id", "market_id", "mode", "product_id", "week",
                                       "arrival_week", "units", "tonnes", "tco2e", "cost_eur"]),
        "unmet": pd.DataFrame(columns=["product_id", "market_id", "week", "demand_units", "units"]),
    }
    if result.has_solution:
        base = None
        if base_k is not None and base_k.get("objective_eur") is not None:
            base = {"objective_eur": base_k["objective_eur"], "co2e_t": base_k["co2e_total_t"],
                    "objective_plan_eur": kpis["objective_eur"] - kpis["cost_slack_penalty_eur"],
                    "co2e_plan_t": kpis["co2e_total_t"] + kpis.get("co2_budget_excess_t", 0.0) * 0}
        tables["mac_curve"] = mac_curve(model, setter.get("setter", ""), base)
        tables["levers"] = lever_table(model)
    if result.has_solution and params.supplier_outage:  # issue 16: what the supplier outage moved
        from optimisation.sourcing import outage_report

        outage_report(inputs, params, tables, kpis)
    return PlanOutcome(model=model, result=result, tables=tables, kpis=kpis)
