"""Budget-excess economics (issue 13): a target out of reach of the levers and shifts shows as excess tonnes
at a price below the cheapest lost sale per tonne, not as unsold cars.

Hand instance (conftest "tiny", demand 150, capacity 100 at A and B, price 500 EUR/unit, no lever tables):
  route A: 100 + 10 EUR/unit, 2.0 + 0.02 = 2.02 t/unit -> lost-sale abatement (500 - 110) / 2.02 = 193.07 EUR/t
  route B: 120 + 10 EUR/unit, 0.5 + 0.02 = 0.52 t/unit -> (500 - 130) / 0.52 = 711.54 EUR/t
  default excess price = 0.9 x min(193.07, 711.54) = 173.76 EUR/t
  no budget: A 100, B 50 -> 202 + 26 = 228 t, nothing unmet
  budget 10 t: shift 50 units A -> B (20 EUR / 1.5 t = 13.33 EUR/t < 173.76) -> A 50, B 100 = 101 + 52 = 153 t;
  the rest (143 t) is excess, not lost sales.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from co2plan.pipeline import _shadow_price_text
from optimisation.model import EXCESS_PRICE_MARGIN, build_model, lost_sale_abatement
from optimisation.pareto import pareto_frontier
from optimisation.plan import run_plan
from optimisation.scenario import ScenarioParams

P_DEFAULT = 0.9 * 390.0 / 2.02


def test_default_excess_price_is_below_the_cheapest_lost_sale(make):
    m = build_model(make(demand=150.0), ScenarioParams(horizon_weeks=1, co2_budget_t=10.0))
    th = lost_sale_abatement(m.x, m.f, m.u.assign(q=m.x["q"].iloc[0]), 0.0)
    assert th["threshold_eur_per_t"].iloc[0] == pytest.approx(390.0 / 2.02, rel=1e-9)
    assert th["plant_id"].iloc[0] == "A"
    assert EXCESS_PRICE_MARGIN == 0.9
    assert m.periods["excess_price_eur_per_t"].tolist() == pytest.approx([P_DEFAULT], rel=1e-9)
    # a carbon price enters both the saved cost and nothing else: (500 - 110 - 50 x 2.02) / 2.02
    m2 = build_model(make(demand=150.0), ScenarioParams(horizon_weeks=1, co2_budget_t=10.0,
                                                        carbon_price_eur_per_t=50.0))
    assert m2.periods["excess_price_eur_per_t"].iloc[0] == pytest.approx(0.9 * (390.0 / 2.02 - 50.0), rel=1e-9)


def test_unreachable_budget_keeps_sales_and_reports_excess(make):
    o = run_plan(make(demand=150.0), {"horizon_weeks": 1, "co2_budget_t": 10.0})
    k = o.kpis
    assert k["status"] == "optimal"
    assert k["unmet_units"] == pytest.approx(0.0, abs=1e-6)  # = the no-budget plan's
    assert k["unmet_units_no_target"] == pytest.approx(0.0, abs=1e-6)
    assert k["output_units"] == pytest.approx(150.0)
    assert k["co2e_total_t"] == pytest.approx(153.0, rel=1e-9)
    assert k["co2_budget_excess_t"] == pytest.approx(143.0, rel=1e-9)
    assert k["off_track_t"] == pytest.approx(143.0, rel=1e-9) and k["on_track"] is False
    assert k["co2_mac_eur_per_t"] == pytest.approx(P_DEFAULT, rel=1e-6)
    assert k["co2_excess_price_eur_per_t"] == pytest.approx(P_DEFAULT, rel=1e-9)
    # CO2e without a budget for an absolute budget (one solve more, warm re-solve with the budget)
    assert k["co2_baseline_t"] == pytest.approx(228.0, rel=1e-9)
    # abatement bought: 50 units moved A -> B at 20 EUR each; the excess adds 143 t x the excess price
    assert k["abatement_cost_eur"] == pytest.approx(1000.0, rel=1e-6)
    assert k["cost_to_stay_on_track_eur"] == pytest.approx(1000.0 + 143.0 * P_DEFAULT, rel=1e-6)
    assert k["cost_to_stay_on_track_is_lower_bound"] is True
    assert k["objective_ex_penalty_eur"] == pytest.approx(k["objective_eur"] - 143.0 * P_DEFAULT, rel=1e-9)


def test_explicit_excess_price_makes_the_budget_hard(make):
    # 10000 EUR/t > both lost-sale costs: the budget is met by selling less; 10 t buys 10 / 0.52 units at B
    o = run_plan(make(demand=150.0), {"horizon_weeks": 1, "co2_budget_t": 10.0,
                                      "co2_slack_penalty_eur_per_t": 10_000})
    k = o.kpis
    assert k["co2_budget_excess_t"] == pytest.approx(0.0, abs=1e-6)
    assert k["unmet_units"] == pytest.approx(150.0 - 10.0 / 0.52, rel=1e-6)
    assert k["co2_mac_eur_per_t"] == pytest.approx(370.0 / 0.52, rel=1e-6)  # B's lost-sale trade-off
    assert k["co2_excess_price_eur_per_t"] == 10_000


def test_absolute_budget_met_by_levers_reports_no_budget_co2(make):
    # budget 200 t: reachable by moving 28 / 1.5 units A -> B; the no-budget plan emits 228 t
    k = run_plan(make(demand=150.0), {"horizon_weeks": 1, "co2_budget_t": 200.0}).kpis
    assert k["co2_baseline_t"] == pytest.approx(228.0, rel=1e-9)
    assert k["co2e_total_t"] == pytest.approx(200.0, rel=1e-9)
    assert k["on_track"] is True and k["cost_to_stay_on_track_is_lower_bound"] is False
    assert k["cost_to_stay_on_track_eur"] == pytest.approx(28.0 / 1.5 * 20.0, rel=1e-6)
    assert k["co2_mac_eur_per_t"] == pytest.approx(20.0 / 1.5, rel=1e-6)


def test_headline_says_budget_excess_once(make):
    k = run_plan(make(demand=150.0), {"horizon_weeks": 1, "co2_budget_t": 10.0}).kpis
    assert "budget-excess" in k["co2_price_setter"]  # the setter's own text says it ...
    text = _shadow_price_text(k)
    assert text.count("not an abatement cost") == 1  # ... and the headline says it once
    assert text.count("budget-excess") == 1
    assert "off track by 143.0 t" in text
    assert f"{P_DEFAULT:,.2f} EUR/t" in text


def test_chosen_plan_lies_on_the_frontier(make):
    """Report basis: cost excluding penalties. The chosen plan with a missed budget is the optimum for a
    budget equal to its own CO2e, so it lies on the frontier (hand cost, see test_opt_pareto) and on or
    below the frontier's piecewise-linear envelope; its objective with the excess penalty lies above."""
    inputs = make(plant_c=True)
    fr = pareto_frontier(inputs, {"horizon_weeks": 1}, n_points=6)
    assert (fr["status"] == "optimal").all()
    # default excess price: 0.9 x min over plants (A 390/2.02, C 380/1.02, B 370/0.52) = 173.76 EUR/t,
    # above both shifts (10 and 20 EUR/t): the low end is 52 t with every car sold
    assert fr["co2e_t"].min() == pytest.approx(52.0, abs=1e-6)
    assert fr["output_units"].min() == pytest.approx(100.0)
    for budget in (30.0, 80.0, 150.0):
        k = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": budget}).kpis
        c, y = k["co2e_total_t"], k["objective_ex_penalty_eur"]
        hand = 11000 + 10 * (202 - c) if c >= 102 else 12000 + 20 * (102 - c)
        assert y == pytest.approx(hand, rel=1e-6)
        env = np.interp(c, fr["co2e_t"].to_numpy(), fr["cost_ex_penalty_eur"].to_numpy())
        assert y <= env + 1e-6 * env
        assert fr["cost_ex_penalty_eur"].min() - 1e-6 <= y <= fr["cost_ex_penalty_eur"].max() + 1e-6
    assert k["objective_eur"] == pytest.approx(y)  # budget 150 met: no penalty
    k30 = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": 30.0}).kpis
    assert k30["objective_eur"] == pytest.approx(13000 + 22 * 0.9 * 390 / 2.02, rel=1e-6)


