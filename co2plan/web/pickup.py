"""The weekly pickup of portal submissions: the current accepted or flagged version of every supplier
record as of the run's cut-off time, merged into the run's raw ``supplier_submissions`` (the table the
weekly supply stage checks and turns into Scope 3 category 1), so validation and the supply stage see them.

A portal record (supplier, year, commodity, plant) replaces every extracted row of the same supplier, year,
commodity and plant (all their versions): the portal is the newer channel. Portal rows get the submission id
``WEB_<supplier>_<year>_<commodity>_<plant or ALL>``, the portal's version number and the date of that
version as ``submitted_on``.

Run between extract and validate: ``pickup_submissions(run_id, as_of, db_url)`` (the DAG calls it through
``co2plan.portal.pickup_stage``). Deterministic for a fixed ``as_of`` (same bytes on a re-run). No fastapi
import.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from co2plan.web.store import SUBMISSION_FIELDS, Store
from core import catalog
from core.tables import TABLES

__all__ = ["pickup_submissions", "portal_submission_id"]

TABLE = "supplier_submissions"
MATCH = ["supplier_id", "year", "commodity", "plant_id"]


def portal_submission_id(supplier_id: str, year: int, commodity: str, plant_id: str | None) -> str:
    return f"WEB_{supplier_id}_{year}_{commodity}_{plant_id or 'ALL'}"


def _text(v) -> str | None:
    """The raw (text) form of one value, as extraction writes it: None for a null, shortest round-trip text for a
    float (``190000`` not ``190000.0``), ``YYYY-MM-DD`` for a date."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, float):
        t = repr(v)
        return t[:-2] if t.endswith(".0") else t
    if isinstance(v, (dt.date, dt.datetime, pd.Timestamp)):
        return f"{v:%Y-%m-%d}"
    return str(v)


def _naive_utc(t: dt.datetime | None) -> dt.datetime | None:
    if t is None or t.tzinfo is None:
        return t
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def pickup_submissions(run_id: str, as_of: dt.datetime | None, db_url: str, root: str | None = None) -> dict:
    store = Store(db_url)
    try:
        current = store.export_current(_naive_utc(as_of))
    finally:
        store.dispose()
    ds = catalog.RAW[TABLE]
    cols = list(TABLES[TABLE].column_names)
    raw = ds.read(run_id, root=root) if ds.exists(run_id, root=root) else pd.DataFrame(columns=cols)
    if not current:
        return {"run_id": run_id, "table": TABLE, "portal_rows": 0, "replaced": 0, "rows": len(raw)}
    portal = pd.DataFrame([{c: _text(v) for c, v in {
        "submission_id": portal_submission_id(r["supplier_id"], r["year"], r["commodity"], r["plant_id"]),
        "version": int(r["version"]), "supplier_id": r["supplier_id"], **{f: r[f] for f in SUBMISSION_FIELDS},
        "submitted_on": r["created_at"],
    }.items()} for r in current], dtype=object)[cols]

    def key(d: pd.DataFrame) -> pd.Series:
        return d[MATCH].astype(object).where(d[MATCH].notna(), "").astype(str).agg("|".join, axis=1)

    hit = key(raw).isin(set(key(portal))).to_numpy() if len(raw) else pd.Series([], dtype=bool).to_numpy()
    merged = pd.concat([raw[~hit], portal], ignore_index=True) if len(raw) else portal
    merged = merged.sort_values(["submission_id", "version"], kind="stable",
                                key=lambda s: s.astype(str)).reset_index(drop=True)
    ds.write(merged, run_id, root=root)
    return {"run_id": run_id, "table": TABLE, "portal_rows": len(portal), "replaced": int(hit.sum()),
            "rows": len(merged)}
