"""The planning LP on tiny instances with hand-computed optima and duals (instance in conftest.py).

Per unit delivered: plant A costs 100 + 10 freight = 110 EUR and emits 2.0 + 0.02 = 2.02 t CO2e;
plant B costs 120 + 10 = 130 EUR and emits 0.5 + 0.02 = 0.52 t. Moving one unit from A to B costs
20 EUR and saves 1.5 t, so the marginal abatement cost is 20 / 1.5 = 13.333 EUR/t.
"""

from __future__ import annotations

import pandas as pd
import pytest

from optimisation.inputs import InputError
from optimisation.model import build_model
from optimisation.plan import run_plan
from optimisation.scenario import ScenarioParams
from optimisation.solve import resolve_with_budget, solve

MAC = 20.0 / 1.5


def units(outcome, plant: str) -> float:
    plan = outcome.tables["production_plan"]
    return float(plan.loc[plan["plant_id"] == plant, "units"].sum())


def test_unconstrained_plan_uses_the_cheap_plant(tiny):
    o = run_plan(tiny, {"horizon_weeks": 1})
    assert o.kpis["status"] == "optimal"
    assert o.kpis["objective_eur"] == pytest.approx(100 * 110)
    assert units(o, "A") == pytest.approx(100) and units(o, "B") == pytest.approx(0, abs=1e-6)
    assert o.kpis["co2e_total_t"] == pytest.approx(202.0)
    assert o.kpis["co2_mac_eur_per_t"] == 0.0
    assert o.kpis["service_level"] == pytest.approx(1.0)


def test_co2_budget_optimum_flows_and_dual_by_hand(tiny):
    # budget 150 t: cut 52 t at 1.5 t per unit moved -> 34.667 units from B, 65.333 from A
    # cost = 11000 + 34.667 x 20 = 11693.33; dual of the budget = -13.333 -> MAC 13.333 EUR/t
    o = run_plan(tiny, {"horizon_weeks": 1, "co2_budget_t": 150})
    k = o.kpis
    assert k["status"] == "optimal"
    assert k["objective_eur"] == pytest.approx(11000 + 52 / 1.5 * 20)
    assert units(o, "A") == pytest.approx(100 - 52 / 1.5)
    assert units(o, "B") == pytest.approx(52 / 1.5)
    assert k["co2e_total_t"] == pytest.approx(150.0)
    assert k["co2_mac_eur_per_t"] == pytest.approx(MAC)
    assert o.model.co2_row.pi == pytest.approx(-MAC)  # minimisation: the cap's pi is negative
    flows = o.tables["flows"].set_index("lane_id")
    assert flows.loc["LA", "units"] == pytest.approx(100 - 52 / 1.5)
    assert flows.loc["LA", "tonnes"] == pytest.approx(2 * (100 - 52 / 1.5))
    assert flows.loc["LA", "tco2e"] == pytest.approx(0.02 * (100 - 52 / 1.5))
    assert k["co2e_scope3_transport_t"] == pytest.approx(2.0)
    assert k["co2e_scope1_t"] == pytest.approx(1.0 * (100 - 52 / 1.5) + 0.2 * 52 / 1.5)
    assert k["cost_production_eur"] + k["cost_freight_eur"] == pytest.approx(k["objective_eur"])
    assert k["diagnosis"]["missed"] == []


def test_dual_matches_finite_difference_resolve(tiny):
    model = build_model(tiny, ScenarioParams(horizon_weeks=1, co2_budget_t=150))
    mid = solve(model)
    mac = -model.co2_row.pi
    highs = model.prob.solverModel
    lo = resolve_with_budget(model, 149.0).objective_eur
    hi = resolve_with_budget(model, 151.0).objective_eur
    assert model.prob.solverModel is highs  # re-solved in place: only the budget row's bound changed
    assert model.co2_row.getUb() == pytest.approx(151.0)  # and the PuLP model says the same
    assert mid.optimal
    assert (lo - hi) / 2.0 == pytest.approx(mac, rel=1e-6)
    assert mac == pytest.approx(MAC)


def test_highs_and_cbc_agree(tiny):
    h = run_plan(tiny, {"horizon_weeks": 1, "co2_budget_t": 150})
    c = run_plan(tiny, {"horizon_weeks": 1, "co2_budget_t": 150, "solver": "cbc"})
    assert c.kpis["status"] == "optimal" and c.kpis["solver"] == "COIN_CMD"
    assert c.kpis["objective_eur"] == pytest.approx(h.kpis["objective_eur"], rel=1e-6)
    assert units(c, "B") == pytest.approx(units(h, "B"), rel=1e-5)
    assert c.kpis["co2_mac_eur_per_t"] == pytest.approx(h.kpis["co2_mac_eur_per_t"], rel=1e-5)