@pytest.fixture(scope="module")
def demo_without_levers():
    from features.accounting import build_ledger
    from features.sample import generate
    from optimisation.emissions import base_year_totals
    from optimisation.inputs import PlanInputs

    tables = {k: v for k, v in generate("demo").items() if k not in ("renewable_supply", "heat_options")}
    ledger, _ = build_ledger(tables["plants"], tables["energy_use"], tables["emission_factors"],
                             shipments=tables["shipments"], lanes=tables["lanes"],
                             contracts=tables["energy_contracts"])
    year, base = base_year_totals(ledger, tables["plants"], "operational_control",
                                  ["scope1", "scope2_market", "scope3_cat4"], None)
    return PlanInputs.from_tables(tables, horizon_weeks=13), year, base


def test_demo_without_lever_tables_default_trajectory_does_not_cut_sales(demo_without_levers):
    """The issue's done-when on the demo sample with renewable_supply/heat_options removed: at the weekly
    default target (4.2 %/yr from the ledger's base year) unmet demand is not above the no-budget plan's by
    more than 1 % of demand. Whether the default target is within reach depends on the sample, so the same is
    checked on a target certainly out of reach (a base year 30 % lower): the miss is reported as excess tonnes
    priced at the excess price, and an excess price above the lost-sale cost sells fewer cars on the same data."""
    inputs, year, base = demo_without_levers
    assert inputs.renewable_supply is None or len(inputs.renewable_supply) == 0
    for base_t in (base, 0.7 * base):
        k = run_plan(inputs, {"horizon_weeks": 13, "trajectory_rate_pct": 4.2, "base_year": year,
                              "base_year_co2e_t": base_t}).kpis
        assert k["status"] == "optimal"
        extra = k["unmet_units"] - k["unmet_units_no_target"]
        assert extra <= 0.01 * k["demand_units"], (base_t, extra, k["demand_units"])
    assert k["co2_budget_excess_t"] > 0.01 * k["co2_budget_t"]  # out of reach without levers
    assert k["co2_mac_eur_per_t"] == pytest.approx(k["co2_excess_price_eur_per_t"], rel=1e-6)
    assert k["cost_to_stay_on_track_is_lower_bound"] is True
    # an excess price above the lost-sale cost per t (the old fixed 10,000 EUR/t was, on the sample of issue 13)
    # sells fewer cars on the same data; the derived default is 0.9 x the cheapest lost sale per t
    hard = 10 * k["co2_excess_price_eur_per_t"] / 0.9
    old = run_plan(inputs, {"horizon_weeks": 13, "trajectory_rate_pct": 4.2, "base_year": year,
                            "base_year_co2e_t": 0.7 * base, "co2_slack_penalty_eur_per_t": hard}).kpis
    assert old["unmet_units"] + old.get("tail_unmet_units", 0.0) > k["unmet_units"] + k.get("tail_unmet_units", 0.0)


