"""Epsilon-constraint sweep on three plants with two abatement steps, computed by hand.

Per unit: A 110 EUR / 2.02 t, C 120 EUR / 1.02 t, B 130 EUR / 0.52 t (capacity 100 each, demand 100).
A -> C abates at 10 EUR/1 t = 10 EUR/t down to 102 t (all C); C -> B at 10 EUR/0.5 t = 20 EUR/t
down to 52 t (all B). Cost(b) = 11000 + 10 (202 - b) on [102, 202] and 12000 + 20 (102 - b) on [52, 102].
"""

from __future__ import annotations

import numpy as np
import pytest

from optimisation.pareto import pareto_frontier


def hand_cost(b: float) -> float:
    return 11000 + 10 * (202 - b) if b >= 102 else 12000 + 20 * (102 - b)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_frontier_matches_hand_values_and_slopes_match_duals(make, solver):
    # unmet demand priced at 100000 EUR/unit (> 10000 EUR/t x 0.52 t): the sweep never cuts output
    fr = pareto_frontier(make(plant_c=True), {"horizon_weeks": 1, "solver": solver,
                                              "unmet_penalty_eur_per_unit": 100_000}, n_points=6)
    assert (fr["status"] == "optimal").all()
    assert fr["co2_budget_t"].tolist() == pytest.approx([52, 82, 112, 142, 172, 202])
    assert fr["co2e_t"].tolist() == pytest.approx([52, 82, 112, 142, 172, 202], abs=1e-4)
    assert fr["objective_eur"].tolist() == pytest.approx([hand_cost(b) for b in fr["co2_budget_t"]], rel=1e-6)
    assert fr["output_units"].tolist() == pytest.approx([100] * 6)
    # interior points: the dual is the local abatement cost
    assert fr["co2_mac_eur_per_t"].iloc[1] == pytest.approx(20, rel=1e-5)
    assert fr["co2_mac_eur_per_t"].iloc[2:5].tolist() == pytest.approx([10, 10, 10], rel=1e-5)
    # slope between neighbours lies between their duals (LP value function is convex in the budget)
    slope = -np.diff(fr["objective_eur"]) / np.diff(fr["co2_budget_t"])
    mac = fr["co2_mac_eur_per_t"].to_numpy()
    for i, s in enumerate(slope):
        lo, hi = sorted((mac[i], mac[i + 1]))
        assert lo - 1e-4 <= s <= hi + 1e-4, (i, s, lo, hi)


def test_frontier_low_end_cuts_output_when_unmet_demand_is_cheap(make):
    # unmet demand at the product price (500 EUR/unit): cutting a unit at B abates 0.52 t for
    # 500 - 130 = 370 EUR (711 EUR/t < a 10000 EUR/t CO2 excess price set by the user), so the low end is
    # 0 t, 0 units. (The default excess price sits below the lost sale: test_opt_excess.)
    fr = pareto_frontier(make(plant_c=True), {"horizon_weeks": 1, "co2_slack_penalty_eur_per_t": 10_000},
                         n_points=5)
    assert fr["co2e_t"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert fr["output_units"].tolist() == pytest.approx([0, 50.5 / 0.52, 100, 100, 100], abs=1e-4)
    assert fr["co2_mac_eur_per_t"].iloc[1] == pytest.approx(370 / 0.52, rel=1e-5)


def test_frontier_needs_two_points(tiny):
    with pytest.raises(ValueError, match="n_points"):
        pareto_frontier(tiny, {"horizon_weeks": 1}, n_points=1)
