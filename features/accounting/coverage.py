"""Scope 3 coverage statement per run: each of the 15 categories measured, estimated, excluded or not
applicable, with the method and the reason (GHG Protocol Scope 3 Standard ch. 6: exclusions must be
disclosed and justified).

``COVERAGE_SOURCES`` says which scope label measures a category; a category whose scope has rows in the
ledger, or a total from another stage (``stage_totals``: category 1 comes from the supply stage's
``scope3_cat1`` table, suppliers/cat1.py, which runs beside accounting), is ``measured`` with its total. The
others take their default status and reason below.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.ghg.scope3 import SCOPE3_CATEGORIES

COVERAGE_COLUMNS = ["category", "name", "status", "method", "co2e_t", "reason"]

# category -> (ledger scope that measures it, method)
COVERAGE_SOURCES: dict[int, tuple[str, str]] = {
    4: ("scope3_cat4", "distance-based: tonnes x lane distance x freight factor (DESNZ, TTW or WTW)"),
    1: ("scope3_cat1", "supply stage (suppliers.cat1, table scope3_cat1): supplier-specific, hybrid or "
                       "spend/average-data per supply link, by data-quality tier"),
}

# category -> (status when not measured, reason)
DEFAULTS: dict[int, tuple[str, str]] = {
    1: ("excluded", "no supplier data (purchased parts, steel, aluminium, battery cells) in this run"),
    2: ("excluded", "capital goods: no capex or asset data in the plan's inputs"),
    3: ("excluded", "no well-to-tank or T&D-loss factors for fuels and electricity in the library yet"),
    5: ("excluded", "no waste tonnage data"),
    6: ("excluded", "no travel data"),
    7: ("excluded", "no commuting data"),
    8: ("not_applicable", "no leased assets outside the plants (leased plants are in scopes 1-2 by boundary)"),
    9: ("excluded", "downstream transport to dealers paid by the markets is not in the shipment data"),
    10: ("not_applicable", "vehicles are sold finished; no further processing"),
    11: ("excluded", "use of sold vehicles not computed (largest OEM category; includes in-use A/C leakage of "
                     "the refrigerant charged at end of line)"),
    12: ("excluded", "end-of-life of sold vehicles not computed"),
    13: ("not_applicable", "no assets leased out"),
    14: ("not_applicable", "no franchises (dealers are independent and not consolidated)"),
    15: ("not_applicable", "no investments outside the consolidated plants"),
}


def scope3_coverage(ledger: pd.DataFrame, shares: np.ndarray | None = None,
                    stage_totals: dict[str, float] | None = None) -> pd.DataFrame:
    """The 15-row coverage table for a ledger (t CO2e gross, or x ``shares`` per ledger row when given).
    ``stage_totals``: scope label -> t CO2e measured by another stage (already on the same boundary)."""
    scope = ledger["scope"].astype(str).to_numpy() if len(ledger) else np.array([], dtype=object)
    w = ledger["co2e_t"].to_numpy(dtype=float) if len(ledger) else np.array([])
    if shares is not None:
        w = w * shares
    stage_totals = stage_totals or {}
    rows = []
    for cat, name in SCOPE3_CATEGORIES.items():
        src = COVERAGE_SOURCES.get(cat)
        if src is not None and ((scope == src[0]).any() or src[0] in stage_totals):
            total = float(w[scope == src[0]].sum()) + float(stage_totals.get(src[0], 0.0))
            rows.append((cat, name, "measured", src[1], total, ""))
            continue
        status, reason = DEFAULTS.get(cat, ("excluded", "not computed"))
        if src is not None:
            status, reason = "excluded", f"no {src[0]} rows in this run (no input data)"
        rows.append((cat, name, status, "", float("nan"), reason))
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)


def refresh_coverage(coverage: pd.DataFrame, stage_totals: dict[str, float]) -> pd.DataFrame:
    """The coverage table with the categories measured by another stage filled in (the account stage writes
    the table before the supply stage has run; the report stage calls this with the supply stage's total)."""
    out = coverage.copy()
    for cat, (label, method) in COVERAGE_SOURCES.items():
        if label not in stage_totals:
            continue
        at = out["category"] == cat  # a label measured outside the ledger: its total replaces the row's
        out.loc[at, ["status", "method", "reason"]] = ["measured", method, ""]
        out.loc[at, "co2e_t"] = float(stage_totals[label])
    return out


def cat1_total(cat1: pd.DataFrame, plants: pd.DataFrame, boundary: str) -> dict[str, float]:
    """{"scope3_cat1": t CO2e} of the supply stage's scope3_cat1 table under the organisational boundary
    (each row x its plant's share, as the ledger's scopes)."""
    from features.accounting.totals import _share

    if cat1 is None or not len(cat1):
        return {}
    return {"scope3_cat1": float((cat1["tco2e"].to_numpy(dtype=float) * _share(cat1, plants, boundary)).sum())}
