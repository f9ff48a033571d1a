"""Issue 15: refrigerant fugitive and process emissions, hand-computed.

GWP-100 (kg CO2e per kg): AR4 = IPCC AR4 WG1 Table 2.14 as in US EPA 40 CFR 98 Table A-1 (HFC-32 675, HFC-125
3,500, HFC-134a 1,430); AR5 = IPCC AR5 WG1 Table 8.A.1 (677, 3,170, 1,300; HFO-1234yf "<1"); AR6 = IPCC AR6
WG1 Table 7.SM.7 (771, 3,740, 1,530; HFO-1234yf 0.501). R-410A = 50/50 HFC-32/HFC-125 by mass (ASHRAE 34).
Screening rates: IPCC 2006 Vol. 3 Ch. 7 Table 7.9 (upper end of each range).
"""

from __future__ import annotations

import pandas as pd
import pytest

from features import accounting as acc

REL = 1e-9
P = pd.DataFrame([{"plant_id": "P1", "name": "P1", "country": "DE", "grid_region": None, "lat": 0.0, "lon": 0.0,
                   "capacity_units_per_week": 1.0, "equity_share": 1.0, "operational_control": True}])
MB = ("inventory_start_kg", "inventory_end_kg", "purchased_kg", "returned_kg", "charged_into_products_kg",
      "capacity_added_kg", "capacity_retired_kg")


def ref(equipment, refrigerant, method, start="2023-01-01", end="2023-12-31", **kw):
    row = {"plant_id": "P1", "period_start": pd.Timestamp(start), "period_end": pd.Timestamp(end),
           "equipment": equipment, "refrigerant": refrigerant, "method": method,
           **{c: None for c in (*MB, "units", "charge_kg_per_unit")}}
    row.update(kw)
    return pd.DataFrame([row]).astype({c: float for c in (*MB, "units", "charge_kg_per_unit")})


def mb(refrigerant, equipment="vehicle_ac_fill", **kw):
    base = dict(inventory_start_kg=0.0, inventory_end_kg=0.0, purchased_kg=0.0, returned_kg=0.0,
                charged_into_products_kg=0.0, capacity_added_kg=0.0, capacity_retired_kg=0.0)
    base.update(kw)
    return ref(equipment, refrigerant, "mass_balance", **base)


@pytest.mark.parametrize("gwp_set,expect", [("AR4", 1430.0), ("AR5", 1300.0), ("AR6", 1530.0)])
def test_r134a_mass_balance(gwp_set, expect):
    """1,000 kg R-134a lost (purchased 1,000, no stock change) -> 1,430 / 1,300 / 1,530 t CO2e, gas HFC-134a."""
    led = acc.fugitive(mb("R-134a", purchased_kg=1000.0), P, gwp_set=gwp_set)
    assert led["co2e_t"].sum() == pytest.approx(expect, rel=REL)
    assert set(led["gas"]) == {"HFC-134a"} and set(led["category"]) == {"fugitive"}
    assert set(led["scope"]) == {"scope1"} and led["emissions_t"].sum() == pytest.approx(1.0, rel=REL)


def test_r410a_chiller_top_up_is_split_into_species():
    """25 kg R-410A purchased for a chiller, no stock change -> 12.5 kg HFC-32 + 12.5 kg HFC-125:
    AR4 12.5 x (675 + 3,500) = 52.1875 t; AR5 48.0875 t; AR6 56.3875 t."""
    t = mb("R-410A", equipment="chiller", purchased_kg=25.0)
    for gs, v in (("AR4", 52.1875), ("AR5", 48.0875), ("AR6", 56.3875)):
        led = acc.fugitive(t, P, gwp_set=gs)
        assert led["co2e_t"].sum() == pytest.approx(v, rel=REL), gs
        assert dict(zip(led["gas"], led["emissions_t"], strict=True)) == pytest.approx(
            {"HFC-32": 0.0125, "HFC-125": 0.0125}, rel=REL)


