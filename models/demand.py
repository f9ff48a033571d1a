"""Global LightGBM demand forecaster over all (product, market) weekly series (mlforecast, recursive).

Point forecast: one LGBMRegressor on lag / rolling / calendar features and static attributes
(powertrain, segment, market), optionally blended with a statistical baseline (``blend`` weight).
Intervals: split-conformal on *pooled, scaled* absolute errors. The model is refit on ``calib_windows``
rolling origins inside the training data; each error |y - yhat| is divided by the series' mean demand
over the 52 weeks before its origin, and the level quantile is taken per horizon step over all series
and windows. Pooling across series gives thousands of calibration points instead of a handful per
series (the per-series conformal method with 2 windows under-covered badly, see DESIGN.md).
The interval is yhat +- q_step * scale, clipped at 0.

Bad input never crashes and never yields NaN: see ``features.demand_features.prepare_demand_panel``
for the repairs; ``too_short`` series get a flat forecast at their mean, ``all_zero`` series zero,
series unseen at training time are forecast by the global model; all are listed in the report.
"""

from __future__ import annotations

import math
import pickle
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.demand_features import (
    DATE_FEATURES,
    LAGS,
    SEASON,
    STATIC_FEATURES,
    encode_statics,
    lag_transforms,
    prepare_demand_panel,
)

FORECAST_COLUMNS = ["week", "product_id", "market_id", "yhat", "yhat_lo_80", "yhat_hi_80",
                    "yhat_lo_95", "yhat_hi_95"]
LEVELS = (80, 95)


@dataclass
class DemandConfig:
    """Hyperparameters of the demand forecaster (all logged to MLflow)."""

    horizon: int = 26
    lags: list[int] = field(default_factory=lambda: list(LAGS))
    n_estimators: int = 300
    learning_rate: float = 0.05
    num_leaves: int = 7  # strongly regularised: chosen on the demo backtest (see the issue note)
    min_child_samples: int = 100
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    n_jobs: int = 1
    seed: int = 7
    target_transform: str = "scaler"  # scaler (LocalStandardScaler) | diff1 | diff52 | diff1_scaler | none
    blend: float = 0.0  # weight of the statistical baseline in the point forecast
    baseline: str = "mstl"  # statistical baseline used for blending and backtests
    min_history: int = 26
    calib_windows: int = 4
    calib_step: int = 13

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> DemandConfig:
        d = dict(d or {})
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        unknown = set(d) - set(known)
        if unknown:
            raise ValueError(f"DemandConfig: unknown parameters {sorted(unknown)}")
        return cls(**known)


def stat_models(name: str):
    """The statistical baseline(s) by name. ``mstl``: MSTL(52) with a non-seasonal AutoETS trend;
    ``ses52``: seasonal exponential smoothing (52); ``snaive``: seasonal naive."""
    from statsforecast.models import MSTL, AutoETS, SeasonalExponentialSmoothingOptimized, SeasonalNaive

    if name == "mstl":
        return MSTL(season_length=SEASON, trend_forecaster=AutoETS(model="ZZN"), alias="stat")
    if name == "ses52":
        return SeasonalExponentialSmoothingOptimized(season_length=SEASON, alias="stat")
    if name == "snaive":
        return SeasonalNaive(season_length=SEASON, alias="stat")
    raise ValueError(f"unknown statistical baseline {name!r} (mstl | ses52 | snaive)")


def stat_forecast(history: pd.DataFrame, h: int, name: str, with_snaive: bool = False) -> pd.DataFrame:
    """Forecast ``unique_id, ds, stat[, snaive]`` with statsforecast; series shorter than two seasons
    fall back to seasonal naive (or their mean when shorter than one season)."""
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    df = history[["unique_id", "ds", "y"]]
    n = df.groupby("unique_id").size()
    long_ids = n.index[n >= 2 * SEASON]
    mid_ids = n.index[(n > SEASON) & (n < 2 * SEASON)]
    short_ids = n.index[n <= SEASON]
    parts = []
    if len(long_ids):
        models = [stat_models(name)] + ([SeasonalNaive(SEASON, alias="snaive")] if with_snaive else [])
        sf = StatsForecast(models=models, freq="W-MON", n_jobs=1)
        parts.append(sf.forecast(h=h, df=df[df["unique_id"].isin(long_ids)]))
    if len(mid_ids):
        sf = StatsForecast(models=[SeasonalNaive(SEASON, alias="stat")], freq="W-MON", n_jobs=1)
        f = sf.forecast(h=h, df=df[df["unique_id"].isin(mid_ids)])
        if with_snaive:
            f["snaive"] = f["stat"]
        parts.append(f)
    if len(short_ids):
        sub = df[df["unique_id"].isin(short_ids)]
        means = sub.groupby("unique_id")["y"].mean()
        last = sub.groupby("unique_id")["ds"].max()
        f = pd.concat([pd.DataFrame({"unique_id": uid, "ds": pd.date_range(last[uid] + pd.Timedelta(weeks=1),
                                                                            periods=h, freq="W-MON"),
                                     "stat": means[uid]}) for uid in short_ids], ignore_index=True)
        if with_snaive:
            f["snaive"] = f["stat"]
        parts.append(f)
    out = pd.concat(parts, ignore_index=True)
    cols = ["stat"] + (["snaive"] if with_snaive else [])
    out[cols] = out[cols].clip(lower=0).fillna(0.0)
    return out


