"""The data layer: the only part of the web app that reads the lake (through ``core.catalog``) or the web
database (through ``store.Store``). Every function takes the :class:`Principal` first and decides what
that principal may see before any row leaves the reader:

- public (anyone): only runs that are both published (``published/<run_id>.json``) and assured by an admin;
- supplier: lake reads carry a parquet filter ``supplier_id == <own id>``; the peer comparison is computed
  here and only anonymised aggregates leave; store reads are the store's supplier-scoped functions;
- enterprise (viewer, planner, admin): any run of the catalog.

Pages and API routes call these functions and never read data themselves (import-linter contract).
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from typing import Any

import fsspec
import pandas as pd
import pyarrow.parquet as pq

from co2plan.web.security import Principal
from co2plan.web.settings import WebSettings
from co2plan.web.store import Store
from core import catalog

__all__ = ["Lake", "Forbidden", "NotFound", "RUN_ID", "public_summary", "supplier_overview",
           "supplier_batches", "supplier_batch", "supplier_records", "supplier_record_versions",
           "enterprise_runs", "enterprise_overview", "emissions_breakdown", "ledger_rows", "plan_compare",
           "forecast_summary", "scenario_list", "industry_of", "SCOPES", "levers_summary", "forecast_hierarchy",
           "supply_overview"]

RUN_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
SCOPES = ("scope1", "scope2_location", "scope2_market", "scope3_cat4")
#: scopes that add up to the company total (scope 2 location-based is the alternative method: never added)
TOTAL_SCOPES = ("scope1", "scope2_market", "scope3_cat4")


class Forbidden(Exception):
    """The principal may not see this (HTTP 403)."""


class NotFound(LookupError):
    """No such object for this principal (HTTP 404; also used for other suppliers' objects)."""


def _need_enterprise(p: Principal) -> None:
    if not p.at_least("viewer"):
        raise Forbidden("enterprise users only")


def _need_supplier(p: Principal) -> str:
    if not p.is_supplier:
        raise Forbidden("supplier users only")
    return str(p.supplier_id)


def _check_run(run_id: str) -> str:
    if not isinstance(run_id, str) or not RUN_ID.match(run_id):
        raise NotFound("no such run")
    return run_id


class Lake:
    """Reads catalog datasets with pyarrow (column projection, row filters pushed into the reader) and
    keeps an LRU of results keyed by (uri, size, mtime, columns, filters): lake files are rewritten whole."""

    def __init__(self, root: str | None = None, cache_size: int = 64) -> None:
        self.root = root
        self._cache: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()
        self._flights: dict[tuple, threading.Lock] = {}

    def _stat(self, uri: str) -> tuple[Any, str, tuple] | None:
        fs, path = fsspec.core.url_to_fs(uri)
        try:
            info = fs.info(path)
        except FileNotFoundError:
            return None
        return fs, path, (info.get("size"), info.get("mtime") or info.get("LastModified"))

    def exists(self, ds: catalog.Dataset, run_id: str, scenario: str | None = None) -> bool:
        return self._stat(ds.uri(run_id, scenario, self.root)) is not None

    def read(self, ds: catalog.Dataset, run_id: str, scenario: str | None = None,
             columns: list[str] | None = None, filters: list[tuple] | None = None) -> pd.DataFrame:
        uri = ds.uri(run_id, scenario, self.root)
        st = self._stat(uri)
        if st is None:
            raise NotFound(f"{ds.name} not produced for run {run_id}" + (f"/{scenario}" if scenario else ""))
        fs, path, sig = st
        key = (uri, sig, tuple(columns or ()), repr(filters))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        table = pq.read_table(path, filesystem=fs, columns=columns, filters=filters)
        df = table.to_pandas()
        with self._lock:
            self._cache[key] = df
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return df

    def cached(self, key: tuple, fn):
        """Memoise a derived aggregate under a key that includes the source files' signatures. Single flight:
        a second caller of the same key waits for the first one's result instead of computing it again."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            flight = self._flights.setdefault(key, threading.Lock())
        with flight:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            out = fn()
            with self._lock:
                self._cache[key] = out
                self._flights.pop(key, None)
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        return out

    def signature(self, ds: catalog.Dataset, run_id: str, scenario: str | None = None) -> tuple:
        st = self._stat(ds.uri(run_id, scenario, self.root))
        return (ds.name, run_id, scenario, st[2] if st else None)

    def _glob(self, pattern_uri: str) -> list[str]:
        fs, path = fsspec.core.url_to_fs(pattern_uri)
        return sorted(fs.glob(path))

    def runs(self) -> list[str]:
        """Runs with an emissions summary (newest last)."""
        paths = self._glob(catalog.EMISSIONS_SUMMARY.uri("*", root=self.root))
        return sorted({p.rstrip("/").split("/")[-2] for p in paths})

    def scenarios(self, run_id: str) -> list[str]:
        paths = self._glob(catalog.KPIS.uri(run_id, "*", root=self.root))
        return sorted({p.rstrip("/").split("/")[-2] for p in paths})

    def published_runs(self) -> list[str]:
        paths = self._glob(catalog.published_uri("*", self.root))
        ids = {p.rstrip("/").rsplit("/", 1)[-1][:-len(".json")] for p in paths}
        return sorted(i for i in ids if i != "latest" and RUN_ID.match(i))

    def pointer(self, run_id: str) -> dict:
        uri = catalog.published_uri(run_id, self.root)
        fs, path = fsspec.core.url_to_fs(uri)
        with fs.open(path, "rb") as fh:
            return json.loads(fh.read())


# ---------------------------------------------------------------------------------------------- public
def _annual(summary: pd.DataFrame) -> pd.DataFrame:
    """t CO2e per full calendar year (12 months present) and scope."""
    s = summary.assign(year=pd.to_datetime(summary["month"]).dt.year)
    months = s.groupby("year")["month"].nunique()
    full = months[months == 12].index
    out = (s[s["year"].isin(full)].groupby(["year", "scope"], observed=True)["co2e_t"].sum()
           .unstack("scope").reindex(columns=list(SCOPES)).fillna(0.0))
    out["total"] = out[list(TOTAL_SCOPES)].sum(axis=1)
    return out


def trajectory(annual: pd.DataFrame, target_pct: float, target_year: int) -> dict:
    """Actual totals per full year and the straight-line target path from the base year (first full year)."""
    if annual.empty:
        return {"years": [], "actual": [], "target_years": [], "target": [], "base_year": None,
                "progress_pct": None}
    base_year = int(annual.index.min())
    base = float(annual["total"].iloc[0])
    years = list(range(base_year, max(target_year, int(annual.index.max())) + 1))
    span = max(target_year - base_year, 1)
    target = [base * (1 - target_pct / 100 * min(max(y - base_year, 0), span) / span) for y in years]
    last = float(annual["total"].iloc[-1])
    return {"years": [int(y) for y in annual.index], "actual": [float(v) for v in annual["total"]],
            "target_years": years, "target": target, "base_year": base_year, "base_t": base,
            "latest_year": int(annual.index.max()), "latest_t": last,
            "progress_pct": (1 - last / base) * 100 if base else None}


def public_summary(p: Principal, lake: Lake, store: Store, settings: WebSettings) -> dict:
    """Published and assured figures only; the newest such run."""
    assured = store.assured_runs()
    runs = [r for r in lake.published_runs() if r in assured and lake.exists(catalog.EMISSIONS_SUMMARY, r)]
    base = {"company": settings.company, "target_pct": settings.target_pct, "target_year": settings.target_year}
    if not runs:
        return {**base, "run_id": None}
    run = runs[-1]
    annual = lake.cached(("public_annual", lake.signature(catalog.EMISSIONS_SUMMARY, run)),
                         lambda: _annual(lake.read(catalog.EMISSIONS_SUMMARY, run)))
    return {**base, "run_id": run, "assurance": assured[run]["statement"],
            "assured_at": str(assured[run]["at"])[:10],
            "annual": {str(y): {k: float(v) for k, v in row.items()} for y, row in annual.iterrows()},
            "trajectory": trajectory(annual, settings.target_pct, settings.target_year)}


# ---------------------------------------------------------------------------------------------- supplier
def industry_of(supplier_id: str, lake: Lake | None = None) -> str:
    """The supplier's industry: its commodity in the newest validated ``suppliers`` table (issue 16's supplier
    master); without one, the last part of the id."""
    if lake is not None:
        ds = catalog.VALIDATED["suppliers"]
        run = _latest_run_with(lake, ds)
        if run is not None:
            df = lake.read(ds, run, columns=["supplier_id", "commodity"], filters=[("supplier_id", "=", supplier_id)])
            if len(df):
                return str(df["commodity"].iloc[0])
    return supplier_id.rsplit("_", 1)[-1] if "_" in supplier_id else supplier_id


def _latest_run_with(lake: Lake, ds: catalog.Dataset) -> str | None:
    for r in reversed(lake.runs()):
        if lake.exists(ds, r):
            return r
    return None


SUB_COLS = ["submission_id", "version", "supplier_id", "year", "commodity", "plant_id", "tco2e"]
SUB_KEY = ["year", "commodity", "plant_id"]


def _highest_version(df: pd.DataFrame) -> pd.DataFrame:
    """Corrections add a version; the highest of each submission counts."""
    if df.empty:
        return df
    return df.sort_values(["submission_id", "version"]).drop_duplicates("submission_id", keep="last")


def supplier_overview(p: Principal, lake: Lake, store: Store, settings: WebSettings) -> dict:
    sid = _need_supplier(p)
    ds = catalog.VALIDATED["supplier_submissions"]
    run = _latest_run_with(lake, ds)
    own = (_highest_version(lake.read(ds, run, columns=SUB_COLS, filters=[("supplier_id", "=", sid)])) if run
           else pd.DataFrame(columns=SUB_COLS))
    current = store.current_records(sid)
    # the portal's current versions override the lake's rows for the same record
    portal = pd.DataFrame([{k: r.get(k) for k in SUB_COLS if k in r} for r in current if r["status"] != "rejected"],
                          columns=[c for c in SUB_COLS if c not in ("submission_id", "version")])
    if len(portal):
        def key(d: pd.DataFrame) -> pd.Series:
            return d["year"].astype(str) + "|" + d["commodity"].astype(str) + "|" + d["plant_id"].fillna("").astype(str)
        own = pd.concat([own[~key(own).isin(set(key(portal)))] if len(own) else own, portal], ignore_index=True)
    own = own.assign(tco2e=own["tco2e"].astype(float))
    by_year = own.groupby("year")["tco2e"].sum().sort_index()
    years = [int(y) for y in by_year.index]
    trend = None
    if len(by_year) >= 2 and by_year.iloc[-2] > 0:
        trend = (by_year.iloc[-1] / by_year.iloc[-2] - 1) * 100
    # planned: the first year's total along the company's commitment (no supplier targets yet)
    planned = []
    if years:
        base_y, base_v = years[0], float(by_year.iloc[0])
        span = max(settings.target_year - base_y, 1)
        planned = [base_v * (1 - settings.target_pct / 100 * (y - base_y) / span) for y in years]
    industry = industry_of(sid, lake)
    share = _industry_share(sid, industry, lake, run, settings, by_year)
    flags = [{"record": r["record_key"], "version": r["version"], "status": r["status"],
              "reasons": json.loads(r["reasons"])} for r in current if r["status"] != "accepted"]
    return {"supplier_id": sid, "industry": industry, "run_id": run,
            "years": years, "totals": [float(v) for v in by_year], "trend_pct": trend, "planned": planned,
            "share": share, "flags": flags, "records": len(current)}


def _industry_share(sid: str, ind: str, lake: Lake, run: str | None, settings: WebSettings, own: pd.Series) -> dict:
    """Own share of the industry (commodity) total in the newest year; peers only as anonymised, sorted shares,
    and nothing at all below ``min_peers`` suppliers."""
    if run is None or own.empty:
        return {"available": False, "reason": "no data yet"}
    ds = catalog.VALIDATED["supplier_submissions"]
    year = int(own.index.max())
    df = _highest_version(lake.read(ds, run, columns=SUB_COLS, filters=[("year", "=", year),
                                                                       ("commodity", "=", ind)]))
    per = df.groupby("supplier_id")["tco2e"].sum()
    per.loc[sid] = float(own.loc[year])
    if len(per) < settings.min_peers:
        return {"available": False, "reason": f"fewer than {settings.min_peers} suppliers in {ind}"}
    total = float(per.sum())
    peers = sorted((float(v) / total * 100 for k, v in per.items() if k != sid), reverse=True)
    return {"available": True, "year": year, "industry": ind, "own_pct": float(per.loc[sid]) / total * 100,
            "peers_pct": peers, "n": len(per)}


def supplier_batches(p: Principal, store: Store) -> list[dict]:
    return store.batches_of(_need_supplier(p))


def supplier_batch(p: Principal, store: Store, batch_id: str) -> dict:
    b = store.batch(_need_supplier(p), str(batch_id)[:64])
    if b is None:
        raise NotFound("no such batch")
    return b


def supplier_records(p: Principal, store: Store) -> list[dict]:
    return store.current_records(_need_supplier(p))


def supplier_record_versions(p: Principal, store: Store, key: str) -> list[dict]:
    v = store.record_versions(_need_supplier(p), str(key)[:200])
    if not v:
        raise NotFound("no such record")
    return v


def supplier_audit(p: Principal, store: Store) -> list[dict]:
    return store.audit_entries(_need_supplier(p))


# ---------------------------------------------------------------------------------------------- enterprise
def enterprise_runs(p: Principal, lake: Lake) -> list[str]:
    _need_enterprise(p)
    return lake.runs()


def _run_or_latest(lake: Lake, run_id: str | None) -> str:
    runs = lake.runs()
    if run_id:
        if _check_run(run_id) not in runs:
            raise NotFound("no such run")
        return run_id
    if not runs:
        raise NotFound("no run in the lake yet: run the weekly refresh first")
    return runs[-1]


def _by_activity(lake: Lake, run: str) -> pd.DataFrame:
    def go():
        df = lake.read(catalog.EMISSIONS_LEDGER, run, columns=["scope", "activity", "co2e_t"])
        return (df.groupby(["scope", "activity"], observed=True)["co2e_t"].sum().reset_index()
                .astype({"scope": str, "activity": str}))
    return lake.cached(("by_activity", lake.signature(catalog.EMISSIONS_LEDGER, run)), go)


def _kpis(lake: Lake, run: str, scenario: str) -> dict:
    if not lake.exists(catalog.KPIS, run, scenario):
        return {}
    df = lake.read(catalog.KPIS, run, scenario)
    out: dict[str, Any] = {}
    for r in df.itertuples(index=False):
        key = r.kpi if (r.key is None or (isinstance(r.key, float) and pd.isna(r.key)) or r.key == "") \
            else f"{r.kpi}:{r.key}"
        out[key] = (None if pd.isna(r.value) else float(r.value)) if not isinstance(r.value, str) else r.value
        if getattr(r, "text", None) and isinstance(r.text, str) and out[key] is None:
            out[key] = r.text
    return out


def enterprise_overview(p: Principal, lake: Lake, settings: WebSettings, run_id: str | None = None) -> dict:
    _need_enterprise(p)
    run = _run_or_latest(lake, run_id)
    key = ("overview", lake.signature(catalog.EMISSIONS_SUMMARY, run), lake.signature(catalog.EMISSIONS_LEDGER, run),
           lake.signature(catalog.KPIS, run, "baseline"), settings.target_pct, settings.target_year)
    out = lake.cached(key, lambda: _overview(lake, settings, run))
    return {**out, "scenarios": lake.scenarios(run)}


def _overview(lake: Lake, settings: WebSettings, run: str) -> dict:
    """Everything the overview shows, from the run's files (cached by their signatures)."""
    summ = lake.read(catalog.EMISSIONS_SUMMARY, run)
    month = pd.to_datetime(summ["month"])
    by_month = (summ.assign(m=month).groupby(["m", "scope"], observed=True)["co2e_t"].sum()
                .unstack("scope").reindex(columns=list(SCOPES)).fillna(0.0))
    by_month.index = by_month.index.strftime("%Y-%m")  # format the few months, not every row
    by_plant = (summ[summ["scope"].isin(TOTAL_SCOPES)].groupby(["plant_id", "scope"], observed=True)["co2e_t"]
                .sum().unstack("scope").reindex(columns=list(TOTAL_SCOPES)).fillna(0.0))
    by_plant = by_plant.loc[by_plant.sum(axis=1).sort_values(ascending=False).index]
    act = _by_activity(lake, run)
    annual = _annual(summ)
    kpis = _kpis(lake, run, "baseline")
    months = list(by_month.index)
    return {
        "run_id": run, "period": f"{months[0]} to {months[-1]}" if months else "",
        "boundary": str(summ["boundary"].iloc[0]) if len(summ) else "",
        "gwp_set": str(summ["gwp_set"].iloc[0]) if len(summ) else "",
        "months": months, "by_month": {s: [float(v) for v in by_month[s]] for s in SCOPES},
        "plants": list(by_plant.index), "by_plant": {s: [float(v) for v in by_plant[s]] for s in TOTAL_SCOPES},
        "by_activity": act.to_dict("records"),
        "totals": {s: float(by_month[s].sum()) for s in SCOPES},
        "trajectory": trajectory(annual, settings.target_pct, settings.target_year),
        "kpis": kpis,
    }


