"""Scope 3 coverage statement per run: each of the 15 categories measured, estimated, excluded or not
applicable, with the method and the reason (GHG Protocol Scope 3 Standard ch. 6: exclusions must be
disclosed and justified).

``COVERAGE_SOURCES`` says which ledger scope measures a category; a category whose scope has rows in the
ledger is ``measured`` with its total. The others take their default status and reason below (issue 16
adds one line for category 1, supplier data).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.ghg.scope3 import SCOPE3_CATEGORIES

COVERAGE_COLUMNS = ["category", "name", "status", "method", "co2e_t", "reason"]

# category -> (ledger scope that measures it, method)
COVERAGE_SOURCES: dict[int, tuple[str, str]] = {
    4: ("scope3_cat4", "distance-based: tonnes x lane distance x freight factor (DESNZ, TTW or WTW)"),
}

# category -> (status when not measured, reason)
DEFAULTS: dict[int, tuple[str, str]] = {
    1: ("excluded", "supplier data (purchased parts, steel, aluminium, battery cells) arrive with issue 16"),
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


def scope3_coverage(ledger: pd.DataFrame, shares: np.ndarray | None = None) -> pd.DataFrame:
    """The 15-row coverage table for a ledger (t CO2e gross, or x ``shares`` per ledger row when given)."""
    scope = ledger["scope"].astype(str).to_numpy() if len(ledger) else np.array([], dtype=object)
    w = ledger["co2e_t"].to_numpy(dtype=float) if len(ledger) else np.array([])
    if shares is not None:
        w = w * shares
    rows = []
    for cat, name in SCOPE3_CATEGORIES.items():
        src = COVERAGE_SOURCES.get(cat)
        if src is not None and (scope == src[0]).any():
            rows.append((cat, name, "measured", src[1], float(w[scope == src[0]].sum()), ""))
            continue
        status, reason = DEFAULTS.get(cat, ("excluded", "not computed"))
        if src is not None:
            status, reason = "excluded", f"no {src[0]} rows in this run (no input data)"
        rows.append((cat, name, status, "", float("nan"), reason))
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