def _recent_scale(history: pd.DataFrame) -> pd.Series:
    """Mean demand over each series' last 52 weeks (the interval scale)."""
    h = history.sort_values(["unique_id", "ds"])
    return h.groupby("unique_id")["y"].apply(lambda s: float(s.tail(SEASON).mean()))


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """Split-conformal quantile with the finite-sample correction ceil((n+1) * level) / n."""
    s = np.sort(np.asarray(scores, float))
    n = len(s)
    if n == 0:
        return float("nan")
    k = min(math.ceil((n + 1) * level / 100.0), n)
    return float(s[k - 1])


class DemandForecaster:
    """Fit on a prepared panel (``prepare_demand_panel``), predict the demand_forecast table."""

    def __init__(self, config: DemandConfig | None = None):
        self.config = config or DemandConfig()
        self.mlf = None
        self.categories: dict[str, list[str]] = {}
        self.train_ids: list[str] = []
        self.train_end: pd.Timestamp | None = None
        self.quantiles: dict[int, list[float]] = {}  # level -> per-step scaled-error quantile
        self.calibration_points = 0
        self.feature_importance: pd.Series | None = None

    # ---- building blocks -------------------------------------------------------------------
    def _new_mlf(self):
        from lightgbm import LGBMRegressor
        from mlforecast import MLForecast
        from mlforecast.target_transforms import Differences, LocalStandardScaler

        c = self.config
        model = LGBMRegressor(n_estimators=c.n_estimators, learning_rate=c.learning_rate, num_leaves=c.num_leaves,
                              min_child_samples=c.min_child_samples, subsample=c.subsample, subsample_freq=1,
                              colsample_bytree=c.colsample_bytree, n_jobs=c.n_jobs, random_state=c.seed,
                              verbosity=-1)
        return MLForecast(models={"lgbm": model}, freq="W-MON", lags=c.lags, lag_transforms=lag_transforms(),
                          date_features=DATE_FEATURES,
                          target_transforms=self._target_transforms(Differences, LocalStandardScaler))

    def _target_transforms(self, differences, scaler) -> list | None:
        tt = {"scaler": lambda: [scaler()], "diff1": lambda: [differences([1])],
              "diff52": lambda: [differences([SEASON])], "diff1_scaler": lambda: [differences([1]), scaler()],
              "none": lambda: None}
        if self.config.target_transform not in tt:
            raise ValueError(f"DemandConfig.target_transform: {self.config.target_transform!r} not in {sorted(tt)}")
        return tt[self.config.target_transform]()

    @staticmethod
    def trainable(panel: pd.DataFrame, report: dict) -> pd.DataFrame:
        skip = {r["unique_id"] for r in report.get("too_short", []) + report.get("all_zero", [])}
        return panel[~panel["unique_id"].isin(skip)]

    def _frame(self, panel: pd.DataFrame) -> pd.DataFrame:
        return encode_statics(panel[["unique_id", "ds", "y", *STATIC_FEATURES]], self.categories)

    # ---- fit -------------------------------------------------------------------------------
    def fit(self, panel: pd.DataFrame, report: dict) -> DemandForecaster:
        train = self.trainable(panel, report)
        if train.empty:
            raise ValueError("demand_history: no series with enough non-zero history to train on "
                             f"(min_history={self.config.min_history})")
        self.categories = {c: sorted(train[c].astype(str).unique()) for c in STATIC_FEATURES}
        df = self._frame(train)
        self.mlf = self._new_mlf()
        self.mlf.fit(df, static_features=STATIC_FEATURES)
        self.train_ids = sorted(train["unique_id"].unique())
        self.train_end = train["ds"].max()
        booster = self.mlf.models_["lgbm"]
        self.feature_importance = pd.Series(booster.booster_.feature_importance("gain"),
                                            index=booster.booster_.feature_name()).sort_values(ascending=False)
        self._calibrate(df)
        return self

    def _calibrate(self, df: pd.DataFrame) -> None:
        c = self.config
        h = c.horizon
        n_weeks = df.groupby("unique_id").size().max()
        windows = c.calib_windows
        # keep the longest lag (plus any differencing) and a few weeks of training before the earliest origin
        need = max(c.lags) + 8 + {"diff52": SEASON, "diff1": 1, "diff1_scaler": 1}.get(c.target_transform, 0)
        while windows > 1 and n_weeks - h - (windows - 1) * c.calib_step < need:
            windows -= 1
        if n_weeks - h < need:
            raise ValueError(f"demand_history: the longest series has {n_weeks} weeks; calibrating "
                             f"{h}-week intervals needs at least {h + need} (horizon + longest lag + 8)")
        cv = self._new_mlf().cross_validation(df, n_windows=windows, h=h, step_size=c.calib_step,
                                              static_features=STATIC_FEATURES)
        cv = cv.rename(columns={"lgbm": "yhat_lgbm"})
        if c.blend > 0:
            stat_parts = []
            for cutoff in sorted(cv["cutoff"].unique()):
                hist = df[df["ds"] <= cutoff][["unique_id", "ds", "y"]]
                f = stat_forecast(hist, h, c.baseline)
                f["cutoff"] = cutoff
                stat_parts.append(f)
            cv = cv.merge(pd.concat(stat_parts), on=["unique_id", "ds", "cutoff"], how="left")
            cv["yhat"] = (1 - c.blend) * cv["yhat_lgbm"].clip(lower=0) + c.blend * cv["stat"].fillna(cv["yhat_lgbm"])
        else:
            cv["yhat"] = cv["yhat_lgbm"]
        cv["yhat"] = cv["yhat"].clip(lower=0)
        scales = []
        for cutoff in cv["cutoff"].unique():
            s = _recent_scale(df[df["ds"] <= cutoff]).rename("scale").reset_index()
            s["cutoff"] = cutoff
            scales.append(s)
        cv = cv.merge(pd.concat(scales), on=["unique_id", "cutoff"], how="left")
        cv = cv[cv["scale"] > 0]
        cv["step"] = ((cv["ds"] - cv["cutoff"]).dt.days // 7).astype(int)
        cv["score"] = (cv["y"] - cv["yhat"]).abs() / cv["scale"]
        self.calibration_points = len(cv)
        self.calibration_windows = int(windows)
        self.quantiles = {}
        for level in LEVELS:
            q = []
            for step in range(1, h + 1):
                # pool neighbouring steps (+-2) so each quantile rests on enough points
                sel = cv["score"][(cv["step"] >= step - 2) & (cv["step"] <= step + 2)].to_numpy()
                q.append(conformal_quantile(sel, level))
            self.quantiles[level] = q

    # ---- predict ---------------------------------------------------------------------------
    def predict(self, panel: pd.DataFrame, report: dict, h: int | None = None) -> tuple[pd.DataFrame, dict]:
        """Forecast every series in ``panel`` for ``h`` weeks after the panel's last week.
        Returns (demand_forecast, forecast report)."""
        if self.mlf is None:
            raise RuntimeError("DemandForecaster: call fit() first")
        c = self.config
        h = int(h or c.horizon)
        rep: dict[str, Any] = {k: list(v) for k, v in report.items()}
        ids = sorted(panel["unique_id"].unique())
        rep["unseen"] = [{"unique_id": u, "detail": "not in training data: forecast by the global model"}
                         for u in ids if u not in set(self.train_ids)]
        model_panel = self.trainable(panel, report)
        new_attrs = []
        for col in STATIC_FEATURES:
            for u, v in model_panel.drop_duplicates("unique_id")[["unique_id", col]].itertuples(index=False):
                if str(v) not in set(self.categories[col]):
                    new_attrs.append({"unique_id": u, "detail": f"{col}={v!r} unseen in training: treated as missing"})
        rep["unseen_attribute"] = new_attrs
        fc_parts = []
        if not model_panel.empty:
            with warnings.catch_warnings():  # unseen attribute values become NaN on purpose (reported above)
                warnings.filterwarnings("ignore", message="Found null values", category=UserWarning)
                f = self.mlf.predict(h, new_df=self._frame(model_panel))
            f = f.rename(columns={"lgbm": "yhat_lgbm"})
            f["yhat_lgbm"] = f["yhat_lgbm"].clip(lower=0)
            if c.blend > 0:
                s = stat_forecast(model_panel, h, c.baseline)
                f = f.merge(s, on=["unique_id", "ds"], how="left")
                f["yhat"] = (1 - c.blend) * f["yhat_lgbm"] + c.blend * f["stat"].fillna(f["yhat_lgbm"])
            else:
                f["yhat"] = f["yhat_lgbm"]
            fc_parts.append(f)
        fallback_ids = sorted(set(ids) - set(model_panel["unique_id"]))
        if fallback_ids:
            sub = panel[panel["unique_id"].isin(fallback_ids)]
            mean = sub.groupby("unique_id")["y"].mean()
            last = sub.groupby("unique_id")["ds"].max()
            fc_parts.append(pd.concat([
                pd.DataFrame({"unique_id": u, "ds": pd.date_range(last[u] + pd.Timedelta(weeks=1), periods=h,
                                                                   freq="W-MON"), "yhat": float(mean[u])})
                for u in fallback_ids], ignore_index=True))
        fc = pd.concat(fc_parts, ignore_index=True)
        first = fc.groupby("unique_id")["ds"].transform("min")
        fc["step"] = ((fc["ds"] - first).dt.days // 7 + 1).astype(int)
        scale = _recent_scale(panel)
        fc["scale"] = fc["unique_id"].map(scale).fillna(0.0)
        if h > c.horizon:
            rep["intervals_extrapolated"] = [{"detail": f"steps {c.horizon + 1}..{h} use the step-{c.horizon} "
                                                        "calibration quantile"}]
        for level in LEVELS:
            q = np.asarray(self.quantiles[level], float)
            q = np.where(np.isnan(q), np.nanmax(q) if np.isfinite(q).any() else 0.0, q)
            width = q[np.minimum(fc["step"].to_numpy(), len(q)) - 1] * fc["scale"].to_numpy()
            fc[f"yhat_lo_{level}"] = np.maximum(fc["yhat"].to_numpy() - width, 0.0)
            fc[f"yhat_hi_{level}"] = fc["yhat"].to_numpy() + width
        fc["yhat"] = fc["yhat"].clip(lower=0)
        num = ["yhat"] + [f"yhat_{b}_{lv}" for lv in LEVELS for b in ("lo", "hi")]
        n_nan = int(fc[num].isna().any(axis=1).sum())
        if n_nan:
            bad = sorted(fc.loc[fc[num].isna().any(axis=1), "unique_id"].unique())
            rep["nan_repaired"] = [{"unique_id": u, "detail": "NaN forecast replaced by 0"} for u in bad]
            fc[num] = fc[num].fillna(0.0)
        parts = fc["unique_id"].str.split("|", n=1, expand=True)
        fc["product_id"], fc["market_id"] = parts[0], parts[1]
        fc = fc.rename(columns={"ds": "week"})
        keep = FORECAST_COLUMNS + [col for col in ("yhat_lgbm", "stat") if col in fc]
        return fc[keep].sort_values(["product_id", "market_id", "week"]).reset_index(drop=True), rep

    def params(self) -> dict[str, Any]:
        return asdict(self.config)

    def dumps(self) -> bytes:
        return pickle.dumps(self)

    @staticmethod
    def loads(data: bytes) -> DemandForecaster:
        return pickle.loads(data)


def forecast_table(model: DemandForecaster, demand_history: pd.DataFrame, products: pd.DataFrame | None = None,
                   markets: pd.DataFrame | None = None, horizon: int | None = None) -> tuple[pd.DataFrame, dict]:
    """Pure-table core: demand_history (+ attributes) -> (demand_forecast, report)."""
    panel, report = prepare_demand_panel(demand_history, products, markets, min_history=model.config.min_history)
    fc, rep = model.predict(panel, report, horizon)
    return fc[FORECAST_COLUMNS], rep


def fit_table(demand_history: pd.DataFrame, products: pd.DataFrame | None = None,
              markets: pd.DataFrame | None = None, config: DemandConfig | None = None
              ) -> tuple[DemandForecaster, dict]:
    """Pure-table core: demand_history (+ attributes) -> (fitted forecaster, input report)."""
    config = config or DemandConfig()
    panel, report = prepare_demand_panel(demand_history, products, markets, min_history=config.min_history)
    return DemandForecaster(config).fit(panel, report), report