LEDGER_FILTERS = ("scope", "plant_id", "activity")
LEDGER_COLUMNS = ["scope", "plant_id", "lane_id", "week", "activity", "gas", "co2e_t", "source_table",
                  "source_row", "factor_id", "factor_version", "formula"]


def _filters(scope: str | None, plant_id: str | None, activity: str | None) -> list[tuple]:
    f = []
    for col, v in (("scope", scope), ("plant_id", plant_id), ("activity", activity)):
        if v:
            if not RUN_ID.match(v):
                raise NotFound(f"no such {col}")
            f.append((col, "=", v))
    return f


def _ledger_monthly(lake: Lake, run: str) -> pd.DataFrame:
    """The ledger aggregated to scope x plant x activity x month (cached per ledger file): what the
    drill-down filters before it reaches single ledger rows."""
    def go():
        df = lake.read(catalog.EMISSIONS_LEDGER, run, columns=["scope", "plant_id", "activity", "week", "co2e_t"])
        month = pd.Series(pd.to_datetime(df["week"]).to_numpy().astype("datetime64[M]"), index=df.index)
        g = (df.assign(month=month).groupby(["scope", "plant_id", "activity", "month"], observed=True)["co2e_t"]
             .agg(["sum", "count"]).reset_index())
        g["month"] = g["month"].dt.strftime("%Y-%m")
        return g.astype({"scope": str, "plant_id": str, "activity": str})
    return lake.cached(("ledger_monthly", lake.signature(catalog.EMISSIONS_LEDGER, run)), go)


