"""Known-in-advance demand drivers as forecaster features, and the planner's what-if on them (issue 14).

The driver tables (``core.tables``: ``ev_incentives``, ``product_drivers``, ``working_days``) hold
schedules that are known before the weeks they describe: public EV purchase incentives, list prices,
promotion calendars, launches and run-outs, working days. ``driver_features`` turns them into one row per
``week, product_id, market_id`` with the numeric columns of ``DRIVER_FEATURES``; the demand forecaster takes
them as future exogenous drivers (``DemandConfig.future_exog``) with the monotone signs of
``DRIVER_MONOTONE``:

- ``incentive_pct``  incentive for the product's powertrain in its market, % of its list price (+1)
- ``price_index``    list price / the product's reference price (``products.price_eur``) (-1)
- ``promo_pct``      promotion off the list price, % (+1)
- ``working_days``   selling days of the market's week (+1)
- ``availability``   life cycle as a 0..1 share of normal sales: 0 before launch and after the end, a linear
                     ramp over ``LAUNCH_WEEKS`` after launch, a linear fall to ``RUN_OUT_FLOOR`` over
                     ``RUN_OUT_WEEKS`` of run-out, 1 otherwise (+1)

A missing table or row takes the neutral value (``NEUTRAL``); ``driver_features`` counts such rows.
``apply_driver_changes`` edits the tables for a scenario ("the subsidy in DE ends in week 10").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

DRIVER_FEATURES: tuple[str, ...] = ("incentive_pct", "price_index", "promo_pct", "working_days", "availability")
DRIVER_MONOTONE: dict[str, int] = {"incentive_pct": 1, "price_index": -1, "promo_pct": 1, "working_days": 1,
                                   "availability": 1}
NEUTRAL: dict[str, float] = {"incentive_pct": 0.0, "price_index": 1.0, "promo_pct": 0.0, "working_days": 5.0,
                             "availability": 1.0}
LAUNCH_WEEKS = 13
RUN_OUT_WEEKS = 13
RUN_OUT_FLOOR = 0.2
KEYS = ["week", "product_id", "market_id"]
DRIVER_NAMES = ("incentive_eur", "promo_discount_pct", "list_price_pct", "working_days", "end_of_sale")


def availability(product_drivers: pd.DataFrame) -> np.ndarray:
    """0..1 share of normal sales from the ``lifecycle`` phase and the week's position inside the phase
    (rows of one series are taken in week order; the result is aligned with the input rows)."""
    d = product_drivers[["product_id", "market_id", "week", "lifecycle"]].reset_index(drop=True)
    order = d.sort_values(["product_id", "market_id", "week"], kind="stable").index.to_numpy()
    s = d.loc[order]
    sid = s["product_id"].astype(str) + "|" + s["market_id"].astype(str)
    run = ((s["lifecycle"] != s["lifecycle"].shift()) | (sid != sid.shift())).cumsum()
    pos = s.groupby(run.to_numpy()).cumcount().to_numpy() + 1  # 1-based week within the phase
    phase = s["lifecycle"].to_numpy()
    out = np.ones(len(s))
    out[(phase == "pre_launch") | (phase == "ended")] = 0.0
    la = phase == "launch"
    out[la] = np.minimum(1.0, pos[la] / LAUNCH_WEEKS)
    ro = phase == "run_out"
    out[ro] = np.maximum(RUN_OUT_FLOOR, 1.0 - (1.0 - RUN_OUT_FLOOR) * pos[ro] / RUN_OUT_WEEKS)
    res = np.empty(len(d))
    res[order] = out
    return res


def driver_features(tables: dict[str, pd.DataFrame], products: pd.DataFrame,
                    grid: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Driver features per ``week, product_id, market_id``: the rows of ``product_drivers`` (or of ``grid``,
    e.g. the demand history's keys, when that table is absent). Returns (features, neutral-filled row counts
    per feature)."""
    pdv = tables.get("product_drivers")
    have_pd = pdv is not None and len(pdv) > 0
    if have_pd:
        base = pdv[[*KEYS, "list_price_eur", "promo_discount_pct", "lifecycle"]].copy()
        if grid is not None:  # series the product table does not cover keep neutral values
            base = grid[KEYS].merge(base, on=KEYS, how="outer")
    elif grid is not None:
        base = grid[KEYS].copy()
        base["list_price_eur"] = np.nan
        base["promo_discount_pct"] = np.nan
        base["lifecycle"] = None
    else:
        raise ValueError("driver_features: no product_drivers table and no grid of (week, product_id, market_id)")
    base["week"] = pd.to_datetime(base["week"])
    attrs = products.set_index("product_id")
    ref = base["product_id"].map(attrs["price_eur"]).astype(float)
    first = base.sort_values("week").groupby(["product_id", "market_id"])["list_price_eur"].transform("first")
    ref = ref.where(ref > 0, first)
    filled: dict[str, int] = {}
    out = base[KEYS].copy()
    out["price_index"] = base["list_price_eur"] / ref
    out["promo_pct"] = base["promo_discount_pct"].astype(float)
    out["availability"] = np.nan
    has_lc = base["lifecycle"].notna().to_numpy()
    if has_lc.any():
        out.loc[has_lc, "availability"] = availability(base.loc[has_lc])
    inc = tables.get("ev_incentives")
    out["incentive_pct"] = np.nan
    if inc is not None and len(inc):
        pt = base["product_id"].map(attrs["powertrain"])
        i = inc[["week", "market_id", "powertrain", "incentive_eur"]].assign(week=lambda x: pd.to_datetime(x["week"]))
        eur = out.assign(powertrain=pt.to_numpy()).merge(i, on=["week", "market_id", "powertrain"], how="left")
        price = base["list_price_eur"].where(base["list_price_eur"] > 0, ref).to_numpy(dtype=float)
        out["incentive_pct"] = np.minimum(100.0 * eur["incentive_eur"].to_numpy(dtype=float) / price, 50.0)
    wd = tables.get("working_days")
    out["working_days"] = np.nan
    if wd is not None and len(wd):
        w = wd[["week", "market_id", "working_days"]].assign(week=lambda x: pd.to_datetime(x["week"]))
        out["working_days"] = out[["week", "market_id"]].merge(w, on=["week", "market_id"], how="left")[
            "working_days"].to_numpy(dtype=float)
    for c in DRIVER_FEATURES:
        miss = out[c].isna()
        filled[c] = int(miss.sum())
        out[c] = out[c].fillna(NEUTRAL[c]).astype(float)
    out = out[[*KEYS, *DRIVER_FEATURES]].sort_values(KEYS).reset_index(drop=True)
    return out, filled


