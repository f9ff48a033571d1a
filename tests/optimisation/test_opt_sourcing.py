"""Component sourcing in the plan (optimisation.sourcing), on the tiny instance of conftest.py.

Plants A (100 EUR/unit + 10 freight, 2.02 t/unit) and B (120 + 10, 0.52 t/unit), market M, demand 100,
penalty (price) 500 EUR per unit unmet. Every vehicle needs 75 kWh of battery pack.
Single-sourced case: A buys from S1 (7500 kWh/week = 100 vehicles), B from S2 (3000 kWh = 40 vehicles).
"""

from __future__ import annotations

import pandas as pd
import pytest

from optimisation.inputs import InputError
from optimisation.plan import run_plan
from optimisation.scenario import ScenarioParams

KWH = 75.0
ALL_SCOPES = ["scope1", "scope2_market", "scope3_cat4", "scope3_cat1"]


def _with_sourcing(make, rows, **kw):
    """rows: (plant, supplier, country, capacity kWh/week, t CO2e per kWh, price EUR/kWh)."""
    inp = make(**kw)
    inp.sourcing_options = pd.DataFrame(rows, columns=["plant_id", "supplier_id", "country", "capacity_per_week",
                                                       "tco2e_per_unit", "price_eur_per_unit"]).assign(
        commodity="battery_pack", risk=0.0)
    inp.component_needs = pd.DataFrame({"product_id": ["K"], "commodity": ["battery_pack"], "qty_per_unit": [KWH]})
    return inp


SINGLE = [("A", "S1", "PL", 7500.0, 0.08, 100.0), ("B", "S2", "KR", 3000.0, 0.06, 100.0)]


def _units(o, plant):
    return o.kpis["output_units_by_plant"][plant]


def test_absent_tables_leave_the_model_unchanged(make):
    plain = run_plan(make(), {"horizon_weeks": 1})
    off = run_plan(_with_sourcing(make, SINGLE), {"horizon_weeks": 1, "use_sourcing": False})
    assert off.model.num_variables == plain.model.num_variables
    assert len(off.model.constraints) == len(plain.model.constraints)
    assert off.kpis["objective_eur"] == pytest.approx(plain.kpis["objective_eur"], abs=1e-9)
    # options that never bind, at one price and no risk cost: same plan and objective; 2 more columns y and
    # 2 shortfall columns (one per plant and week)
    loose = run_plan(_with_sourcing(make, [("A", "S1", "PL", 1e6, 0.08, 100.0), ("B", "S2", "KR", 1e6, 0.06, 100.0)]),
                     {"horizon_weeks": 1})
    assert loose.model.num_variables == plain.model.num_variables + 4
    assert loose.kpis["sourcing_shortfall_units"] == 0.0
    assert loose.kpis["objective_eur"] == pytest.approx(plain.kpis["objective_eur"], abs=1e-9)
    assert "sourcing" in plain.tables and plain.tables["sourcing"].empty
    assert "co2e_scope3_cat1_t" not in plain.kpis


def test_sourcing_table_and_cat1_reported_but_not_counted_by_default(make):
    o = run_plan(_with_sourcing(make, SINGLE), {"horizon_weeks": 1})
    s = o.tables["sourcing"].set_index("supplier_id")
    assert s.loc["S1", "units"] == pytest.approx(100 * KWH)  # A builds all 100 (cheaper)
    assert s.loc["S2", "units"] == pytest.approx(0.0, abs=1e-6)
    assert o.kpis["co2e_scope3_cat1_t"] == pytest.approx(7500 * 0.08)
    plain = run_plan(make(), {"horizon_weeks": 1})
    assert o.kpis["co2e_total_t"] == pytest.approx(plain.kpis["co2e_total_t"])  # not a budget scope


def test_outage_of_the_single_source_moves_production_and_leaves_demand_unmet(make):
    o = run_plan(_with_sourcing(make, SINGLE), {"horizon_weeks": 1, "supplier_outage": [{"supplier_id": "S1"}]})
    # A loses its only pack supplier -> 0; B is limited by S2: 3000 / 75 = 40; unmet 100 - 40 = 60
    assert _units(o, "A") == pytest.approx(0.0, abs=1e-6)
    assert _units(o, "B") == pytest.approx(40.0)
    assert o.kpis["unmet_units"] == pytest.approx(60.0)
    assert o.kpis["objective_eur"] == pytest.approx(40 * 130.0 + 60 * 500.0)
    moved = o.tables["supplier_outage"].set_index(["kind", "id"])
    assert moved.loc[("plant", "A"), "delta_units"] == pytest.approx(-100.0)
    assert moved.loc[("plant", "B"), "delta_units"] == pytest.approx(40.0)
    assert moved.loc[("market_unmet", "M"), "delta_units"] == pytest.approx(60.0)
    assert bool(moved.loc[("plant", "A"), "hit"]) and not bool(moved.loc[("plant", "B"), "hit"])
    assert o.kpis["supplier_outage_unmet_delta_units"] == pytest.approx(60.0)
    head = o.kpis["supplier_outage_headline"]
    assert "S1" in head and "A -100" in head and "B +40" in head and "+60" in head


