"""Statistical candidates (statsforecast) and the short-series fallback chain, at any frequency.

Candidates: ``autoets`` (AutoETS with the main season), ``autotheta``, ``mstl`` (MSTL over every season length
with a non-seasonal AutoETS trend), ``snaive`` (seasonal naive). A *form* fixes the specification an Auto model
would otherwise search per series: AutoETS ``ETS(Z,Ad,N)`` (trend, damping and season fixed, the error type
still chosen per series, so series with zeros stay additive), AutoTheta ``STM`` / ``OTM`` / ``DSTM`` / ``DOTM``
(one Theta variant), MSTL the ETS form of its trend forecaster. ``form_choices`` lists the forms a big panel
scores on its backtest (``stat_cv(..., variants=...)``, columns ``<name>@<form>``). Each runs with ``fallback_model=Naive`` so a
series a model cannot fit still gets a forecast. The fallback chain for series too short for the global
model: AutoETS(season) when n >= 2 * season, AutoETS non-seasonal when n >= 10, otherwise the mean.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

STAT_CANDIDATES = ("autoets", "autotheta", "mstl", "snaive")
FORM_CANDIDATES = ("autoets", "autotheta", "mstl")  # Auto models whose specification can be shared
THETA_FORMS = ("STM", "OTM", "DSTM", "DOTM")
VARIANT_SEP = "@"
# Relative cost of forecasting one series (ms per weekly series of 156 points, statsforecast forecast, one thread,
# measured on the `large` sample under load: /work/plans/speed/permodel.py in the issue 14 note). Only the order
# matters: on big panels a dearer candidate or form must beat a cheaper one by ``stat_margin`` (``cheapest_within``).
# ``None``: the Auto search of every form per series.
FORM_COST = {"snaive": {None: 0.1},
             "autoets": {"N": 2.0, "Ad": 12.0, None: 30.0},
             "autotheta": {"STM": 7.5, "DOTM": 18.0, "OTM": 25.0, None: 60.0},
             "mstl": {"N": 21.0, "Ad": 22.0, None: 30.0}}
_ETS_FORM = re.compile(r"^ETS\(([ZAM]),([ZNA])(d?),([ZNAM])\)$")


def _ets(form: str | None, season: int, alias: str | None = None):
    """AutoETS searching every form (``form`` None) or fitting the one form ``ETS(E,T[d],S)``."""
    from statsforecast.models import AutoETS

    kw = {"alias": alias} if alias else {}  # no alias: MSTL's non-seasonal trend forecaster
    if not form:
        return AutoETS(season_length=season, **kw) if alias else AutoETS(model="ZZN")
    m = _ETS_FORM.match(form)
    if not m:
        raise ValueError(f"unknown ETS form {form!r} (e.g. 'ETS(Z,Ad,N)')")
    err, trend, damped, seas = m.groups()
    seas = seas if season > 1 else "N"
    return AutoETS(season_length=season, model=f"{err}{trend}{seas}", damped=bool(damped) if trend != "N" else None,
                   **kw)


def ets_form(model_: dict, error: str = "Z") -> str:
    """The form of a fitted ETS (statsforecast ``model_``) with the error type left to each series (``Z``);
    a multiplicative season is left open too (``Z``: it is refused on series with zeros)."""
    comps = str(model_["components"])
    trend, seas, damped = comps[1], comps[2], comps[3] not in ("N", "F", "False")
    return f"ETS({error},{trend}{'d' if damped and trend != 'N' else ''},{'Z' if seas == 'M' else seas})"


def fitted_form(name: str, fitted) -> str | None:
    """The specification a fitted Auto model chose for one series (None: not that model, e.g. the fallback)."""
    model_ = getattr(fitted, "model_", None)
    if name == "autoets" and isinstance(model_, dict) and "components" in model_:
        return ets_form(model_)
    if name == "autotheta" and isinstance(model_, dict) and "modeltype" in model_:
        return str(model_["modeltype"])
    trend = getattr(getattr(fitted, "trend_forecaster", None), "model_", None)
    if name == "mstl" and isinstance(trend, dict) and "components" in trend:
        return ets_form(trend)
    return None


def stat_model(name: str, seasons: list[int], form: str | None = None, alias: str | None = None):
    """The statsforecast model of a candidate; ``form``: the shared specification (see the module doc)."""
    from statsforecast.models import MSTL, AutoTheta, SeasonalNaive

    season = int(seasons[0])
    alias = alias or name
    if name == "autoets":
        # ETS allows seasons up to 24 (as R's ets); longer seasons (weekly data) fit a non-seasonal ETS
        return _ets(form, season if season <= 24 else 1, alias=alias)
    if name == "autotheta":
        if form is not None and form not in THETA_FORMS:
            raise ValueError(f"unknown Theta form {form!r} (one of {THETA_FORMS})")
        return AutoTheta(season_length=season, model=form, alias=alias)
    if name == "mstl":
        return MSTL(season_length=[int(s) for s in seasons], trend_forecaster=_ets(form, 1), alias=alias)
    if name == "snaive":
        return SeasonalNaive(season_length=season, alias=alias)
    raise ValueError(f"unknown statistical candidate {name!r} (one of {STAT_CANDIDATES})")


PARALLEL_MIN_SERIES = 100  # below this, worker processes cost more than they save


def _sf(models, freq: str, n_jobs: int = 1, n_series: int = 0):
    """StatsForecast with the Naive fallback; ``n_jobs`` worker processes (the cores LightGBM gets, so the two
    are compared on the same machine) when there are at least PARALLEL_MIN_SERIES series."""
    from statsforecast import StatsForecast
    from statsforecast.models import Naive

    jobs = int(n_jobs) if n_series >= PARALLEL_MIN_SERIES else 1
    return StatsForecast(models=models, freq=freq, n_jobs=max(jobs, 1), fallback_model=Naive())


def _usable(names: list[str], df: pd.DataFrame, seasons: list[int]) -> list[str]:
    """Drop MSTL when no series has two full seasons of the longest season length."""
    n_min = int(df.groupby("unique_id").size().min())
    return [n for n in names if not (n == "mstl" and n_min < 2 * max(seasons) + 1)]


def form_cost(name: str, form: str | None = None) -> float:
    """Relative cost of forecasting one series with a candidate (``FORM_COST``); 0 for LightGBM (fitted for every
    series anyway); an ensemble ``a+b`` costs the sum of its members."""
    if "+" in name:
        return sum(form_cost(n, form) for n in name.split("+"))
    if name not in FORM_COST:
        return 0.0
    key = form
    m = _ETS_FORM.match(form) if form else None
    if m:  # ETS forms (AutoETS, MSTL's trend) cost by their trend
        key = m.group(2) + m.group(3)
    return FORM_COST[name].get(key, FORM_COST[name][None])


def cheapest_within(scores: dict[str, float], cost: dict[str, float], margin: float) -> str:
    """The cheapest option the best one does not beat by ``margin`` (relative MASE): walking up the cost order,
    the first option whose score the best does not undercut by more than ``margin`` (margin 0: the best; ties go
    to the cheaper). NaN scores are not eligible."""
    ok = {k: v for k, v in scores.items() if v == v}
    if not ok:
        raise ValueError("cheapest_within: no finite score")
    best = min(ok, key=ok.get)
    for name in sorted(ok, key=lambda n: (cost.get(n, 0.0), ok[n])):
        if name == best or not ok[best] < (1.0 - margin) * ok[name]:
            return name
    return best


def form_choices(name: str, seasons: list[int]) -> list[str]:
    """The fixed forms a panel may share for an Auto candidate: no or damped trend (ETS, and the trend of MSTL;
    an undamped trend lost to both where it was measured, see docs/FORECASTING.md), the simple / optimised /
    dynamic optimised Theta. A seasonal ETS (season <= 24) keeps its season type open (``Z``)."""
    if name == "autotheta":
        return ["STM", "OTM", "DOTM"]
    seas = "Z" if name == "autoets" and 1 < int(seasons[0]) <= 24 else "N"
    if name in ("autoets", "mstl"):
        return [f"ETS(Z,{t},{seas})" for t in ("N", "Ad")]
    return []


def stat_cv(df: pd.DataFrame, names: list[str], freq: str, seasons: list[int], h: int, n_windows: int,
            step: int, refit: bool = False, forms: dict[str, str] | None = None,
            variants: dict[str, list[str]] | None = None, n_jobs: int = 1) -> pd.DataFrame:
    """Rolling-origin predictions ``unique_id, ds, cutoff, y, <name>...`` (refit at every origin, or fitted
    once at the first origin and run forward over the later windows: refit=False). ``forms``: a fixed form per
    model; ``variants``: several fixed forms per model, scored as columns ``<name>@<form>`` instead of ``<name>``."""
    names = _usable(names, df, seasons)
    if not names:
        return pd.DataFrame(columns=["unique_id", "ds", "cutoff", "y"])
    forms, variants = forms or {}, variants or {}
    models = []
    for n in names:
        if variants.get(n):
            models += [stat_model(n, seasons, f, alias=f"{n}{VARIANT_SEP}{f}") for f in variants[n]]
        else:
            models.append(stat_model(n, seasons, forms.get(n)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = _sf(models, freq, n_jobs, df["unique_id"].nunique()).cross_validation(
            h=h, df=df[["unique_id", "ds", "y"]], n_windows=n_windows, step_size=step, refit=refit)
    return cv.reset_index(drop=True) if "unique_id" in cv else cv.reset_index()


def stat_forecast(history: pd.DataFrame, h: int, names: list[str] | str, freq: str,
                  seasons: list[int], forms: dict[str, str] | None = None, n_jobs: int = 1) -> pd.DataFrame:
    """``unique_id, ds, <name>...`` for each statistical model, clipped at 0 when the history is >= 0.
    ``forms``: fixed specifications per model (``shared_forms``)."""
    names = [names] if isinstance(names, str) else list(names)
    df = history[["unique_id", "ds", "y"]]
    use = _usable(names, df, seasons)
    forms = forms or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = _sf([stat_model(n, seasons, forms.get(n)) for n in use], freq, n_jobs,
                  df["unique_id"].nunique()).forecast(h=h, df=df)
    out = out.reset_index() if "unique_id" not in out else out
    for n in set(names) - set(use):  # MSTL on too-short series: the seasonal-naive forecast stands in
        out[n] = stat_forecast(history, h, "snaive", freq, seasons)["snaive"].to_numpy()
    if (df["y"] >= 0).all():
        out[names] = out[names].clip(lower=0)
    out[names] = out[names].fillna(0.0)
    return out


def fallback_forecast(history: pd.DataFrame, h: int, freq: str, season: int,
                      n_jobs: int = 1) -> tuple[pd.DataFrame, dict]:
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
                f = _sf([model], freq, n_jobs, len(ids)).forecast(h=h, df=df[df["unique_id"].isin(ids)])
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