def with_drivers(demand_history: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """``demand_history`` with the driver feature columns (neutral values where no driver row exists)."""
    dh = demand_history.drop(columns=[c for c in DRIVER_FEATURES if c in demand_history.columns])
    dh = dh.assign(week=pd.to_datetime(dh["week"]))
    out = dh.merge(features, on=KEYS, how="left")
    return out.fillna({c: NEUTRAL[c] for c in DRIVER_FEATURES})


def future_drivers(demand_history: pd.DataFrame, features: pd.DataFrame, horizon: int,
                   freq: str = "7D") -> tuple[pd.DataFrame, int]:
    """Driver rows ``week, product_id, market_id, <features>`` for the ``horizon`` weeks after each series'
    last history week (the forecaster's future exogenous values). Returns (rows, neutral-filled rows)."""
    last = pd.to_datetime(demand_history["week"]).max()
    weeks = pd.date_range(last, periods=horizon + 1, freq=freq)[1:]
    series = demand_history[["product_id", "market_id"]].drop_duplicates()
    want = series.merge(pd.DataFrame({"week": weeks}), how="cross")[KEYS]
    got = want.merge(features, on=KEYS, how="left")
    n_missing = int(got[list(DRIVER_FEATURES)].isna().any(axis=1).sum())
    return got.fillna({c: NEUTRAL[c] for c in DRIVER_FEATURES}), n_missing


def _weeks(first_week: pd.Timestamp, from_week: int, to_week: int | None) -> tuple[pd.Timestamp, pd.Timestamp | None]:
    start = pd.Timestamp(first_week) + pd.Timedelta(weeks=int(from_week) - 1)
    end = None if to_week is None else pd.Timestamp(first_week) + pd.Timedelta(weeks=int(to_week) - 1)
    return start, end


def apply_driver_changes(tables: dict[str, pd.DataFrame], changes: list[dict[str, Any]],
                         first_week: pd.Timestamp) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]]]:
    """Copies of the driver tables with ``changes`` applied; weeks are 1-based from ``first_week`` (the
    first forecast week). Each change: ``market_id``, ``driver`` (one of ``DRIVER_NAMES``), ``from_week``,
    optional ``to_week``, ``value``, ``powertrain`` (incentive, default BEV), ``product_id``:

    - ``incentive_eur``: the incentive per vehicle (0 = the scheme ends)
    - ``promo_discount_pct``: the promotion (0 = none)
    - ``list_price_pct``: list price change in % (e.g. 5 = 5 % dearer)
    - ``working_days``: selling days per week
    - ``end_of_sale``: the product (``product_id`` required) is not sold any more (value ignored)

    Returns (tables, one record per change with the rows it touched). A change that touches no row raises
    ``ValueError`` naming it (a misspelt market, a week beyond the tables)."""
    out = {k: v.copy() for k, v in tables.items()}
    done = []
    for ch in changes:
        driver, market = ch["driver"], ch.get("market_id")
        start, end = _weeks(first_week, ch.get("from_week", 1), ch.get("to_week"))
        table = {"incentive_eur": "ev_incentives", "working_days": "working_days"}.get(driver, "product_drivers")
        df = out.get(table)
        if df is None:
            raise ValueError(f"driver change {driver}: the run has no {table} table")
        wk = pd.to_datetime(df["week"])
        m = (wk >= start) & ((wk <= end) if end is not None else True)
        if market:
            m &= df["market_id"] == market
        if driver == "incentive_eur":
            m &= df["powertrain"] == (ch.get("powertrain") or "BEV")
            df.loc[m, "incentive_eur"] = float(ch["value"])
        elif driver == "working_days":
            df.loc[m, "working_days"] = float(ch["value"])
        else:
            if ch.get("product_id"):
                m &= df["product_id"] == ch["product_id"]
            elif driver == "end_of_sale":
                raise ValueError("driver change end_of_sale: give product_id")
            if driver == "promo_discount_pct":
                df.loc[m, "promo_discount_pct"] = float(ch["value"])
            elif driver == "list_price_pct":
                df.loc[m, "list_price_eur"] = df.loc[m, "list_price_eur"] * (1 + float(ch["value"]) / 100.0)
            elif driver == "end_of_sale":
                df.loc[m, "lifecycle"] = "ended"
            else:
                raise ValueError(f"driver change: unknown driver {driver!r} (known: {', '.join(DRIVER_NAMES)})")
        n = int(np.asarray(m).sum())
        if n == 0:
            raise ValueError(f"driver change {driver} in {market or 'every market'} from week "
                             f"{ch.get('from_week', 1)}: no {table} rows match (market, product or weeks)")
        out[table] = df
        done.append({**ch, "rows": n, "first_date": str(start.date())})
    return out, done
