"""Tiny hand-checkable planning instances for the optimisation tests.

Default instance ("tiny"): plants A and B, product K (2 t), market M, one week, demand 100.
  A: production 100 EUR/unit, CO2 2.0 t/unit (scope1 1.0 + scope2_market 1.0), capacity 100
  B: production 120 EUR/unit, CO2 0.5 t/unit (scope1 0.2 + scope2_market 0.3), capacity 100
  lanes A->M and B->M by road: 100 km, 5 EUR/t (10 EUR/unit), road factor 0.1 kg/t-km
  -> transport 2 t x 100 km x 0.1 / 1000 = 0.02 t CO2e per unit on either lane.
"""

from __future__ import annotations

import pandas as pd
import pytest

from optimisation.inputs import PlanInputs

MONDAY = pd.Timestamp("2026-01-05")


def make_inputs(weeks: int = 1, demand: float = 100.0, cap_a: float = 100.0, cap_b: float = 100.0,
                rail: bool = False, transit_days: float = 0.0, plant_c: bool = False,
                history: dict | None = None) -> PlanInputs:
    plants = pd.DataFrame({
        "plant_id": ["A", "B"] + (["C"] if plant_c else []), "name": ["a", "b"] + (["c"] if plant_c else []),
        "country": ["DE", "FR"] + (["ES"] if plant_c else []), "grid_region": None,
        "lat": 0.0, "lon": 0.0, "capacity_units_per_week": [cap_a, cap_b] + ([100.0] if plant_c else []),
        "equity_share": 1.0, "operational_control": True})
    products = pd.DataFrame({"product_id": ["K"], "name": ["k"], "powertrain": ["BEV"], "segment": ["C"],
                             "weight_t": [2.0], "price_eur": [500.0]})
    pp = pd.DataFrame({"plant_id": ["A", "B"] + (["C"] if plant_c else []), "product_id": "K",
                       "production_cost_eur_per_unit": [100.0, 120.0] + ([110.0] if plant_c else []),
                       "electricity_kwh_per_unit": 1000.0, "natural_gas_kwh_per_unit": 500.0})
    markets = pd.DataFrame({"market_id": ["M"], "name": ["m"], "country": ["DE"], "lat": 0.0, "lon": 0.0})
    lanes = [("LA", "A", "road", 100.0, 5.0), ("LB", "B", "road", 100.0, 5.0)]
    if plant_c:
        lanes.append(("LC", "C", "road", 100.0, 5.0))
    if rail:
        lanes.append(("LAR", "A", "rail", 100.0, 2.0))
    lanes = pd.DataFrame([(lid, p, "M", mode, km, cost, transit_days, 1e6) for lid, p, mode, km, cost in lanes],
                         columns=["lane_id", "plant_id", "market_id", "mode", "distance_km", "cost_eur_per_t",
                                  "transit_days", "capacity_t_per_week"])
    ef = pd.DataFrame({"factor_id": ["r", "ra"], "activity": ["freight_road", "freight_rail"], "gas": "CO2e",
                       "value": [0.1, 0.05], "unit": "kg/tonne_km", "source": "test", "year": 2025,
                       "region": "GLOBAL", "version": "t", "basis": "TTW"})
    wk = pd.date_range(MONDAY, periods=weeks, freq="7D")
    fc = pd.DataFrame({"week": wk, "product_id": "K", "market_id": "M", "yhat": demand})
    fc["yhat_lo_80"] = demand * 0.9
    fc["yhat_hi_80"] = demand * 1.1
    fc["yhat_lo_95"] = demand * 0.8
    fc["yhat_hi_95"] = demand * 1.2
    marg = {"A": (1.0, 1.0), "B": (0.2, 0.3), "C": (0.5, 0.5)}
    rows = []
    for p in plants["plant_id"]:
        for w in wk:
            s1, s2 = marg[p]
            rows += [(p, w, "scope1", s1, 0.0), (p, w, "scope2_market", s2, 0.0),
                     (p, w, "scope2_location", s2 * 1.5, 0.0)]
    coef = pd.DataFrame(rows, columns=["plant_id", "week", "scope", "marginal_tco2e_per_unit", "fixed_tco2e"])
    ph = None
    if history:
        ph = pd.DataFrame([(MONDAY - pd.Timedelta(weeks=1), p, "K", u) for p, u in history.items()],
                          columns=["week", "plant_id", "product_id", "units"])
    return PlanInputs(plants=plants, products=products, plant_products=pp, markets=markets, lanes=lanes,
                      emission_factors=ef, demand_forecast=fc, coefficients=coef, production_history=ph)


@pytest.fixture
def tiny() -> PlanInputs:
    return make_inputs()


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ARTIFACT_ROOT", (tmp_path / "artifacts").as_uri())
    return uri


@pytest.fixture
def make():
    """Factory of tiny instances: make(weeks=..., demand=..., ...)."""
    return make_inputs
