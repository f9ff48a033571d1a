"""Scope 1 process emissions: carbon-bearing inputs oxidised on site, e.g. paint-shop solvent burnt in a
regenerative thermal oxidiser (RTO). CO2 = mass x carbon fraction x 44/12 (carbon balance, IPCC 2006
Vol. 3 / GHG Protocol). The carbon fraction is the row's, else the library's ``carbon_fraction`` property
of the process (xylene for ``rto_solvent_oxidation``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.ghg.errors import MissingFactorError
from core.ghg.factors import _prop_index, _resolve_property
from core.ghg.library import FACTOR_VERSION, fuel_properties
from core.ghg.units import unit_multiplier
from features.accounting._columns import _Cat, _LedgerParts
from features.accounting._common import (
    CARBON_TO_CO2,
    _dates,
    _plant_codes,
    _plant_table,
    _row_context,
    _source_rows,
    _years,
)
from features.accounting.invariants import check

F_PROCESS = "mass_x_cf_x_44/12"


def _process_into(parts: _LedgerParts, process_activity: pd.DataFrame | None, plants: pd.DataFrame,
                  gwp_set: str, fuel_props: pd.DataFrame | None = None) -> None:
    if process_activity is None or process_activity.empty:
        return
    pa = process_activity.reset_index(drop=True)
    check("process_activity", pa)
    props = _prop_index(fuel_properties() if fuel_props is None else fuel_props)
    n = len(pa)
    cf = pa["carbon_fraction"].to_numpy(dtype=float, na_value=np.nan) if "carbon_fraction" in pa else np.full(n, np.nan)
    cf = cf.copy()
    fid = ["row_carbon_fraction"] * n
    for i in np.flatnonzero(np.isnan(cf)):
        hit = _resolve_property(props, str(pa["process"].iloc[i]), "carbon_fraction", ["GLOBAL"])
        if hit is None:
            raise MissingFactorError(f"{_row_context('process_activity', pa, int(i), ('plant_id', 'process'))}: "
                                     "no carbon_fraction in the row or the library")
        cf[i], fid[i] = float(hit["value"]), str(hit["property_id"])
    to_t = np.array([unit_multiplier(str(u), "tonne") for u in pa["unit"]])
    q = pa["quantity"].to_numpy(dtype=float)
    co2 = q * to_t * cf * CARBON_TO_CO2
    weeks = _dates(pa["period_start"])
    acodes, acats = pd.factorize(pa["process"].astype(str))
    fcodes, fcats = pd.factorize(pd.Series(fid))
    parts.add(n, scope="scope1", plant_id=_Cat(_plant_codes("process_activity", pa, plants), list(plants.index)),
              week=weeks, activity=_Cat(acodes.astype(np.int32), [f"process_{a}" for a in acats]), gas="CO2",
              quantity=q * to_t, unit="tonne", emissions_t=co2, co2e_t=co2, source_table="process_activity",
              source_row=_source_rows(pa), factor_id=_Cat(fcodes.astype(np.int32), list(fcats)),
              factor_version=FACTOR_VERSION, factor_year=_years(weeks), gwp_set=gwp_set, formula=F_PROCESS,
              category="process")


def process(process_activity: pd.DataFrame, plants: pd.DataFrame, *, gwp_set: str = "AR5",
            fuel_props: pd.DataFrame | None = None) -> pd.DataFrame:
    """Scope 1 process ledger rows (CO2, one per process_activity row)."""
    parts = _LedgerParts()
    _process_into(parts, process_activity, _plant_table(plants), gwp_set, fuel_props)
    return parts.frame()
