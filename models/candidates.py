"""Statistical candidates (statsforecast) and the short-series fallback chain, at any frequency.

Candidates: ``autoets`` (AutoETS with the main season), ``autotheta``, ``mstl`` (MSTL over every season length
with a non-seasonal AutoETS trend), ``snaive`` (seasonal naive). Each runs with ``fallback_model=Naive`` so a
series a model cannot fit still gets a forecast. The fallback chain for series too short for the global
model: AutoETS(season) when n >= 2 * season, AutoETS non-seasonal when n >= 10, otherwise the mean.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

STAT_CANDIDATES = ("autoets", "autotheta", "mstl", "snaive")


def stat_model(name: str, seasons: list[int]):
    from statsforecast.models import MSTL, AutoETS, AutoTheta, SeasonalNaive

    season = int(seasons[0])
    if name == "autoets":
        # ETS allows seasons up to 24 (as R's ets); longer seasons (weekly data) fit a non-seasonal ETS
        return AutoETS(season_length=season if season <= 24 else 1, alias=name)
    if name == "autotheta":
        return AutoTheta(season_length=season, alias=name)
    if name == "mstl":
        return MSTL(season_length=[int(s) for s in seasons], trend_forecaster=AutoETS(model="ZZN"), alias=name)
    if name == "snaive":
        return SeasonalNaive(season_length=season, alias=name)
    raise ValueError(f"unknown statistical candidate {name!r} (one of {STAT_CANDIDATES})")


def _sf(models, freq: str):
    from statsforecast import StatsForecast
    from statsforecast.models import Naive

    return StatsForecast(models=models, freq=freq, n_jobs=1, fallback_model=Naive())


def _usable(names: list[str], df: pd.DataFrame, seasons: list[int]) -> list[str]:
    """Drop MSTL when no series has two full seasons of the longest season length."""
    n_min = int(df.groupby("unique_id").size().min())
    return [n for n in names if not (n == "mstl" and n_min < 2 * max(seasons) + 1)]


def stat_cv(df: pd.DataFrame, names: list[str], freq: str, seasons: list[int], h: int, n_windows: int,
            step: int, refit: bool = False) -> pd.DataFrame:
    """Rolling-origin predictions ``unique_id, ds, cutoff, y, <name>...`` (refit at every origin, or fitted
    once at the first origin and run forward over the later windows: refit=False)."""
    names = _usable(names, df, seasons)
    if not names:
        return pd.DataFrame(columns=["unique_id", "ds", "cutoff", "y"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = _sf([stat_model(n, seasons) for n in names], freq).cross_validation(
            h=h, df=df[["unique_id", "ds", "y"]], n_windows=n_windows, step_size=step, refit=refit)
    return cv.reset_index(drop=True) if "unique_id" in cv else cv.reset_index()


def stat_forecast(history: pd.DataFrame, h: int, names: list[str] | str, freq: str,
                  seasons: list[int]) -> pd.DataFrame:
    """``unique_id, ds, <name>...`` for each statistical model, clipped at 0 when the history is >= 0."""
    names = [names] if isinstance(names, str) else list(names)
    df = history[["unique_id", "ds", "y"]]
    use = _usable(names, df, seasons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = _sf([stat_model(n, seasons) for n in use], freq).forecast(h=h, df=df)
    out = out.reset_index() if "unique_id" not in out else out
    for n in set(names) - set(use):  # MSTL on too-short series: the seasonal-naive forecast stands in
        out[n] = stat_forecast(history, h, "snaive", freq, seasons)["snaive"].to_numpy()
    if (df["y"] >= 0).all():
        out[names] = out[names].clip(lower=0)
    out[names] = out[names].fillna(0.0)
    return out


def fallback_forecast(history: pd.DataFrame, h: int, freq: str, season: int) -> tuple[pd.DataFrame, dict]:
    """Forecast short series with the chain; returns (``unique_id, ds, yhat``, {uid: model name})."""
    from statsforecast.models import AutoETS

    df = history[["unique_id", "ds", "y"]]
    n = df.groupby("unique_id").size()
    parts, used = [], {}
    seasonal = n.index[(n >= 2 * season) & (season > 1) & (season <= 24)]
    plain = n.index[(n >= 10) & ~n.index.isin(seasonal)]
    short = n.index[n < 10]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ids, model, label in ((seasonal, AutoETS(season_length=season, alias="yhat"), f"AutoETS({season})"),
                                  (plain, AutoETS(season_length=1, alias="yhat"), "AutoETS(non-seasonal)")):
            if len(ids):
                f = _sf([model], freq).forecast(h=h, df=df[df["unique_id"].isin(ids)])
                parts.append(f.reset_index() if "unique_id" not in f else f)
                used.update({u: label for u in ids})
    if len(short):
        sub = df[df["unique_id"].isin(short)]
        mean = sub.groupby("unique_id")["y"].mean()
        last = sub.groupby("unique_id")["ds"].max()
        off = pd.tseries.frequencies.to_offset(freq)
        parts.append(pd.concat([pd.DataFrame({"unique_id": u, "ds": pd.date_range(last[u] + off, periods=h,
                                                                                    freq=freq),
                                              "yhat": float(mean[u])}) for u in short], ignore_index=True))
        used.update({u: "mean" for u in short})
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["unique_id", "ds", "yhat"])
    if len(out) and (df["y"] >= 0).all():
        out["yhat"] = out["yhat"].clip(lower=0)
    out["yhat"] = out["yhat"].astype(float).fillna(0.0)
    return out[["unique_id", "ds", "yhat"]], used


def flat_share(pred: pd.DataFrame, col: str) -> float:
    """Share of (series, window) forecasts that do not move over the horizon (a one-leaf LightGBM)."""
    keys = ["unique_id"] + (["cutoff"] if "cutoff" in pred else [])
    sd = pred.groupby(keys)[col].std().fillna(0.0)
    return float(np.mean(sd.to_numpy() <= 1e-9)) if len(sd) else 0.0