def test_conflict_cheaper_to_miss_the_co2_budget(tiny):
    # budget 40 t but 100 units emit at least 100 x 0.52 = 52 t. Missing CO2 costs 1000 EUR/t; cutting
    # output costs (500 unmet + 1000 shortfall - 130 saved) / 0.52 t = 2635 EUR/t -> keep output, miss by 12 t
    o = run_plan(tiny, {"horizon_weeks": 1, "co2_budget_t": 40, "output_target_units": 100,
                        "co2_slack_penalty_eur_per_t": 1000, "unmet_penalty_eur_per_unit": 500,
                        "output_slack_penalty_eur_per_unit": 1000})
    d = o.kpis["diagnosis"]
    assert o.kpis["status"] == "optimal" and d["conflict"]
    assert [m["target"] for m in d["missed"]] == ["co2_budget"]
    assert d["missed"][0]["missed_by"] == pytest.approx(12.0)
    assert "CO2 budget" in d["message"] and "12.0 t" in d["message"]
    assert o.kpis["output_units"] == pytest.approx(100)
    assert o.kpis["objective_eur"] == pytest.approx(100 * 130 + 12 * 1000)


def test_conflict_cheaper_to_miss_the_output_target(tiny):
    # same targets, CO2 excess now 100000 EUR/t: build only 40 / 0.52 = 76.92 units at B
    o = run_plan(tiny, {"horizon_weeks": 1, "co2_budget_t": 40, "output_target_units": 100,
                        "co2_slack_penalty_eur_per_t": 100_000, "unmet_penalty_eur_per_unit": 500,
                        "output_slack_penalty_eur_per_unit": 1000})
    d = o.kpis["diagnosis"]
    short = 100 - 40 / 0.52
    assert [m["target"] for m in d["missed"]] == ["output_target"]
    assert d["missed"][0]["missed_by"] == pytest.approx(short)
    assert "output target" in d["message"]
    assert o.kpis["co2e_total_t"] == pytest.approx(40.0)
    assert o.kpis["objective_eur"] == pytest.approx(40 / 0.52 * 130 + short * 1500)


def test_output_target_above_capacity_is_reported(make):
    o = run_plan(make(cap_a=50, cap_b=30), {"horizon_weeks": 1, "output_target_pct": 100})
    d = o.kpis["diagnosis"]
    assert o.kpis["status"] == "optimal"
    assert d["missed"][0]["target"] == "output_target" and d["missed"][0]["missed_by"] == pytest.approx(20)
    assert o.kpis["unmet_units"] == pytest.approx(20)
    assert o.kpis["utilisation_by_plant"] == pytest.approx({"A": 1.0, "B": 1.0})


def test_carbon_price_switches_plants_at_the_mac(tiny):
    low = run_plan(tiny, {"horizon_weeks": 1, "carbon_price_eur_per_t": MAC - 1})
    high = run_plan(tiny, {"horizon_weeks": 1, "carbon_price_eur_per_t": MAC + 1})
    assert low.kpis["co2e_total_t"] == pytest.approx(202.0)
    assert high.kpis["co2e_total_t"] == pytest.approx(52.0)
    assert high.kpis["cost_carbon_eur"] == pytest.approx(52.0 * (MAC + 1))
    assert high.kpis["objective_eur"] == pytest.approx(100 * 130 + 52.0 * (MAC + 1))


def test_outage_shifts_production(make):
    o = run_plan(make(weeks=2), {"horizon_weeks": 2,
                                 "plant_capacity": [{"plant_id": "A", "capacity_pct": 0, "from_week": 2}]})
    plan = o.tables["production_plan"].pivot(index="week", columns="plant_id", values="units")
    assert plan.iloc[0].tolist() == pytest.approx([100, 0], abs=1e-6)
    assert plan.iloc[1].tolist() == pytest.approx([0, 100], abs=1e-6)
    assert o.kpis["utilisation_by_plant"]["A"] == pytest.approx(1.0)  # 100 built of 100 available


def test_mode_ban_zeroes_the_mode(make):
    inputs = make(rail=True)  # A->M by rail: 2 EUR/t (4 EUR/unit), 0.05 kg/t-km
    free = run_plan(inputs, {"horizon_weeks": 1})
    assert free.tables["flows"].groupby("mode")["units"].sum().to_dict() == pytest.approx({"rail": 100})
    assert free.kpis["objective_eur"] == pytest.approx(100 * 104)
    banned = run_plan(inputs, {"horizon_weeks": 1, "banned_modes": ["rail"]})
    assert "rail" not in set(banned.tables["flows"]["mode"])
    assert banned.kpis["objective_eur"] == pytest.approx(100 * 110)
    limited = run_plan(inputs, {"horizon_weeks": 1, "mode_limits": [{"mode": "rail", "capacity_pct": 0}]})
    assert "rail" not in set(limited.tables["flows"]["mode"])