def test_supplier_capacity_dual_equals_a_finite_difference(make):
    params = {"horizon_weeks": 1, "supplier_outage": [{"supplier_id": "S1"}]}
    o = run_plan(_with_sourcing(make, SINGLE), params)
    c = o.tables["constraints"]
    row = c[(c["family"] == "supplier_capacity") & c["key"].str.startswith("B|S2")]
    dual = float(row["dual"].iloc[0])
    # one more kWh at S2 lets B build 1/75 vehicle more instead of losing it: (130 - 500) / 75
    assert dual == pytest.approx((130.0 - 500.0) / KWH)
    bigger = [SINGLE[0], ("B", "S2", "KR", 3000.0 + 75.0, 0.06, 100.0)]
    o2 = run_plan(_with_sourcing(make, bigger), params)
    assert (o2.kpis["objective_eur"] - o.kpis["objective_eur"]) / 75.0 == pytest.approx(dual, rel=1e-6)


def test_dual_sourced_plant_draws_its_other_qualified_supplier(make):
    # A also qualifies S3: 3750 kWh (50 vehicles) at 1 EUR/kWh above S1 -> 75 EUR premium per vehicle
    rows = [*SINGLE, ("A", "S3", "CN", 3750.0, 0.05, 101.0)]
    o = run_plan(_with_sourcing(make, rows), {"horizon_weeks": 1, "supplier_outage": [{"supplier_id": "S1"}]})
    # B first (130 EUR), then A via S3 (110 + 75 = 185 EUR < 500), 40 + 50 built, 10 unmet
    assert _units(o, "B") == pytest.approx(40.0)
    assert _units(o, "A") == pytest.approx(50.0)
    assert o.kpis["unmet_units"] == pytest.approx(10.0)
    assert o.kpis["objective_eur"] == pytest.approx(40 * 130.0 + 50 * 185.0 + 10 * 500.0)
    s = o.tables["sourcing"].set_index("supplier_id")
    assert s.loc["S3", "units"] == pytest.approx(3750.0) and s.loc["S1", "capacity_units"] == 0.0


def test_country_outage_at_half_capacity_for_part_of_the_horizon(make):
    o = run_plan(_with_sourcing(make, SINGLE, weeks=2), {"horizon_weeks": 2, "terminal_stock_pct": 0,
                                                     "backorder_max_weeks": 0, "max_stock_weeks": 0,
                                                     "supplier_outage": [{"country": "PL", "capacity_pct": 50,
                                                                          "from_week": 2}]})
    s = o.tables["sourcing"]
    cap = s[s["supplier_id"] == "S1"].sort_values("week")["capacity_units"].tolist()
    assert cap == [7500.0, 3750.0]
    plan = o.tables["production_plan"].groupby(["plant_id", "week"])["units"].sum()
    wk2 = sorted(o.tables["production_plan"]["week"].unique())[1]
    assert plan[("A", wk2)] == pytest.approx(50.0) and plan[("B", wk2)] == pytest.approx(40.0)


def test_cat1_in_the_budget_scopes_moves_volume_to_the_cleaner_supplier(make):
    # B closed (capacity 0): A builds 100 and needs 7500 kWh; S1 0.10 t/kWh, S3 0.02 t/kWh at +0.5 EUR/kWh
    rows = [("A", "S1", "PL", 7500.0, 0.10, 100.0), ("A", "S3", "CN", 7500.0, 0.02, 100.5)]
    base = run_plan(_with_sourcing(make, rows, cap_b=0.0), {"horizon_weeks": 1, "budget_scopes": ALL_SCOPES})
    assert base.kpis["co2e_scope3_cat1_t"] == pytest.approx(750.0)  # all from the cheaper S1
    assert base.kpis["co2e_total_t"] == pytest.approx(100 * 2.02 + 750.0)
    # budget 202 + 600: S3 must carry (750 - 600) / (0.10 - 0.02) = 1875 kWh; the price is 0.5 / 0.08 EUR/t
    o = run_plan(_with_sourcing(make, rows, cap_b=0.0), {"horizon_weeks": 1, "budget_scopes": ALL_SCOPES,
                                                    "co2_budget_t": 802.0})
    s = o.tables["sourcing"].set_index("supplier_id")
    assert s.loc["S3", "units"] == pytest.approx(1875.0, rel=1e-6)
    assert o.kpis["co2e_total_t"] == pytest.approx(802.0, rel=1e-6)
    assert o.kpis["co2_mac_eur_per_t"] == pytest.approx(0.5 / 0.08, rel=1e-6)
    # without cat 1 in the scopes the same budget does not bind and nothing moves
    o3 = run_plan(_with_sourcing(make, rows, cap_b=0.0), {"horizon_weeks": 1, "co2_budget_t": 802.0})
    assert o3.tables["sourcing"].set_index("supplier_id").loc["S3", "units"] == pytest.approx(0.0, abs=1e-6)


