"""Issue 15: new carriers, hand-computed from public factors (each test names its source and the number).

Unit constants: 1 short ton = 907.18474 kg; 1 US gallon = 3.785411784 l; 1 mmBtu = 10^6 International Table
Btu = 1.055056 GJ (pint's Btu), so 1 mmBtu = 1055.056 / 3.6 kWh = 293.0711111 kWh.
"""

from __future__ import annotations

import pandas as pd
import pytest

from features import accounting as acc
from features.factors import reference_factors
from features.validate import validate_tables

REL = 1e-9
W = pd.Timestamp("2024-01-01")
KWH_PER_MMBTU = 1055.056 / 3.6


def plants(*rows):
    return pd.DataFrame([{"plant_id": p, "name": p, "country": c, "grid_region": g, "lat": 0.0, "lon": 0.0,
                          "capacity_units_per_week": 1.0, "equity_share": 1.0, "operational_control": True}
                         for p, c, g in rows])


def energy(*rows):
    return pd.DataFrame(rows, columns=["week", "plant_id", "carrier", "quantity", "unit"]).assign(
        week=lambda d: pd.to_datetime(d["week"]))


US, CN, GB = plants(("PUS", "US", None)), plants(("PCN", "CN", None)), plants(("PGB", "GB", None))


@pytest.fixture(scope="module")
def ef():
    return reference_factors()


def s1(led, gas=None):
    x = led[led["scope"] == "scope1"]
    return x if gas is None else x[x["gas"] == gas]


def test_bituminous_coal_us_epa_hub_by_short_ton(ef):
    """US EPA GHG Emission Factors Hub 2024 Table 1 / 40 CFR 98 Tables C-1, C-2, bituminous coal: 24.93 mmBtu
    per short ton, 93.28 kg CO2, 11 g CH4, 1.6 g N2O per mmBtu. 100 short tons -> 2,493 mmBtu ->
    CO2 232.54704 t, CH4 0.027423 t, N2O 0.0039888 t; AR5 234.371916 t, AR4 234.4212774 t (within 0.03% of the
    Hub's rounded 2,325 kg CO2 per short ton for CO2 alone)."""
    eu = energy((W, "PUS", "coal_bituminous", 100.0, "short_ton"))
    led = acc.scope1(eu, US, ef, gwp_set="AR5")
    assert s1(led, "CO2")["emissions_t"].sum() == pytest.approx(232.54704, rel=REL)
    assert s1(led, "CH4_fossil")["emissions_t"].sum() == pytest.approx(0.027423, rel=REL)
    assert s1(led, "N2O")["emissions_t"].sum() == pytest.approx(0.0039888, rel=REL)
    assert led["co2e_t"].sum() == pytest.approx(234.371916, rel=REL)
    assert acc.scope1(eu, US, ef, gwp_set="AR4")["co2e_t"].sum() == pytest.approx(234.4212774, rel=REL)
    assert s1(led, "CO2")["emissions_t"].sum() / 100 == pytest.approx(2.325, rel=3e-4)
    assert set(led["formula"]) == {"fuel_x_hhv_x_ef"} and set(led["category"]) == {"stationary_combustion"}


def test_bituminous_coal_china_ipcc_by_tonne(ef):
    """IPCC 2006 Vol. 2 Table 1.2 NCV other bituminous coal 25.8 GJ/t; Table 2.3 94,600 kg CO2, 10 kg CH4,
    1.5 kg N2O per TJ. 1,000 t -> 25,800 GJ -> CO2 2,440.68 t; AR5 2,458.1595 t; AR6 (CH4 fossil 29.8)
    2,458.9335 t. China has no coal factor of its own in the library: GLOBAL is used."""
    eu = energy((W, "PCN", "coal_bituminous", 1000.0, "tonne"))
    led = acc.scope1(eu, CN, ef, gwp_set="AR5")
    assert s1(led, "CO2")["emissions_t"].sum() == pytest.approx(2440.68, rel=REL)
    assert led["co2e_t"].sum() == pytest.approx(2458.1595, rel=REL)
    assert acc.scope1(eu, CN, ef, gwp_set="AR6")["co2e_t"].sum() == pytest.approx(2458.9335, rel=REL)
    assert set(led["factor_id"]) == {"COAL_BITUMINOUS-GLOBAL-2006-CO2", "COAL_BITUMINOUS-GLOBAL-2006-CH4_fossil",
                                     "COAL_BITUMINOUS-GLOBAL-2006-N2O"}