def emissions_breakdown(p: Principal, lake: Lake, run_id: str | None, scope: str | None = None,
                        plant_id: str | None = None, activity: str | None = None,
                        month: str | None = None) -> dict:
    """Emissions by scope x plant x activity for a filter (the drill-down between overview and ledger)."""
    _need_enterprise(p)
    run = _run_or_latest(lake, run_id)
    df = _ledger_monthly(lake, run)
    for col, _, v in _filters(scope, plant_id, activity):
        df = df[df[col] == v]
    if month:
        if not re.match(r"^\d{4}-\d{2}$", month):
            raise NotFound("month must be YYYY-MM")
        df = df[df["month"] == month]
    g = (df.groupby(["scope", "plant_id", "activity"])[["sum", "count"]].sum().reset_index()
         .sort_values("sum", ascending=False))
    g = g[g["count"] > 0]
    rows = [{"scope": str(r.scope), "plant_id": str(r.plant_id), "activity": str(r.activity),
             "co2e_t": float(r.sum), "rows": int(r.count)} for r in g.head(500).itertuples(index=False)]
    return {"run_id": run, "filters": {"scope": scope, "plant_id": plant_id, "activity": activity, "month": month},
            "rows": rows, "total_t": float(df["sum"].sum())}


def ledger_rows(p: Principal, lake: Lake, run_id: str | None, scope: str | None = None,
                plant_id: str | None = None, activity: str | None = None, month: str | None = None,
                page: int = 1, per_page: int = 50) -> dict:
    """Ledger rows with their lineage (source table and row, factor id and version, formula), paged;
    each page carries the factor rows it references."""
    _need_enterprise(p)
    run = _run_or_latest(lake, run_id)
    df = lake.read(catalog.EMISSIONS_LEDGER, run, columns=LEDGER_COLUMNS,
                   filters=_filters(scope, plant_id, activity) or None)
    if month:
        if not re.match(r"^\d{4}-\d{2}$", month):
            raise NotFound("month must be YYYY-MM")
        df = df[pd.to_datetime(df["week"]).dt.strftime("%Y-%m") == month]
    per_page = max(1, min(int(per_page), 1000))
    page = max(1, int(page))
    part = df.iloc[(page - 1) * per_page: page * per_page]
    out = []
    for r in part.to_dict("records"):
        out.append({k: (None if (v is None or (isinstance(v, float) and pd.isna(v))) else
                        (str(v)[:10] if k == "week" else (float(v) if k == "co2e_t" else
                                                          (int(v) if k == "source_row" else str(v)))))
                    for k, v in r.items()})
    factors = {}
    ids = sorted({r["factor_id"] for r in out if r["factor_id"]})
    if ids and lake.exists(catalog.VALIDATED["emission_factors"], run):
        ef = lake.read(catalog.VALIDATED["emission_factors"], run)
        for r in ef[ef["factor_id"].isin(ids)].to_dict("records"):
            factors[r["factor_id"]] = {k: (None if isinstance(v, float) and pd.isna(v) else
                                           (v if isinstance(v, (int, float, str)) else str(v))) for k, v in r.items()}
    return {"run_id": run, "page": page, "per_page": per_page, "total_rows": int(len(df)), "rows": out,
            "factors": factors}


