"""Scope 1 fugitive emissions of refrigerants (GHG Protocol / US EPA GHG Inventory Guidance, Direct
Fugitive Emissions from Refrigeration and A/C Equipment, 2014; IPCC 2006 Vol. 3 Ch. 7).

- ``mass_balance`` (EPA simplified material balance): emitted = (inventory_start - inventory_end)
  + purchased - returned - charged_into_products - (capacity_added - capacity_retired). Refrigerant charged
  into shipped vehicles leaves the plant (its in-use leakage is Scope 3 category 11, use of sold products).
  A negative balance beyond 0.5% of the refrigerant handled is refused (the data are wrong); a smaller one
  is taken as 0 and reported.
- ``screening`` (IPCC 2006 Vol. 3 Table 7.9, upper end of the range, :data:`core.ghg.library.REFRIGERANT_SCREENING`):
  ``vehicle_ac_fill``: units x charge x k (fill losses); ``chiller`` / ``other_rac``: units x charge x x x
  years of the period (days / 365).

A blend is split into its species by mass (R-410A: 50% HFC-32, 50% HFC-125): one ledger row per species,
gas = the species, quantity = kg of refrigerant emitted. A species without a GWP in the run's set uses the
next newer report (HFO-1234yf: AR6 0.501) and the report lists it (``gwp_fallback``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.ghg.errors import GHGError as AccountingError
from core.ghg.gwp import BLENDS, gwp_table
from core.ghg.library import FACTOR_VERSION, REFRIGERANT_SCREENING
from features.accounting._columns import _Cat, _LedgerParts
from features.accounting._common import _dates, _plant_codes, _plant_table, _row_context, _source_rows, _years
from features.accounting.invariants import check

MASS_BALANCE_TOLERANCE = 0.005
_MB = ("inventory_start_kg", "inventory_end_kg", "purchased_kg", "returned_kg", "charged_into_products_kg",
       "capacity_added_kg", "capacity_retired_kg")


def emitted_kg(ru: pd.DataFrame, findings: list[dict] | None = None,
               tolerance: float = MASS_BALANCE_TOLERANCE) -> tuple[np.ndarray, list[str], list[str | None]]:
    """(kg of refrigerant emitted per row, formula per row, screening-rate id per row)."""
    n = len(ru)
    out = np.zeros(n)
    formulas: list[str] = []
    rate_ids: list[str | None] = []
    v = {c: (ru[c].to_numpy(dtype=float, na_value=np.nan) if c in ru.columns else np.full(n, np.nan))
         for c in (*_MB, "units", "charge_kg_per_unit")}
    starts, ends = _dates(ru["period_start"]), _dates(ru["period_end"])
    for i in range(n):
        method, equip = str(ru["method"].iloc[i]), str(ru["equipment"].iloc[i])
        ctx = _row_context("refrigerant_use", ru, i, ("plant_id", "period_start", "equipment", "refrigerant"))
        if method == "mass_balance":
            for c in ("inventory_start_kg", "inventory_end_kg", "purchased_kg"):
                if np.isnan(v[c][i]):
                    raise AccountingError(f"{ctx}: mass balance needs {c}")
            g = {c: (0.0 if np.isnan(v[c][i]) else float(v[c][i])) for c in _MB}
            e = ((g["inventory_start_kg"] - g["inventory_end_kg"]) + g["purchased_kg"] - g["returned_kg"]
                 - g["charged_into_products_kg"] - (g["capacity_added_kg"] - g["capacity_retired_kg"]))
            handled = g["inventory_start_kg"] + g["purchased_kg"]
            if e < 0:
                if -e > tolerance * max(handled, 1e-12):
                    raise AccountingError(
                        f"{ctx}: refrigerant mass balance is negative ({e:g} kg): more refrigerant left the "
                        f"stock than it held and received; beyond {tolerance:.1%} of the {handled:g} kg handled")
                if findings is not None:
                    findings.append(_finding("mass_balance_negative_within_tolerance", "warning", i, ru, e, "kg",
                                             f"{ctx}: balance {e:g} kg taken as 0 (within {tolerance:.1%})"))
                e = 0.0
            out[i] = e
            formulas.append("refrigerant_mass_balance")
            rate_ids.append(None)
        elif method == "screening":
            if np.isnan(v["units"][i]) or np.isnan(v["charge_kg_per_unit"][i]):
                raise AccountingError(f"{ctx}: screening needs units and charge_kg_per_unit")
            stage, rate, _src = REFRIGERANT_SCREENING[equip]
            e = v["units"][i] * v["charge_kg_per_unit"][i] * rate
            if stage == "operation":
                days = (ends[i] - starts[i]) / np.timedelta64(1, "D") + 1.0
                e *= days / 365.0
            out[i] = e
            formulas.append(f"refrigerant_screening_{stage}")
            rate_ids.append(f"IPCC06-V3-T7.9-{equip}")
        else:  # pragma: no cover - the contract check refuses it first
            raise AccountingError(f"{ctx}: method {method!r} not in ('mass_balance', 'screening')")
    return out, formulas, rate_ids


def _finding(kind: str, severity: str, row: int, df: pd.DataFrame, value: float, unit: str, message: str,
             table: str = "refrigerant_use") -> dict[str, Any]:
    return {"kind": kind, "severity": severity, "table": table, "source_row": int(row),
            "key": str(df["plant_id"].iloc[row]) if "plant_id" in df.columns else "", "value": float(value),
            "unit": unit, "message": message}


def _fugitive_into(parts: _LedgerParts, refrigerant_use: pd.DataFrame | None, plants: pd.DataFrame, gwp_set: str,
                   findings: list[dict] | None = None) -> None:
    if refrigerant_use is None or refrigerant_use.empty:
        return
    ru = refrigerant_use.reset_index(drop=True)
    check("refrigerant_use", ru)
    e_kg, formulas, rate_ids = emitted_kg(ru, findings)
    table, fallbacks = gwp_table(gwp_set)
    pcodes = _plant_codes("refrigerant_use", ru, plants)
    weeks = _dates(ru["period_start"])
    src = _source_rows(ru)
    refr = ru["refrigerant"].astype(str).to_numpy()
    pids = list(plants.index)
    used_fallback: set[str] = set()
    for name, blend in BLENDS.items():
        sel = np.flatnonzero(refr == name)
        if not len(sel):
            continue
        for species, frac in blend.items():
            g = table[species]
            if species in fallbacks:
                used_fallback.add(species)
            q = e_kg[sel]
            em_t = q * frac / 1000.0
            fcodes, fcats = pd.factorize(pd.Series([formulas[i] for i in sel]))
            rcodes, rcats = pd.factorize(pd.Series([rate_ids[i] for i in sel]), use_na_sentinel=True)
            parts.add(len(sel), scope="scope1", plant_id=_Cat(pcodes[sel], pids), week=weeks[sel],
                      activity=f"refrigerant_{name}", gas=species, quantity=q, unit="kg", emissions_t=em_t,
                      co2e_t=em_t * g, source_table="refrigerant_use", source_row=src[sel],
                      factor_id=f"GWP-{fallbacks.get(species, gwp_set)}-{species}", factor_version=FACTOR_VERSION,
                      factor_year=_years(weeks[sel]), property_id=_Cat(rcodes.astype(np.int32), list(rcats)),
                      gwp_set=gwp_set, formula=_Cat(fcodes.astype(np.int32), list(fcats)), category="fugitive")
    if findings is not None:
        for sp in sorted(used_fallback):
            findings.append({"kind": "gwp_fallback", "severity": "info", "table": "refrigerant_use",
                             "source_row": -1, "key": sp, "value": float(table[sp]), "unit": "GWP-100",
                             "message": f"{sp} has no GWP in {gwp_set}; the {fallbacks[sp]} value {table[sp]:g} "
                                        "was used (next newer IPCC report)"})


def fugitive(refrigerant_use: pd.DataFrame, plants: pd.DataFrame, *, gwp_set: str = "AR5") -> pd.DataFrame:
    """Scope 1 fugitive ledger rows (one per refrigerant row and species)."""
    parts = _LedgerParts()
    _fugitive_into(parts, refrigerant_use, _plant_table(plants), gwp_set)
    return parts.frame()
