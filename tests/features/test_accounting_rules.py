"""Issue 15: the silent cases of the issue now raise or are reported, for a direct caller as for the stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import lake
from features import accounting as acc
from features.factors import reference_factors

REL = 1e-9
W1, W2 = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")


def plants(*rows):
    return pd.DataFrame([{"plant_id": p, "name": p, "country": c, "grid_region": None, "lat": 0.0, "lon": 0.0,
                          "capacity_units_per_week": 1.0, "equity_share": 1.0, "operational_control": True}
                         for p, c in rows])


def energy(*rows):
    return pd.DataFrame(rows, columns=["week", "plant_id", "carrier", "quantity", "unit"]).assign(
        week=lambda d: pd.to_datetime(d["week"]))


def contract(cid, plant, inst, market, mwh, ef, start="2024-01-01", end="2024-12-31", carrier=None):
    return {"contract_id": cid, "plant_id": plant, "instrument": inst, "market": market,
            "start": pd.Timestamp(start), "end": pd.Timestamp(end), "mwh": mwh, "factor_kg_per_kwh": ef,
            "carrier": carrier}


CN, DE, XX = plants(("PCN", "CN")), plants(("PDE", "DE")), plants(("PX", "XX"))


@pytest.fixture(scope="module")
def ef():
    return reference_factors()


def test_co2e_row_beside_the_library_co2_row_is_a_conflict(ef):
    """China MEE 2023 grid 0.5306 kg CO2/kWh: 10 GWh -> 5,306 t. A user CO2e row for the same activity, region
    and year used to be counted as well (10,612 t); now FactorConflictError names both rows."""
    eu = energy((W1, "PCN", "electricity", 10.0, "GWh"))
    led, _ = acc.build_ledger(CN, eu, ef)
    assert acc.totals_by_scope(led, CN)["scope2_location"] == pytest.approx(5306.0, rel=REL)
    extra = pd.DataFrame([{"factor_id": "USER-CN-2023-CO2e", "activity": "electricity_grid", "gas": "CO2e",
                           "value": 0.5306, "unit": "kg/kWh", "source": "user", "year": 2023, "region": "CN",
                           "version": ef["version"].iloc[0], "basis": None}])
    with pytest.raises(acc.FactorConflictError, match="EG-CN-2023-CO2.*USER-CN-2023-CO2e|USER-CN-2023-CO2e.*EG-CN"):
        acc.build_ledger(CN, eu, pd.concat([ef, extra], ignore_index=True))


def test_ch4_beside_ch4_fossil_is_a_conflict():
    f = pd.DataFrame({"factor_id": ["a", "b", "c"], "activity": "natural_gas", "gas": ["CO2", "CH4", "CH4_fossil"],
                      "value": [56.1, 1e-3, 1e-3], "unit": "kg/GJ", "source": "t", "year": 2006, "region": "XX",
                      "version": "t", "basis": None})
    with pytest.raises(acc.FactorConflictError, match="'b'|b \\(CH4"):
        acc.scope1(energy((W1, "PX", "natural_gas", 1.0, "GJ")), XX, f)


def test_carbon_content_with_only_a_ch4_row_still_gives_co2():
    """Region XX has only a CH4 row; 50,000 GJ natural gas, IPCC 2006 Vol. 2 Table 1.3 carbon content
    15.3 kg C/GJ (GLOBAL): CO2 = 50,000 x 15.3 x 44/12 kg = 2,805 t (was 0 t). fuel x EF on the same set
    refuses: it needs CO2 or CO2e."""
    f = pd.DataFrame({"factor_id": ["XX-CH4"], "activity": "natural_gas", "gas": ["CH4_fossil"], "value": [1e-3],
                      "unit": "kg/GJ", "source": "t", "year": 2006, "region": "XX", "version": "t", "basis": None})
    eu = energy((W1, "PX", "natural_gas", 50000.0, "GJ"))
    led = acc.scope1(eu, XX, f, formula="carbon_content")
    assert led.loc[led["gas"] == "CO2", "emissions_t"].sum() == pytest.approx(2805.0, rel=REL)
    assert led.loc[led["gas"] == "CH4_fossil", "emissions_t"].sum() == pytest.approx(0.05, rel=REL)
    with pytest.raises(acc.MissingFactorError, match="needs a CO2 or CO2e"):
        acc.scope1(eu, XX, f, formula="ef")


def test_certificate_surplus_is_reported_or_refused(ef):
    """EAC 15,000 MWh against 10,000 MWh used: market-based 0 t and 5,000 MWh surplus reported (finding
    instrument_surplus); surplus='refuse' raises naming the contract."""
    eu = energy((W1, "PDE", "electricity", 10000.0, "MWh"))
    c = pd.DataFrame([contract("E1", "PDE", "EAC", "DE", 15000.0, 0.0)])
    led, rep = acc.build_ledger(DE, eu, ef, c)
    assert acc.totals_by_scope(led, DE)["scope2_market"] == pytest.approx(0.0, abs=1e-12)
    assert rep["instruments_surplus_mwh"] == {"E1": 5000.0}
    f = [x for x in rep["findings"] if x["kind"] == "instrument_surplus"]
    assert len(f) == 1 and f[0]["key"] == "E1" and f[0]["value"] == pytest.approx(5000.0)
    with pytest.raises(acc.AccountingError, match="E1: 5000 MWh not used"):
        acc.build_ledger(DE, eu, ef, c, surplus="refuse")


def test_same_week_twice_is_refused_or_reported(ef):
    """The same plant, week and carrier as 1,000 kWh and 1 MWh: refused naming both rows; with
    duplicates='report' both are kept (2 MWh x DE grid 0.381 = 0.762 t) and a finding counts the group."""
    eu = energy((W1, "PDE", "electricity", 1000.0, "kWh"), (W2, "PDE", "electricity", 5.0, "kWh"),
                (W1, "PDE", "electricity", 1.0, "MWh"))
    with pytest.raises(acc.AccountingError, match=r"energy_use rows 0 and 2: the same plant, week and carrier"):
        acc.build_ledger(DE, eu, ef)
    with pytest.raises(acc.AccountingError, match="rows 0 and 2"):
        acc.scope2(eu, DE, ef)  # a direct call to a section refuses too
    led, rep = acc.build_ledger(DE, eu, ef, duplicates="report")
    assert acc.totals_by_scope(led, DE)["scope2_location"] == pytest.approx(2.005 * 0.381, rel=REL)
    d = [x for x in rep["findings"] if x["kind"] == "duplicate_activity"]
    assert len(d) == 1 and d[0]["value"] == 1.0


@pytest.mark.parametrize("table,column,value,message", [
    ("lanes", "distance_km", -5.0, r"lanes row 0: distance_km: -5 < 0 \(ge 0\)"),
    ("contracts", "mwh", -1.0, r"energy_contracts row 0: mwh: -1 < 0 \(ge 0\)"),
    ("contracts", "factor_kg_per_kwh", -0.1, r"energy_contracts row 0: factor_kg_per_kwh: -0.1 < 0 \(ge 0\)"),
    ("shipments", "tonnes", np.nan, r"shipments row 0: tonnes: missing \(required\)"),
])
def test_direct_caller_gets_the_contract_refusals(ef, table, column, value, message):
    """Called without the validation stage, the engine refuses what the door refuses, in the same words."""
    eu = energy((W1, "PDE", "electricity", 100.0, "MWh"))
    lanes = pd.DataFrame([{"lane_id": "L1", "plant_id": "PDE", "market_id": "M", "mode": "road",
                           "distance_km": 100.0}])
    ship = pd.DataFrame([{"week": W1, "lane_id": "L1", "tonnes": 10.0}])
    c = pd.DataFrame([contract("P1", "PDE", "PPA", "DE", 10.0, 0.0)])
    tables = {"lanes": lanes, "shipments": ship, "contracts": c}
    tables[table] = tables[table].assign(**{column: value})
    with pytest.raises(acc.AccountingError, match=message):
        acc.build_ledger(DE, eu, ef, tables["contracts"], tables["shipments"], tables["lanes"])


def test_co2e_factor_published_under_another_gwp_set_is_reported(ef):
    """DESNZ 2025 natural gas 0.18296 kg CO2e/kWh is stated with AR5 GWPs: a run under AR6 reports it."""
    gb = plants(("PGB", "GB"))
    eu = energy((W1, "PGB", "natural_gas", 1000.0, "kWh"))
    _, rep = acc.build_ledger(gb, eu, ef, gwp_set="AR6")
    assert [f["key"] for f in rep["findings"] if f["kind"] == "co2e_gwp_set_differs"] == ["NG-GB-2025-CO2e"]
    _, rep5 = acc.build_ledger(gb, eu, ef, gwp_set="AR5")
    assert not [f for f in rep5["findings"] if f["kind"] == "co2e_gwp_set_differs"]


def test_account_on_the_demo_writes_findings_appendix_and_coverage(tmp_path):
    """The demo run: refrigerant fills at every plant and paint-shop RTOs show in the ledger and manifest;
    Scope 3 coverage has 15 rows, category 4 measured with the ledger's cat-4 total, category 1 excluded with
    its reason; the factor appendix lists every factor used with its status."""
    from core import catalog
    from features.sample import generate

    data = generate("demo", 7)
    root, run = str(tmp_path / "lake"), "acc15"
    for name, df in data.items():
        lake.write_table(df, "validated", run, name, root)
    out = acc.account(run, root=root)
    led = catalog.EMISSIONS_LEDGER.read(run, root=root)
    fug = led[led["category"] == "fugitive"]
    assert set(fug["plant_id"]) == set(data["plants"]["plant_id"])
    assert {"HFC-134a", "HFO-1234yf", "CO2", "HFC-32", "HFC-125"} <= set(fug["gas"])
    assert (led["category"] == "process").any()
    cats = out["by_category_t_co2e"]
    assert cats["scope1|fugitive"] > 0 and cats["scope1|process"] > 0
    cov = catalog.SCOPE3_COVERAGE.read(run, root=root)
    assert len(cov) == 15 and cov["category"].tolist() == list(range(1, 16))
    c4 = cov.set_index("category").loc[4]
    assert c4["status"] == "measured" and c4["co2e_t"] == pytest.approx(out["totals_t_co2e"]["scope3_cat4"],
                                                                          rel=1e-6)
    assert cov.set_index("category").loc[1, "status"] == "excluded"
    assert "scope3_cat1" in cov.set_index("category").loc[1, "reason"]  # no supply stage output in this run
    app = catalog.FACTOR_APPENDIX.read(run, root=root)
    assert set(app["factor_id"]) == set(led["factor_id"].astype(str))
    assert {"checked", "approximation"} <= set(app["status"].dropna())
    rep = catalog.ACCOUNTING_REPORT.read(run, root=root)
    assert "instrument_surplus" in set(rep["kind"])  # the demo's cross-border certificate
    assert out["findings"]["instrument_surplus"] >= 1 and out["scope3_coverage"]["measured"] == 1
