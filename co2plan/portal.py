"""The weekly DAG's pickup of supplier-portal submissions (issue 17): a plain application function between
extract and validate. It imports the web app's pickup (SQLAlchemy + the lake, never fastapi) only when
called, so DAG files parse fast and ``co2plan.pipeline`` stays free of ``co2plan.web``."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

__all__ = ["pickup_stage", "default_db_url"]

log = logging.getLogger(__name__)


def default_db_url() -> str:
    """The web app's database (``CO2PLAN_WEB_DB``; default the SQLite file the web app creates)."""
    from co2plan.web.settings import WebSettings

    return WebSettings().db_url


def _sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):])
    return None


def pickup_stage(run_id: str, as_of: dt.datetime | None = None, db_url: str | None = None,
                 root: str | None = None) -> dict:
    """Merge the portal's current accepted/flagged submissions (as of ``as_of``, default now) into the run's
    raw ``supplier_submissions``. No portal database (file absent, or no submissions table): a no-op that says
    so in the log and in the returned dict."""
    url = db_url or default_db_url()
    as_of = as_of or dt.datetime.now(dt.UTC)
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        log.info("portal pickup: no portal database at %s; nothing to pick up for %s", path, run_id)
        print(f"[co2plan] portal pickup: skipped (no portal database at {path})", flush=True)
        return {"run_id": run_id, "status": "skipped", "why": f"no portal database at {path}", "portal_rows": 0}
    import sqlalchemy as sa

    eng = sa.create_engine(url)
    try:
        has = sa.inspect(eng).has_table("submission_rows")
    finally:
        eng.dispose()
    if not has:
        log.info("portal pickup: %s has no submissions table (web app not initialised); nothing to pick up",
                 url.split("@")[-1])
        print("[co2plan] portal pickup: skipped (portal database has no submissions table)", flush=True)
        return {"run_id": run_id, "status": "skipped", "why": "portal database has no submissions table",
                "portal_rows": 0}
    from co2plan.web.pickup import pickup_submissions

    out = pickup_submissions(run_id, as_of, url, root=root)
    log.info("portal pickup for %s: %d portal rows (replacing %d extracted) -> raw %s has %d rows",
             run_id, out["portal_rows"], out["replaced"], out["table"], out["rows"])
    print(f"[co2plan] portal pickup: {out['portal_rows']} portal rows (replacing {out['replaced']} extracted)",
          flush=True)
    return {**out, "status": "ok", "as_of": str(as_of)}