def test_demand_shock_and_quantile_raise_output(tiny):
    shock = run_plan(tiny, {"horizon_weeks": 1, "demand_shocks": [{"market_id": "M", "pct": 10}]})
    assert shock.kpis["output_units"] == pytest.approx(110)
    assert units(shock, "A") == pytest.approx(100) and units(shock, "B") == pytest.approx(10)
    p90 = run_plan(tiny, {"horizon_weeks": 1, "demand_quantile": "p90"})  # yhat_hi_80 = 110
    assert p90.kpis["output_units"] == pytest.approx(110)
    with pytest.raises(InputError, match="demand_shocks"):
        run_plan(tiny, {"horizon_weeks": 1, "demand_shocks": [{"market_id": "nowhere", "pct": 10}]})


def test_renewable_share_lowers_scope2(tiny):
    base = run_plan(tiny, {"horizon_weeks": 1})
    half = run_plan(tiny, {"horizon_weeks": 1, "renewable_share": [{"plant_id": "A", "share_pct": 50}]})
    assert base.kpis["co2e_scope2_market_t"] == pytest.approx(100.0)
    assert half.kpis["co2e_scope2_market_t"] == pytest.approx(50.0)
    assert half.kpis["co2e_scope1_t"] == pytest.approx(100.0)
    assert half.kpis["co2e_scope2_location_t"] == pytest.approx(base.kpis["co2e_scope2_location_t"])


def test_max_move_bounds_the_change(make):
    inputs = make(history={"A": 50, "B": 50})
    o = run_plan(inputs, {"horizon_weeks": 1, "max_move_pct": 20})
    assert units(o, "A") == pytest.approx(60) and units(o, "B") == pytest.approx(40)
    assert o.kpis["objective_eur"] == pytest.approx(60 * 110 + 40 * 130)
    assert o.tables["production_plan"]["current_units"].tolist() == pytest.approx([50, 50])
    with pytest.raises(InputError, match="max_move_pct"):
        run_plan(make(), {"horizon_weeks": 1, "max_move_pct": 20})


def test_time_limit_is_reported_not_optimal(make):
    o = run_plan(make(weeks=4), {"horizon_weeks": 4, "time_limit_s": 1e-9})
    assert o.kpis["status"] == "time_limit"
    assert not o.result.has_solution and o.tables["production_plan"].empty
    assert "time_limit" in o.kpis["diagnosis"]["message"]


def test_transit_time_offsets_arrivals(make):
    # 14 days = 2 weeks: demand of weeks 1-2 cannot be reached, week 3 is served by week-1 production;
    # weeks 4-5 (after the horizon, reachable only by departures in weeks 2-3) take the mean demand of the
    # last weeks, 100, so output does not collapse at the end: [100, 100, 100], not [100, 0, 0]
    o = run_plan(make(weeks=3, transit_days=14), {"horizon_weeks": 3, "backorder_max_weeks": 0})
    plan = o.tables["production_plan"].groupby("week")["units"].sum()
    assert plan.tolist() == pytest.approx([100, 100, 100], abs=1e-6)
    assert o.kpis["unmet_units"] == pytest.approx(200)
    assert o.kpis["service_level"] == pytest.approx(1 / 3)
    assert o.kpis["tail_demand_units"] == pytest.approx(200) and o.kpis["tail_unmet_units"] == pytest.approx(0)
    flows = o.tables["flows"]
    assert (flows["arrival_week"] - flows["week"]).dt.days.unique().tolist() == [14]
    # with backorders: week 1 builds at capacity (A + B = 200); 100 of the demand of weeks 1-2 arrives
    # late in week 3 (lateness 1 % of 500 EUR per week), the other 100 is lost
    o = run_plan(make(weeks=3, transit_days=14), {"horizon_weeks": 3, "backorder_max_weeks": 4})
    plan = o.tables["production_plan"].groupby("week")["units"].sum()
    assert plan.tolist() == pytest.approx([200, 100, 100], abs=1e-6)
    assert o.kpis["unmet_units"] == pytest.approx(100)


def test_reduction_pct_is_relative_to_the_unconstrained_plan(tiny):
    o = run_plan(tiny, {"horizon_weeks": 1, "co2_reduction_pct": 25})
    assert o.kpis["co2_baseline_t"] == pytest.approx(202.0)
    assert o.kpis["co2_budget_t"] == pytest.approx(151.5)
    assert o.kpis["co2e_total_t"] == pytest.approx(151.5)
    assert o.kpis["co2_mac_eur_per_t"] == pytest.approx(MAC)