KPI_ROWS = [("cost_total_eur", "Total cost", "EUR"), ("cost_production_eur", "Production cost", "EUR"),
            ("cost_freight_eur", "Freight cost", "EUR"), ("cost_carbon_eur", "Carbon cost", "EUR"),
            ("co2e_total_t", "CO2e over the horizon", "t CO2e"), ("co2e_scope1_t", "Scope 1", "t CO2e"),
            ("co2e_scope2_market_t", "Scope 2 (market-based)", "t CO2e"),
            ("co2e_scope3_transport_t", "Scope 3 transport", "t CO2e"), ("service_level", "Service level", "share"),
            ("output_units", "Units built", "units"), ("co2_mac_eur_per_t", "CO2 shadow price", "EUR / t")]


def plan_compare(p: Principal, lake: Lake, run_id: str | None, scenario: str | None) -> dict:
    """The baseline plan beside a scenario: KPIs with deltas, CO2 and production per plant, volume moved."""
    _need_enterprise(p)
    run = _run_or_latest(lake, run_id)
    scens = lake.scenarios(run)
    if scenario is not None and scenario not in scens:
        raise NotFound("no such scenario for this run")
    names = ["baseline"] + ([scenario] if scenario and scenario != "baseline" else [])
    names = [n for n in names if n in scens]
    kpis = {n: _kpis(lake, run, n) for n in names}
    rows = []
    for key, label, unit in KPI_ROWS:
        vals = [kpis[n].get(key) for n in names]
        if all(v is None for v in vals):
            continue
        delta = (vals[1] - vals[0]) if len(vals) == 2 and all(isinstance(v, float) for v in vals) else None
        rows.append({"kpi": key, "label": label, "unit": unit, "values": vals, "delta": delta})
    prod = {}
    for n in names:
        pp = lake.read(catalog.PRODUCTION_PLAN, run, n, columns=["plant_id", "units"])
        prod[n] = pp.groupby("plant_id")["units"].sum()
    plants = sorted(set().union(*[set(s.index) for s in prod.values()])) if prod else []
    co2_plant = {n: {k.split(":", 1)[1]: v for k, v in kpis[n].items()
                     if k.startswith("co2e_t_by_plant:") and isinstance(v, float)} for n in names}
    weeks = {}
    for n in names:
        pp = lake.read(catalog.PRODUCTION_PLAN, run, n, columns=["week"])
        weeks[n] = f"{pd.to_datetime(pp['week']).min():%Y-%m-%d} to {pd.to_datetime(pp['week']).max():%Y-%m-%d}"
    moved = None
    if len(names) == 2:
        d = prod[names[1]].reindex(plants, fill_value=0) - prod[names[0]].reindex(plants, fill_value=0)
        moved = float(d.clip(lower=0).sum())
    horizons = {n: kpis[n].get("horizon_weeks") for n in names}
    warning = None
    if len(set(horizons.values())) > 1:
        warning = ("the plans cover different horizons (" + ", ".join(f"{n}: {h:g} weeks" for n, h in horizons.items()
                                                             if isinstance(h, float)) +
                   "): compare rates, not totals")
    return {"run_id": run, "scenarios": scens, "names": names, "kpis": rows, "plants": plants, "warning": warning,
            "production": {n: [float(prod[n].get(pl, 0.0)) for pl in plants] for n in names},
            "co2_by_plant": {n: [co2_plant[n].get(pl) for pl in plants] for n in names},
            "period": weeks, "moved_units": moved,
            "diagnosis": {n: kpis[n].get("diagnosis") for n in names}}


