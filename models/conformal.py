"""Conformal interval calibration from rolling-origin backtest windows.

Scores are absolute errors divided by each series' seasonal-naive MAE (the MASE scale), pooled across series
per horizon step (+- ``pool`` neighbouring steps). Windows are weighted by age, 0.5 ** (age / halflife) with
age 0 for the newest window, after Barber et al. (2023), "Conformal prediction beyond exchangeability": the
quantile tracks recent windows while older ones still count. The band is yhat +- q_step * scale.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """Split-conformal quantile with the finite-sample correction ceil((n+1) * level) / n."""
    s = np.sort(np.asarray(scores, float))
    n = len(s)
    if n == 0:
        return float("nan")
    k = min(math.ceil((n + 1) * level / 100.0), n)
    return float(s[k - 1])


def weighted_conformal_quantile(scores: np.ndarray, weights: np.ndarray, level: float) -> float:
    """Non-exchangeable conformal quantile: the level-quantile of sum_i w_i d(s_i) + w_{n+1} d(+inf) with
    normalised weights and the test point's weight equal to the largest calibration weight."""
    s = np.asarray(scores, float)
    w = np.asarray(weights, float)
    ok = np.isfinite(s) & (w > 0)
    s, w = s[ok], w[ok]
    if len(s) == 0:
        return float("nan")
    order = np.argsort(s)
    s, w = s[order], w[order]
    total = w.sum() + w.max()
    cum = np.cumsum(w) / total
    idx = np.searchsorted(cum, level / 100.0 - 1e-12)
    return float(s[min(idx, len(s) - 1)])


def step_quantiles(cv: pd.DataFrame, h: int, levels, halflife: float = 1.0, pool: int | None = None
                   ) -> dict[int, list[float]]:
    """Per-level, per-step quantile of ``cv['score']`` weighted by ``cv['age']`` (0 = newest window)."""
    pool = (2 if h >= 8 else 1 if h >= 3 else 0) if pool is None else pool
    w_all = 0.5 ** (cv["age"].to_numpy(float) / max(halflife, 1e-9))
    step = cv["step"].to_numpy()
    score = cv["score"].to_numpy(float)
    out: dict[int, list[float]] = {}
    for level in levels:
        q = []
        for k in range(1, h + 1):
            sel = (step >= k - pool) & (step <= k + pool)
            q.append(weighted_conformal_quantile(score[sel], w_all[sel], level))
        q = np.asarray(q, float)
        if np.isnan(q).all():
            q[:] = 0.0
        else:  # steps without points borrow the nearest earlier/later quantile
            q = pd.Series(q).ffill().bfill().to_numpy()
        out[int(level)] = [float(x) for x in q]
    # nested levels: the higher level is never narrower
    lv = sorted(out)
    for a, b in zip(lv, lv[1:], strict=False):
        out[b] = [max(x, y) for x, y in zip(out[a], out[b], strict=True)]
    return out
