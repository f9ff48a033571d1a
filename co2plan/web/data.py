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
           "forecast_summary", "scenario_list", "industry_of", "SCOPES"]

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
        """Memoise a derived aggregate under a key that includes the source files' signatures."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        out = fn()
        with self._lock:
            self._cache[key] = out
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
def industry_of(supplier_id: str) -> str:
    """The supplier's industry: the last part of the demo's ids (SUP_<region>_<industry>), until issue 16's
    supplier master names the commodity."""
    return supplier_id.rsplit("_", 1)[-1] if "_" in supplier_id else supplier_id


def _latest_run_with(lake: Lake, ds: catalog.Dataset) -> str | None:
    for r in reversed(lake.runs()):
        if lake.exists(ds, r):
            return r
    return None


def supplier_overview(p: Principal, lake: Lake, store: Store, settings: WebSettings) -> dict:
    sid = _need_supplier(p)
    ds = catalog.VALIDATED["supplier_emissions"]
    run = _latest_run_with(lake, ds)
    cols = ["supplier_id", "plant_id", "year", "category", "tco2e"]
    own = (lake.read(ds, run, columns=cols, filters=[("supplier_id", "=", sid)]) if run
           else pd.DataFrame(columns=cols))
    current = store.current_records(sid)
    # the portal's current versions override the lake's rows for the same record
    portal = pd.DataFrame([{k: r[k] for k in cols} for r in current if r["status"] != "rejected"], columns=cols)
    keyc = ["plant_id", "year", "category"]
    if len(portal):
        own = pd.concat([own.merge(portal[keyc], on=keyc, how="left", indicator=True)
                         .query("_merge == 'left_only'").drop(columns="_merge"), portal], ignore_index=True)
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
    share = _industry_share(sid, lake, run, settings, by_year)
    flags = [{"record": r["record_key"], "version": r["version"], "status": r["status"],
              "reasons": json.loads(r["reasons"])} for r in current if r["status"] != "accepted"]
    return {"supplier_id": sid, "industry": industry_of(sid), "run_id": run,
            "years": years, "totals": [float(v) for v in by_year], "trend_pct": trend, "planned": planned,
            "share": share, "flags": flags, "records": len(current)}


def _industry_share(sid: str, lake: Lake, run: str | None, settings: WebSettings, own: pd.Series) -> dict:
    """Own share of the industry total in the newest year; peers only as anonymised, sorted shares, and
    nothing at all below ``min_peers`` suppliers."""
    if run is None or own.empty:
        return {"available": False, "reason": "no data yet"}
    ds = catalog.VALIDATED["supplier_emissions"]
    year = int(own.index.max())
    ind = industry_of(sid)
    df = lake.read(ds, run, columns=["supplier_id", "year", "tco2e"], filters=[("year", "=", year)])
    df = df[df["supplier_id"].map(industry_of) == ind]
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
    history = {r["record_key"]: r for r in store.current_records(sid)} if good else {}
    good = suppliers_check(good, history)
    return store.store_batch(sid, int(p.user_id or 0), channel, payload, good, bad, idempotency_key)