def forecast_summary(p: Principal, lake: Lake, run_id: str | None) -> dict:
    _need_enterprise(p)
    run = _run_or_latest(lake, run_id)
    if not lake.exists(catalog.DEMAND_FORECAST, run):
        return {"run_id": run, "available": False}
    df = lake.read(catalog.DEMAND_FORECAST, run)
    num = [c for c in df.columns if c not in ("week", "product_id", "market_id") and
           pd.api.types.is_numeric_dtype(df[c])]
    g = df.groupby("week")[num].sum().sort_index()
    return {"run_id": run, "available": True, "weeks": [f"{w:%Y-%m-%d}" for w in pd.to_datetime(g.index)],
            "series": {c: [float(v) for v in g[c]] for c in num},
            "note": "interval columns summed over products and markets: not reconciled (needs issue 14)"}


def scenario_list(p: Principal, store: Store) -> list[dict]:
    _need_enterprise(p)
    return store.scenario_runs()


# ---------------------------------------------------------------------------------------------- submissions
def known_plants(lake: Lake) -> set[str] | None:
    """Plant ids of the newest validated run (the reference check at the door); None before any run."""
    ds = catalog.VALIDATED["plants"]
    run = _latest_run_with(lake, ds)
    if run is None:
        return None
    return lake.cached(("plants", lake.signature(ds, run)),
                       lambda: set(lake.read(ds, run, columns=["plant_id"])["plant_id"].astype(str)))


