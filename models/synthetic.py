"""Small synthetic tables in the core.tables contract for tests and benchmarks of the forecasters
(trend + yearly seasonality + noise; plant energy = fixed + per-unit + heating season + noise)."""

from __future__ import annotations

import numpy as np
import pandas as pd

POWERTRAINS = ("BEV", "PHEV", "ICE")
SEGMENTS = ("A", "B", "C", "SUV")


def demand_tables(n_products: int = 6, n_markets: int = 4, n_weeks: int = 156, seed: int = 0,
                  start: str = "2023-01-02", noise: float = 0.12) -> dict[str, pd.DataFrame]:
    """``demand_history``, ``products``, ``markets`` for n_products x n_markets weekly series."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range(start, periods=n_weeks, freq="W-MON")
    products = pd.DataFrame({
        "product_id": [f"P{i:03d}" for i in range(n_products)],
        "name": [f"Model {i}" for i in range(n_products)],
        "powertrain": [POWERTRAINS[i % 3] for i in range(n_products)],
        "segment": [SEGMENTS[i % 4] for i in range(n_products)],
        "weight_t": 1.5,
        "price_eur": 40000.0,
    })
    markets = pd.DataFrame({
        "market_id": [f"M{j:02d}" for j in range(n_markets)],
        "name": [f"Market {j}" for j in range(n_markets)],
        "country": "DE", "lat": 50.0, "lon": 10.0,
    })
    t = np.arange(n_weeks)
    woy = weeks.isocalendar().week.to_numpy().astype(float)
    trend_by_pt = {"BEV": 0.006, "PHEV": 0.001, "ICE": -0.003}
    rows = []
    for _, p in products.iterrows():
        for _, m in markets.iterrows():
            level = rng.uniform(20, 400)
            amp = rng.uniform(0.15, 0.35)
            phase = rng.uniform(0, 2 * np.pi) * 0.2
            season = 1 + amp * np.sin(2 * np.pi * woy / 52.0 + phase) + 0.5 * amp * np.cos(4 * np.pi * woy / 52.0)
            trend = np.exp(trend_by_pt[p.powertrain] * t)
            mu = level * season * trend
            y = np.maximum(mu * (1 + noise * rng.standard_normal(n_weeks)), 0.0)
            rows.append(pd.DataFrame({"week": weeks, "product_id": p.product_id, "market_id": m.market_id,
                                      "units": np.round(y, 1)}))
    return {"demand_history": pd.concat(rows, ignore_index=True), "products": products, "markets": markets}


def plant_tables(n_plants: int = 3, n_weeks: int = 156, seed: int = 0,
                 start: str = "2023-01-02") -> dict[str, pd.DataFrame]:
    """``plants``, ``production_history`` and ``energy_use`` (electricity kWh, natural_gas kWh, diesel litre)
    with known per-unit and fixed energy so that the fitted coefficients can be checked."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range(start, periods=n_weeks, freq="W-MON")
    woy = weeks.isocalendar().week.to_numpy().astype(float)
    heating = 0.5 * (1 + np.cos(2 * np.pi * (woy - 2) / 52.0))  # winter peak, 1 in early January
    plants = pd.DataFrame({
        "plant_id": [f"PL{i}" for i in range(n_plants)], "name": [f"Plant {i}" for i in range(n_plants)],
        "country": ["DE", "US", "CN", "FR", "PL"][:n_plants] if n_plants <= 5 else "DE",
        "grid_region": None, "lat": 50.0, "lon": 10.0, "capacity_units_per_week": 3000.0,
        "equity_share": 1.0, "operational_control": True,
    })
    prod, energy = [], []
    for i, pid in enumerate(plants["plant_id"]):
        base = 1000 + 400 * i
        vol = np.maximum(base * (1 + 0.15 * np.sin(2 * np.pi * woy / 52.0 + i) + 0.1 * rng.standard_normal(n_weeks)),
                         0)
        vol = np.round(vol)
        prod.append(pd.DataFrame({"week": weeks, "plant_id": pid, "product_id": "P000", "units": vol}))
        elec = 200_000 + 700.0 * vol + 30_000 * heating
        gas = 50_000 + 300.0 * vol + 250_000 * heating
        diesel = 800 + 0.5 * vol
        for carrier, q, unit in (("electricity", elec, "kWh"), ("natural_gas", gas, "kWh"), ("diesel", diesel, "litre")):
            q = q * (1 + 0.01 * rng.standard_normal(n_weeks))  # 1% meter noise
            energy.append(pd.DataFrame({"week": weeks, "plant_id": pid, "carrier": carrier,
                                        "quantity": np.maximum(q, 0), "unit": unit}))
    return {"plants": plants, "production_history": pd.concat(prod, ignore_index=True),
            "energy_use": pd.concat(energy, ignore_index=True)}
