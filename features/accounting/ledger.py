"""build_ledger: every section into one ledger."""

from __future__ import annotations

import pandas as pd

from core.ghg.errors import GHGError as AccountingError
from core.ghg.factors import FactorIndex, prepare_factors
from features.accounting._columns import _LedgerParts
from features.accounting._common import CORE_COLUMNS, _gwp, _plant_table
from features.accounting._inputs import _energy_rows
from features.accounting.combustion import _scope1_into
from features.accounting.findings import approximation_findings, co2e_gwp_findings, instrument_findings
from features.accounting.fugitive import _fugitive_into
from features.accounting.process import _process_into
from features.accounting.purchased import _scope2_into
from features.accounting.transport import _scope3_into

SURPLUS_RULES = ("report", "refuse")


def build_ledger(plants: pd.DataFrame, energy_use: pd.DataFrame, factors: pd.DataFrame | None = None,
                 contracts: pd.DataFrame | None = None, shipments: pd.DataFrame | None = None,
                 lanes: pd.DataFrame | None = None, *, gwp_set: str = "AR5", basis: str = "TTW",
                 formula: str = "auto", fuel_props: pd.DataFrame | None = None,
                 year_rule: str = "latest_le_else_earliest", factor_version: str | None = None,
                 detail: bool = True, refrigerant_use: pd.DataFrame | None = None,
                 process_activity: pd.DataFrame | None = None, duplicates: str = "refuse",
                 surplus: str = "report") -> tuple[pd.DataFrame, dict]:
    """The full emissions ledger (Scope 1 combustion, fugitive and process; biogenic CO2 outside the scopes;
    Scope 2 both methods; Scope 3 cat. 4) and a report (instruments, findings).

    ``detail=False`` leaves out quantity, unit and factor_year (:data:`DETAIL_COLUMNS`), which are
    derivable from source_row and factor_id; the lineage columns stay.
    ``duplicates``: the same (plant, week, carrier) twice is refused (default) or kept, summed and reported.
    ``surplus``: contract volume left unused is reported (default, finding ``instrument_surplus``) or refused.
    ``report["findings"]`` lists what was noticed and not refused (see features.accounting.findings).
    """
    if surplus not in SURPLUS_RULES:
        raise AccountingError(f"surplus {surplus!r} not in {SURPLUS_RULES}")
    gwp = _gwp(gwp_set)
    p = _plant_table(plants)
    prepared = prepare_factors(factors, factor_version)
    f = FactorIndex(prepared)
    parts = _LedgerParts(None if detail else CORE_COLUMNS)
    er = _energy_rows(energy_use, p, duplicates)
    findings: list[dict] = []
    if er.duplicates.get("groups"):
        d = er.duplicates
        findings.append({"kind": "duplicate_activity", "severity": "warning", "table": "energy_use",
                         "source_row": int(d["example"][0]), "key": "plant_id|week|carrier",
                         "value": float(d["groups"]), "unit": "groups",
                         "message": f"{d['groups']} (plant, week, carrier) group(s) appear more than once "
                                    f"({d['rows']} rows, e.g. rows {d['example']}); kept and summed"})
    _scope1_into(parts, er, p, f, gwp, gwp_set, fuel_props, formula, year_rule)
    report = _scope2_into(parts, er, p, f, contracts, gwp, gwp_set, year_rule)
    if surplus == "refuse" and report["instruments_surplus_mwh"]:
        cid, mwh = next(iter(sorted(report["instruments_surplus_mwh"].items())))
        raise AccountingError(f"energy_contracts {cid}: {mwh:g} MWh not used "
                              f"({report['instruments_not_counted'].get(cid, 'no consumption left in its period')})"
                              f"; {len(report['instruments_surplus_mwh'])} contract(s) with surplus (surplus='refuse')")
    if shipments is not None and not shipments.empty:
        if lanes is None:
            raise AccountingError("shipments given without lanes: distance and mode come from lanes")
        _scope3_into(parts, shipments, lanes, p, f, basis, gwp, gwp_set, year_rule)
    _fugitive_into(parts, refrigerant_use, p, gwp_set, findings)
    _process_into(parts, process_activity, p, gwp_set, fuel_props)
    ledger = parts.frame()
    findings += instrument_findings(report)
    findings += co2e_gwp_findings(ledger, prepared, gwp_set)
    findings += approximation_findings(ledger, prepared)
    report["findings"] = findings
    return ledger, report
