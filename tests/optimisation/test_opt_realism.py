"""Stock, backorders, pipeline, end of horizon and plant operating rules on tiny hand-computed instances
(conftest.make_inputs). Plant B has capacity 0 unless said, so A (110 EUR delivered) is the only source.
holding_rate_pct_per_year = 52 makes plant holding cost h = 52 % / 52 x 100 EUR = 1 EUR per unit-week."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimisation.model import build_model
from optimisation.plan import run_plan
from optimisation.scenario import ScenarioParams
from optimisation.solve import solve

MONDAY = pd.Timestamp("2026-01-05")  # as in conftest.py

H1 = {"holding_rate_pct_per_year": 52.0}


def weekly(o) -> list[float]:
    return o.tables["production_plan"].groupby("week")["units"].sum().tolist()


def demand(inputs, values) -> None:
    for i, v in enumerate(values):
        wk = MONDAY + pd.Timedelta(weeks=i)
        inputs.demand_forecast.loc[inputs.demand_forecast["week"] == wk, "yhat"] = float(v)


def family_duals(model, name: str) -> np.ndarray:
    fam = model.families[name]
    return np.array([c.pi for c in model.constraints[fam.first:fam.first + fam.n]])


def fd_dual(model, name: str, i: int, delta: float = 1e-3) -> float:
    """(obj(rhs + delta) - obj(rhs - delta)) / 2 delta for row i of a family, by warm HiGHS re-solves."""
    import highspy

    fam = model.families[name]
    row = fam.first + i
    h = model.prob.solverModel
    rhs = float(model.matrix["rhs"][row])
    objs = []
    for d in (delta, -delta):
        lo = -highspy.kHighsInf if fam.sense == "<=" else rhs + d
        up = highspy.kHighsInf if fam.sense == ">=" else rhs + d
        h.changeRowBounds(row, lo, up)
        h.setOptionValue("solver", "simplex")
        h.run()
        objs.append(h.getObjectiveValue())
    lo = -highspy.kHighsInf if fam.sense == "<=" else rhs
    up = highspy.kHighsInf if fam.sense == ">=" else rhs
    h.changeRowBounds(row, lo, up)
    return (objs[0] - objs[1]) / (2 * delta)


def test_holding_builds_ahead_of_a_capacity_limit(make):
    inputs = make(weeks=2, cap_a=60, cap_b=0)
    demand(inputs, [0, 100])
    model = build_model(inputs, ScenarioParams(horizon_weeks=2, **H1))
    res = solve(model)
    x = model.x.assign(v=[model.variables[c].varValue for c in model.x["col"]])
    assert x[x["plant_id"] == "A"]["v"].tolist() == pytest.approx([40, 60])
    assert res.objective_eur == pytest.approx(100 * 110 + 40 * 1.0)
    cap = model.families["plant_capacity"].index
    i = int(np.flatnonzero((cap["plant_id"] == "A") & (cap["t"] == 1))[0])
    assert family_duals(model, "plant_capacity")[i] == pytest.approx(-1.0)
    assert fd_dual(model, "plant_capacity", i) == pytest.approx(-1.0, rel=1e-6)


def test_min_utilisation_builds_stock_and_prices_the_floor(make):
    inputs = make(weeks=2, cap_a=100, cap_b=0)
    demand(inputs, [30, 30])
    p = ScenarioParams(horizon_weeks=2, plant_rules=[{"plant_id": "A", "min_utilisation_pct": 50}], **H1)
    model = build_model(inputs, p)
    res = solve(model)
    o = run_plan(inputs, p)
    assert weekly(o) == pytest.approx([50, 50])
    stock = [model.variables[c].varValue for c in model.x.loc[model.x["plant_id"] == "A", "stock_col"]]
    assert stock == pytest.approx([20, 40])
    assert res.objective_eur == pytest.approx(100 * 100 + 60 * 10 + 20 + 40)
    d = family_duals(model, "min_utilisation")  # one more unit in week 1 is held 2 weeks, in week 2 one week
    assert d.tolist() == pytest.approx([102.0, 101.0])
    assert [fd_dual(model, "min_utilisation", i) for i in (0, 1)] == pytest.approx([102.0, 101.0], rel=1e-6)
    assert o.kpis["min_util_shortfall_units"] == pytest.approx(0.0)


def test_backorders_serve_late_demand_or_lose_it(make):
    inputs = make(weeks=2, cap_a=60, cap_b=0)
    demand(inputs, [100, 0])
    late = run_plan(inputs, {"horizon_weeks": 2, "backorder_max_weeks": 4, "lateness_pct_of_price_per_week": 1})
    assert weekly(late) == pytest.approx([60, 40])
    assert late.kpis["objective_eur"] == pytest.approx(100 * 110 + 40 * 5.0)  # 1 % of 500 EUR, one week late
    assert late.kpis["unmet_units"] == pytest.approx(0.0) and late.kpis["backlog_unit_weeks"] == pytest.approx(40)
    lost = run_plan(inputs, {"horizon_weeks": 2, "backorder_max_weeks": 0})
    assert weekly(lost) == pytest.approx([60, 0])
    assert lost.kpis["objective_eur"] == pytest.approx(60 * 110 + 40 * 500)
    assert lost.kpis["unmet_units"] == pytest.approx(40)


def test_pipeline_beyond_demand_is_stocked_not_discarded(make):
    # 150 units left in the week before the horizon on a 1-week lane: they arrive in week 1 (demand 100);
    # the other 50 serve week 2, so week 1 builds 50 for week 2 and 100 for the first week after the horizon
    inputs = make(weeks=2, cap_a=200, cap_b=0, transit_days=7)
    inputs.shipments = pd.DataFrame({"week": [MONDAY - pd.Timedelta(weeks=1)], "lane_id": ["LA"],
                                     "product_id": ["K"], "units": [150.0], "tonnes": [300.0]})
    o = run_plan(inputs, {"horizon_weeks": 2, "backorder_max_weeks": 0})
    assert o.kpis["pipeline_units"] == pytest.approx(150)
    assert o.kpis["unmet_units"] == pytest.approx(0.0)
    assert weekly(o) == pytest.approx([50, 100])
    assert o.kpis["pipeline_discarded_units"] == 0.0
    mstock = [o.model.variables[c].varValue for c in o.model.u["mstock_col"]]
    assert mstock == pytest.approx([50, 0])


def test_smoothing_limits_the_weekly_change(make):
    # current plan 50/week at A; change <= 30 % of 100 a week; demand [0, 100]: x = [35, 65]
    inputs = make(weeks=2, cap_a=100, cap_b=0, history={"A": 50, "B": 0})
    demand(inputs, [0, 100])
    p = ScenarioParams(horizon_weeks=2, plant_rules=[{"plant_id": "A", "max_change_pct_per_week": 30}], **H1)
    model = build_model(inputs, p)
    res = solve(model)
    x = [model.variables[c].varValue for c in model.x.loc[model.x["plant_id"] == "A", "col"]]
    assert x == pytest.approx([35, 65])
    assert res.objective_eur == pytest.approx(100 * 110 + 35)
    up = model.families["ramp_up"].index
    i = int(np.flatnonzero((up["plant_id"] == "A") & (up["t"] == 1))[0])
    assert family_duals(model, "ramp_up")[i] == pytest.approx(-0.5)  # -h/2
    assert fd_dual(model, "ramp_up", i) == pytest.approx(-0.5, rel=1e-6)


def test_tail_demand_keeps_the_last_weeks_running(make):
    inputs = make(weeks=3, cap_a=200, cap_b=0, transit_days=7)
    o = run_plan(inputs, {"horizon_weeks": 3, "backorder_max_weeks": 0})
    assert weekly(o) == pytest.approx([100, 100, 100])  # the last week serves the first week after
    assert o.kpis["unmet_units"] == pytest.approx(100)  # week 1 cannot be reached
    assert o.kpis["output_last4_max_dev_pct"] == pytest.approx(0.0)
    old = run_plan(inputs, {"horizon_weeks": 3, "backorder_max_weeks": 0, "tail_demand": False})
    assert weekly(old) == pytest.approx([100, 100, 0])


def test_opening_stock_from_history_and_terminal_target(make):
    # history: built 80, shipped 50 in the week before -> 30 units in stock; the plan keeps them at the end
    inputs = make(weeks=1, cap_b=0, history={"A": 80, "B": 0})
    inputs.shipments = pd.DataFrame({"week": [MONDAY - pd.Timedelta(weeks=1)], "lane_id": ["LA"],
                                     "product_id": ["K"], "units": [50.0], "tonnes": [100.0]})
    o = run_plan(inputs, {"horizon_weeks": 1, **H1})
    assert o.kpis["opening_stock_units"] == pytest.approx(30)
    assert o.kpis["stock_end_units"] == pytest.approx(30)
    assert weekly(o) == pytest.approx([100])
    drawn = run_plan(inputs, {"horizon_weeks": 1, "terminal_stock_pct": 0, **H1})
    assert weekly(drawn) == pytest.approx([70]) and drawn.kpis["stock_end_units"] == pytest.approx(0)


def test_constraints_table_holds_every_row_with_its_dual(tiny):
    o = run_plan(tiny, {"horizon_weeks": 1, "co2_budget_t": 150})
    t = o.tables["constraints"]
    assert len(t) == o.model.prob.toRustModel().num_constraints
    co2 = t[t["family"] == "co2_budget"].iloc[0]
    assert co2["dual"] == pytest.approx(-20 / 1.5) and co2["n_binding"] == 1
    assert co2["rhs"] == pytest.approx(150.0) and co2["activity"] == pytest.approx(150.0)
    cap = t[t["family"] == "plant_capacity"].set_index("key")
    assert cap.loc["A|2026-01-05", "activity"] == pytest.approx(100 - 52 / 1.5)
    assert set(t["family"]) >= {"plant_balance", "market_balance", "plant_capacity", "lane_capacity", "co2_budget"}
    cbc = run_plan(tiny, {"horizon_weeks": 1, "co2_budget_t": 150, "solver": "cbc"}).tables["constraints"]
    assert cbc["dual"].to_numpy() == pytest.approx(t["dual"].to_numpy(), rel=1e-6, abs=1e-6)


def test_shifts_lp_relaxation_and_milp(make):
    # A: 2 shifts of 60 units, 1000 EUR per shift-week; demand 70 (B has no capacity)
    inputs = make(cap_a=120, cap_b=0, demand=70)
    inputs.plant_operations = pd.DataFrame({"plant_id": ["A"], "min_utilisation_pct": [0.0],
                                            "max_change_pct_per_week": [None], "max_stock_units": [None],
                                            "shifts_max": [2.0], "shift_cost_eur_per_week": [1000.0]})
    lp = run_plan(inputs, {"horizon_weeks": 1})
    assert lp.kpis["shift_weeks"] == pytest.approx(70 / 60)  # the relaxation runs 7/6 of a shift
    assert lp.kpis["objective_eur"] == pytest.approx(70 * 110 + 1000 * 7 / 6)
    mip = run_plan(inputs, {"horizon_weeks": 1, "operating_mode": "milp", "co2_budget_t": 1e6})
    assert mip.kpis["shift_weeks"] == pytest.approx(2.0)
    assert mip.kpis["objective_eur"] == pytest.approx(70 * 110 + 2000)
    assert mip.kpis["mip_gap_pct"] <= 0.5 and mip.kpis["mip_bound_eur"] <= mip.kpis["objective_eur"] + 1e-6
    assert mip.kpis["fixed_lp_objective_eur"] == pytest.approx(mip.kpis["mip_objective_eur"], rel=1e-9)
    # duals of the fixed-shift LP: one more unit of demand costs 110 EUR (capacity left in the 2nd shift)
    mb = mip.tables["constraints"]
    assert mb.loc[mb["family"] == "market_balance", "dual"].iloc[0] == pytest.approx(110.0)


def test_milp_budget_resolve_keeps_objective_and_duals(make):
    inputs = make(cap_a=120, cap_b=120, demand=70)
    inputs.plant_operations = pd.DataFrame({"plant_id": ["A", "B"], "min_utilisation_pct": [0.0, 0.0],
                                            "max_change_pct_per_week": [None, None], "max_stock_units": [None, None],
                                            "shifts_max": [2.0, 2.0], "shift_cost_eur_per_week": [1000.0, 1000.0]})
    # one shift each (A 60 + B 10 costs as much as two at A); a 20 % cut then moves more to B at 13.333 EUR/t
    o = run_plan(inputs, {"horizon_weeks": 1, "operating_mode": "milp", "co2_reduction_pct": 20})
    k = o.kpis
    assert k["shift_weeks"] == pytest.approx(2.0)
    assert k["objective_eur"] == pytest.approx(k["fixed_lp_objective_eur"], rel=1e-9)
    assert k["co2_mac_eur_per_t"] == pytest.approx(20 / 1.5)
    t = o.tables["constraints"]
    assert t.loc[t["family"] == "co2_budget", "dual"].iloc[0] == pytest.approx(-k["co2_mac_eur_per_t"])


def _fixed_scope1(inputs, plant: str, t_per_week: float) -> None:
    c = inputs.coefficients
    c.loc[(c["plant_id"] == plant) & (c["scope"] == "scope1"), "fixed_tco2e"] = t_per_week


def _shift_ops(plants: list[str], share: list[float], shifts: float = 2.0) -> pd.DataFrame:
    n = len(plants)
    return pd.DataFrame({"plant_id": plants, "min_utilisation_pct": [0.0] * n,
                         "max_change_pct_per_week": [None] * n, "max_stock_units": [None] * n,
                         "shifts_max": [shifts] * n, "shift_cost_eur_per_week": [1000.0] * n,
                         "shift_fixed_share_pct": share})


def test_fixed_emissions_follow_the_shifts_run(make):
    # A: 2 shifts of 60 units, 30 t scope-1 fixed per week of which 60 % goes with the shifts (9 t per shift-week)
    inputs = make(cap_a=120, cap_b=0, demand=70)
    _fixed_scope1(inputs, "A", 30.0)
    inputs.plant_operations = _shift_ops(["A"], [60.0])
    lp = run_plan(inputs, {"horizon_weeks": 1, "carbon_price_eur_per_t": 10.0})
    k = lp.kpis
    assert k["shift_weeks"] == pytest.approx(70 / 60)
    assert k["co2e_shift_following_t"] == pytest.approx(9.0 * 70 / 60)  # 10.5 t
    assert k["co2e_scope1_t"] == pytest.approx(70 * 1.0 + 12.0 + 10.5)  # marginal + stays + follows
    gross = k["co2e_scope1_t"] + 70 * 1.0 + 70 * 0.02  # + scope 2 market + road freight 2 t x 100 km x 0.1 kg
    assert k["objective_eur"] == pytest.approx(70 * 110 + 1000 * 70 / 60 + 10.0 * gross)
    sh = lp.tables["shifts"].iloc[0]
    assert (sh["shifts_run"], sh["shifts_max"], sh["output_units"]) == pytest.approx((70 / 60, 2.0, 70.0))
    assert sh["shift_following_tco2e"] == pytest.approx(10.5)
    # MILP: whole shifts, so both shift-weeks run and their full 18 t are booked
    mip = run_plan(inputs, {"horizon_weeks": 1, "operating_mode": "milp"})
    assert mip.kpis["shift_weeks"] == pytest.approx(2.0)
    assert mip.kpis["co2e_scope1_t"] == pytest.approx(70 + 12.0 + 18.0)
    # without the share the whole 30 t stays, whatever the shifts
    inputs.plant_operations = _shift_ops(["A"], [None])
    assert run_plan(inputs, {"horizon_weeks": 1}).kpis["co2e_scope1_t"] == pytest.approx(70 + 30.0)


def test_shift_following_emissions_lower_the_co2_price_and_equal_the_finite_difference(make):
    # A (100 EUR, 2.0 t/unit at the plant) has 60 t/week fixed, half of it follows its 2 shifts of 60 units:
    # in the LP a unit at A also books 30 t / 120 units = 0.25 t of shift emissions. B costs 20 EUR more and
    # emits 0.5 t. Moving a unit saves 1.75 t (1.5 without the shift share): price 20 / 1.75 EUR/t.
    inputs = make(cap_a=120, cap_b=120, demand=70)
    _fixed_scope1(inputs, "A", 60.0)
    inputs.plant_operations = _shift_ops(["A", "B"], [50.0, 50.0])
    base = 70 * (2.0 + 0.02) + 30.0 + 0.25 * 70  # all at A
    o = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": 170.0})
    assert o.kpis["co2_baseline_t"] == pytest.approx(base)
    assert o.kpis["co2_mac_eur_per_t"] == pytest.approx(20 / 1.75)
    moved = (base - 170.0) / 1.75
    assert o.kpis["output_units_by_plant"]["B"] == pytest.approx(moved)
    assert o.kpis["shift_weeks"] == pytest.approx(70 / 60)  # (70 - moved) / 60 at A + moved / 60 at B
    assert fd_dual(o.model, "co2_budget", 0) == pytest.approx(-20 / 1.75, rel=1e-6)
    # the renewable and heat cover rows are unaffected here (no levers): the budget row holds the shift terms
    t = o.tables["constraints"]
    assert t.loc[t["family"] == "co2_budget", "activity"].iloc[0] == pytest.approx(170.0 - 30.0)


def test_milp_through_cbc_runs_whole_shifts_with_duals(make):
    # the instance of test_shifts_lp_relaxation_and_milp, solved by CBC: same whole-shift plan and duals as HiGHS
    inputs = make(cap_a=120, cap_b=0, demand=70)
    inputs.plant_operations = _shift_ops(["A"], [None])
    cbc = run_plan(inputs, {"horizon_weeks": 1, "operating_mode": "milp", "solver": "cbc"})
    hs = run_plan(inputs, {"horizon_weeks": 1, "operating_mode": "milp"})
    assert cbc.kpis["shift_weeks"] == pytest.approx(2.0) == hs.kpis["shift_weeks"]
    assert cbc.kpis["objective_eur"] == pytest.approx(70 * 110 + 2000) == hs.kpis["objective_eur"]
    assert cbc.kpis["fixed_lp_objective_eur"] == pytest.approx(cbc.kpis["mip_objective_eur"], rel=1e-9)
    assert cbc.kpis["mip_gap_pct"] is None and "0.50 %" in cbc.kpis["mip_gap_note"]
    mb = cbc.tables["constraints"]
    assert mb.loc[mb["family"] == "market_balance", "dual"].iloc[0] == pytest.approx(110.0)
    # the shift columns are continuous again afterwards (an LP re-run of the same model stays an LP)
    assert not any(cbc.model.variables[i].isInteger() for i in cbc.model.shifts["col"])


def test_headline_states_the_milp_gap_or_the_relaxation(make):
    from co2plan.pipeline import _shift_line
    from co2plan.report import format_kpi, kpi_label
    from co2plan.report_data import HEADLINE

    inputs = make(cap_a=120, cap_b=0, demand=70)
    _fixed_scope1(inputs, "A", 30.0)
    inputs.plant_operations = _shift_ops(["A"], [60.0])
    mip = run_plan(inputs, {"horizon_weeks": 1, "operating_mode": "milp"}).kpis
    line = _shift_line(mip)
    assert f"gap {mip['mip_gap_pct']:.3f} % to the best bound {mip['mip_bound_eur']:,.0f} EUR" in line
    assert "2.0 shift-weeks, 18 t CO2e" in line
    cbc = run_plan(inputs, {"horizon_weeks": 1, "operating_mode": "milp", "solver": "cbc"}).kpis
    assert "within its limit of 0.50 %" in _shift_line({**cbc, "mip_gap_pct": float("nan")})
    lp = run_plan(inputs, {"horizon_weeks": 1}).kpis
    assert "relaxed to fractions" in _shift_line(lp) and "10 t CO2e" in _shift_line(lp)  # 10.5 t
    # the report's headline table carries the same figures with a label and a unit
    assert {"mip_gap_pct", "mip_bound_eur", "operating_mode", "co2e_shift_following_t"} <= set(HEADLINE)
    assert format_kpi("mip_gap_pct", mip["mip_gap_pct"]).endswith(" %")
    assert "gap" in kpi_label("mip_gap_pct")


def test_labour_floor_implies_whole_shifts_and_a_slack_budget_sets_no_price(make):
    # A: floor 50 % of 120 = 60 units, 3 shifts of 40: the floor needs ceil(3 x 0.5) = 2 shifts every week
    inputs = make(cap_a=120, cap_b=0, demand=10)
    ops = _shift_ops(["A"], [None], shifts=3.0)
    ops["min_utilisation_pct"] = 50.0
    inputs.plant_operations = ops
    o = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": 1e6})
    assert o.kpis["shift_weeks"] == pytest.approx(2.0)  # the LP too: 1.5 shift-weeks cannot be run
    assert o.kpis["output_units"] == pytest.approx(60.0) and o.kpis["min_util_shortfall_units"] == pytest.approx(0)
    assert o.kpis["co2_mac_eur_per_t"] == 0.0
    assert o.kpis["co2_price_setter"].startswith("the CO2 budget is not binding")


def test_milp_price_setter_reads_the_fixed_shift_lp(make):
    inputs = make(cap_a=120, cap_b=120, demand=70)
    inputs.plant_operations = _shift_ops(["A", "B"], [None, None])
    k = run_plan(inputs, {"horizon_weeks": 1, "operating_mode": "milp", "co2_reduction_pct": 20}).kpis
    assert k["co2_mac_eur_per_t"] == pytest.approx(20 / 1.5)
    assert k["co2_price_setter"] == "moving production to lower-carbon plants sets the CO2 price of 13.3 EUR/t"
    assert k["objective_eur"] == pytest.approx(k["fixed_lp_objective_eur"], rel=1e-9)  # tables = the fixed LP