def test_bad_inputs_name_the_problem(make):
    inputs = make()
    inputs.lanes.loc[0, "mode"] = "sea"
    with pytest.raises(InputError, match="'sea'"):
        run_plan(inputs, {"horizon_weeks": 1})
    with pytest.raises(InputError, match="plant_capacity"):
        run_plan(make(), {"horizon_weeks": 1, "plant_capacity": [{"plant_id": "Z", "capacity_pct": 0}]})
    with pytest.raises(InputError, match="covers 1 of the 2 horizon weeks"):
        run_plan(make(), {"horizon_weeks": 2})


def test_fixed_emissions_count_against_the_budget(make):
    inputs = make()
    inputs.coefficients.loc[inputs.coefficients["scope"] == "scope1", "fixed_tco2e"] = 5.0  # 10 t over A and B
    o = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": 160})
    assert o.kpis["co2e_fixed_t"] == pytest.approx(10.0)
    assert o.kpis["co2e_total_t"] == pytest.approx(160.0)
    assert o.kpis["objective_eur"] == pytest.approx(11000 + 52 / 1.5 * 20)  # same plan as budget 150


def test_kpi_table_is_long_and_typed(tiny):
    from optimisation.kpis import kpi_table

    o = run_plan(tiny, {"horizon_weeks": 1, "co2_budget_t": 150})
    t = kpi_table(o.kpis)
    assert list(t.columns) == ["kpi", "key", "value", "text"]
    row = t[(t["kpi"] == "co2e_t_by_plant") & (t["key"] == "A")]
    assert row["value"].iloc[0] == pytest.approx(2.0 * (100 - 52 / 1.5))
    assert t.loc[t["kpi"] == "status", "text"].iloc[0] == "optimal"
    assert isinstance(o.tables["production_plan"]["week"].iloc[0], pd.Timestamp)


def test_fast_highs_handover_matches_stock_pulp_highs(make):
    """PlanHiGHS passes the CSR arrays straight to highspy; stock pulp.HiGHS walks PuLP's rows.
    Same optimum, values, duals and slacks on an instance with bounds, a budget and an output target."""
    import pulp

    params = ScenarioParams(horizon_weeks=3, co2_budget_t=400, output_target_units=250, max_move_pct=60,
                            plant_capacity=[{"plant_id": "B", "capacity_pct": 50, "from_week": 2}])
    inputs = make(weeks=3, plant_c=True, rail=True, transit_days=8, history={"A": 60, "B": 30, "C": 10})
    fast = build_model(inputs, params)
    res = solve(fast)
    stock = build_model(inputs, params)
    stats = stock.prob.solve(pulp.HiGHS(msg=False, solver="ipm"))
    assert res.optimal and stats.status == pulp.LpSolveStatus.Optimal
    assert res.objective_eur == pytest.approx(stats.objective, rel=1e-7)
    vf = [v.varValue for v in fast.variables]
    vs = [v.varValue for v in stock.variables]
    assert vf == pytest.approx(vs, abs=1e-6)
    cf, cs = fast.prob.constraints(), stock.prob.constraints()
    assert [c.pi for c in cf] == pytest.approx([c.pi for c in cs], abs=1e-6)
    assert [c.slack for c in cf] == pytest.approx([c.slack for c in cs], abs=1e-6)
    assert fast.co2_row.pi == pytest.approx(stock.co2_row.pi, abs=1e-6)


def test_infeasible_bounds_are_reported(make):
    # max move 0 % pins A and B at 50 units, but lane LA carries only 10 t = 5 units a week (and no stock)
    inputs = make(history={"A": 50, "B": 50})
    inputs.lanes.loc[inputs.lanes["lane_id"] == "LA", "capacity_t_per_week"] = 10.0
    for solver in ("highs", "cbc"):
        o = run_plan(inputs, {"horizon_weeks": 1, "max_move_pct": 0, "max_stock_weeks": 0, "solver": solver})
        assert o.kpis["status"] == "infeasible", solver
        assert not o.result.has_solution and o.tables["flows"].empty
        assert "infeasible" in o.kpis["diagnosis"]["message"]


def test_diagnosis_never_says_all_met_when_demand_is_unmet(make):
    """Issue 11 item 8: the diagnosis states each target and the service level; no blanket 'all targets met'."""
    o = run_plan(make(cap_a=50, cap_b=30), {"horizon_weeks": 1})
    msg = o.kpis["diagnosis"]["message"]
    assert o.kpis["unmet_units"] == pytest.approx(20)
    assert "all targets met" not in msg
    assert "20.0 units of demand unmet (service level 80.0%)" in msg
    assert "no CO2 budget" in msg and "no output target" in msg
    o = run_plan(make(), {"horizon_weeks": 1, "co2_budget_t": 1000})
    assert "CO2 budget met: plan emits" in o.kpis["diagnosis"]["message"]
    assert "all demand met" in o.kpis["diagnosis"]["message"]
