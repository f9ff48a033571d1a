"""Demand feature definitions: the weekly (product, market) panel and the mlforecast feature set.

``prepare_demand_panel`` turns ``demand_history`` (+ ``products`` / ``markets`` attributes) into the long
panel mlforecast expects (``unique_id``, ``ds``, ``y`` plus static attributes) and a report of every series
it had to repair. Nothing is dropped silently: each repaired or set-aside series is listed in the report.

Repairs (each reported by series):
- ``negative``: negative units are clipped to 0 (returns booked against demand);
- ``gaps``: missing weeks inside a series (or NaN units) are filled by linear interpolation;
- ``ended_early``: a series whose last week is before the panel end is extended with zeros to the end
  (the product stopped selling there) so that every forecast starts the same week;
- ``too_short``: fewer than ``min_history`` observed weeks: not used for training, forecast flat at its
  mean (see models.demand);
- ``all_zero``: no demand at all: not used for training, forecast zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEP = "|"  # unique_id = product_id + SEP + market_id
STATIC_FEATURES = ["powertrain", "segment", "market"]
LAGS = [1, 2, 3, 4, 8, 13, 26, 51, 52, 53]
SEASON = 52


def week_of_year(dates: pd.DatetimeIndex) -> np.ndarray:
    """ISO week number 1..53."""
    return pd.DatetimeIndex(dates).isocalendar().week.to_numpy().astype("int16")


def month(dates: pd.DatetimeIndex) -> np.ndarray:
    return pd.DatetimeIndex(dates).month.to_numpy().astype("int16")


DATE_FEATURES = [week_of_year, month]


def lag_transforms() -> dict:
    """Rolling windows over lagged demand (built fresh: mlforecast objects carry state)."""
    from mlforecast.lag_transforms import RollingMean, RollingStd

    return {
        1: [RollingMean(window_size=4), RollingMean(window_size=13), RollingStd(window_size=13),
            RollingMean(window_size=52)],
        51: [RollingMean(window_size=3)],
    }


def series_id(product_id: pd.Series, market_id: pd.Series) -> pd.Series:
    return product_id.astype(str) + SEP + market_id.astype(str)


def split_series_id(uid: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = uid.astype(str).str.split(SEP, n=1, expand=True)
    return parts[0], parts[1]


def _empty_report() -> dict[str, list]:
    return {"negative": [], "gaps": [], "ended_early": [], "too_short": [], "all_zero": []}


def prepare_demand_panel(
    demand_history: pd.DataFrame,
    products: pd.DataFrame | None = None,
    markets: pd.DataFrame | None = None,
    min_history: int = 26,
    end_week: pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, dict[str, list]]:
    """Weekly panel ``unique_id, ds, y, powertrain, segment, market`` and a repair report.

    The report maps each issue to a list of ``{"unique_id", "detail"}`` dicts. Series flagged
    ``too_short`` or ``all_zero`` stay in the panel (the forecaster routes them to its fallback).
    """
    need = {"week", "product_id", "market_id", "units"}
    missing = need - set(demand_history.columns)
    if missing:
        raise ValueError(f"demand_history: missing columns {sorted(missing)}")
    if demand_history.empty:
        raise ValueError("demand_history: no rows")
    dh = demand_history[["week", "product_id", "market_id", "units"]].copy()
    dh["week"] = pd.to_datetime(dh["week"])
    not_monday = dh["week"].dt.dayofweek != 0
    if not_monday.any():
        raise ValueError(f"demand_history.week: {int(not_monday.sum())} rows are not Mondays "
                         f"(first: {dh.loc[not_monday, 'week'].iloc[0].date()})")
    dh["unique_id"] = series_id(dh["product_id"], dh["market_id"])
    dup = dh.duplicated(["unique_id", "week"])
    if dup.any():
        raise ValueError(f"demand_history: {int(dup.sum())} duplicate (week, product_id, market_id) rows")
    dh["units"] = pd.to_numeric(dh["units"], errors="coerce").astype(float)
    report = _empty_report()

    neg = dh["units"] < 0
    if neg.any():
        for uid, n in dh.loc[neg].groupby("unique_id").size().items():
            report["negative"].append({"unique_id": uid, "detail": f"{n} negative weeks clipped to 0"})
        dh.loc[neg, "units"] = 0.0

    end = pd.Timestamp(end_week) if end_week is not None else dh["week"].max()
    frames = []
    for uid, g in dh.groupby("unique_id", sort=True):
        g = g.set_index("week").sort_index()
        full = pd.date_range(g.index.min(), g.index.max(), freq="W-MON")
        y = g["units"].reindex(full)
        n_gap = int(y.isna().sum())
        if n_gap:
            report["gaps"].append({"unique_id": uid, "detail": f"{n_gap} missing weeks interpolated"})
            y = y.interpolate(limit_direction="both").fillna(0.0)
        if g.index.max() < end:
            tail = pd.date_range(g.index.max() + pd.Timedelta(weeks=1), end, freq="W-MON")
            report["ended_early"].append(
                {"unique_id": uid, "detail": f"last week {g.index.max().date()}, {len(tail)} zero weeks added"})
            y = pd.concat([y, pd.Series(0.0, index=tail)])
        n_obs = int(g["units"].notna().sum())
        if float(y.abs().sum()) == 0.0:
            report["all_zero"].append({"unique_id": uid, "detail": f"{len(y)} weeks, all zero"})
        elif n_obs < min_history:
            report["too_short"].append({"unique_id": uid, "detail": f"{n_obs} weeks < min_history {min_history}"})
        frames.append(pd.DataFrame({"unique_id": uid, "ds": y.index, "y": y.to_numpy(dtype=float)}))
    panel = pd.concat(frames, ignore_index=True)
    panel = panel[panel["ds"] <= end]
    panel["product_id"], panel["market_id"] = split_series_id(panel["unique_id"])
    panel = add_static_attributes(panel, products, markets)
    return panel.reset_index(drop=True), report


def add_static_attributes(panel: pd.DataFrame, products: pd.DataFrame | None,
                          markets: pd.DataFrame | None) -> pd.DataFrame:
    """Attach powertrain, segment (from products) and market (the market id) as strings."""
    out = panel.copy()
    if "product_id" not in out:
        out["product_id"], out["market_id"] = split_series_id(out["unique_id"])
    for col in ("powertrain", "segment"):
        if col in out:
            out = out.drop(columns=col)
    if products is not None and {"product_id", "powertrain", "segment"} <= set(products.columns):
        attrs = products[["product_id", "powertrain", "segment"]].astype(str).drop_duplicates("product_id")
        out = out.merge(attrs, on="product_id", how="left")
    else:
        out["powertrain"] = np.nan
        out["segment"] = np.nan
    out["market"] = out["market_id"].astype(str)
    out[["powertrain", "segment"]] = out[["powertrain", "segment"]].fillna("unknown").astype(str)
    return out


def encode_statics(panel: pd.DataFrame, categories: dict[str, list[str]]) -> pd.DataFrame:
    """Static attributes as pandas categoricals with the training-time categories (unseen -> NaN,
    which LightGBM treats as missing)."""
    out = panel.copy()
    for col in STATIC_FEATURES:
        out[col] = pd.Categorical(out[col].astype(str), categories=categories[col])
    return out