def test_r1234yf_mass_balance_with_charge_into_vehicles_and_gwp_fallback():
    """Stock 2,000 -> 1,500 kg, purchased 60,000 kg, 59,800 kg charged into shipped vehicles (not Scope 1):
    700 kg emitted. AR6 0.501 -> 0.3507 t. AR5 has "<1" and AR4 none: the AR6 value is used and reported."""
    t = mb("R-1234yf", inventory_start_kg=2000.0, inventory_end_kg=1500.0, purchased_kg=60000.0,
           charged_into_products_kg=59800.0)
    led = acc.fugitive(t, P, gwp_set="AR6")
    assert led["emissions_t"].sum() == pytest.approx(0.7, rel=REL)
    assert led["co2e_t"].sum() == pytest.approx(0.3507, rel=REL)
    eu = pd.DataFrame(columns=["week", "plant_id", "carrier", "quantity", "unit"])
    led5, rep = acc.build_ledger(P, eu, None, refrigerant_use=t, gwp_set="AR5")
    assert led5["co2e_t"].sum() == pytest.approx(0.3507, rel=REL)
    assert set(led5["factor_id"]) == {"GWP-AR6-HFO-1234yf"}
    assert [f["key"] for f in rep["findings"] if f["kind"] == "gwp_fallback"] == ["HFO-1234yf"]


def test_r1234yf_screening_fill():
    """100,000 vehicles x 0.5 kg x k 0.5% (IPCC 2006 V3 T7.9 MAC initial emission 0.2-0.5%, upper end) =
    250 kg; AR6 0.12525 t."""
    t = ref("vehicle_ac_fill", "R-1234yf", "screening", units=100000.0, charge_kg_per_unit=0.5)
    led = acc.fugitive(t, P, gwp_set="AR6")
    assert led["emissions_t"].sum() == pytest.approx(0.25, rel=REL)
    assert led["co2e_t"].sum() == pytest.approx(0.12525, rel=REL)
    assert set(led["formula"]) == {"refrigerant_screening_fill"}


def test_r134a_chiller_screening_one_year():
    """2 chillers x 400 kg x 15%/yr (T7.9 chillers 2-15%, upper end) x 1 year (2023: 365 days) = 120 kg:
    AR4 171.6, AR5 156.0, AR6 183.6 t."""
    t = ref("chiller", "R-134a", "screening", units=2.0, charge_kg_per_unit=400.0)
    for gs, v in (("AR4", 171.6), ("AR5", 156.0), ("AR6", 183.6)):
        assert acc.fugitive(t, P, gwp_set=gs)["co2e_t"].sum() == pytest.approx(v, rel=REL), gs


def test_r744_fill_is_co2():
    """100 kg R-744 lost -> 0.1 t CO2 (GWP 1), gas CO2, category fugitive."""
    led = acc.fugitive(mb("R-744", purchased_kg=100.0), P)
    assert led["co2e_t"].sum() == pytest.approx(0.1, rel=REL) and set(led["gas"]) == {"CO2"}


def test_negative_mass_balance_is_refused():
    """Stock 0 -> 0, purchased 100 kg, charged 150 kg: -50 kg is impossible; refused naming plant and period."""
    with pytest.raises(acc.AccountingError, match=r"refrigerant_use row 0 \(plant_id=P1, period_start=2023-01-01.*"
                                                   r"refrigerant=R-134a\).*negative \(-50 kg\)"):
        acc.fugitive(mb("R-134a", purchased_kg=100.0, charged_into_products_kg=150.0), P)


def test_rto_solvent_oxidation_carbon_balance():
    """An RTO oxidises 10 t xylene (C8H10, carbon fraction 0.905): 10 x 0.905 x 44/12 = 33.18333 t CO2, category
    process. Without a row fraction the library's xylene value 96.088/106.168 is used."""
    pa = pd.DataFrame([{"plant_id": "P1", "period_start": pd.Timestamp("2023-01-01"),
                        "period_end": pd.Timestamp("2023-03-31"), "process": "rto_solvent_oxidation",
                        "quantity": 10.0, "unit": "tonne", "carbon_fraction": 0.905}])
    led = acc.process(pa, P)
    assert led["co2e_t"].sum() == pytest.approx(10 * 0.905 * 44 / 12, rel=REL)
    assert led["co2e_t"].sum() == pytest.approx(33.18333333, rel=1e-9)
    assert set(led["category"]) == {"process"} and set(led["gas"]) == {"CO2"}
    lib = acc.process(pa.assign(carbon_fraction=None, quantity=10000.0, unit="kg"), P)
    assert lib["co2e_t"].sum() == pytest.approx(10 * 96.088 / 106.168 * 44 / 12, rel=REL)