def test_outage_ids_are_validated(make):
    with pytest.raises(InputError, match="S9"):
        run_plan(_with_sourcing(make, SINGLE), {"horizon_weeks": 1, "supplier_outage": [{"supplier_id": "S9"}]})
    with pytest.raises(InputError, match="country 'FR'"):
        run_plan(_with_sourcing(make, SINGLE), {"horizon_weeks": 1, "supplier_outage": [{"country": "FR"}]})
    with pytest.raises(InputError, match="sourcing_options"):
        run_plan(make(), {"horizon_weeks": 1, "supplier_outage": [{"supplier_id": "S1"}]})
    with pytest.raises(ValueError, match="one of them"):
        ScenarioParams(supplier_outage=[{"supplier_id": "S1", "country": "PL"}])
    with pytest.raises(ValueError, match="beyond horizon"):
        ScenarioParams(horizon_weeks=4, supplier_outage=[{"supplier_id": "S1", "from_week": 5}])


def test_tier2_outage_reaches_the_pack_maker_through_its_exposure(make):
    # S1 (A's pack maker) buys 60 % of its cells from C1: C1 out -> S1 keeps 40 % = 3000 kWh = 40 vehicles
    inp = _with_sourcing(make, SINGLE)
    inp.sourcing_upstream = pd.DataFrame({"supplier_id": ["S1", "S1"], "node_id": ["C1", "country:KR"],
                                          "country": ["KR", "KR"], "exposure": [0.6, 0.6]})
    o = run_plan(inp, {"horizon_weeks": 1, "supplier_outage": [{"supplier_id": "C1"}]})
    assert o.tables["sourcing"].set_index("supplier_id").loc["S1", "capacity_units"] == pytest.approx(3000.0)
    assert _units(o, "A") == pytest.approx(40.0) and _units(o, "B") == pytest.approx(40.0)
    assert o.kpis["unmet_units"] == pytest.approx(20.0)
    assert o.kpis["objective_eur"] == pytest.approx(40 * 110.0 + 40 * 130.0 + 20 * 500.0)
    # a Korea outage: S2 is Korean (out), S1 keeps 40 %
    o2 = run_plan(inp, {"horizon_weeks": 1, "supplier_outage": [{"country": "KR"}]})
    assert _units(o2, "A") == pytest.approx(40.0) and _units(o2, "B") == pytest.approx(0.0, abs=1e-6)
    assert "A" in o2.kpis["supplier_outage_headline"] and o2.kpis["supplier_outage_plants_hit"] == 2


def test_risk_cost_moves_volume_to_the_safer_supplier(make):
    # A: S1 risk 0.8 at 100 EUR/kWh, S3 risk 0.1 at 101 EUR/kWh, each able to cover the whole need
    inp = _with_sourcing(make, [("A", "S1", "PL", 7500.0, 0.08, 100.0), ("A", "S3", "CN", 7500.0, 0.08, 101.0)],
                         cap_b=0.0)
    inp.sourcing_options["risk"] = [0.8, 0.1]
    cheap = run_plan(inp, {"horizon_weeks": 1})
    assert cheap.tables["sourcing"].set_index("supplier_id").loc["S1", "units"] == pytest.approx(7500.0)
    assert cheap.kpis["sourcing_risk_weighted"] == pytest.approx(0.8)
    # 10 EUR per kWh at risk 1: S1 costs 0 + 8, S3 1 + 1 -> all to S3
    safe = run_plan(inp, {"horizon_weeks": 1, "sourcing_risk_eur_per_unit": 10.0})
    assert safe.tables["sourcing"].set_index("supplier_id").loc["S3", "units"] == pytest.approx(7500.0)
    assert safe.kpis["sourcing_risk_weighted"] == pytest.approx(0.1)
    assert safe.kpis["cost_sourcing_eur"] == pytest.approx(7500.0 * (1.0 + 1.0))


def test_max_share_splits_the_plants_need(make):
    inp = _with_sourcing(make, [("A", "S1", "PL", 7500.0, 0.08, 100.0), ("A", "S3", "CN", 7500.0, 0.08, 101.0)],
                         cap_b=0.0)
    inp.sourcing_options["max_share"] = [0.6, None]
    o = run_plan(inp, {"horizon_weeks": 1})
    s = o.tables["sourcing"].set_index("supplier_id")["units"]
    assert s["S1"] == pytest.approx(0.6 * 7500.0) and s["S3"] == pytest.approx(0.4 * 7500.0)
    c = o.tables["constraints"]
    dual = float(c.loc[c["family"] == "sourcing_share_max", "dual"].iloc[0])
    assert dual == pytest.approx(-1.0 / 1.0, rel=1e-6)  # one more kWh of S1's share saves S3's 1 EUR premium
