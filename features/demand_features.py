"""Demand feature definitions: the (product, market) panel at any regular frequency and the mlforecast
feature set (lags and rolling windows derived from the season, see ``features.frequency``).

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

from features.frequency import FreqSpec, check_regular, infer_freq, to_dates

SEP = "|"  # unique_id = product_id + SEP + market_id
STATIC_FEATURES = ["powertrain", "segment", "market"]


def week_of_year(dates: pd.DatetimeIndex) -> np.ndarray:
    """ISO week number 1..53."""
    return pd.DatetimeIndex(dates).isocalendar().week.to_numpy().astype("int16")


def month(dates: pd.DatetimeIndex) -> np.ndarray:
    return pd.DatetimeIndex(dates).month.to_numpy().astype("int16")


def lag_transforms(windows: list[int]) -> dict:
    """Rolling means over lag 1 for each window, plus a rolling std over the second window (built fresh:
    mlforecast objects carry state)."""
    from mlforecast.lag_transforms import RollingMean, RollingStd

    ws = sorted({int(w) for w in windows if int(w) >= 2})
    if not ws:
        return {}
    out = [RollingMean(window_size=w) for w in ws]
    out.append(RollingStd(window_size=min(13, ws[-1]) if len(ws) > 1 else ws[0]))
    return {1: out}


def series_id(product_id: pd.Series, market_id: pd.Series) -> pd.Series:
    return product_id.astype(str) + SEP + market_id.astype(str)


def split_series_id(uid: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = uid.astype(str).str.split(SEP, n=1, expand=True)
    return parts[0], parts[1]


def _empty_report() -> dict[str, list]:
    return {"negative": [], "gaps": [], "ended_early": [], "too_short": [], "all_zero": [], "exog_ignored": []}


def prepare_demand_panel(
    demand_history: pd.DataFrame,
    products: pd.DataFrame | None = None,
    markets: pd.DataFrame | None = None,
    min_history: int = 26,
    end_week: pd.Timestamp | None = None,
    freq: str | None = None,
    exog: list[str] | None = None,
    fill_gaps: str = "auto",
) -> tuple[pd.DataFrame, dict[str, list]]:
    """Panel ``unique_id, ds, y, powertrain, segment, market`` (+ declared ``exog`` columns) and a repair
    report. ``week`` may hold any regular frequency (inferred when ``freq`` is None; irregular dates raise).

    The report maps each issue to a list of ``{"unique_id", "detail"}`` dicts. Series flagged
    ``too_short`` or ``all_zero`` stay in the panel (the forecaster routes them to its fallback).
    Extra numeric columns that are not declared in ``exog`` are listed under ``exog_ignored``.
    """
    need = {"week", "product_id", "market_id", "units"}
    missing = need - set(demand_history.columns)
    if missing:
        raise ValueError(f"demand_history: missing columns {sorted(missing)}")
    if demand_history.empty:
        raise ValueError("demand_history: no rows")
    exog = list(exog or [])
    absent = [c for c in exog if c not in demand_history.columns]
    if absent:
        raise ValueError(f"demand_history: declared driver columns {absent} are missing")
    dh = demand_history[["week", "product_id", "market_id", "units", *exog]].copy()
    dh["unique_id"] = series_id(dh["product_id"], dh["market_id"])
    dh = dh.drop(columns=["product_id", "market_id"]).rename(columns={"week": "ds", "units": "y"})
    panel, report = prepare_panel(dh, min_history=min_history, end=end_week, freq=freq, exog=exog,
                                  fill_gaps=fill_gaps)
    ignored = [c for c in demand_history.columns
               if c not in need | set(exog) | {"powertrain", "segment"}
               and pd.api.types.is_numeric_dtype(demand_history[c])]
    report["exog_ignored"] = [{"unique_id": "", "detail": f"column {c!r} is not a declared driver "
                               "(DemandConfig.future_exog): ignored"} for c in ignored]
    panel["product_id"], panel["market_id"] = split_series_id(panel["unique_id"])
    panel = add_static_attributes(panel, products, markets)
    return panel.reset_index(drop=True), report


FILL_GAPS = ("auto", "interpolate", "zero")


def prepare_panel(df: pd.DataFrame, min_history: int = 26, end: pd.Timestamp | None = None,
                  freq: str | None = None, exog: list[str] | None = None, fill_gaps: str = "auto"
                  ) -> tuple[pd.DataFrame, dict[str, list]]:
    """Generic core of ``prepare_demand_panel`` on a long ``unique_id, ds, y`` frame (+ exog columns).

    ``fill_gaps``: missing periods inside a series are ``interpolate``d (a data gap in a smooth series) or set to
    ``zero`` (a period with no sales, as in transaction logs); ``auto`` (default) sets them to zero in series
    that are intermittent (>= 10 % of their observed periods are zero, or >= 10 % of their periods missing while
    their smallest value is <= max(1, 10 % of their median), i.e. an empty period is plausible) and interpolates
    the others (unreported periods of a series that never comes near zero)."""
    if fill_gaps not in FILL_GAPS:
        raise ValueError(f"fill_gaps must be one of {FILL_GAPS}, not {fill_gaps!r}")
    exog = list(exog or [])
    dh = df[["unique_id", "ds", "y", *exog]].copy()
    dh["ds"] = to_dates(dh["ds"])
    if freq:
        check_regular(dh, freq)
    else:
        freq = infer_freq(dh)
    spec = FreqSpec(freq)
    dup = dh.duplicated(["unique_id", "ds"])
    if dup.any():
        raise ValueError(f"demand_history: {int(dup.sum())} duplicate (week, product_id, market_id) rows")
    dh["y"] = pd.to_numeric(dh["y"], errors="coerce").astype(float)
    report = _empty_report()

    neg = dh["y"] < 0
    if neg.any():
        for uid, n in dh.loc[neg].groupby("unique_id").size().items():
            report["negative"].append({"unique_id": uid, "detail": f"{n} negative periods clipped to 0"})
        dh.loc[neg, "y"] = 0.0

    end = pd.Timestamp(end) if end is not None else dh["ds"].max()
    frames = []
    for uid, g in dh.groupby("unique_id", sort=True):
        g = g.set_index("ds").sort_index()
        full = spec.grid(g.index.min(), g.index.max())
        y = g["y"].reindex(full)
        n_gap = int(y.isna().sum())
        if n_gap:
            obs = g["y"].dropna()
            # a series with zeros, or one that misses many periods and sells so little that an empty period is
            # plausible (a transaction log leaves no-sale periods out: its smallest values are ~1), is
            # intermittent: its missing periods sold nothing. Gaps in a series whose smallest value is far above 0
            # (a city selling 30-300 houses a month) are unreported periods: interpolated
            low = len(obs) and float(obs.min()) <= max(1.0, 0.1 * float(obs.median()))
            sparse = len(obs) and (float((obs == 0).mean()) >= 0.10 or (n_gap >= 0.10 * len(y) and low))
            zero = fill_gaps == "zero" or (fill_gaps == "auto" and bool(sparse))
            report["gaps"].append({"unique_id": uid, "detail": f"{n_gap} missing periods "
                                   + ("set to 0 (intermittent series)" if zero and fill_gaps == "auto"
                                      else "set to 0" if zero else "interpolated")})
            y = y.fillna(0.0) if zero else y.interpolate(limit_direction="both").fillna(0.0)
        ex = g[exog].reindex(full).ffill().bfill() if exog else None
        if g.index.max() < end:
            tail = spec.grid(spec.shift(g.index.max(), 1), end)
            report["ended_early"].append(
                {"unique_id": uid, "detail": f"last period {g.index.max().date()}, {len(tail)} zero periods added"})
            y = pd.concat([y, pd.Series(0.0, index=tail)])
            if exog:
                ex = ex.reindex(y.index).ffill()
        n_obs = int(g["y"].notna().sum())
        if float(y.abs().sum()) == 0.0:
            report["all_zero"].append({"unique_id": uid, "detail": f"{len(y)} periods, all zero"})
        elif n_obs < min_history:
            report["too_short"].append({"unique_id": uid, "detail": f"{n_obs} periods < min_history {min_history}"})
        f = pd.DataFrame({"unique_id": uid, "ds": y.index, "y": y.to_numpy(dtype=float)})
        for c in exog:
            f[c] = ex[c].to_numpy()
        frames.append(f)
    panel = pd.concat(frames, ignore_index=True)
    panel = panel[panel["ds"] <= end]
    panel.attrs["freq"] = freq
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
        if col in categories and col in out:
            out[col] = pd.Categorical(out[col].astype(str), categories=categories[col])
    return out
