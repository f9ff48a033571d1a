"""Issue 15: the demo's new carriers (coal, LPG, steam, district heat, biomethane) through the door, the ledger's
by-carrier totals, and Scope 3 category 1 in the coverage statement.

Hand-computed values, AR5 (CH4 28, N2O 265; IPCC AR5 WG1 Table 8.A.1):
- coal (bituminous), China, per tonne: IPCC 2006 Vol. 2 Table 1.2 NCV 25.8 GJ/t x Table 2.3 (94.6 kg CO2,
  10 g CH4, 1.5 g N2O per GJ) = 25.8 x 95.2775 kg = 2.4581595 t CO2e;
- steam, US, per mmBtu: US EPA GHG Emission Factors Hub (2024) Table 7 as carried in the library (66.33 kg CO2,
  1.25 g CH4, 0.125 g N2O) = 66.398125 kg CO2e, both Scope 2 methods (no public residual factor);
- biomethane, US, per mmBtu: Hub Table 1 other biomass gases 52.07 kg CO2 (biogenic, outside the scopes),
  3.2 g CH4, 0.63 g N2O = 0.25655 kg CO2e in Scope 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import accounting as acc
from features.accounting.stage import by_carrier, ledger_carrier
from features.factors import reference_factors

REL = 1e-9
W = pd.Timestamp("2024-01-01")


def _plants():
    rows = [("PCN", "CN", 1.0, True), ("PUS", "US", 0.5, True), ("PJV", "US", 0.5, False)]
    return pd.DataFrame([{"plant_id": p, "name": p, "country": c, "grid_region": None, "lat": 0.0, "lon": 0.0,
                          "capacity_units_per_week": 1.0, "equity_share": e, "operational_control": oc}
                         for p, c, e, oc in rows])


def test_by_carrier_totals_hand_computed():
    eu = pd.DataFrame([(W, "PCN", "coal_bituminous", 1000.0, "tonne"), (W, "PUS", "steam", 1000.0, "mmBtu"),
                       (W, "PUS", "biomethane", 1000.0, "mmBtu"), (W, "PJV", "steam", 500.0, "mmBtu")],
                      columns=["week", "plant_id", "carrier", "quantity", "unit"])
    led, _ = acc.build_ledger(_plants(), eu, reference_factors(), gwp_set="AR5")
    car = ledger_carrier(led)
    assert set(car.dropna()) == {"coal_bituminous", "steam", "biomethane"}
    got = by_carrier(led, _plants(), "operational_control")  # PJV is outside operational control
    assert got["scope1|coal_bituminous"] == pytest.approx(2458.1595, rel=REL)
    assert got["scope2_location|steam"] == pytest.approx(66.398125, rel=REL)
    assert got["scope2_market|steam"] == pytest.approx(66.398125, rel=REL)
    assert got["scope1|biomethane"] == pytest.approx(0.25655, rel=REL)
    assert got["biogenic_co2|biomethane"] == pytest.approx(52.07, rel=REL)
    gross = by_carrier(led, _plants(), None)  # every plant at 100 %: PJV's 500 mmBtu count
    assert gross["scope2_location|steam"] == pytest.approx(1.5 * 66.398125, rel=REL)
    eq = by_carrier(led, _plants(), "equity_share")  # PUS and PJV at 50 %: (1,000 + 500) x 0.5 mmBtu of steam
    assert eq["scope2_location|steam"] == pytest.approx(1.5 * 0.5 * 66.398125 * 1000 / 1000, rel=REL)


def test_coverage_category_1_from_the_supply_stage():
    """cat 1 is measured when the supply stage's scope3_cat1 table is present (on the history's boundary),
    excluded with the reason otherwise; category 4 still comes from the ledger."""
    led = pd.DataFrame({"scope": ["scope3_cat4", "scope1"], "co2e_t": [10.0, 99.0]})
    cov = acc.scope3_coverage(led).set_index("category")
    assert cov.loc[1, "status"] == "excluded" and "scope3_cat1" in cov.loc[1, "reason"]
    assert cov.loc[4, "status"] == "measured" and cov.loc[4, "co2e_t"] == 10.0
    cat1 = pd.DataFrame({"plant_id": ["PCN", "PUS", "PJV"], "tco2e": [100.0, 40.0, 8.0]})
    assert acc.cat1_total(cat1, _plants(), "operational_control") == {"scope3_cat1": 140.0}
    assert acc.cat1_total(cat1, _plants(), "equity_share") == {"scope3_cat1": pytest.approx(124.0)}  # 100+20+4
    assert acc.cat1_total(cat1.iloc[:0], _plants(), "equity_share") == {}
    with_cat1 = acc.scope3_coverage(led, stage_totals={"scope3_cat1": 140.0}).set_index("category")
    assert with_cat1.loc[1, "status"] == "measured" and with_cat1.loc[1, "co2e_t"] == 140.0
    assert "suppliers.cat1" in with_cat1.loc[1, "method"] and with_cat1.loc[1, "reason"] == ""
    refreshed = acc.refresh_coverage(cov.reset_index(), {"scope3_cat1": 140.0}).set_index("category")
    pd.testing.assert_frame_equal(refreshed, with_cat1, check_dtype=False)
    assert (with_cat1["status"] == "measured").sum() == 2


def test_demo_sample_new_carriers_pass_the_door_and_the_engine():
    """The demo burns coal at Changchun, LPG at the US plants, buys steam (Toledo), district heat (Sunderland)
    and biomethane (West Point); validation quarantines none of it and every row reaches the ledger."""
    from features.sample import generate
    from features.validate import validate_tables

    t = generate("demo")
    eu = t["energy_use"]
    new = eu[~eu["carrier"].isin(["electricity", "natural_gas", "diesel"])]
    assert set(zip(new["plant_id"], new["carrier"], new["unit"], strict=True)) == {
        ("P_CN_CHC", "coal_bituminous", "tonne"), ("P_US_TOL", "lpg", "US_gallon"),
        ("P_US_WPT", "lpg", "US_gallon"), ("P_US_TOL", "steam", "mmBtu"), ("P_GB_SUN", "district_heat", "MWh"),
        ("P_US_WPT", "biomethane", "mmBtu")}
    assert (new["quantity"] > 0).all() and len(new) == 6 * 156
    coal = new[new["carrier"] == "coal_bituminous"].set_index("week")["quantity"]
    assert coal[coal.index.month == 1].mean() > 2 * coal[coal.index.month == 7].mean()  # a heating boiler
    res = validate_tables({k: t[k] for k in ("plants", "energy_use")}, required=("plants", "energy_use"))
    assert res.counts["energy_use"]["quarantined"] == 0 and len(res.valid["energy_use"]) == len(eu)
    led, _ = acc.build_ledger(t["plants"], new, t["emission_factors"], gwp_set="AR5")
    rows = led[led["source_table"] == "energy_use"]
    assert set(ledger_carrier(rows)) == set(new["carrier"])
    # one week of coal at Changchun, by hand: tonnes x 2.4581595 t CO2e / t (IPCC, see module docstring)
    wk = coal.index[0]
    one = rows[(rows["plant_id"] == "P_CN_CHC") & (rows["week"] == wk)]["co2e_t"].sum()
    assert one == pytest.approx(coal.iloc[0] * 2.4581595, rel=REL)
    assert np.isfinite(led["co2e_t"]).all()


def test_report_tables_by_carrier_and_scope3_cat1(tmp_path):
    """Issue 15: the report's "Emissions by energy carrier" table pivots the manifest's by-carrier totals (one
    row per carrier, biogenic CO2 beside the scopes), and Scope 3 category 1 shows as measured when the
    supply stage's scope3_cat1 table is in the run (on the history's boundary: PJV is outside operational
    control, so 100 + 40 = 140 t). (Here, not in tests/test_report.py: from tests/ itself the folder
    tests/features shadows the package ``features`` for ``from features import ...``.)"""
    from co2plan.pipeline import _accounting_tables
    from core import catalog, lake

    root, run = str(tmp_path / "lake"), "r-carriers"
    lake.update_manifest(run, "accounting", {"boundary": "operational_control", "by_carrier_t_co2e": {
        "scope1|coal_bituminous": 2458.1595, "scope1|biomethane": 0.25655, "biogenic_co2|biomethane": 52.07,
        "scope2_location|steam": 66.398125, "scope2_market|steam": 66.398125}, "by_carrier_gross_t_co2e": {
        "scope1|coal_bituminous": 2458.1595, "scope1|lpg": 9.0}}, root)
    plants = pd.DataFrame({"plant_id": ["PCN", "PUS", "PJV"], "name": "x", "country": ["CN", "US", "US"],
                           "grid_region": None, "lat": 0.0, "lon": 0.0, "capacity_units_per_week": 1.0,
                           "equity_share": [1.0, 0.5, 0.5], "operational_control": [True, True, False]})
    catalog.VALIDATED["plants"].write(plants, run, root=root)
    catalog.SCOPE3_COVERAGE.write(acc.scope3_coverage(pd.DataFrame({"scope": ["scope3_cat4"], "co2e_t": [5.0]})), run,
                                  root=root)
    out = _accounting_tables(run, root)
    cov = out["Scope 3 coverage"].set_index("category")
    assert cov.loc[1, "status"] == "excluded"  # no supply output yet
    catalog.SCOPE3_CAT1.write(pd.DataFrame({"plant_id": ["PCN", "PUS", "PJV"], "supplier_id": "S", "commodity": "steel",
                                            "year": 2026, "tco2e": [100.0, 40.0, 8.0]}), run, root=root)
    out = _accounting_tables(run, root)
    cov = out["Scope 3 coverage"].set_index("category")
    assert cov.loc[1, "status"] == "measured" and cov.loc[1, "co2e_t"] == pytest.approx(140.0)
    assert cov.loc[4, "co2e_t"] == 5.0
    car = out["Emissions by energy carrier (history, t CO2e)"].set_index("carrier")
    assert list(car.columns) == ["scope1", "scope2_location", "scope2_market", "biogenic_co2", "scope1 gross"]
    assert car.loc["coal_bituminous", "scope1"] == pytest.approx(2458.1595)
    assert car.loc["lpg", "scope1"] == 0.0 and car.loc["lpg", "scope1 gross"] == 9.0  # outside the boundary
    assert car.loc["biomethane", "biogenic_co2"] == pytest.approx(52.07) and car.loc["steam", "scope1"] == 0.0
