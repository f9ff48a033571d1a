"""Stand-in forecast and coefficients, and lane transport factors, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimisation.inputs import (
    InputError,
    freight_factors,
    lane_tco2e_per_t,
    stand_in_coefficients,
    stand_in_forecast,
)


def _ef(rows):
    return pd.DataFrame(rows, columns=["factor_id", "activity", "gas", "value", "unit", "source", "year", "region",
                                       "version", "basis"])


def test_freight_factor_latest_year_and_basis():
    ef = _ef([("a", "freight_road", "CO2e", 0.12, "kg/tonne_km", "s", 2024, "GLOBAL", "v", "TTW"),
              ("b", "freight_road", "CO2e", 0.10163, "kg/tonne_km", "s", 2025, "GLOBAL", "v", "TTW"),
              ("c", "freight_road", "CO2e", 0.125, "kg/tonne_km", "s", 2025, "GLOBAL", "v", "WTW"),
              ("d", "freight_sea", "CO2e", 0.01612, "kg/tonne_km", "s", 2025, "GLOBAL", "v", None)])
    assert freight_factors(ef, ["road", "sea"]) == {"road": 0.10163, "sea": 0.01612}
    assert freight_factors(ef, ["road"], basis="WTW") == {"road": 0.125}
    with pytest.raises(InputError, match="'air'"):
        freight_factors(ef, ["road", "air"])
    lanes = pd.DataFrame({"lane_id": ["L1", "L2"], "mode": ["road", "sea"], "distance_km": [500.0, 10000.0]})
    # 500 km x 0.10163 kg/t-km / 1000 = 0.050815 t CO2e per tonne; 10000 x 0.01612 / 1000 = 0.1612
    assert lane_tco2e_per_t(lanes, ef).to_dict() == pytest.approx({"L1": 0.050815, "L2": 0.1612})


def test_stand_in_forecast_seasonal_naive_times_trend():
    weeks = pd.date_range("2025-01-06", periods=70, freq="7D")
    units = np.where(np.arange(70) < 52, 100.0, 120.0)
    dh = pd.DataFrame({"week": weeks, "product_id": "K", "market_id": "M", "units": units})
    fc = stand_in_forecast(dh, horizon_weeks=2)
    # trend = last 13 weeks (120 each) / the same weeks a year earlier (100 each) = 1.2
    # week 71's value a year earlier is 100 -> 120; the last 13 weeks are constant -> zero-width intervals
    assert fc["week"].tolist() == [weeks[-1] + pd.Timedelta(weeks=1), weeks[-1] + pd.Timedelta(weeks=2)]
    assert fc["yhat"].tolist() == pytest.approx([120.0, 120.0])
    assert fc["yhat_hi_95"].tolist() == pytest.approx([120.0, 120.0])


def test_stand_in_forecast_short_history_uses_recent_mean():
    weeks = pd.date_range("2025-01-06", periods=6, freq="7D")
    dh = pd.DataFrame({"week": weeks, "product_id": "K", "market_id": "M",
                       "units": [10.0, 10.0, 20.0, 40.0, 20.0, 40.0]})
    fc = stand_in_forecast(dh, horizon_weeks=3)
    assert fc["yhat"].tolist() == pytest.approx([30.0] * 3)  # mean of the last 4 weeks
    sigma = np.std([10.0, 10.0, 20.0, 40.0, 20.0, 40.0])
    assert fc["yhat_hi_80"].iloc[0] == pytest.approx(30 + 1.2816 * sigma)
    assert fc["yhat_lo_95"].iloc[0] == pytest.approx(max(30 - 1.96 * sigma, 0.0))


def test_stand_in_coefficients_by_hand():
    plants = pd.DataFrame({"plant_id": ["P", "Q"], "country": ["DE", "US"], "grid_region": [None, "SRSO"],
                           "capacity_units_per_week": [100.0, 50.0]})
    pp = pd.DataFrame({"plant_id": ["P", "P", "Q"], "product_id": ["a", "b", "a"],
                       "electricity_kwh_per_unit": [800.0, 1200.0, 1000.0],
                       "natural_gas_kwh_per_unit": [500.0, 500.0, 0.0]})
    ef = _ef([("g1", "electricity_grid", "CO2e", 0.4, "kg/kWh", "s", 2023, "DE", "v", None),
              ("g2", "electricity_grid", "CO2", 0.3, "kg/kWh", "s", 2021, "US", "v", None),
              ("g3", "electricity_grid", "CO2", 0.5, "kg/kWh", "s", 2021, "SRSO", "v", None),
              ("r1", "electricity_residual_mix", "CO2e", 0.6, "kg/kWh", "s", 2023, "DE", "v", None),
              ("n1", "natural_gas", "CO2", 56.1, "kg/GJ", "s", 2006, "GLOBAL", "v", None),
              ("n2", "natural_gas", "CH4_fossil", 0.001, "kg/GJ", "s", 2006, "GLOBAL", "v", None),
              ("n3", "natural_gas", "N2O", 0.0001, "kg/GJ", "s", 2006, "GLOBAL", "v", None)])
    week = pd.Timestamp("2026-01-05")
    c = stand_in_coefficients(plants, pp, ef, [week], baseload_share=0.2)
    m = c.set_index(["plant_id", "scope"])["marginal_tco2e_per_unit"]
    gas_kg_per_kwh = (56.1 + 0.001 * 28 + 0.0001 * 265) / 277.7777778
    assert m["P", "scope1"] == pytest.approx(500 * gas_kg_per_kwh / 1000)
    assert m["P", "scope2_location"] == pytest.approx(1000 * 0.4 / 1000)  # mean kWh 1000 x DE grid
    assert m["P", "scope2_market"] == pytest.approx(1000 * 0.6 / 1000)  # residual mix
    assert m["Q", "scope2_location"] == pytest.approx(1000 * 0.5 / 1000)  # grid subregion before country
    assert m["Q", "scope2_market"] == pytest.approx(1000 * 0.5 / 1000)  # no residual mix: grid factor
    fixed = c.set_index(["plant_id", "scope"])["fixed_tco2e"]
    assert fixed["P", "scope2_market"] == pytest.approx(0.2 * 0.6 * 70.0)  # 20 % x marginal x 70 % of capacity
    with pytest.raises(InputError, match="electricity_grid factor for plant P"):
        stand_in_coefficients(plants, pp, ef[ef["region"] != "DE"], [week])


def test_plant_without_forecast_coefficients_gets_the_stand_in():
    """A plant the emissions forecaster knows nothing about is planned with the engineering stand-in."""
    import pandas as pd

    from features.sample import generate
    from optimisation.inputs import PlanInputs, stand_in_coefficients

    t = generate("demo", seed=7)
    weeks = pd.date_range("2026-11-23", periods=4, freq="7D")
    full = stand_in_coefficients(t["plants"], t["plant_products"], t["emission_factors"], weeks,
                                 t["production_history"])
    dropped = t["plants"]["plant_id"].iloc[0]
    partial = full[full["plant_id"] != dropped]
    inputs = PlanInputs.from_tables(t, coefficients=partial, horizon_weeks=4, start_week="2026-11-23")
    got = inputs.coefficients[inputs.coefficients["plant_id"] == dropped].sort_values(["week", "scope"])
    want = full[full["plant_id"] == dropped].sort_values(["week", "scope"])
    assert len(got) == len(want) > 0
    assert got["marginal_tco2e_per_unit"].to_numpy() == pytest.approx(want["marginal_tco2e_per_unit"].to_numpy())
