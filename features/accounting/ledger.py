"""build_ledger: every section into one ledger."""

from __future__ import annotations

import pandas as pd

from core.ghg.errors import GHGError as AccountingError
from core.ghg.factors import FactorIndex, prepare_factors
from features.accounting._columns import _LedgerParts
from features.accounting._common import CORE_COLUMNS, _gwp, _plant_table
from features.accounting._inputs import _energy_rows
from features.accounting.combustion import _scope1_into
from features.accounting.purchased import _scope2_into
from features.accounting.transport import _scope3_into


def build_ledger(plants: pd.DataFrame, energy_use: pd.DataFrame, factors: pd.DataFrame | None = None,
                 contracts: pd.DataFrame | None = None, shipments: pd.DataFrame | None = None,
                 lanes: pd.DataFrame | None = None, *, gwp_set: str = "AR5", basis: str = "TTW",
                 formula: str = "auto", fuel_props: pd.DataFrame | None = None,
                 year_rule: str = "latest_le_else_earliest", factor_version: str | None = None,
                 detail: bool = True) -> tuple[pd.DataFrame, dict]:
    """The full emissions ledger (Scope 1, 2 both methods, 3 cat. 4) and an instrument report.

    ``detail=False`` leaves out quantity, unit and factor_year (:data:`DETAIL_COLUMNS`), which are
    derivable from source_row and factor_id; the lineage columns stay.
    """
    gwp = _gwp(gwp_set)
    p = _plant_table(plants)
    f = FactorIndex(prepare_factors(factors, factor_version))
    parts = _LedgerParts(None if detail else CORE_COLUMNS)
    er = _energy_rows(energy_use, p)
    _scope1_into(parts, er, p, f, gwp, gwp_set, fuel_props, formula, year_rule)
    report = _scope2_into(parts, er, p, f, contracts, gwp, gwp_set, year_rule)
    if shipments is not None and not shipments.empty:
        if lanes is None:
            raise AccountingError("shipments given without lanes: distance and mode come from lanes")
        _scope3_into(parts, shipments, lanes, p, f, basis, gwp, gwp_set, year_rule)
    return parts.frame(), report
