"""GHG accounting engine: public worked values and hand-computed numbers, to 1e-9 relative."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core import lake
from features import accounting as acc
from features.factors import reference_factors

REL = 1e-9
LB = 0.45359237
WEEK1, WEEK2 = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")


@pytest.fixture(scope="module")
def ef():
    return reference_factors()


def fval(ef, factor_id):
    return float(ef.loc[ef.factor_id == factor_id, "value"].iloc[0])


def plants(*rows):
    """rows: (plant_id, country, grid_region, equity_share, operational_control)."""
    return pd.DataFrame([{"plant_id": p, "name": p, "country": c, "grid_region": g, "lat": 0.0, "lon": 0.0,
                          "capacity_units_per_week": 100.0, "equity_share": e, "operational_control": oc}
                         for p, c, g, e, oc in rows])


def energy(*rows):
    """rows: (week, plant_id, carrier, quantity, unit)."""
    return pd.DataFrame(rows, columns=["week", "plant_id", "carrier", "quantity", "unit"]).assign(
        week=lambda d: pd.to_datetime(d["week"]))


def contracts(*rows):
    """rows: (contract_id, plant_id, instrument, market, start, end, mwh, factor_kg_per_kwh)."""
    df = pd.DataFrame(rows, columns=["contract_id", "plant_id", "instrument", "market", "start", "end", "mwh",
                                     "factor_kg_per_kwh"])
    return df.assign(start=pd.to_datetime(df["start"]), end=pd.to_datetime(df["end"]))


def rows(ledger, scope, gas=None):
    sel = ledger[ledger["scope"] == scope]
    return sel if gas is None else sel[sel["gas"] == gas]


US = plants(("PUS", "US", None, 1.0, True))
DE = plants(("PDE", "DE", None, 1.0, True))


# ----------------------------------------------------------------------------- Scope 1: public fixture

def test_diesel_passenger_car_epa_fixture(ef):
    """103.45 US gal of diesel x 10.21 kg CO2/gal = 1.0562245 t CO2 (US EPA factors). CH4/N2O (co2plan-ef-2025.2):
    US EPA GHG Emission Factors Hub (2024) Table 1, distillate fuel oil No. 2, 0.138 mmBtu/gal x 3.0 g CH4 and
    0.6 g N2O per mmBtu (40 CFR 98 Table C-2) = 0.414 g CH4 and 0.0828 g N2O per gallon (the Hub prints 0.41 g
    and 0.08 g). AR4: 103.45 x (10.21 + 25 x 0.000414 + 298 x 0.0000828) kg = 1.05984777418 t (10.2450244 kg per gallon)."""
    led = acc.scope1(energy((WEEK1, "PUS", "diesel", 103.45, "US_gallon")), US, ef, gwp_set="AR4")
    co2 = rows(led, "scope1", "CO2")
    assert co2["emissions_t"].iloc[0] == pytest.approx(1.0562245, rel=REL)
    ch4, n2o = 0.138 * 3.0e-3, 0.138 * 0.6e-3
    assert (fval(ef, "DS-US-2024-CH4_fossil"), fval(ef, "DS-US-2024-N2O")) == pytest.approx((ch4, n2o), rel=1e-15)
    ar4 = 103.45 * (10.21 + 25 * ch4 + 298 * n2o) / 1000
    assert led["co2e_t"].sum() == pytest.approx(ar4, rel=REL) and ar4 == pytest.approx(1.05984777418, rel=1e-11)
    ar5 = 103.45 * (10.21 + 28 * ch4 + 265 * n2o) / 1000
    led5 = acc.scope1(energy((WEEK1, "PUS", "diesel", 103.45, "US_gallon")), US, ef, gwp_set="AR5")
    assert led5["co2e_t"].sum() == pytest.approx(ar5, rel=REL)
    assert rows(led5, "scope1", "N2O")["co2e_t"].iloc[0] == pytest.approx(103.45 * n2o * 265 / 1000, rel=REL)
    # lineage on every row
    assert set(led["gas"]) == {"CO2", "CH4_fossil", "N2O"}
    row = co2.iloc[0]
    assert (row.factor_id, row.factor_version, row.gwp_set, row.formula, row.source_table, row.source_row) == (
        "DS-US-2024-CO2", "co2plan-ef-2025.2", "AR4", "fuel_x_ef", "energy_use", 0)
    assert row.plant_id == "PUS" and row.week == WEEK1 and row.quantity == 103.45 and row.unit == "US_gallon"


def test_diesel_old_factor_version_reproduces_old_results():
    """co2plan-ef-2025.1 carried an IPCC 2006 road passenger-car default (Vol. 2 Table 3.2.2, 3.9 kg CH4 and
    3.9 kg N2O per TJ) on the EPA HHV: 3.9e-3 x 0.138 x 1.055056 = 5.678311...e-4 kg per gallon each. An auditor
    asks for that version and gets the old numbers: AR5 103.45 x (10.21 + (28 + 265) x 5.678311e-4) kg."""
    from features.factors import reference_factors

    old = reference_factors("co2plan-ef-2025.1")
    per_gal = 3.9e-3 * 0.138 * 1.055056
    led = acc.scope1(energy((WEEK1, "PUS", "diesel", 103.45, "US_gallon")), US, old, gwp_set="AR5")
    assert led["co2e_t"].sum() == pytest.approx(103.45 * (10.21 + 293 * per_gal) / 1000, rel=REL)
    assert set(led["factor_version"]) == {"co2plan-ef-2025.1"}
    assert {"DS-US-2006-CH4_fossil", "DS-US-2006-N2O"} <= set(led["factor_id"])
    new = acc.scope1(energy((WEEK1, "PUS", "diesel", 103.45, "US_gallon")), US, reference_factors(), gwp_set="AR5")
    assert new["co2e_t"].sum() < led["co2e_t"].sum()  # 10.243534 vs 10.3763746 kg CO2e per gallon
    assert new["co2e_t"].sum() / 103.45 * 1000 == pytest.approx(10.243534, rel=REL)


def test_diesel_in_litres_is_converted_to_gallons(ef):
    litres = 103.45 * 3.785411784
    led = acc.scope1(energy((WEEK1, "PUS", "diesel", litres, "litre")), US, ef)
    assert rows(led, "scope1", "CO2")["emissions_t"].iloc[0] == pytest.approx(1.0562245, rel=REL)
    assert rows(led, "scope1", "CO2")["quantity"].iloc[0] == pytest.approx(103.45, rel=REL)


# ----------------------------------------------------------------------------- Scope 1: three formulas

def test_natural_gas_fuel_x_ef_with_unit_conversions(ef):
    eu = energy((WEEK1, "PUS", "natural_gas", 1000.0, "mmBtu"),
                (WEEK2, "PUS", "natural_gas", 10000.0, "therm"),  # 10 therm = 1 mmBtu
                ("2024-01-15", "PUS", "natural_gas", 1.0e6, "kWh"))
    led = acc.scope1(eu, US, ef, gwp_set="AR5")
    co2 = rows(led, "scope1", "CO2").sort_values("source_row")
    mmbtu_of_1e6_kwh = 1.0e6 * 3.6e6 / 1.055056e9
    assert co2["emissions_t"].tolist() == pytest.approx([53.06, 53.06, mmbtu_of_1e6_kwh * 53.06 / 1000], rel=REL)
    assert set(co2["formula"]) == {"fuel_x_ef"}
    first = led[led.source_row == 0]
    assert first["co2e_t"].sum() == pytest.approx(53.06 + 1.0 * 28 / 1000 + 0.1 * 265 / 1000, rel=REL)
    assert rows(first, "scope1", "CH4_fossil")["emissions_t"].iloc[0] == pytest.approx(0.001, rel=REL)


def test_natural_gas_fuel_x_hhv_x_ef(ef):
    eu = energy((WEEK1, "PUS", "natural_gas", 1.0e6, "scf"), (WEEK2, "PUS", "natural_gas", 1000.0, "m3"))
    led = acc.scope1(eu, US, ef)
    co2 = rows(led, "scope1", "CO2").sort_values("source_row")
    scf_per_m3 = 1 / 0.3048 ** 3
    expected = [1.0e6 * 0.001026 * 53.06 / 1000, 1000 * scf_per_m3 * 0.001026 * 53.06 / 1000]
    assert co2["emissions_t"].tolist() == pytest.approx(expected, rel=REL)
    assert co2["emissions_t"].iloc[0] == pytest.approx(54.43956, rel=REL)
    assert set(co2["formula"]) == {"fuel_x_hhv_x_ef"}
    assert set(co2["property_id"]) == {"FP-natural_gas-heating_value-US"}
    assert co2["quantity"].iloc[0] == pytest.approx(1026.0, rel=REL) and co2["unit"].iloc[0] == "mmBtu"


def test_natural_gas_fuel_x_carbon_content(ef):
    led = acc.scope1(energy((WEEK1, "PUS", "natural_gas", 1000.0, "mmBtu")), US, ef, formula="carbon_content")
    co2 = rows(led, "scope1", "CO2").iloc[0]
    assert co2.emissions_t == pytest.approx(1000 * 14.47 * 44 / 12 / 1000, rel=REL)
    assert co2.formula == "fuel_x_cc_x_44/12" and co2.factor_id == "FP-natural_gas-carbon_content-US"
    # CH4 and N2O still come from the per-gas factors
    assert rows(led, "scope1", "N2O")["emissions_t"].iloc[0] == pytest.approx(1.0e-4, rel=REL)


def test_heating_value_bridge_can_be_forbidden(ef):
    m3 = energy((WEEK1, "PUS", "natural_gas", 1000.0, "m3"))
    with pytest.raises(acc.UnitConversionError, match=r"energy_use row 0 .*'m3' to 'mmBtu'"):
        acc.scope1(m3, US, ef, formula="ef")
    with pytest.raises(acc.UnitConversionError, match="no heating value"):
        acc.scope1(m3, US, ef, fuel_props=pd.DataFrame(columns=["fuel", "property", "region"]))


def test_gwp_sets_tell_fossil_and_biogenic_methane_apart():
    f = pd.DataFrame({
        "factor_id": ["a", "b", "c", "d"], "activity": "natural_gas",
        "gas": ["CH4_fossil", "CH4_biogenic", "N2O", "CO2"],  # issue 15: a fuel set without CO2 now raises
        "value": [1.0, 2.0, 0.5, 50.0], "unit": "kg/GJ", "source": "test", "year": 2020, "region": "XX",
        "version": "t", "basis": None})
    p = plants(("PX", "XX", None, 1.0, True))
    eu = energy((WEEK1, "PX", "natural_gas", 1000.0, "GJ"))
    expect = {"AR4": 50 + 25 * 1 + 25 * 2 + 298 * 0.5, "AR5": 50 + 28 * 1 + 28 * 2 + 265 * 0.5,
              "AR6": 50 + 29.8 * 1 + 27.0 * 2 + 273 * 0.5}
    for gwp_set, per_gj in expect.items():
        led = acc.scope1(eu, p, f, gwp_set=gwp_set)
        assert led["co2e_t"].sum() == pytest.approx(1000 * per_gj / 1000, rel=REL), gwp_set
        assert set(led["gwp_set"]) == {gwp_set}
    with pytest.raises(acc.AccountingError, match="gwp_set 'AR3'"):
        acc.scope1(eu, p, f, gwp_set="AR3")


# ----------------------------------------------------------------------------- Scope 2

E2 = energy((WEEK1, "PDE", "electricity", 100.0, "MWh"), (WEEK2, "PDE", "electricity", 100.0, "MWh"))
GRID_DE, RESID_DE = 0.381, 0.660


def market_total(led):
    return rows(led, "scope2_market")["co2e_t"].sum()


def test_location_based_is_grid_average_and_ignores_instruments(ef):
    c = contracts(("C1", "PDE", "EAC", "DE", "2024-01-01", "2024-12-31", 50.0, 0.0))
    led = acc.scope2(E2, DE, ef, c)
    loc = rows(led, "scope2_location")
    assert loc["co2e_t"].sum() == pytest.approx(200_000 * GRID_DE / 1000, rel=REL)
    assert set(loc["factor_id"]) == {"EG-DE-2023-CO2e"} and set(loc["formula"]) == {"kwh_x_grid_ef"}


def test_market_eac_covers_up_to_its_volume_then_residual_mix(ef):
    c = contracts(("C1", "PDE", "EAC", "DE", "2024-01-01", "2024-12-31", 50.0, 0.0))
    led = acc.scope2(E2, DE, ef, c)
    mkt = rows(led, "scope2_market")
    eac = mkt[mkt.factor_id == "C1"]
    assert eac["quantity"].sum() == pytest.approx(50_000, rel=REL) and eac["source_row"].tolist() == [0]
    assert market_total(led) == pytest.approx(150_000 * RESID_DE / 1000, rel=REL)  # 33 t + 66 t
    resid = mkt[mkt.formula == "kwh_x_residual_mix"].sort_values("source_row")
    assert resid["quantity"].tolist() == pytest.approx([50_000, 100_000], rel=REL)


def test_market_precedence_eac_then_ppa_then_supplier_rate(ef):
    # listed out of order on purpose: precedence comes from the instrument, not from the table order
    c = contracts(("C3", "PDE", "supplier_rate", "DE", "2023-06-01", "2024-12-31", 100.0, 0.3),
                  ("C2", "PDE", "PPA", "DE", "2024-01-01", "2024-12-31", 120.0, 0.02),
                  ("C1", "PDE", "EAC", "DE", "2024-01-01", "2024-12-31", 50.0, 0.0))
    led = acc.scope2(E2, DE, ef, c)
    mkt = rows(led, "scope2_market")
    used = mkt.groupby("factor_id", observed=True)["quantity"].sum()
    # week 1: EAC 50 + PPA 50; week 2: PPA 70 + supplier 30; nothing left for the residual mix
    assert used["C1"] == pytest.approx(50_000, rel=REL)
    assert used["C2"] == pytest.approx(120_000, rel=REL)
    assert used["C3"] == pytest.approx(30_000, rel=REL)
    assert mkt.loc[mkt.formula == "kwh_x_residual_mix", "quantity"].sum() == pytest.approx(0.0, abs=1e-9)
    assert market_total(led) == pytest.approx(120_000 * 0.02 / 1000 + 30_000 * 0.3 / 1000, rel=REL)  # 11.4 t
    _, report = acc.build_ledger(DE, E2, ef, c)
    assert report["instruments_applied_mwh"] == pytest.approx({"C1": 50.0, "C2": 120.0, "C3": 30.0}, rel=REL)


def test_green_tariff_ranks_with_ppa_and_supplier_rate_alone(ef):
    c = contracts(("G1", "PDE", "green_tariff", "DE", "2024-01-01", "2024-12-31", 30.0, 0.01),
                  ("S1", "PDE", "supplier_rate", "DE", "2024-01-01", "2024-12-31", 500.0, 0.25))
    led = acc.scope2(E2, DE, ef, c)
    expected = 30_000 * 0.01 / 1000 + 170_000 * 0.25 / 1000
    assert market_total(led) == pytest.approx(expected, rel=REL)


def test_certificate_outside_its_period_or_market_is_not_counted(ef):
    c = contracts(("OLD", "PDE", "EAC", "DE", "2023-01-01", "2023-12-31", 500.0, 0.0),
                  ("FRA", "PDE", "EAC", "FR", "2024-01-01", "2024-12-31", 500.0, 0.0),
                  ("LATE", "PDE", "EAC", "DE", "2024-01-08", "2024-12-31", 500.0, 0.0))
    led, report = acc.build_ledger(DE, E2, ef, c)
    mkt = rows(led, "scope2_market")
    assert set(mkt["factor_id"]) == {"LATE", "RM-DE-2023-CO2e"}
    # week 1 falls to the residual mix; week 2 is covered by the certificate that starts that week
    assert market_total(led) == pytest.approx(100_000 * RESID_DE / 1000, rel=REL)
    assert "FR" in report["instruments_not_counted"]["FRA"]
    assert report["instruments_not_counted"]["OLD"] == "no consumption in its period"
    assert report["instruments_applied_mwh"] == {"LATE": 100.0}


def test_no_residual_mix_falls_back_to_grid_average(ef):
    p = plants(("PS", "US", "SRSO", 1.0, True))
    led = acc.scope2(energy((WEEK1, "PS", "electricity", 10.0, "MWh")), p, ef)
    mkt = rows(led, "scope2_market").iloc[0]
    assert mkt.formula == "kwh_x_grid_ef_no_residual_mix" and mkt.factor_id == "EG-SRSO-2021-CO2"
    assert mkt.co2e_t == pytest.approx(10_000 * fval(ef, "EG-SRSO-2021-CO2") / 1000, rel=REL)


def test_subregion_before_national(ef):
    p = plants(("A", "US", "SRSO", 1.0, True), ("B", "US", None, 1.0, True), ("C", "US", "NOPE", 1.0, True))
    eu = energy(*[(WEEK1, pid, "electricity", 1000.0, "kWh") for pid in "ABC"])
    loc = rows(acc.scope2(eu, p, ef), "scope2_location").set_index("plant_id")
    assert loc.loc["A", "factor_id"] == "EG-SRSO-2021-CO2"
    assert loc.loc["B", "factor_id"] == "EG-US-2021-CO2" and loc.loc["C", "factor_id"] == "EG-US-2021-CO2"
    assert loc.loc["B", "co2e_t"] == pytest.approx(1000 * 852.3 * LB / 1000 / 1000, rel=REL)


# ----------------------------------------------------------------------------- Scope 3 category 4

LANES = pd.DataFrame({"lane_id": ["L1", "L2"], "plant_id": ["PDE", "PDE"], "market_id": ["M1", "M2"],
                      "mode": ["road", "sea"], "distance_km": [500.0, 10_000.0], "cost_eur_per_t": 1.0,
                      "transit_days": 1.0, "capacity_t_per_week": 100.0})
SHIP = pd.DataFrame({"week": [WEEK1, WEEK1], "lane_id": ["L1", "L2"], "product_id": ["K", "K"],
                     "units": [8.0, 1.0], "tonnes": [10.0, 2.0]})


def test_scope3_tonne_km_times_mode_factor(ef):
    led = acc.scope3_transport(SHIP, LANES, DE, ef)
    s3 = led.set_index("lane_id")
    assert s3.loc["L1", "quantity"] == 5000.0 and s3.loc["L2", "quantity"] == 20_000.0
    assert s3.loc["L1", "co2e_t"] == pytest.approx(5000 * 0.10163 / 1000, rel=REL)
    assert s3.loc["L2", "co2e_t"] == pytest.approx(20_000 * 0.01612 / 1000, rel=REL)
    assert set(led["basis"]) == {"TTW"} and set(led["unit"]) == {"tonne_km"}
    assert set(led["scope"]) == {"scope3_cat4"} and set(led["source_table"]) == {"shipments"}
    wtw = acc.scope3_transport(SHIP, LANES, DE, ef, basis="WTW").set_index("lane_id")
    assert set(wtw["basis"]) == {"WTW"}
    assert wtw.loc["L1", "co2e_t"] == pytest.approx(5000 * fval(ef, "FT_ROAD-GLOBAL-2025-CO2e-WTW") / 1000, rel=REL)


def test_scope3_unknown_lane_is_an_error(ef):
    bad = SHIP.assign(lane_id=["L1", "L9"])
    with pytest.raises(acc.AccountingError, match="shipments row 1: lane_id 'L9'"):
        acc.scope3_transport(bad, LANES, DE, ef)


# ----------------------------------------------------------------------------- boundary, base year, summary

def test_boundary_control_vs_equity_and_base_year(ef):
    p = plants(("A", "DE", None, 0.6, True), ("B", "DE", None, 0.3, False))
    eu = energy((WEEK1, "A", "electricity", 1000.0, "kWh"), (WEEK1, "B", "electricity", 1000.0, "kWh"),
                ("2025-01-06", "A", "electricity", 2000.0, "kWh"))
    led, _ = acc.build_ledger(p, eu, ef)
    one = 1000 * GRID_DE / 1000
    assert acc.totals_by_scope(led, p, "operational_control", 2024)["scope2_location"] == pytest.approx(one, rel=REL)
    assert acc.totals_by_scope(led, p, "equity_share", 2024)["scope2_location"] == pytest.approx(0.9 * one, rel=REL)
    base = acc.base_year_totals(led, p)
    assert base["year"] == 2024
    assert base["operational_control"]["scope2_location"] == pytest.approx(one, rel=REL)
    assert base["equity_share"]["scope2_market"] == pytest.approx(0.9 * 1000 * RESID_DE / 1000, rel=REL)
    # recomputing under the other approach: from the stored record, or from the ledger if it lacks it
    assert acc.recalculate_base_year(base, led, p, "equity_share") == base["equity_share"]
    only_control = {"year": 2024, "operational_control": base["operational_control"]}
    assert acc.recalculate_base_year(only_control, led, p, "equity_share") == pytest.approx(base["equity_share"])
    # the summary applies the boundary and keeps the gross figure
    summ = acc.summarise(led, p, "operational_control")
    b = summ[(summ.plant_id == "B") & (summ.scope == "scope2_location")].iloc[0]
    assert b.co2e_t == 0.0 and b.co2e_t_gross == pytest.approx(one, rel=REL)
    jan25 = summ[(summ.month == pd.Timestamp("2025-01-01")) & (summ.scope == "scope2_location")]
    assert jan25["co2e_t"].sum() == pytest.approx(2 * one, rel=REL)
    with pytest.raises(acc.AccountingError, match="boundary 'financial'"):
        acc.totals_by_scope(led, p, "financial")


# ----------------------------------------------------------------------------- errors, lookups, completeness

def test_missing_factor_names_activity_region_and_year(ef):
    p = plants(("PZ", "ZZ", None, 1.0, True))
    with pytest.raises(acc.MissingFactorError) as err:
        acc.scope2(energy((WEEK1, "PZ", "electricity", 5.0, "kWh")), p, ef)
    msg = str(err.value)
    assert "energy_use row 0" in msg and "electricity_grid" in msg and "ZZ" in msg and "2024" in msg
    cn = plants(("PC", "CN", None, 1.0, True))
    with pytest.raises(acc.MissingFactorError, match=r"region='CN' year=2019 under year rule 'latest_le'"):
        acc.scope2(energy(("2019-01-07", "PC", "electricity", 5.0, "kWh")), cn, ef, year_rule="latest_le")
    # the default rule uses the earliest later vintage and shows it on the row
    led = acc.scope2(energy(("2019-01-07", "PC", "electricity", 5.0, "kWh")), cn, ef)
    assert set(led["factor_year"]) == {2023}
    no_air = ef[ef.activity != "freight_air"]
    air = LANES.assign(mode=["air", "sea"])
    with pytest.raises(acc.MissingFactorError, match="freight_air"):
        acc.scope3_transport(SHIP, air, DE, no_air)


def test_unit_mismatch_is_an_error_naming_the_row(ef):
    eu = energy((WEEK1, "PDE", "electricity", 5.0, "kWh"), (WEEK2, "PDE", "electricity", 7.0, "litre"))
    with pytest.raises(acc.UnitConversionError, match=r"energy_use row 1 .*'litre' to 'kWh'"):
        acc.scope2(eu, DE, ef)
    with pytest.raises(acc.AccountingError, match="energy_use row 0: plant_id 'NOPE'"):
        acc.scope2(energy((WEEK1, "NOPE", "electricity", 1.0, "kWh")), DE, ef)
    with pytest.raises(acc.AccountingError, match="energy_use row 0: quantity -1.0"):
        acc.scope2(energy((WEEK1, "PDE", "electricity", -1.0, "kWh")), DE, ef)


def test_no_row_is_dropped_and_order_does_not_matter(ef):
    p = plants(("PDE", "DE", None, 1.0, True), ("PUS", "US", "RFCW", 0.5, True))
    eu = energy((WEEK1, "PDE", "electricity", 0.0, "kWh"), (WEEK1, "PDE", "natural_gas", 50.0, "GJ"),
                (WEEK1, "PDE", "diesel", 10.0, "litre"), (WEEK2, "PUS", "electricity", 3.0, "MWh"),
                (WEEK2, "PUS", "natural_gas", 200.0, "m3"), (WEEK2, "PUS", "diesel", 4.0, "US_gallon"))
    led, _ = acc.build_ledger(p, eu, ef)
    assert set(rows(led, "scope2_location")["source_row"]) | set(rows(led, "scope1")["source_row"]) == set(range(6))
    assert set(rows(led, "scope2_market")["source_row"]) == {0, 3}
    assert list(led.columns) == acc.LEDGER_COLUMNS
    perm = np.random.default_rng(1).permutation(len(eu))
    led2, _ = acc.build_ledger(p, eu.iloc[perm].reset_index(drop=True), ef)
    for boundary in acc.BOUNDARIES:
        a, b = acc.totals_by_scope(led, p, boundary), acc.totals_by_scope(led2, p, boundary)
        assert a == pytest.approx(b, rel=1e-12)


def test_factor_versions_must_not_be_mixed(ef):
    both = pd.concat([ef, ef.assign(version="other", factor_id=ef.factor_id + "-o")], ignore_index=True)
    with pytest.raises(acc.AccountingError, match="several versions"):
        acc.scope2(E2, DE, both)
    led = acc.scope2(E2, DE, both, factor_version="other")
    assert set(led["factor_version"]) == {"other"}


# ----------------------------------------------------------------------------- planning intensities

def test_carrier_intensities_per_unit(ef):
    p = plants(("PDE", "DE", None, 1.0, True), ("PUS", "US", None, 1.0, True))
    ci = acc.carrier_intensities(p, ef, None, [WEEK1, WEEK2], gwp_set="AR5")
    assert len(ci) == 2 * 2 * 4 and list(ci.columns) == ["plant_id", "week", "carrier", "scope", "unit",
                                                         "tco2e_per_unit"]
    v = ci[ci.week == WEEK1].set_index(["plant_id", "carrier", "scope"])["tco2e_per_unit"]
    assert v["PDE", "electricity", "scope2_location"] == pytest.approx(GRID_DE / 1000, rel=REL)
    assert v["PDE", "electricity", "scope2_market"] == pytest.approx(RESID_DE / 1000, rel=REL)
    ng_gj = (56.1 + 0.001 * 28 + 0.0001 * 265) / 1000
    assert v["PDE", "natural_gas", "scope1"] == pytest.approx(0.0036 * ng_gj, rel=REL)
    diesel_gj = (74.1 + 0.003 * 28 + 0.0006 * 265) / 1000
    assert v["PDE", "diesel", "scope1"] == pytest.approx(43.0 * 0.84e-3 * diesel_gj, rel=REL)
    ch4, n2o = fval(ef, "DS-US-2024-CH4_fossil"), fval(ef, "DS-US-2024-N2O")
    per_gal = (10.21 + 28 * ch4 + 265 * n2o) / 1000
    assert v["PUS", "diesel", "scope1"] == pytest.approx(per_gal / 3.785411784, rel=REL)
    # no US residual mix: the market-based margin is the grid average
    assert v["PUS", "electricity", "scope2_market"] == pytest.approx(852.3 * LB / 1e6, rel=REL)


# ----------------------------------------------------------------------------- lake stage

def test_account_stage_writes_ledger_summary_and_manifest(tmp_path, ef):
    root, run = str(tmp_path / "lake"), "manual-acc"
    p = plants(("PDE", "DE", None, 1.0, True), ("PUS", "US", None, 0.5, False))
    eu = energy((WEEK1, "PDE", "electricity", 100.0, "MWh"), (WEEK2, "PDE", "electricity", 100.0, "MWh"),
                (WEEK1, "PUS", "diesel", 103.45, "US_gallon"))
    c = contracts(("C1", "PDE", "EAC", "DE", "2024-01-01", "2024-12-31", 50.0, 0.0))
    for name, df in {"plants": p, "energy_use": eu, "energy_contracts": c, "lanes": LANES,
                     "shipments": SHIP}.items():
        lake.write_table(df, "validated", run, name, root)
    out = acc.account(run, root=root, gwp_set="AR4", boundary="equity_share")
    json.dumps(out)  # XCom-safe
    ledger = lake.read_table("ledger", run, "emissions_ledger", root)
    summary = lake.read_table("ledger", run, "emissions_summary", root)
    assert len(ledger) == out["rows"]["emissions_ledger"] and set(summary["boundary"]) == {"equity_share"}
    man = lake.read_manifest(run, root)["accounting"]
    assert man["gwp_set"] == "AR4" and man["factor_version"] == "co2plan-ef-2025.2"
    assert man["factor_source"] == "features.factors.reference_factors"
    assert man["totals_t_co2e"]["scope2_market"] == pytest.approx(150_000 * RESID_DE / 1000, rel=REL)
    ch4, n2o = fval(ef, "DS-US-2024-CH4_fossil"), fval(ef, "DS-US-2024-N2O")
    diesel_ar4 = 103.45 * (10.21 + 25 * ch4 + 298 * n2o) / 1000
    assert man["totals_t_co2e"]["scope1"] == pytest.approx(0.5 * diesel_ar4, rel=1e-8)
    assert man["base_year"]["year"] == 2024
    assert man["base_year"]["operational_control"]["scope1"] == 0.0
    assert man["totals_t_co2e"]["scope3_cat4"] == pytest.approx((5000 * 0.10163 + 20_000 * 0.01612) / 1000, rel=1e-8)
    assert man["instruments"]["instruments_applied_mwh"] == {"C1": 50.0}


def test_empty_and_categorical_inputs(ef):
    empty = energy((WEEK1, "PDE", "electricity", 1.0, "kWh")).iloc[:0]
    led, report = acc.build_ledger(DE, empty, ef)
    assert len(led) == 0 and list(led.columns) == acc.LEDGER_COLUMNS
    assert acc.totals_by_scope(led, DE) == {s: 0.0 for s in acc.SCOPES}
    cat = E2.astype({"plant_id": "category", "carrier": "category", "unit": "category"})
    a, _ = acc.build_ledger(DE, E2, ef)
    b, _ = acc.build_ledger(DE, cat, ef)
    assert acc.totals_by_scope(a, DE) == acc.totals_by_scope(b, DE)


def test_account_on_the_sample_network(tmp_path):
    from features.sample import generate

    data = generate("demo", 7)
    root, run = str(tmp_path / "lake"), "sample-acc"
    for name, df in data.items():
        lake.write_table(df, "validated", run, name, root)
    out = acc.account(run, root=root)
    assert out["factor_source"] == "validated/emission_factors"
    ledger = lake.read_table("ledger", run, "emissions_ledger", root)
    eu = data["energy_use"]
    # issue 15: the demo also burns coal, LPG and biomethane (Scope 1) and buys steam and district heat (Scope 2)
    fuel_rows = set(np.flatnonzero(eu["carrier"].isin(acc.SCOPE1_CARRIERS).to_numpy()))
    assert set(eu.loc[list(fuel_rows), "carrier"]) == {"natural_gas", "diesel", "coal_bituminous", "lpg", "biomethane"}
    s1 = rows(ledger, "scope1")
    assert set(s1.loc[s1["source_table"] == "energy_use", "source_row"]) == fuel_rows  # + refrigerants (issue 15)
    s2 = rows(ledger, "scope2_location")
    assert set(s2["source_row"]) == set(np.flatnonzero(eu["carrier"].isin(acc.SCOPE2_CARRIERS).to_numpy()))
    assert len(s2[s2["activity"] == "electricity_grid"]) == int((eu["carrier"] == "electricity").sum())
    assert set(rows(ledger, "scope3_cat4")["source_row"]) == set(range(len(data["shipments"])))
    assert all(v > 0 for v in out["totals_t_co2e"].values())
    # the generator's certificate from another country's market is not counted
    wrong = data["energy_contracts"].merge(data["plants"][["plant_id", "country"]], on="plant_id")
    wrong = wrong[wrong["market"] != wrong["country"]]
    assert len(wrong) >= 1
    for cid in wrong["contract_id"]:
        assert cid in out["instruments"]["instruments_not_counted"]
        assert cid not in set(ledger["factor_id"].astype(str))


def test_lean_ledger_keeps_lineage_and_totals(ef):
    c = contracts(("C1", "PDE", "EAC", "DE", "2024-01-01", "2024-12-31", 50.0, 0.0))
    full, _ = acc.build_ledger(DE, E2, ef, c)
    lean, _ = acc.build_ledger(DE, E2, ef, c, detail=False)
    assert list(lean.columns) == acc.CORE_COLUMNS
    assert not set(acc.DETAIL_COLUMNS) & set(lean.columns)
    assert acc.totals_by_scope(lean, DE) == acc.totals_by_scope(full, DE)
    assert lean["factor_id"].astype(str).tolist() == full["factor_id"].astype(str).tolist()


def test_account_reads_big_tables_dictionary_encoded(tmp_path, ef):
    root, run = str(tmp_path / "lake"), "dict-read"
    lake.write_table(DE, "validated", run, "plants", root)
    lake.write_table(E2, "validated", run, "energy_use", root)
    eu = acc._read_dictionary_encoded(lake.table_uri("validated", run, "energy_use", root), "energy_use")
    assert isinstance(eu["plant_id"].dtype, pd.CategoricalDtype) and isinstance(eu["unit"].dtype, pd.CategoricalDtype)
    assert eu["quantity"].tolist() == [100.0, 100.0]
    out = acc.account(run, root=root)
    assert out["totals_t_co2e"]["scope2_location"] == pytest.approx(200_000 * GRID_DE / 1000, rel=REL)


def test_nulls_and_duplicate_keys_are_errors_not_guesses(ef):
    with pytest.raises(acc.AccountingError, match="energy_use row 1: unit is missing"):
        acc.scope2(E2.assign(unit=["MWh", None]), DE, ef)
    with pytest.raises(acc.AccountingError, match="energy_use row 0: plant_id is missing"):
        acc.scope2(E2.assign(plant_id=[None, "PDE"]), DE, ef)
    with pytest.raises(acc.AccountingError, match="plants row 1: plant_id 'PDE' appears more than once"):
        acc.scope2(E2, pd.concat([DE, DE], ignore_index=True), ef)
    with pytest.raises(acc.AccountingError, match="shipments row 0: week is missing"):
        acc.scope3_transport(SHIP.assign(week=[pd.NaT, WEEK1]), LANES, DE, ef)


def test_source_row_column_is_carried_when_present(ef):
    led, _ = acc.build_ledger(DE, E2.assign(source_row=[41, 42]), ef, None, SHIP.assign(source_row=[7, 9]), LANES)
    assert set(rows(led, "scope2_location")["source_row"]) == {41, 42}
    assert set(rows(led, "scope3_cat4")["source_row"]) == {7, 9}


def test_stacked_instruments_of_several_plants_hand_computed(ef):
    # two plants, rows interleaved and out of order; each plant uses its instruments in precedence order
    # (the engine takes the 1st instrument of every plant together, then the 2nd, ...)
    pl = plants(("PA", "DE", None, 1.0, True), ("PB", "DE", None, 1.0, True))
    w3 = pd.Timestamp("2024-01-15")
    e = energy((w3, "PA", "electricity", 100.0, "MWh"), (WEEK2, "PB", "electricity", 40.0, "MWh"),
               (WEEK1, "PA", "electricity", 100.0, "MWh"), (WEEK1, "PB", "electricity", 40.0, "MWh"),
               (WEEK2, "PA", "electricity", 100.0, "MWh"))
    c = contracts(("A-PPA", "PA", "PPA", "DE", "2024-01-08", "2024-12-31", 120.0, 0.02),
                  ("A-EAC", "PA", "EAC", "DE", "2024-01-01", "2024-12-31", 150.0, 0.0),
                  ("B-SUP", "PB", "supplier_rate", "DE", "2024-01-01", "2024-12-31", 60.0, 0.3),
                  ("B-EAC", "PB", "EAC", "DE", "2024-01-08", "2024-01-10", 10.0, 0.0),
                  ("B-OLD", "PB", "PPA", "DE", "2023-01-01", "2023-12-31", 99.0, 0.0))
    for frame in (e, e.astype({"plant_id": "category", "carrier": "category", "unit": "category"})):
        led, report = acc.build_ledger(pl, frame, ef, c)
        mkt = rows(led, "scope2_market")
        got = {(f, int(r)): q for f, r, q in mkt[["factor_id", "source_row", "quantity"]].itertuples(index=False)
               if q > 0}
        # PA: EAC 100 (W1, row 2) + 50 (W2, row 4); PPA 50 (W2) + 70 (W3, row 0); residual 30 in W3
        # PB: EAC 10 (W2, row 1); supplier 40 (W1, row 3) + 20 (W2); residual 10 in W2
        assert got == pytest.approx({("A-EAC", 2): 100_000, ("A-EAC", 4): 50_000, ("A-PPA", 4): 50_000,
                                     ("A-PPA", 0): 70_000, ("B-EAC", 1): 10_000, ("B-SUP", 3): 40_000,
                                     ("B-SUP", 1): 20_000, ("RM-DE-2023-CO2e", 0): 30_000,
                                     ("RM-DE-2023-CO2e", 1): 10_000}, rel=REL)
        assert report["instruments_applied_mwh"] == pytest.approx(
            {"A-EAC": 150.0, "A-PPA": 120.0, "B-EAC": 10.0, "B-SUP": 60.0}, rel=REL)
        assert report["instruments_not_counted"] == {"B-OLD": "no consumption in its period"}
        assert market_total(led) == pytest.approx(120_000 * 0.02 / 1000 + 60_000 * 0.3 / 1000
                                                  + 40_000 * RESID_DE / 1000, rel=REL)


def test_years_across_year_ends_and_with_missing_dates():
    w = pd.to_datetime(pd.Series(["2020-12-28", "2021-01-04", "2023-12-31 23:00", "2024-01-01", "2019-06-03"]),
                       format="ISO8601")
    assert acc._years(w).tolist() == [2020, 2021, 2023, 2024, 2019]
    assert acc._years(w.to_numpy()).dtype == np.int16
    assert acc._years(pd.Series(pd.to_datetime(["2022-03-07", None]))).tolist()[0] == 2022
    assert acc._years(pd.Series([], dtype="datetime64[ns]")).tolist() == []
