"""The weekly pickup of portal submissions: the current accepted or flagged version of every supplier
record as of the run's cut-off time, merged into the run's raw ``supplier_emissions`` (a portal row replaces
the extracted row with the same supplier, plant, year and category), so validation and accounting see them.

Run between extract and validate: ``pickup_submissions(run_id, as_of, db_url)``. Deterministic for a fixed
``as_of`` (same bytes on a re-run). Not wired into the weekly DAG yet (see docs/WEB.md); no fastapi import.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from co2plan.web.store import SUBMISSION_FIELDS, Store
from core import catalog

__all__ = ["pickup_submissions"]

KEY = ["supplier_id", "plant_id", "year", "category"]


def pickup_submissions(run_id: str, as_of: dt.datetime, db_url: str, root: str | None = None) -> dict:
    store = Store(db_url)
    try:
        current = store.export_current(as_of)
    finally:
        store.dispose()
    ds = catalog.RAW["supplier_emissions"]
    cols = ["supplier_id", *SUBMISSION_FIELDS]
    raw = ds.read(run_id, root=root) if ds.exists(run_id, root=root) else pd.DataFrame(columns=cols)
    portal = pd.DataFrame([{c: str(r[c]) for c in cols} for r in current], columns=cols)
    if portal.empty:
        return {"run_id": run_id, "portal_rows": 0, "replaced": 0, "rows": len(raw)}
    keys = raw[KEY].astype(str).apply(tuple, axis=1) if len(raw) else pd.Series([], dtype=object)
    pkeys = set(portal[KEY].apply(tuple, axis=1))
    hit = keys.isin(pkeys) if len(raw) else pd.Series([], dtype=bool)
    merged = pd.concat([raw[~hit.to_numpy()] if len(raw) else raw, portal], ignore_index=True)
    merged = merged.sort_values(KEY, kind="stable").reset_index(drop=True)
    ds.write(merged, run_id, root=root)
    return {"run_id": run_id, "portal_rows": len(portal), "replaced": int(hit.sum()), "rows": len(merged)}
