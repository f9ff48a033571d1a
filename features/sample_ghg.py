"""Demo refrigerant and process tables (issue 15): every plant fills vehicle A/C at the end of the line and
runs chillers; paint shops burn solvent in regenerative thermal oxidisers (RTO).

- vehicle_ac_fill, mass balance, per plant and quarter: R-1234yf in the EU/GB (MAC Directive 2006/40/EC bans
  GWP > 150 in new types), R-744 (CO2) at DE_ZWI, R-134a elsewhere (US, MX, CN); charge 0.5 kg (R-1234yf,
  R-134a) or 0.9 kg (R-744) per vehicle built; fill losses 0.3% of the charge (inside IPCC 2006 Vol. 3 Table
  7.9's 0.2-0.5%), so purchases = charged into vehicles + losses + stock change.
- chiller, screening: 2-5 R-410A chillers of 200-500 kg per plant, a row per quarter (rate from the library).
- rto_solvent_oxidation, per plant and quarter: 1.5 kg of solvent (xylene) per vehicle oxidised; carbon
  fraction left null so the library's xylene value is used.

A separate random stream (seed + 15): the other sample tables are unchanged by this module.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EU_GB = {"DE", "FR", "ES", "CZ", "HU", "SK", "PL", "GB", "IT", "BE", "PT", "SE", "AT", "RO", "SI", "NL"}


def _refrigerant(code: str, country: str) -> tuple[str, float]:
    if code == "DE_ZWI":
        return "R-744", 0.9
    return ("R-1234yf", 0.5) if country in EU_GB else ("R-134a", 0.5)


def ghg_tables(plants: pd.DataFrame, production: pd.DataFrame, seed: int = 7) -> dict[str, pd.DataFrame]:
    """refrigerant_use and process_activity for the plants and the production history (complete quarters)."""
    rng = np.random.default_rng(seed + 15)
    prod = production.assign(week=pd.to_datetime(production["week"]))
    prod["q"] = prod["week"].dt.to_period("Q")
    first, last = prod["week"].min(), prod["week"].max()
    quarters = [q for q in sorted(prod["q"].unique()) if q.start_time >= first and q.end_time <= last + pd.Timedelta(days=6)]
    vol = prod.groupby(["plant_id", "q"])["units"].sum()
    ref_rows, proc_rows = [], []
    for _, pl in plants.iterrows():
        pid = pl["plant_id"]
        gas, charge = _refrigerant(str(pl.get("code", pid)).removeprefix("P_"), str(pl["country"]))
        n_ch = int(rng.integers(2, 6))
        ch_kg = float(rng.choice([200.0, 300.0, 400.0, 500.0]))
        stock = float(np.round(rng.uniform(1500, 4000), 0))
        for q in quarters:
            units = float(vol.get((pid, q), 0.0))
            start, end = q.start_time.normalize(), q.end_time.normalize()
            charged = round(units * charge, 1)
            losses = charged * 0.003
            new_stock = float(np.round(stock * rng.uniform(0.85, 1.15), 0))
            purchased = round(charged + losses + new_stock - stock, 1)
            if purchased < 0:  # stock drawn down: buy nothing, close the balance on the end stock
                new_stock, purchased = round(stock - charged - losses, 1), 0.0
            ref_rows.append({"plant_id": pid, "period_start": start, "period_end": end,
                             "equipment": "vehicle_ac_fill", "refrigerant": gas, "method": "mass_balance",
                             "inventory_start_kg": stock, "inventory_end_kg": new_stock, "purchased_kg": purchased,
                             "returned_kg": 0.0, "charged_into_products_kg": charged, "capacity_added_kg": 0.0,
                             "capacity_retired_kg": 0.0, "units": None, "charge_kg_per_unit": None})
            ref_rows.append({"plant_id": pid, "period_start": start, "period_end": end, "equipment": "chiller",
                             "refrigerant": "R-410A", "method": "screening", "inventory_start_kg": None,
                             "inventory_end_kg": None, "purchased_kg": None, "returned_kg": None,
                             "charged_into_products_kg": None, "capacity_added_kg": None,
                             "capacity_retired_kg": None, "units": float(n_ch), "charge_kg_per_unit": ch_kg})
            proc_rows.append({"plant_id": pid, "period_start": start, "period_end": end,
                              "process": "rto_solvent_oxidation", "quantity": round(units * 1.5 / 1000.0, 3),
                              "unit": "tonne", "carbon_fraction": None})
            stock = new_stock
    return {"refrigerant_use": pd.DataFrame(ref_rows), "process_activity": pd.DataFrame(proc_rows)}


# ---------------------------------------------------------------- energy carriers beyond electricity/gas/diesel
# (plant code, carrier, unit, per vehicle, fixed per week, heating share): quantity per week =
# (per_vehicle x units + fixed) x (1 - heating + heating x 2 x heat(week)) x lognormal noise, where heat() is 1 in
# mid-January and 0 in July (as the natural-gas profile of features.sample). Chosen to be plausible, not measured:
# - a coal-fired heating boiler at the Changchun plant (NE China heats with coal), bituminous, in tonnes;
# - LPG forklifts at Toledo and West Point (US gallons; outside the US the library's LPG heating value is per
#   tonne (IPCC), so litres would need a density the library does not hold);
# - purchased steam from a neighbouring utility at Toledo (mmBtu), a site heat network at Sunderland (MWh);
# - biomethane (renewable natural gas bought through the grid) for the West Point paint shop (mmBtu).
EXTRA_ENERGY: list[tuple[str, str, str, float, float, float]] = [
    ("CN_CHC", "coal_bituminous", "tonne", 0.012, 25.0, 0.7),
    ("US_TOL", "lpg", "US_gallon", 0.09, 110.0, 0.0),
    ("US_WPT", "lpg", "US_gallon", 0.07, 95.0, 0.0),
    ("US_TOL", "steam", "mmBtu", 0.08, 150.0, 0.7),
    ("GB_SUN", "district_heat", "MWh", 0.02, 60.0, 0.7),
    ("US_WPT", "biomethane", "mmBtu", 0.05, 100.0, 0.0),
]


def extra_energy(plants: pd.DataFrame, production: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """energy_use rows of the carriers in EXTRA_ENERGY for the demo plants that exist (own random stream)."""
    rng = np.random.default_rng(seed + 1015)
    prod = production.assign(week=pd.to_datetime(production["week"]))
    weeks = pd.DatetimeIndex(sorted(prod["week"].unique()))
    vol = prod.groupby(["plant_id", "week"])["units"].sum()
    doy = (weeks + pd.Timedelta(days=3)).dayofyear.to_numpy()
    heat = 0.5 * (1 + np.cos(2 * np.pi * (doy - 20) / 365.25))
    code_of = {str(c).removeprefix("P_"): pid for pid, c in zip(plants["plant_id"], plants.get(
        "code", plants["plant_id"]), strict=True)}
    frames = []
    for code, car, unit, per_vehicle, fixed, heating in EXTRA_ENERGY:
        pid = code_of.get(code)
        if pid is None:
            continue
        units = vol.reindex(pd.MultiIndex.from_product([[pid], weeks])).fillna(0.0).to_numpy()
        season = 1 - heating + heating * 2 * heat
        qty = (per_vehicle * units + fixed) * season * np.exp(rng.normal(0.0, 0.04, len(weeks)))
        frames.append(pd.DataFrame({"week": weeks, "plant_id": pid, "carrier": car,
                                    "quantity": np.round(qty, 3), "unit": unit}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["week", "plant_id", "carrier", "quantity", "unit"])
