"""Fixtures for extraction and validation: a tiny, valid, hand-made network in the contract dtypes.

2 plants, 3 products, 2 markets, 4 lanes, 4 weeks: 24 demand rows, 16 production rows, 24 energy
rows, 16 shipment rows (so one bad row is a 4.2 % share of demand, under the 5 % default limit).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

WEEKS = pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"])


def _network() -> dict[str, pd.DataFrame]:
    plants = pd.DataFrame({
        "plant_id": ["P1", "P2"],
        "name": ["Leipzig", "Shenyang"],
        "country": ["DE", "CN"],
        "grid_region": [None, "NE"],
        "lat": [51.34, 41.80],
        "lon": [12.37, 123.43],
        "capacity_units_per_week": [4000.0, 6000.0],
        "equity_share": [1.0, 0.75],
        "operational_control": [True, False],
    })
    products = pd.DataFrame({
        "product_id": ["K1", "K2", "K3"],
        "name": ["i3", "X5 xDrive50e", "320d"],
        "powertrain": ["BEV", "PHEV", "ICE"],
        "segment": ["B", "E", "D"],
        "weight_t": [1.3, 2.5, 1.6],
        "price_eur": [40000.0, 85000.0, 45000.0],
    })
    markets = pd.DataFrame({
        "market_id": ["M1", "M2"],
        "name": ["Germany", "United States"],
        "country": ["DE", "US"],
        "lat": [51.0, 39.8],
        "lon": [10.0, -98.6],
    })
    plant_products = pd.DataFrame({
        "plant_id": ["P1", "P1", "P2", "P2"],
        "product_id": ["K1", "K2", "K2", "K3"],
        "production_cost_eur_per_unit": [30000.0, 60000.0, 55000.0, 28000.0],
        "electricity_kwh_per_unit": [900.0, 1100.0, 1000.0, 700.0],
        "natural_gas_kwh_per_unit": [400.0, 500.0, 450.0, 350.0],
    })
    lanes = pd.DataFrame({
        "lane_id": ["L1", "L2", "L3", "L4"],
        "plant_id": ["P1", "P1", "P2", "P2"],
        "market_id": ["M1", "M2", "M1", "M2"],
        "mode": ["road", "sea", "rail", "sea"],
        "distance_km": [250.0, 7200.0, 10500.0, 11000.0],
        "cost_eur_per_t": [40.0, 90.0, 160.0, 110.0],
        "transit_days": [1.0, 14.0, 18.0, 20.0],
        "capacity_t_per_week": [5000.0, 8000.0, 3000.0, 9000.0],
    })
    demand = pd.DataFrame(
        [(w, k, m, float(10 * i + 5)) for i, (w, k, m) in
         enumerate(itertools.product(WEEKS, ["K1", "K2", "K3"], ["M1", "M2"]))],
        columns=["week", "product_id", "market_id", "units"],
    )
    production = pd.DataFrame(
        [(w, p, k, float(100 + i)) for i, (w, (p, k)) in
         enumerate(itertools.product(WEEKS, [("P1", "K1"), ("P1", "K2"), ("P2", "K2"), ("P2", "K3")]))],
        columns=["week", "plant_id", "product_id", "units"],
    )
    units = {"electricity": "kWh", "natural_gas": "mmBtu", "diesel": "US_gallon"}
    energy = pd.DataFrame(
        [(w, p, c, 1000.0 * (i + 1), units[c]) for i, (w, p, c) in
         enumerate(itertools.product(WEEKS, ["P1", "P2"], list(units)))],
        columns=["week", "plant_id", "carrier", "quantity", "unit"],
    )
    shipments = pd.DataFrame(
        [(w, lane, k, 50.0, 50.0 * wt) for w, (lane, k, wt) in
         itertools.product(WEEKS, [("L1", "K1", 1.3), ("L2", "K2", 2.5), ("L3", "K2", 2.5), ("L4", "K3", 1.6)])],
        columns=["week", "lane_id", "product_id", "units", "tonnes"],
    )
    factors = pd.DataFrame({
        "factor_id": ["grid_DE_2023", "grid_CN_2023", "ng_co2", "freight_road_ttw", "freight_sea_ttw"],
        "activity": ["electricity_grid", "electricity_grid", "natural_gas", "freight_road", "freight_sea"],
        "gas": ["CO2e", "CO2", "CO2", "CO2e", "CO2e"],
        "value": [0.38, 0.5306, 53.06, 0.10163, 0.01612],
        "unit": ["kg/kWh", "kg/kWh", "kg/mmBtu", "kg/tonne_km", "kg/tonne_km"],
        "source": ["UBA", "MEE China", "US EPA", "UK DESNZ 2025", "UK DESNZ 2025"],
        "year": [2023, 2023, 2024, 2025, 2025],
        "region": ["DE", "CN", "US", "GB", "GLOBAL"],
        "version": ["v1"] * 5,
        "basis": [None, None, None, "TTW", "TTW"],
        "status": ["checked", "checked", "checked", "approximation", "checked"],
    })
    contracts = pd.DataFrame({
        "contract_id": ["C1", "C2"],
        "plant_id": ["P1", "P2"],
        "instrument": ["PPA", "EAC"],
        "market": ["DE", "CN"],
        "start": pd.to_datetime(["2024-01-01", "2024-01-01"]),
        "end": pd.to_datetime(["2024-12-31", "2024-06-30"]),
        "mwh": [20000.0, 5000.0],
        "factor_kg_per_kwh": [0.0, 0.0],
        "carrier": ["electricity", None],
    })
    ghg = dict(zip(("refrigerant_use", "process_activity"), _ghg_tables(), strict=True))  # issue 15
    suppliers = pd.DataFrame({
        "supplier_id": ["S1", "S2"],
        "plant_id": ["P1", "P2"],
        "year": [2023, 2023],
        "category": ["purchased_goods", "purchased_goods"],
        "tco2e": [1200.5, 830.25],
        "method": ["supplier-specific", "spend-based"],
    })
    return {
        "plants": plants, "products": products, "markets": markets, "plant_products": plant_products,
        "lanes": lanes, "demand_history": demand, "production_history": production, "energy_use": energy,
        "shipments": shipments, "emission_factors": factors, "energy_contracts": contracts,
        "supplier_emissions": suppliers, **ghg, **_supply(), **_planning_inputs(), **_drivers(),
    }


def _planning_inputs() -> dict[str, pd.DataFrame]:
    """The optional planning inputs of issue 13 (operating rules, opening stock, abatement levers)."""
    return {
        "plant_operations": pd.DataFrame({
            "plant_id": ["P1", "P2"], "min_utilisation_pct": [40.0, 35.0], "max_change_pct_per_week": [15.0, None],
            "max_stock_units": [2000.0, None], "shifts_max": [3.0, None], "shift_cost_eur_per_week": [50000.0, None],
            "shift_fixed_share_pct": [60.0, None], "source": ["test", None]}),
        "inventory": pd.DataFrame({"week": pd.to_datetime(["2024-01-01"] * 2).astype("datetime64[ns]"),
                                   "plant_id": ["P1", "P2"], "product_id": ["K1", "K3"], "units": [120.0, 40.0]}),
        "renewable_supply": pd.DataFrame({"market": ["DE"], "instrument": ["EAC"], "year": [2024],
                                          "price_eur_per_mwh": [1.2], "available_mwh": [5000.0],
                                          "factor_kg_per_kwh": [0.0], "source": ["test"]}),
        "heat_options": pd.DataFrame({"option": ["biomethane"], "market": ["DE"], "year": [2024],
                                      "cost_eur_per_mwh_gas_replaced": [45.0], "efficiency_ratio": [0.0],
                                      "residual_tco2e_per_mwh": [0.02], "available_mwh": [3000.0],
                                      "max_share_of_gas": [0.5], "source": ["test"]}),
        "removal_offers": pd.DataFrame({"offer_id": ["R1"], "kind": ["removal"], "year": [2024],
                                        "price_eur_per_t": [250.0], "available_t": [100.0], "source": ["test"]}),
    }


def _drivers() -> dict[str, pd.DataFrame]:
    """The optional known-in-advance demand drivers of issue 14 (2 + 2 + 2 rows)."""
    wk = pd.to_datetime(["2024-01-01", "2024-01-08"]).astype("datetime64[ns]")
    return {
        "ev_incentives": pd.DataFrame({"week": wk, "market_id": ["M1", "M2"], "powertrain": ["BEV", "BEV"],
                                       "incentive_eur": [0.0, 6900.0], "scheme": [None, "IRA 30D"],
                                       "source": [None, "IRS"]}),
        "product_drivers": pd.DataFrame({"week": wk, "product_id": ["K1", "K3"], "market_id": ["M1", "M2"],
                                         "list_price_eur": [40000.0, 45000.0], "promo_discount_pct": [0.0, 8.0],
                                         "lifecycle": ["active", "run_out"]}),
        "working_days": pd.DataFrame({"week": wk, "market_id": ["M1", "M1"], "working_days": [4.0, 5.0]}),
    }


def _supply() -> dict[str, pd.DataFrame]:
    """The supply tables of issue 16: a cell maker S2 selling to pack maker S1, which sells to P1 and P2."""
    return {
        "suppliers": pd.DataFrame({
            "supplier_id": ["S1", "S2"], "name": ["Packs", "Cells"], "country": ["PL", "CN"],
            "lat": [52.2, np.nan], "lon": [21.0, np.nan], "commodity": ["battery_pack", "cell"],
            "tier": np.array([1, 2], dtype="int64"), "kind": ["supplier", "supplier"]}),
        "supply_links": pd.DataFrame({
            "link_id": ["SL1", "SL2", "SL3"], "from_id": ["S1", "S1", "S2"], "to_id": ["P1", "P2", "S1"],
            "commodity": ["battery_pack", "battery_pack", "cell"], "annual_volume": [1000.0, 500.0, 1500.0],
            "volume_unit": ["kWh", "kWh", "kWh"], "annual_spend_eur": [130000.0, 65000.0, 135000.0],
            "spend_year": np.array([2025, 2025, 2025], dtype="int64"), "share": [1.0, 1.0, 1.0],
            "capacity_per_week": [25.0, np.nan, np.nan]}),
        "esg_scores": pd.DataFrame({
            "provider": ["ratea", "gradec"], "supplier_id": ["S1", "S1"],
            "date": pd.to_datetime(["2025-06-30", "2025-06-30"]), "score": [62.5, np.nan], "grade": [None, "BB"],
            "scale_min": [0.0, np.nan], "scale_max": [100.0, np.nan], "higher_is_better": [True, True]}),
        "supplier_events": pd.DataFrame({
            "event_id": ["E1", "E2"], "supplier_id": ["S2", None], "country": [None, "CN"],
            "date": pd.to_datetime(["2025-03-01", "2025-04-01"]), "source": ["newswire", "newswire"],
            "text": ["Fire at Cells warehouse", "New export controls"], "label_category": ["accident", None],
            "label_severity": pd.array([2, None], dtype="Int64")}),
        "supplier_submissions": pd.DataFrame({
            "submission_id": ["SUB1"], "version": np.array([1], dtype="int64"), "supplier_id": ["S1"],
            "year": np.array([2025], dtype="int64"), "commodity": ["battery_pack"], "plant_id": [None],
            "product_id": [None], "activity_qty": [1500.0], "activity_unit": ["kWh"], "tco2e": [120.0],
            "method": ["supplier_specific"], "dq_tier": np.array([1], dtype="int64"),
            "submitted_on": pd.to_datetime(["2026-04-30"])}),
    }


def _ghg_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    refrigerants = pd.DataFrame({  # issue 15: one mass balance, one screening row
        "plant_id": ["P1", "P2"], "period_start": pd.to_datetime(["2024-01-01", "2024-01-01"]),
        "period_end": pd.to_datetime(["2024-01-28", "2024-01-28"]), "equipment": ["vehicle_ac_fill", "chiller"],
        "refrigerant": ["R-1234yf", "R-410A"], "method": ["mass_balance", "screening"],
        "inventory_start_kg": [2000.0, None], "inventory_end_kg": [1500.0, None], "purchased_kg": [6000.0, None],
        "returned_kg": [0.0, None], "charged_into_products_kg": [6400.0, None], "capacity_added_kg": [0.0, None],
        "capacity_retired_kg": [0.0, None], "units": [None, 2.0], "charge_kg_per_unit": [None, 400.0],
    })
    process = pd.DataFrame({
        "plant_id": ["P1", "P2"], "period_start": pd.to_datetime(["2024-01-01", "2024-01-01"]),
        "period_end": pd.to_datetime(["2024-01-28", "2024-01-28"]), "process": ["rto_solvent_oxidation"] * 2,
        "quantity": [10.0, 4.0], "unit": ["tonne", "tonne"], "carbon_fraction": [0.905, None],
    })
    return refrigerants, process


@pytest.fixture
def network() -> dict[str, pd.DataFrame]:
    """A fresh copy of the tiny valid network (contract dtypes), safe to modify."""
    return _network()


def _write_folder(tables: dict[str, pd.DataFrame], folder: Path, fmt: str = "csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if fmt == "csv":
            df.to_csv(folder / f"{name}.csv", index=False)
        else:
            df.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


@pytest.fixture
def write_folder() -> Callable[..., Path]:
    """``write_folder(tables, folder, fmt="csv"|"parquet")`` writes one file per table."""
    return _write_folder


@pytest.fixture
def as_text() -> Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]]:
    """Tables as the raw stage holds them: every value as text (what a CSV gives)."""
    from features.validate import as_text_frame

    return lambda tables: {n: as_text_frame(df) for n, df in tables.items()}