def _lake_history(lake: Lake, sid: str) -> dict[str, dict]:
    """This supplier's validated submissions of the newest run (highest version), keyed like portal records:
    the history the weekly check sees (last year's values), read with the supplier filter in the reader."""
    from co2plan.web.store import SUBMISSION_FIELDS, record_key

    ds = catalog.VALIDATED["supplier_submissions"]
    run = _latest_run_with(lake, ds)
    if run is None:
        return {}
    df = _highest_version(lake.read(ds, run, filters=[("supplier_id", "=", sid)]))
    out = {}
    for r in df.astype(object).where(df.notna(), None).to_dict("records"):
        rec = {f: r[f] for f in SUBMISSION_FIELDS}
        out[record_key(rec)] = {**rec, "version": int(r["version"])}
    return out


def _check_inputs(lake: Lake, sid: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The cross-validation's inputs from the newest runs: the peer reference (``supply/<run>/xval_reference``,
    anonymous statistics) and this supplier's own validated supply links (the spend check), filtered to its id
    in the reader."""
    ref_run = _latest_run_with(lake, catalog.XVAL_REFERENCE)
    ref = lake.read(catalog.XVAL_REFERENCE, ref_run) if ref_run else None
    ds = catalog.VALIDATED["supply_links"]
    link_run = _latest_run_with(lake, ds)
    links = lake.read(ds, link_run, filters=[("from_id", "=", sid)]) if link_run else None
    return ref, (links if links is not None and len(links) else None)


def submit(p: Principal, store: Store, lake: Lake, channel: str, payload: bytes, raw_rows: list[dict],
           idempotency_key: str | None = None) -> tuple[dict, bool]:
    """Door validation, cross-validation (the issue-16 hook) and one versioned, audited store transaction,
    all under the principal's own supplier id. Returns (batch summary, created)."""
    from co2plan.web.submissions import check_rows, suppliers_check

    sid = _need_supplier(p)
    if idempotency_key:
        prior = store.find_batch(sid, idempotency_key)
        if prior:
            return prior, False
    good, bad = check_rows(raw_rows, sid, known_plants(lake))
    history = {**_lake_history(lake, sid), **{r["record_key"]: r for r in store.current_records(sid)}} if good else {}
    good = suppliers_check(good, history, sid, *_check_inputs(lake, sid)) if good else good
    return store.store_batch(sid, int(p.user_id or 0), channel, payload, good, bad, idempotency_key)


# ---------------------------------------------------------------------------------------------- planner panels
# (issue 17, on the outputs of issues 13, 14 and 16; each returns available=False with the reason when the run
# has not produced the dataset)
def _latest_or(lake: Lake, ds: catalog.Dataset, run_id: str | None, scenario: str | None = None) -> str | None:
    if run_id:
        run = _run_or_latest(lake, run_id)
        return run if lake.exists(ds, run, scenario) else None
    for r in reversed(lake.runs()):
        if lake.exists(ds, r, scenario):
            return r
    return None


