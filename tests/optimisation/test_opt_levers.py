"""Abatement levers, the MAC curve, the shadow-price setter and the budget's boundary, scopes and trajectory
on the tiny instance (conftest.py): moving a unit from A to B costs 20 EUR and saves 1.5 t (13.333 EUR/t).
Plant A is in DE with a residual mix of 0.5 t/MWh and gas at 0.2 t/MWh."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimisation.emissions import base_year_totals, boundary_shares, periods, trajectory_budget
from optimisation.plan import run_plan

MAC_SHIFT = 20.0 / 1.5


def with_levers(inputs, eac_mwh_horizon: float = 60.0, heat: bool = False):
    ef = pd.DataFrame({"factor_id": ["rm", "ng"], "activity": ["electricity_residual_mix", "natural_gas"],
                       "gas": "CO2e", "value": [0.5, 0.2], "unit": "kg/kWh", "source": "test", "year": 2025,
                       "region": ["DE", "DE"], "version": "t", "basis": None})
    inputs.emission_factors = pd.concat([inputs.emission_factors, ef], ignore_index=True)
    # availability is per year; a 1-week horizon may use 1/52 of it
    inputs.renewable_supply = pd.DataFrame({"market": ["DE"], "instrument": ["EAC"], "year": [2026],
                                            "price_eur_per_mwh": [5.0], "available_mwh": [eac_mwh_horizon * 52],
                                            "factor_kg_per_kwh": [0.0], "source": ["test"]})
    if heat:
        inputs.heat_options = pd.DataFrame({
            "option": ["biomethane", "electric_boiler"], "market": "DE", "year": 2026,
            "cost_eur_per_mwh_gas_replaced": [40.0, 10.0], "efficiency_ratio": [0.0, 0.95],
            "residual_tco2e_per_mwh": [0.0, 0.0], "available_mwh": [1e6, 1e6], "max_share_of_gas": [0.5, 0.5],
            "source": "test"})
    return inputs


def family_dual(o, name: str, i: int = 0) -> float:
    fam = o.model.families[name]
    return o.model.constraints[fam.first + i].pi


def test_eac_sets_the_price_until_it_runs_out(make):
    inputs = with_levers(make())
    o = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": 180})
    # 22 t to cut; EACs abate 0.5 t/MWh at 5 EUR/MWh = 10 EUR/t < 13.333: 44 MWh, 220 EUR
    assert o.kpis["objective_eur"] == pytest.approx(11000 + 44 * 5)
    assert o.kpis["co2_mac_eur_per_t"] == pytest.approx(10.0)
    assert o.kpis["co2_price_setter_family"] == "lever:eac"
    assert "EACs at A (DE" in o.kpis["co2_price_setter"]
    assert o.kpis["co2e_scope2_market_t"] == pytest.approx(100 - 22)  # market-based scope 2 falls
    assert o.kpis["co2e_scope2_location_t"] == pytest.approx(150)  # location-based does not
    mac = o.tables["mac_curve"]
    row = mac[mac["lever"] == "eac"].iloc[0]
    assert (row["abated_t"], row["cost_eur_per_t"], row["potential_t"]) == pytest.approx((22.0, 10.0, 30.0))
    assert bool(row["sets_price"])
    levers = o.tables["levers"]
    assert levers["mwh"].sum() == pytest.approx(44) and levers["abated_t"].sum() == pytest.approx(22)
    # budget 150: all 60 MWh (30 t) bought, the other 22 t by moving production: the shift sets the price
    o = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": 150})
    assert o.kpis["objective_eur"] == pytest.approx(11000 + 60 * 5 + 22 / 1.5 * 20)
    assert o.kpis["co2_mac_eur_per_t"] == pytest.approx(MAC_SHIFT)
    assert o.kpis["co2_price_setter_family"] == "production"
    # the availability row's dual: a further MWh saves 0.5 t at 13.333 EUR/t and costs 5 EUR
    assert family_dual(o, "lever_availability") == pytest.approx(-(0.5 * MAC_SHIFT - 5.0))


def test_biomethane_sets_the_price_when_nothing_else_is_left(make):
    inputs = with_levers(make(cap_b=0), eac_mwh_horizon=0.0, heat=True)
    o = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": 180, "unmet_penalty_eur_per_unit": 10_000})
    # (with the default price of 500 EUR, not selling a car would abate 2.02 t for 390 EUR: 193 EUR/t)
    # biomethane: 40 EUR/MWh over 0.2 t/MWh = 200 EUR/t; 22 t -> 110 MWh (of at most 50 % of 500 MWh gas)
    assert o.kpis["co2_mac_eur_per_t"] == pytest.approx(200.0)
    assert o.kpis["objective_eur"] == pytest.approx(11000 + 110 * 40)
    assert o.kpis["co2e_scope1_t"] == pytest.approx(100 - 22)
    assert o.kpis["co2_price_setter_family"] == "lever:biomethane"
    mac = o.tables["mac_curve"]
    # an electric boiler on a 0.5 t/MWh grid adds 0.475 t of scope 2 per 0.2 t of scope 1 saved: never used
    assert mac["key"].str.contains("non-abating").any()
    assert "electric_boiler" not in set(o.tables["levers"]["lever"])


def test_budget_beyond_the_levers_is_named_as_the_penalty(make):
    inputs = with_levers(make(cap_b=0), eac_mwh_horizon=10.0)
    o = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": 150, "co2_slack_penalty_eur_per_t": 500,
                          "unmet_penalty_eur_per_unit": 10_000})
    assert o.kpis["co2_mac_eur_per_t"] == pytest.approx(500.0)
    assert o.kpis["co2_price_setter_family"] == "slack"
    assert "budget-excess penalty" in o.kpis["co2_price_setter"]
    assert o.kpis["on_track"] is False and o.kpis["off_track_t"] == pytest.approx(202 - 5 - 150)


def test_boundary_counts_plants_by_control_and_equity(make):
    inputs = make(plant_c=True)
    inputs.plants.loc[inputs.plants["plant_id"] == "C", ["operational_control", "equity_share"]] = [False, 0.5]
    # C: 110 + 10 EUR delivered, 1.0 + 0.02 t/unit; outside operational control it counts 0 t
    opcon = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": 100, "boundary": "operational_control"})
    assert opcon.kpis["co2_mac_eur_per_t"] == pytest.approx(10 / 2.02)  # moving a unit to C saves 2.02 t
    moved = 102 / 2.02
    assert opcon.kpis["co2e_outside_boundary_t"] == pytest.approx(moved * 1.02)
    assert opcon.kpis["boundary"] == "operational_control"
    equity = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": 100, "boundary": "equity_share"})
    assert equity.kpis["co2_mac_eur_per_t"] == pytest.approx(10 / (2.02 - 0.51))  # C counts half
    full = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": 150, "boundary": "full"})
    assert full.kpis["co2e_outside_boundary_t"] == pytest.approx(0.0)
    assert full.kpis["co2_mac_eur_per_t"] == pytest.approx(10.0)  # C saves 1.0 t/unit for 10 EUR


def test_boundary_shares_match_the_accounting_rule(make):
    from features.accounting import boundary_shares as accounting_shares

    plants = make(plant_c=True).plants
    plants.loc[2, ["operational_control", "equity_share"]] = [False, 0.4]
    for b in ("operational_control", "equity_share"):
        pd.testing.assert_series_equal(boundary_shares(plants, b), accounting_shares(plants, b), check_names=False)


def test_scopes_are_declared_once(tiny):
    base = run_plan(tiny, {"horizon_weeks": 1})
    loc = run_plan(tiny, {"horizon_weeks": 1, "budget_scopes": ["scope1", "scope2_market", "scope2_location",
                                                                   "scope3_cat4"]})
    assert loc.kpis["co2e_total_t"] - base.kpis["co2e_total_t"] == pytest.approx(1.5 * 100)  # 1.5 x x_A
    assert loc.kpis["co2_plan_t_by_period"]["horizon"] == pytest.approx(loc.kpis["co2e_total_t"])


def test_trajectory_periods_and_base_year():
    weeks = pd.date_range("2027-03-22", periods=4, freq="7D")  # two in Q1, two in Q2 of 2027
    per = periods(weeks, "quarter")
    assert per["period"].tolist() == ["2027Q1", "2027Q1", "2027Q2", "2027Q2"]
    b = trajectory_budget(1000.0, 2024, 4.2, weeks, "quarter")
    assert b["2027Q1"] == pytest.approx(2 * 874.0 * 7 / 365)
    ledger = pd.DataFrame({"week": pd.date_range("2023-10-02", periods=70, freq="7D"), "plant_id": "A",
                           "scope": "scope1", "co2e_t": 10.0})
    plants = pd.DataFrame({"plant_id": ["A"], "operational_control": [True], "equity_share": [1.0]})
    year, total = base_year_totals(ledger, plants, "operational_control", ["scope1"], None)
    assert (year, total) == (2024, pytest.approx(10.0 * 53))  # 2023 is partial: the first full year (53 Mondays)
    with pytest.raises(ValueError, match="not a full year"):
        base_year_totals(ledger, plants, "operational_control", ["scope1"], 2023)


def test_trajectory_budget_per_quarter_has_its_own_price(make):
    inputs = make(weeks=1)
    o = run_plan(inputs, {"horizon_weeks": 1, "trajectory_rate_pct": 4.2, "base_year": 2025,
                          "base_year_co2e_t": 181.8 * 365 / 7 / (1 - 0.042)})
    k = o.kpis
    target = k["co2_target_t_by_period"]["horizon"]
    assert target == pytest.approx(181.8)  # one week of 2026: base x (1 - 4.2 %) x 7 / 365
    assert k["co2e_total_t"] == pytest.approx(target)
    assert k["co2_mac_eur_per_t"] == pytest.approx(MAC_SHIFT)
    assert k["cost_to_stay_on_track_eur"] == pytest.approx((202 - target) / 1.5 * 20)
    assert np.isfinite(k["co2_baseline_t"])


def test_setter_text_nets_out_the_carbon_price(make):
    inputs = with_levers(make())
    o = run_plan(inputs, {"horizon_weeks": 1, "co2_budget_t": 180, "carbon_price_eur_per_t": 4.0})
    # EACs cost 10 EUR/t; with 4 EUR/t already charged on every tonne the budget's price is 6 EUR/t
    assert o.kpis["co2_mac_eur_per_t"] == pytest.approx(6.0)
    assert "10.0 EUR/t, 6.0 net of the 4 EUR/t carbon price" in o.kpis["co2_price_setter"]


def test_mac_curve_on_the_demo_is_consistent():
    """On the demo sample with its lever tables: no option abates more than its potential (the grouped rows mix
    plants with different grid factors), exactly one row sets the price when a lever sets it, and that row is
    bought (partly, if any row of its family is partly bought)."""
    from features.sample import generate
    from optimisation.inputs import PlanInputs

    inputs = PlanInputs.from_tables(generate("demo"), horizon_weeks=8)
    o = run_plan(inputs, {"horizon_weeks": 8, "co2_reduction_pct": 10})
    mac = o.tables["mac_curve"]
    assert len(mac) and (mac["abated_t"] <= mac["potential_t"] * (1 + 1e-9) + 1e-6).all()
    assert ((mac["used_share"] >= 0) & (mac["used_share"] <= 1)).all()
    fam = o.kpis["co2_price_setter_family"]
    if str(fam).startswith("lever:"):
        assert int(mac["sets_price"].sum()) == 1
        row = mac[mac["sets_price"]].iloc[0]
        assert row["lever"] == fam.split(":", 1)[1] and row["abated_t"] > 0
        same = mac[(mac["lever"] == row["lever"]) & (mac["abated_t"] > 0)]
        if ((same["used_share"] > 1e-6) & (same["used_share"] < 1 - 1e-6)).any():
            assert row["used_share"] < 1 - 1e-6
    else:
        assert int(mac["sets_price"].sum()) <= 1
