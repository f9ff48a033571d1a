"""Conformal interval calibration from rolling-origin backtest windows.

Scores are absolute errors divided by each series' seasonal-naive MAE (the MASE scale), pooled across series
per horizon step (+- ``pool`` neighbouring steps, widened for a step until its weights can give the level's tail
quantile below the largest error: a panel of one or a few series has few errors per step, and without it the 80
and 95 % bands both came out as the widest error seen, identical). Windows are weighted by age, 0.5 ** (age / halflife) with
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


def _enough(w: np.ndarray, tail: float) -> bool:
    """Whether weights ``w`` can give a ``tail`` quantile below the largest score: the test point weighs as much
    as the heaviest calibration point, so sum(w) / max(w) must reach tail / (1 - tail) (x 1.5 for some margin)."""
    return len(w) > 0 and float(w.sum() / w.max()) >= 1.5 * tail / max(1.0 - tail, 1e-9)


def _select(step: np.ndarray, w: np.ndarray, k: int, pool: int, h: int, tail: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """(points, weights) for horizon step k: the step and its +- pool neighbours, the pool widened (up to every
    step) until the weights are enough for the tail quantile (a panel of a few series has few errors per step);
    when even every step is not enough, the windows count equally (no age weighting)."""
    r = pool
    while True:
        sel = (step >= k - r) & (step <= k + r)
        if _enough(w[sel], tail):
            return sel, w[sel]
        if r >= h:
            return sel, np.ones(int(sel.sum()))
        r += 1


def calibration_notes(cv: pd.DataFrame, h: int, levels, halflife: float = 1.0, pool: int | None = None
                      ) -> list[str]:
    """What the calibration had to do for small samples (widened pooling, too few errors even so)."""
    pool = (2 if h >= 8 else 1 if h >= 3 else 0) if pool is None else pool
    w_all = 0.5 ** (cv["age"].to_numpy(float) / max(halflife, 1e-9))
    step = cv["step"].to_numpy()
    notes = []
    for level in levels:
        tail = 1.0 - (1.0 - level / 100.0) / 2.0
        widened = sum(int(_select(step, w_all, k, pool, h, tail)[0].sum() > ((step >= k - pool) & (step <= k + pool)
                                                                               ).sum()) for k in range(1, h + 1))
        if not _enough(np.ones(len(w_all)), tail):
            notes.append(f"{level} % band: {len(w_all)} backtest errors are too few for its tails: the band is the "
                         "widest error seen (coverage may fall short)")
        elif not _enough(w_all, tail):
            notes.append(f"{level} % band: errors of every horizon step and window pooled with equal weights "
                         "(too few for age weighting)")
        elif widened:
            notes.append(f"{level} % band: errors pooled over more horizon steps for {widened} of {h} steps "
                         "(few errors per step)")
    return notes


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
            sel, w = _select(step, w_all, k, pool, h, level / 100.0)
            q.append(weighted_conformal_quantile(score[sel], w, level))
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


def step_bounds(cv: pd.DataFrame, h: int, levels, halflife: float = 1.0, pool: int | None = None
                ) -> dict[int, tuple[list[float], list[float]]]:
    """Per-level, per-step (lower, upper) offsets from the *signed* scores ``cv['signed']`` (error / scale):
    the weighted conformal quantiles at (1 - level) / 2 of the negated scores and at (1 + level) / 2, each tail
    with its own finite-sample correction (once, in ``weighted_conformal_quantile``). Unlike the absolute-score
    band, it follows a model's bias (a model that under-forecasts gets a band shifted up, not a wider one).
    The band always contains the point forecast (lower <= 0 <= upper) and the higher level is never inside the
    lower one. The band is [yhat + lower * scale, yhat + upper * scale]."""
    pool = (2 if h >= 8 else 1 if h >= 3 else 0) if pool is None else pool
    w_all = 0.5 ** (cv["age"].to_numpy(float) / max(halflife, 1e-9))
    step = cv["step"].to_numpy()
    signed = cv["signed"].to_numpy(float)

    def fill(q: np.ndarray) -> np.ndarray:
        return np.zeros_like(q) if np.isnan(q).all() else pd.Series(q).ffill().bfill().to_numpy()

    out: dict[int, tuple[list[float], list[float]]] = {}
    for level in levels:
        tail = 100.0 - (100.0 - level) / 2.0
        lo, hi = [], []
        for k in range(1, h + 1):
            sel, w = _select(step, w_all, k, pool, h, tail / 100.0)
            hi.append(weighted_conformal_quantile(signed[sel], w, tail))
            lo.append(-weighted_conformal_quantile(-signed[sel], w, tail))
        lo_a, hi_a = np.minimum(fill(np.asarray(lo, float)), 0.0), np.maximum(fill(np.asarray(hi, float)), 0.0)
        out[int(level)] = ([float(x) for x in lo_a], [float(x) for x in hi_a])
    lv = sorted(out)
    for a, b in zip(lv, lv[1:], strict=False):
        out[b] = ([min(x, y) for x, y in zip(out[a][0], out[b][0], strict=True)],
                  [max(x, y) for x, y in zip(out[a][1], out[b][1], strict=True)])
    return out
