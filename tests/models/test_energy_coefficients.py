"""Energy forecaster and the optimiser's emission coefficients (known synthetic per-unit energy)."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from core import lake
from models import registry
from models.emissions import (
    COEFFICIENT_COLUMNS,
    EnergyForecaster,
    canonical_energy,
    emission_coefficients,
    energy_panel,
    forecast_emissions,
    planning_weeks,
)


def test_canonical_units():
    eu = pd.DataFrame({"week": pd.Timestamp("2026-01-05"), "plant_id": ["A", "A", "B", "B", "C"],
                       "carrier": ["electricity", "natural_gas", "natural_gas", "diesel", "electricity"],
                       "quantity": [2.0, 10.0, 3.0, 2.0, 1.0], "unit": ["MWh", "therm", "mmBtu", "US_gallon", "GJ"]})
    e = canonical_energy(eu).set_index(["plant_id", "carrier"])["energy"]
    assert e[("A", "electricity")] == pytest.approx(2000.0)
    assert e[("A", "natural_gas")] == pytest.approx(293.07107)  # 10 therm = 1 mmBtu
    assert e[("B", "natural_gas")] == pytest.approx(3 * 293.07107)
    assert e[("B", "diesel")] == pytest.approx(2 * 3.785411784)
    assert e[("C", "electricity")] == pytest.approx(1 / 0.0036)
    with pytest.raises(ValueError, match="cannot convert"):
        canonical_energy(eu.assign(unit="litre", carrier="electricity"))


def test_linear_model_recovers_per_unit_energy_and_coefficients(small_plants):
    panel, rep = energy_panel(small_plants["energy_use"], small_plants["production_history"])
    assert rep == {"no_production_rows": 0, "missing_energy_rows": 0}
    model = EnergyForecaster().fit(panel)
    b = model.linear.set_index(["plant_id", "carrier"])["b"]
    # synthetic truth: 700 kWh, 300 kWh and 0.5 litre per vehicle (3% noise)
    assert b.xs("electricity", level="carrier").to_numpy() == pytest.approx([700, 700, 700], rel=0.06)
    assert b.xs("natural_gas", level="carrier").to_numpy() == pytest.approx([300, 300, 300], rel=0.15)
    weeks = planning_weeks(panel["week"].max(), 4)
    ci = pd.DataFrame([{"plant_id": p, "week": w, "carrier": c, "scope": s, "unit": "x", "tco2e_per_unit": v}
                       for p in ["PL0", "PL1", "PL2"] for w in weeks
                       for c, s, v in [("electricity", "scope2_location", 4e-4), ("electricity", "scope2_market", 1e-4),
                                       ("natural_gas", "scope1", 2e-4), ("diesel", "scope1", 2.7e-3)]])
    coef = emission_coefficients(model, ci, weeks)
    assert list(coef.columns) == COEFFICIENT_COLUMNS and len(coef) == 3 * 4 * 3
    row = coef[(coef["plant_id"] == "PL1") & (coef["scope"] == "scope1")].iloc[0]
    lin = model.linear.set_index(["plant_id", "carrier"])
    assert row["marginal_tco2e_per_unit"] == pytest.approx(lin.loc[("PL1", "natural_gas"), "b"] * 2e-4
                                                           + lin.loc[("PL1", "diesel"), "b"] * 2.7e-3)
    loc = coef[(coef["plant_id"] == "PL0") & (coef["scope"] == "scope2_location")]["marginal_tco2e_per_unit"]
    assert loc.to_numpy() == pytest.approx(np.full(4, lin.loc[("PL0", "electricity"), "b"] * 4e-4))
    # winter weeks carry more fixed gas (heating) than summer weeks
    summer = planning_weeks(pd.Timestamp("2026-06-01"), 1)
    winter = planning_weeks(pd.Timestamp("2026-01-05"), 1)
    fm_s = model.fixed_and_marginal(["PL0"], summer).set_index("carrier")["fixed"]
    fm_w = model.fixed_and_marginal(["PL0"], winter).set_index("carrier")["fixed"]
    assert fm_w["natural_gas"] > fm_s["natural_gas"] + 100_000
    with pytest.raises(ValueError, match="carrier intensities missing"):
        emission_coefficients(model, ci[ci["carrier"] != "diesel"], weeks)


def test_forecast_emissions_stage_logs_and_writes(tmp_path, mlflow_store, small_plants):
    root = str(tmp_path / "lake")
    plants = small_plants["plants"].assign(country=["DE", "FR", "PL"])
    lake.write_table(plants, "validated", "r1", "plants", root)
    for name in ("production_history", "energy_use"):
        lake.write_table(small_plants[name], "validated", "r1", name, root)
    out = forecast_emissions("r1", root, horizon=6, config={"n_estimators": 60})
    coef = lake.read_table("forecast", "r1", "plant_emission_coefficients", root)
    assert list(coef.columns) == COEFFICIENT_COLUMNS
    assert len(coef) == 3 * 6 * 3 and set(coef["scope"]) == {"scope1", "scope2_location", "scope2_market"}
    assert (coef["marginal_tco2e_per_unit"] > 0).all() and (coef["fixed_tco2e"] >= 0).all()
    assert out["model_version"] == "1" and out["champion_moved"] is True
    m = out["metrics"]
    assert m["linear_wape"] < m["snaive_wape"]
    assert 0 <= m["linearisation_mean_abs_rel_error"] < 0.5
    runs = mlflow.search_runs(experiment_names=[registry.ENERGY_EXPERIMENT])
    assert len(runs) == 1 and runs.iloc[0]["tags.lake_run_id"] == "r1"
    assert lake.read_manifest("r1", root)["forecast/emissions"]["rows"] == len(coef)


def test_new_carriers_reach_the_coefficients():
    """Issue 15c: the forecaster models any carrier of core.ghg's carriers table in its default unit and gets
    its intensity from the accounting engine. By hand (AR5, CH4 28, N2O 265):
    - coal (bituminous) in China per tonne: IPCC 2006 Vol. 2 Table 1.2 NCV 25.8 GJ/t x Table 2.3 (94.6 kg CO2,
      10 g CH4, 1.5 g N2O per GJ) = 2.4581595 t CO2e (100 short tons = 90.718474 t);
    - LPG in the US per litre: 40 CFR 98 Table C-1 0.092 mmBtu/gal x (61.71 + 0.003 x 28 + 0.0006 x 265) kg
      per mmBtu / 3.785411784 l/gal = 5.699676 kg / 3.785411784 l;
    - district heat in GB per kWh: the library's DESNZ 2024 heat-and-steam row, 0.1796 kg CO2e, both methods."""
    from models.emissions import carrier_intensity_table

    plants = pd.DataFrame({"plant_id": ["CN1", "US1", "GB1"], "name": "x", "country": ["CN", "US", "GB"],
                           "grid_region": None, "lat": 0.0, "lon": 0.0, "capacity_units_per_week": 1.0,
                           "equity_share": 1.0, "operational_control": True})
    eu = pd.DataFrame({"week": pd.Timestamp("2026-01-05"), "plant_id": ["CN1", "US1", "GB1"],
                       "carrier": ["coal_bituminous", "lpg", "district_heat"], "quantity": [100.0, 10.0, 2.0],
                       "unit": ["short_ton", "US_gallon", "MWh"]})
    e = canonical_energy(eu).set_index("carrier")["energy"]
    assert e.to_dict() == pytest.approx({"coal_bituminous": 90.718474, "lpg": 37.85411784, "district_heat": 2000.0},
                                        rel=1e-12)
    weeks = planning_weeks(pd.Timestamp("2026-01-05"), 2)
    ci, _ = carrier_intensity_table(plants, weeks, None, None, "AR5", eu[["plant_id", "carrier"]])
    got = ci.groupby(["plant_id", "carrier", "scope"])["tco2e_per_unit"].agg(["min", "max", "size"])
    assert got.loc[("CN1", "coal_bituminous", "scope1")].tolist() == pytest.approx([2.4581595e0, 2.4581595e0, 2],
                                                                                   rel=1e-9)
    assert got.loc[("US1", "lpg", "scope1"), "max"] == pytest.approx(5.699676e-3 / 3.785411784, rel=1e-9)
    for scope in ("scope2_location", "scope2_market"):
        assert got.loc[("GB1", "district_heat", scope), "max"] == pytest.approx(0.1796e-3, rel=1e-9)
    assert ("CN1", "lpg", "scope1") not in got.index  # other carriers only for the plants that use them
    assert {"electricity", "natural_gas", "diesel"} <= set(ci.loc[ci["plant_id"] == "CN1", "carrier"])
    # the coefficients sum the carriers per scope: a plant with coal 0.5 t per vehicle -> marginal x intensity
    model = EnergyForecaster()
    model.linear = pd.DataFrame({"plant_id": ["CN1", "CN1"], "carrier": ["coal_bituminous", "electricity"],
                                 "a": [10.0, 0.0], "b": [0.5, 0.0], "c_sin": 0.0, "c_cos": 0.0, "n": 10})
    coef = emission_coefficients(model, ci, weeks, ["CN1"]).set_index(["week", "scope"])
    s1 = coef.xs("scope1", level="scope")
    assert s1["marginal_tco2e_per_unit"].tolist() == pytest.approx([0.5 * 2.4581595] * 2, rel=1e-9)
    assert s1["fixed_tco2e"].tolist() == pytest.approx([10 * 2.4581595] * 2, rel=1e-9)