def test_net_target_buys_removals_without_lowering_scopes(make):
    """net_target_t = 150 t on the tiny instance (demand 100: A 100 units = 202 t without targets). Removals at
    5 EUR/t, 30 t available in the horizon (1,560 t a year x 1/52), then the A -> B shift at 20 / 1.5 = 13.33 EUR/t
    closes the other 22 t: 14.67 units move to B; scope 1-3 show 180 t, the net figure 150 t; the net row's
    price is the shift's 13.33 EUR/t. Avoidance offsets (1 EUR/t) do not count against the net target."""
    import dataclasses

    offers = pd.DataFrame({"offer_id": ["RM", "OF"], "kind": ["removal", "avoidance_offset"], "year": [2026, 2026],
                           "price_eur_per_t": [5.0, 1.0], "available_t": [30.0 * 52, 1e6], "source": "test"})
    inputs = dataclasses.replace(make(), removal_offers=offers)
    k = run_plan(inputs, {"horizon_weeks": 1, "net_target_t": 150.0}).kpis
    assert k["removals_t"] == pytest.approx(30.0, rel=1e-9)
    assert k["cost_removals_eur"] == pytest.approx(150.0, rel=1e-9)
    assert k["co2e_total_t"] == pytest.approx(180.0, rel=1e-9)  # reported scopes: no removal in them
    assert k["co2e_scope1_t"] + k["co2e_scope2_market_t"] + k["co2e_scope3_transport_t"] == pytest.approx(180.0)
    assert k["co2e_net_t"] == pytest.approx(150.0, rel=1e-9)
    assert k["net_target_shortfall_t"] == pytest.approx(0.0, abs=1e-6)
    assert k["net_target_price_eur_per_t"] == pytest.approx(20.0 / 1.5, rel=1e-6)
    assert k["objective_eur"] == pytest.approx(110 * 100 + 22 / 1.5 * 20 + 150.0, rel=1e-9)
    # no net target: no removal column, no removals bought
    k0 = run_plan(inputs, {"horizon_weeks": 1}).kpis
    assert "removals_t" not in k0 and k0["co2e_total_t"] == pytest.approx(202.0)


@pytest.mark.parametrize("kw, params, price, basis", [
    ({"demand": 0.0}, {}, 10_000.0, "fallback"),  # no demand: no sale to give up
    ({}, {"unmet_penalty_eur_per_unit": 50.0}, 10_000.0, "fallback"),  # no route is profitable (110 > 50)
    ({}, {"co2_slack_penalty_eur_per_t": 7.0}, 7.0, "set"),
])
def test_excess_price_fallback_and_user_value(make, kw, params, price, basis):
    m = build_model(make(**kw), ScenarioParams(horizon_weeks=1, **params))
    assert m.periods["excess_price_eur_per_t"].tolist() == [price]
    assert m.periods["excess_price_basis"].iloc[0].startswith(basis)