def test_lpg_us_gallons_and_litres_alias(ef):
    """40 CFR 98 C-1 LPG 0.092 mmBtu/gal, 61.71 kg CO2/mmBtu; C-2 petroleum 3.0 g CH4, 0.6 g N2O/mmBtu.
    10,000 US gal -> 920 mmBtu -> CO2 56.7732 t; AR5 56.99676 t. The same carrier entered as 10,000 "L"
    (an alias of litre, accepted at the door and by the engine) = 2,641.72052 gal -> CO2 14.997892763 t."""
    led = acc.scope1(energy((W, "PUS", "lpg", 10000.0, "US_gallon")), US, ef)
    assert s1(led, "CO2")["emissions_t"].sum() == pytest.approx(56.7732, rel=REL)
    assert led["co2e_t"].sum() == pytest.approx(56.99676, rel=REL)
    by_alias = {u: s1(acc.scope1(energy((W, "PUS", "lpg", 10000.0, u)), US, ef), "CO2")["emissions_t"].sum()
                for u in ("litre", "L", "l", "liter")}
    for u, v in by_alias.items():
        assert v == pytest.approx(14.997892763, rel=1e-8), u
    with pytest.raises(acc.UnitConversionError, match="ambiguous"):
        acc.scope1(energy((W, "PUS", "lpg", 1.0, "gal")), US, ef)


@pytest.mark.parametrize("carrier,hv,co2_ef,co2_t,ar5_t", [
    # 40 CFR 98 Table C-1 (mmBtu/gal, kg CO2/mmBtu) and C-2 petroleum (3.0 g CH4, 0.6 g N2O per mmBtu)
    ("propane", 0.091, 62.87, 57.2117, 57.43283),
    ("petrol", 0.125, 70.22, 87.775, 88.07875),
    ("fuel_oil_residual", 0.150, 75.10, 112.65, 113.0145),
])
def test_other_liquid_fuels_us_epa(ef, carrier, hv, co2_ef, co2_t, ar5_t):
    """10,000 US gal x HHV x EF (values in the parameters, US EPA 40 CFR 98 C-1/C-2)."""
    led = acc.scope1(energy((W, "PUS", carrier, 10000.0, "US_gallon")), US, ef)
    assert s1(led, "CO2")["emissions_t"].sum() == pytest.approx(co2_t, rel=REL)
    assert co2_t == pytest.approx(10000 * hv * co2_ef / 1000, rel=REL)
    assert led["co2e_t"].sum() == pytest.approx(ar5_t, rel=REL)


def test_biomethane_biogenic_co2_outside_the_scopes(ef):
    """US EPA Hub 2024 Table 1 other biomass gases 52.07 kg CO2/mmBtu; C-2 gaseous biomass 3.2 g CH4,
    0.63 g N2O per mmBtu. 1,000 mmBtu -> biogenic CO2 52.07 t, reported as scope biogenic_co2 (GHG Protocol:
    outside the scopes, never in scope 1); scope 1 AR5 0.25655 t, AR6 (CH4 non-fossil 27.0) 0.25839 t,
    AR4 0.26774 t."""
    eu = energy((W, "PUS", "biomethane", 1000.0, "mmBtu"))
    led, _ = acc.build_ledger(US, eu, ef, gwp_set="AR5")
    bio = led[led["scope"] == "biogenic_co2"]
    assert bio["emissions_t"].sum() == pytest.approx(52.07, rel=REL) and set(bio["gas"]) == {"CO2"}
    assert s1(led)["co2e_t"].sum() == pytest.approx(0.25655, rel=REL)
    assert "CO2" not in set(s1(led)["gas"]) and "CH4_biogenic" in set(s1(led)["gas"])
    tot = acc.totals_by_scope(led, US)
    assert tot["scope1"] == pytest.approx(0.25655, rel=REL) and tot["biogenic_co2"] == pytest.approx(52.07, rel=REL)
    for gs, v in (("AR6", 0.25839), ("AR4", 0.26774)):
        assert s1(acc.build_ledger(US, eu, ef, gwp_set=gs)[0])["co2e_t"].sum() == pytest.approx(v, rel=REL)


def test_wood_biogenic(ef):
    """US EPA Hub 2024 wood and wood residuals: 17.48 mmBtu/short ton, 93.80 kg CO2, 7.2 g CH4, 3.6 g N2O per
    mmBtu. 10 short tons -> 174.8 mmBtu -> biogenic CO2 16.39624 t; scope 1 AR5 0.20199888 t."""
    led, _ = acc.build_ledger(US, energy((W, "PUS", "wood", 10.0, "short_ton")), ef)
    assert led.loc[led["scope"] == "biogenic_co2", "emissions_t"].sum() == pytest.approx(16.39624, rel=REL)
    assert s1(led)["co2e_t"].sum() == pytest.approx(0.20199888, rel=REL)


