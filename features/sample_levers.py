"""Sample rows of the optional planning inputs (issue 13): plant operating rules and abatement levers.

Public price ranges behind the rows (the ``source`` column says which one a row follows):
- Guarantees of origin, EU: EEX French GO auctions 0.8-1.4 EUR/MWh (Feb 2024), 5.8-5.9 EUR/MWh (Oct 2022).
  US RECs and Chinese GECs are taken in the same 1-5 EUR/MWh band (an assumption, labelled).
- PPAs: LevelTen European P25 index 52-66 EUR/MWh (2021-22); stored as the premium over grid power, 5-15.
- Biomethane: 49-90 EUR/MWh from anaerobic digestion, about 70 on average (Gas for Climate; IEA 2020) against
  TTF gas about 35, i.e. a 35-55 EUR/MWh premium; residual 0.02 t CO2e/MWh (supply chain).
- Electric boilers and heat pumps: premium 30-60 and 20-35 EUR/MWh of gas replaced (an assumption, labelled);
  ratio 0.95 and 0.35 MWh of electricity per MWh of gas replaced.
- Removals 100-600 EUR/t (biochar to DACCS), avoidance offsets 5-20 EUR/t (nature-based).
Availability: 30-60 % of each market's plant electricity (or gas) per year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

YEARS = (2024, 2025, 2026, 2027, 2028)
EAC_BAND = {"EU": (0.8, 5.9), "NA": (1.0, 5.0), "CN": (1.0, 4.0), "ROW": (1.0, 5.0)}
EU = {"AT", "BE", "CZ", "DE", "DK", "ES", "FI", "FR", "HU", "IT", "NL", "PL", "PT", "RO", "SE", "SK", "SI", "GB"}


def _region(country: str) -> str:
    return "EU" if country in EU else "NA" if country in ("US", "CA", "MX") else "CN" if country == "CN" else "ROW"


def lever_tables(plants: pd.DataFrame, plant_products: pd.DataFrame, production_history: pd.DataFrame,
                 seed: int = 13) -> dict[str, pd.DataFrame]:
    """plant_operations, inventory (half a week of output at the last history week),
    renewable_supply, heat_options and removal_offers for a sample network."""
    rng = np.random.default_rng(seed)
    cap = plants.set_index("plant_id")["capacity_units_per_week"].astype(float)
    ph = production_history.assign(week=pd.to_datetime(production_history["week"]))
    recent = ph[ph["week"] > ph["week"].max() - pd.Timedelta(weeks=13)]
    util = (recent.groupby("plant_id")["units"].sum() / (cap * 13)).reindex(cap.index).fillna(0.0)
    ops = pd.DataFrame({"plant_id": cap.index,
                        "min_utilisation_pct": np.clip(np.floor(70 * util / 5) * 5, 30, 55).to_numpy(),
                        "max_change_pct_per_week": 15.0, "max_stock_units": np.round(2 * cap.to_numpy()),
                        # 3 shifts; a shift-week of ~1/3 of capacity costs 60 EUR per unit of its capacity
                        "shifts_max": 3.0, "shift_cost_eur_per_week": np.round(60.0 * cap.to_numpy() / 3.0, -2),
                        # assumption (not a published figure): 60 % of the baseload (lighting, HVAC, compressed
                        # air of a shift) runs only while a shift runs; frost protection, IT, security stay
                        "shift_fixed_share_pct": 60.0,
                        "source": "sample: 70 % of the last 13 weeks' utilisation, 30-55 % (labour agreement); "
                                  "shift-following share of fixed emissions 60 % (assumption)"})
    volume = util * cap * 52  # units per year
    energy = plant_products.groupby("plant_id")[["electricity_kwh_per_unit", "natural_gas_kwh_per_unit"]].mean()
    mwh = energy.reindex(cap.index).fillna(0.0).mul(volume, axis=0) / 1000.0
    by_country = mwh.groupby(plants.set_index("plant_id")["country"]).sum()
    ren, heat = [], []
    for country, row in by_country.iterrows():
        region = _region(country)
        lo, hi = EAC_BAND[region]
        for year in YEARS:
            share = rng.uniform(0.3, 0.6)
            ren.append((country, "EAC", year, round(rng.uniform(lo, hi), 2), round(share * row.iloc[0]), 0.0,
                        "EEX GO auctions 0.8-1.4 (2024) / 5.8-5.9 (2022) EUR/MWh" if region == "EU"
                        else "assumption: 1-5 EUR/MWh, as EU GOs"))
            ren.append((country, "PPA", year, round(rng.uniform(5, 15), 2), round(rng.uniform(0.1, 0.3) * row.iloc[0]),
                        0.0, "LevelTen EU P25 52-66 EUR/MWh (2021-22), premium over grid 5-15"))
            gas = row.iloc[1]
            heat.append(("biomethane", country, year, round(rng.uniform(35, 55), 1), 0.0, 0.02,
                         round(rng.uniform(0.3, 0.6) * gas), 0.5, "Gas for Climate / IEA 2020: 49-90 vs TTF ~35"))
            heat.append(("electric_boiler", country, year, round(rng.uniform(30, 60), 1), 0.95, 0.0,
                         round(rng.uniform(0.3, 0.6) * gas), 0.4, "assumption: premium 30-60 EUR/MWh"))
            heat.append(("heat_pump", country, year, round(rng.uniform(20, 35), 1), 0.35, 0.0,
                         round(rng.uniform(0.1, 0.3) * gas), 0.3, "assumption: premium 20-35 EUR/MWh"))
    renewable = pd.DataFrame(ren, columns=["market", "instrument", "year", "price_eur_per_mwh", "available_mwh",
                                           "factor_kg_per_kwh", "source"])
    heat_options = pd.DataFrame(heat, columns=["option", "market", "year", "cost_eur_per_mwh_gas_replaced",
                                               "efficiency_ratio", "residual_tco2e_per_mwh", "available_mwh",
                                               "max_share_of_gas", "source"])
    removals = pd.DataFrame([(f"RM-{y}", "removal", y, 250.0, 20_000.0, "biochar/BECCS 100-600 EUR/t")
                             for y in YEARS] + [(f"OF-{y}", "avoidance_offset", y, 10.0, 100_000.0,
                                                 "nature-based offsets 5-20 EUR/t") for y in YEARS],
                            columns=["offer_id", "kind", "year", "price_eur_per_t", "available_t", "source"])
    # finished-goods stock at the end of the history: half a week of each pair's mean output of the last 4 weeks
    last4 = ph[ph["week"] > ph["week"].max() - pd.Timedelta(weeks=4)]
    inventory = (last4.groupby(["plant_id", "product_id"], as_index=False)["units"].mean()
                 .assign(week=ph["week"].max()))
    inventory["units"] = np.round(0.5 * inventory["units"])
    return {"plant_operations": ops, "inventory": inventory, "renewable_supply": renewable,
            "heat_options": heat_options, "removal_offers": removals}