def levers_summary(p: Principal, lake: Lake, run_id: str | None = None, scenario: str | None = None) -> dict:
    """The CO2 shadow price of a plan (the CO2 budget row's dual, EUR/t) per period, the lever that sets it, the
    MAC curve (every abatement option: t CO2e it could abate, EUR/t, how much of it the plan used) and the
    levers bought. ``scenario``: a scenario of the run (default the baseline plan)."""
    _need_enterprise(p)
    scen = scenario or "baseline"
    if scen != "baseline" and not RUN_ID.match(scen):
        raise NotFound("no such scenario")
    run = _latest_or(lake, catalog.KPIS, run_id, scen) or _run_or_latest(lake, run_id)
    k = _kpis(lake, run, scen)
    by_period = {key.split(":", 1)[1]: v for key, v in k.items()
                 if key.startswith("co2_price_eur_per_t_by_period:") and isinstance(v, float)}
    setter = k.get("co2_price_setter")
    out: dict[str, Any] = {
        "run_id": run, "scenario": scen, "scenarios": ["baseline", *[x for x in lake.scenarios(run) if x != "baseline"]],
        "available": bool(k), "shadow_price_eur_per_t": k.get("co2_mac_eur_per_t"),
        "price_by_period": dict(sorted(by_period.items())), "setter": setter if isinstance(setter, str) else None,
        "co2e_total_t": k.get("co2e_total_t"), "co2_budget_t": k.get("co2_budget_t"),
        "budget_excess_t": k.get("co2_budget_excess_t"), "mac": None, "levers": None}
    if lake.exists(catalog.PLAN_MAC_CURVE, run, scen):
        m = lake.read(catalog.PLAN_MAC_CURVE, run, scen)
        pot = pd.to_numeric(m["potential_t"], errors="coerce")
        cost = pd.to_numeric(m["cost_eur_per_t"], errors="coerce")
        m = m[(pot > 0) & cost.notna()].assign(potential_t=pot, cost_eur_per_t=cost)
        m = m.sort_values(["cost_eur_per_t", "lever", "key", "period"], kind="stable")
        start = m["potential_t"].cumsum() - m["potential_t"]

        def txt(v: Any) -> str:
            return "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)

        out["mac"] = [{"lever": txt(r["lever"]), "key": txt(r["key"]), "period": txt(r["period"]),
                       "potential_t": float(r["potential_t"]), "abated_t": float(r["abated_t"] or 0.0),
                       "cost_eur_per_t": float(r["cost_eur_per_t"]), "start_t": float(s0),
                       "used_share": float(r["used_share"] or 0.0), "sets_price": bool(r["sets_price"])}
                      for (_, r), s0 in zip(m.iterrows(), start, strict=True)]
    if lake.exists(catalog.PLAN_LEVERS, run, scen):
        lv = lake.read(catalog.PLAN_LEVERS, run, scen)
        g = lv.groupby("lever")[["mwh", "cost_eur", "abated_t"]].sum().sort_values("abated_t", ascending=False)
        out["levers"] = [{"lever": str(i), "mwh": float(r.mwh), "cost_eur": float(r.cost_eur),
                          "abated_t": float(r.abated_t)} for i, r in g.iterrows()]
    return out


def forecast_hierarchy(p: Principal, lake: Lake, run_id: str | None = None, level: str | None = None,
                       node: str | None = None) -> dict:
    """One node of the coherent demand forecast (issue 14: every level reconciled, each with its own 80 % and
    95 % band), the levels and nodes to choose from, and for the total the naive sum of bottom-level bounds."""
    _need_enterprise(p)
    run = _latest_or(lake, catalog.DEMAND_FORECAST_HIERARCHY, run_id)
    if run is None:
        return {"run_id": run_id, "available": False,
                "reason": "no reconciled forecast in this run (forecast stage of issue 14 not run)"}
    h = lake.read(catalog.DEMAND_FORECAST_HIERARCHY, run)
    levels = {str(lv): sorted(map(str, g["node"].unique())) for lv, g in h.groupby("level", sort=False)}
    if level not in levels:
        level = "total" if "total" in levels else next(iter(levels))
    if node not in levels[level]:
        node = levels[level][0]
    s = h[(h["level"].astype(str) == level) & (h["node"].astype(str) == node)].sort_values("week")
    bands = [c for c in ("yhat_lo_95", "yhat_lo_80", "yhat", "yhat_hi_80", "yhat_hi_95") if c in s.columns]
    out = {"run_id": run, "available": True, "level": level, "node": node,
           "levels": {k: v[:200] for k, v in levels.items()},
           "weeks": [f"{w:%Y-%m-%d}" for w in pd.to_datetime(s["week"])],
           "series": {c: [float(v) for v in s[c]] for c in bands}, "naive_sum": None}
    if level == "total" and lake.exists(catalog.DEMAND_FORECAST, run):
        fc = lake.read(catalog.DEMAND_FORECAST, run)
        cols = [c for c in ("yhat_lo_95", "yhat_hi_95") if c in fc.columns]
        if cols:
            g = fc.groupby("week")[cols].sum().sort_index()
            out["naive_sum"] = {c: [float(v) for v in g[c]] for c in cols}
    return out