def test_steam_us_both_scope2_methods(ef):
    """US EPA Hub 2024 Table 7 steam and heat: 66.33 kg CO2, 1.250 g CH4, 0.125 g N2O per mmBtu (status
    approximation). 1,000 mmBtu -> location AR5 66.398125 t. Market: a supplier contract of 150 MWh at
    0.150 kg/kWh covers 150 MWh (22.5 t); steam has no residual factor, so the rest (293.0711111 - 150 MWh) x
    the location factor (66.398125 t / 293.0711111 MWh): 54.914158746 t in all, and a finding says so."""
    eu = energy((W, "PUS", "steam", 1000.0, "mmBtu"))
    c = pd.DataFrame([{"contract_id": "S1", "plant_id": "PUS", "instrument": "supplier_rate", "market": "US",
                       "start": pd.Timestamp("2024-01-01"), "end": pd.Timestamp("2024-12-31"), "mwh": 150.0,
                       "factor_kg_per_kwh": 0.150, "carrier": "steam"}])
    led, rep = acc.build_ledger(US, eu, ef, c)
    tot = acc.totals_by_scope(led, US)
    assert tot["scope2_location"] == pytest.approx(66.398125, rel=REL)
    mwh = KWH_PER_MMBTU  # 1,000 mmBtu in MWh
    assert tot["scope2_market"] == pytest.approx(22.5 + (mwh - 150) * 66.398125 / mwh, rel=REL)
    assert tot["scope2_market"] == pytest.approx(54.914158746, rel=1e-9)
    assert set(led.loc[led["scope"] == "scope2_market", "category"]) == {"purchased_steam"}
    kinds = {f["kind"] for f in rep["findings"]}
    assert "market_location_fallback" in kinds and "factor_approximation" in kinds
    # an electricity contract does not cover steam
    led2, rep2 = acc.build_ledger(US, eu, ef, c.assign(carrier=None))
    assert acc.totals_by_scope(led2, US)["scope2_market"] == pytest.approx(66.398125, rel=REL)
    assert rep2["instruments_surplus_mwh"] == {"S1": 150.0}


def test_district_heat_gb(ef):
    """UK DESNZ 2024 heat and steam 0.1796 kg CO2e/kWh (status approximation). 10,000 kWh -> location 1.796 t;
    market 1.796 t (no residual factor: location used, reported)."""
    led, rep = acc.build_ledger(GB, energy((W, "PGB", "district_heat", 10000.0, "kWh")), ef)
    tot = acc.totals_by_scope(led, GB)
    assert tot["scope2_location"] == pytest.approx(1.796, rel=REL)
    assert tot["scope2_market"] == pytest.approx(1.796, rel=REL)
    assert any(f["kind"] == "market_location_fallback" for f in rep["findings"])


def test_district_cooling_needs_a_supplied_factor(ef):
    """No public default for district cooling: MissingFactorError names the activity and region. With a
    fixture factor 0.1 kg/kWh and a contract at 0 for half of 10 MWh: location 1.0 t, market 0.5 t."""
    eu = energy((W, "PUS", "district_cooling", 10.0, "MWh"))
    with pytest.raises(acc.MissingFactorError, match="district_cooling"):
        acc.build_ledger(US, eu, ef)
    extra = pd.DataFrame([{"factor_id": "DC-US", "activity": "district_cooling", "gas": "CO2e", "value": 0.1,
                           "unit": "kg/kWh", "source": "fixture", "year": 2024, "region": "US",
                           "version": ef["version"].iloc[0], "basis": None}])
    f = pd.concat([ef, extra], ignore_index=True)
    c = pd.DataFrame([{"contract_id": "K", "plant_id": "PUS", "instrument": "PPA", "market": "US",
                       "start": W, "end": W, "mwh": 5.0, "factor_kg_per_kwh": 0.0, "carrier": "district_cooling"}])
    tot = acc.totals_by_scope(acc.build_ledger(US, eu, f, c)[0], US)
    assert tot["scope2_location"] == pytest.approx(1.0, rel=REL)
    assert tot["scope2_market"] == pytest.approx(0.5, rel=REL)


def test_carriers_table_every_scope1_carrier_converts_its_default_unit(ef):
    """Registry walk: every Scope 1 carrier has factors and its default unit converts (directly or through a
    heating value) for a US plant; every carrier id is in the energy_use contract."""
    from core.ghg.carriers import CARRIERS, carriers_for
    from core.tables import TABLES

    assert set(TABLES["energy_use"].column("carrier").isin) == set(CARRIERS)
    for c in carriers_for("scope1"):
        unit = "US_gallon" if CARRIERS[c].default_unit == "litre" else CARRIERS[c].default_unit
        unit = "short_ton" if unit == "tonne" else unit
        led = acc.scope1(energy((W, "PUS", c, 1.0, unit)), US, ef)
        assert len(led) >= 2, c
    ci = acc.carrier_intensities(US, ef, None, [W], carriers=("coal_bituminous", "steam", "electricity"))
    assert set(ci["carrier"]) == {"coal_bituminous", "steam", "electricity"}


def test_door_accepts_unit_aliases_the_engine_accepts():
    """Validation and engine share core.ghg.units.UNIT_ALIASES: 'L' and 'kwh' pass the door as litre/kWh."""
    p = plants(("PUS", "US", None))
    eu = pd.DataFrame({"week": ["2024-01-01", "2024-01-08", "2024-01-15"], "plant_id": "PUS",
                       "carrier": ["lpg", "electricity", "coal_bituminous"], "quantity": ["10", "5", "1"],
                       "unit": ["L", "kwh", "t"]})
    res = validate_tables({"plants": p.astype(str), "energy_use": eu}, required=("plants", "energy_use"))
    assert res.valid["energy_use"]["unit"].tolist() == ["litre", "kWh", "tonne"]
