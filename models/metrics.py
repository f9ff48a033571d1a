"""Forecast accuracy metrics (pure numpy/pandas, hand-checkable)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def wape(y: np.ndarray, yhat: np.ndarray) -> float:
    """Weighted absolute percentage error: sum|y - yhat| / sum|y|."""
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    den = np.abs(y).sum()
    return float(np.abs(y - yhat).sum() / den) if den > 0 else float("nan")


def bias(y: np.ndarray, yhat: np.ndarray) -> float:
    """Relative bias: sum(yhat - y) / sum|y| (positive = over-forecast)."""
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    den = np.abs(y).sum()
    return float((yhat - y).sum() / den) if den > 0 else float("nan")


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of actuals inside [lo, hi]."""
    y = np.asarray(y, float)
    return float(np.mean((y >= np.asarray(lo, float)) & (y <= np.asarray(hi, float))))


def seasonal_scale(history: pd.DataFrame, season: int = 52) -> pd.Series:
    """Per-series in-sample mean |y_t - y_{t-season}| (the MASE denominator), indexed by unique_id.
    Falls back to the lag-1 naive error for series shorter than ``season + 1``."""
    h = history.sort_values(["unique_id", "ds"])
    g = h.groupby("unique_id")["y"]
    seas = (h["y"] - g.shift(season)).abs().groupby(h["unique_id"]).mean()
    naive1 = (h["y"] - g.shift(1)).abs().groupby(h["unique_id"]).mean()
    return seas.fillna(naive1)


def mase(actuals: pd.DataFrame, col: str, scale: pd.Series) -> float:
    """Mean over series of mean|y - yhat| / scale; series with zero scale are left out."""
    err = (actuals["y"] - actuals[col]).abs().groupby(actuals["unique_id"]).mean()
    s = scale.reindex(err.index)
    ok = s > 0
    return float((err[ok] / s[ok]).mean()) if ok.any() else float("nan")
