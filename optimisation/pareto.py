"""Epsilon-constraint sweep of the CO2 budget: the cost/output-vs-CO2 frontier and its duals.

End points: the unconstrained plan (no budget) gives the highest CO2e; the plan with budget 0 (all
abatement priced at the budget-excess price) gives the lowest CO2e reachable at that price. By default that
price sits below the cheapest lost sale per tonne (optimisation.model.excess_prices), so the low end is the
lowest CO2e reachable by levers and shifts without selling fewer cars; set ``co2_slack_penalty_eur_per_t``
high to sweep into lost sales.
The sweep re-solves the same model between them, changing only the budget row's bound (in-process
HiGHS keeps its model and basis; CBC re-solves the changed PuLP model).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimisation.inputs import PlanInputs
from optimisation.kpis import compute_kpis
from optimisation.model import build_model
from optimisation.scenario import ScenarioParams, as_params
from optimisation.solve import resolve_with_budget, solve

FRONTIER_COLUMNS = ["point", "co2_budget_t", "status", "objective_eur", "cost_ex_penalty_eur", "cost_eur",
                    "cost_production_eur",
                    "cost_freight_eur", "co2e_t", "output_units", "service_level", "co2_mac_eur_per_t",
                    "co2_budget_excess_t", "solve_seconds"]


def pareto_frontier(inputs: PlanInputs, params: ScenarioParams | dict | None = None, n_points: int = 8
                    ) -> pd.DataFrame:
    """Frontier table, one row per budget, from the lowest to the highest CO2e.

    cost_eur = production + freight (operating cost); objective_eur also holds the carbon price and
    penalties; cost_ex_penalty_eur = objective_eur without the budget-excess and output-shortfall penalties
    (the basis the report plots the chosen plan on). The slope of objective_eur between neighbouring points lies between their duals
    (co2_mac_eur_per_t), as LP duality says."""
    if n_points < 2:
        raise ValueError("pareto: n_points must be >= 2")
    params = as_params(params).model_copy(update={"co2_budget_t": None, "co2_reduction_pct": None,
                                                  "trajectory_rate_pct": None})
    model = build_model(inputs, params)
    res = solve(model)
    if not res.has_solution:
        raise RuntimeError(f"pareto: unconstrained solve returned {res.status}")
    co2_max = compute_kpis(model, res)["co2e_total_t"]
    res = resolve_with_budget(model, 0.0)
    if not res.has_solution:
        raise RuntimeError(f"pareto: minimum-CO2 solve returned {res.status}")
    co2_min = compute_kpis(model, res)["co2e_total_t"]
    rows = []
    for i, budget in enumerate(np.linspace(co2_min, co2_max, n_points)):
        r = resolve_with_budget(model, float(budget))
        k = compute_kpis(model, r)
        rows.append({"point": i, "co2_budget_t": float(budget), "status": r.status,
                     "objective_eur": k.get("objective_eur"), "cost_ex_penalty_eur": k.get("objective_ex_penalty_eur"),
                     "cost_eur": k.get("cost_production_eur", np.nan) + k.get("cost_freight_eur", np.nan),
                     "cost_production_eur": k.get("cost_production_eur"),
                     "cost_freight_eur": k.get("cost_freight_eur"), "co2e_t": k.get("co2e_total_t"),
                     "output_units": k.get("output_units"), "service_level": k.get("service_level"),
                     "co2_mac_eur_per_t": k.get("co2_mac_eur_per_t"),
                     "co2_budget_excess_t": k.get("co2_budget_excess_t"), "solve_seconds": r.solve_seconds})
    return pd.DataFrame(rows, columns=FRONTIER_COLUMNS)