def _json_list(v: Any) -> list:
    if isinstance(v, str):
        try:
            return list(json.loads(v))
        except (ValueError, TypeError):
            return [v]
    return list(v) if v is not None and not (isinstance(v, float) and pd.isna(v)) else []


def supply_overview(p: Principal, lake: Lake, run_id: str | None = None, plant_id: str | None = None,
                    top: int = 15) -> dict:
    """Supplier risk (issue 16: own, inherited through the tiers, total on 0..1), the risk alerts with their
    drivers, and the supplier graph around one plant: its most exposed suppliers at every tier with the links
    between them (exposure = share of the plant's input that fails if that supplier fails)."""
    _need_enterprise(p)
    run = _latest_or(lake, catalog.SUPPLY_RISK, run_id)
    if run is None:
        return {"run_id": run_id, "available": False,
                "reason": "no supplier risk in this run (the supply stage of issue 16 has not run)"}
    risk = lake.read(catalog.SUPPLY_RISK, run)
    nodes = lake.read(catalog.SUPPLY_NODES, run) if lake.exists(catalog.SUPPLY_NODES, run) else None
    names = {}
    if lake.exists(catalog.VALIDATED["suppliers"], run):
        sup = lake.read(catalog.VALIDATED["suppliers"], run, columns=["supplier_id", "name"])
        names = dict(zip(sup["supplier_id"], sup["name"], strict=True))
    info = nodes.set_index("node_id") if nodes is not None else pd.DataFrame()

    def attr(n: str, c: str) -> Any:
        v = info[c].get(n) if c in info.columns else None
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return None
        return v.item() if hasattr(v, "item") else v  # numpy scalar -> Python (JSON)

    sup_r = risk[risk["kind"] == "supplier"].sort_values("total", ascending=False).head(top)
    suppliers = [{"node_id": str(r.node_id), "name": names.get(r.node_id, ""), "country": attr(r.node_id, "country"),
                  "commodity": attr(r.node_id, "commodity"), "tier": attr(r.node_id, "depth"),
                  "own": float(r.own), "inherited": float(r.inherited), "total": float(r.total)}
                 for r in sup_r.itertuples(index=False)]
    plants_r = risk[risk["kind"] == "plant"].sort_values("total", ascending=False)
    plants = [{"plant_id": str(r.node_id), "total": float(r.total)} for r in plants_r.itertuples(index=False)]
    alerts = []
    if lake.exists(catalog.SUPPLY_ALERTS, run):
        al = lake.read(catalog.SUPPLY_ALERTS, run).sort_values("risk", ascending=False)
        alerts = [{"node_id": str(r.node_id), "name": names.get(r.node_id, ""), "kind": str(r.kind),
                   "risk": float(r.risk), "threshold": float(r.threshold), "drivers": _json_list(r.drivers),
                   "plants": _json_list(r.plants)} for r in al.itertuples(index=False)]
    plant_ids = [x["plant_id"] for x in plants]
    if plant_id not in plant_ids:
        plant_id = plant_ids[0] if plant_ids else None
    graph = _plant_graph(lake, run, plant_id, risk, attr, names) if plant_id else None
    return {"run_id": run, "available": True, "suppliers": suppliers, "plants": plants, "alerts": alerts,
            "plant_id": plant_id, "graph": graph, "n_suppliers": int((risk["kind"] == "supplier").sum())}


def _plant_graph(lake: Lake, run: str, plant_id: str, risk: pd.DataFrame, attr, names: dict, top: int = 25) -> dict:
    if not lake.exists(catalog.SUPPLY_EXPOSURE, run):
        return {"nodes": [], "edges": []}
    ex = lake.read(catalog.SUPPLY_EXPOSURE, run, filters=[("plant_id", "=", plant_id), ("commodity", "=", "*")])
    ex = ex.sort_values(["exposure", "node_id"], ascending=[False, True]).head(top)
    total = risk.set_index("node_id")["total"]
    nodes = [{"node_id": plant_id, "name": plant_id, "tier": 0, "exposure": 1.0,
              "risk": float(total.get(plant_id, 0.0)), "commodity": "plant"}]
    nodes += [{"node_id": str(r.node_id), "name": names.get(r.node_id, str(r.node_id)),
               "tier": int(attr(r.node_id, "depth") or 1), "exposure": float(r.exposure),
               "risk": float(total.get(r.node_id, 0.0)), "commodity": attr(r.node_id, "commodity") or ""}
              for r in ex.itertuples(index=False)]
    ids = {n["node_id"] for n in nodes}
    edges = []
    ds = catalog.VALIDATED["supply_links"]
    if lake.exists(ds, run):
        links = lake.read(ds, run, columns=["from_id", "to_id", "commodity", "share"])
        e = links[links["from_id"].isin(ids) & links["to_id"].isin(ids)]
        edges = [{"from": str(r.from_id), "to": str(r.to_id), "commodity": str(r.commodity), "share": float(r.share)}
                 for r in e.itertuples(index=False)]
    return {"nodes": nodes, "edges": edges}
