"""Issue 14: the registered demand model (MLflow pyfunc) takes known-in-advance driver columns."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from features.drivers import DRIVER_FEATURES, NEUTRAL
from models import registry
from models.demand import DemandConfig
from models.stages import train_demand_tables

H = 8
PROMO = 30.0  # promotion depth, % off


def _promoted(small_demand) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Demand history with a ``promo_pct`` driver (about one week in six promoted; a promoted week sells
    1.6x), and the driver rows (history + H future weeks, no promotion planned, neutral other drivers)."""
    dh = small_demand["demand_history"].copy()
    dh["week"] = pd.to_datetime(dh["week"])
    rng = np.random.default_rng(11)
    dh["promo_pct"] = np.where(rng.random(len(dh)) < 0.17, PROMO, 0.0)
    dh["units"] = np.round(dh["units"] * (1 + 0.02 * dh["promo_pct"]))
    future_weeks = pd.date_range(dh["week"].max(), periods=H + 1, freq="7D")[1:]
    series = dh[["product_id", "market_id"]].drop_duplicates()
    future = series.merge(pd.DataFrame({"week": future_weeks}), how="cross").assign(promo_pct=0.0)
    drivers = pd.concat([dh[["week", "product_id", "market_id", "promo_pct"]], future], ignore_index=True)
    for c in DRIVER_FEATURES:
        if c not in drivers:
            drivers[c] = NEUTRAL[c]
    return dh, drivers


def test_registered_model_takes_driver_columns_and_a_promotion_lifts_the_forecast(mlflow_store, small_demand):
    dh, drivers = _promoted(small_demand)
    cfg = DemandConfig(horizon=H, n_estimators=80, num_leaves=15, min_child_samples=5, cv_windows=2, cv_step=8,
                       candidates=["lgbm"], future_exog=["promo_pct"], exog_monotone={"promo_pct": 1})
    out = train_demand_tables(dh, small_demand["products"], small_demand["markets"], cfg, n_folds=2, step=8,
                              tags={"lake_run_id": "t"}, drivers=drivers)
    assert out["champion_moved"] is True

    pyf = mlflow.pyfunc.load_model(registry.champion_uri(registry.DEMAND_MODEL))
    assert "promo_pct" in pyf.metadata.get_input_schema().input_names()  # the signature declares the driver

    attrs = small_demand["products"][["product_id", "powertrain", "segment"]]
    hist = dh.merge(attrs, on="product_id").assign(units=lambda d: d["units"].astype(float))
    future = drivers[drivers["week"] > dh["week"].max()][["week", "product_id", "market_id", "promo_pct"]]
    future = future.merge(attrs, on="product_id").assign(units=np.nan)

    def forecast(fut: pd.DataFrame) -> pd.DataFrame:
        fc = pyf.predict(pd.concat([hist, fut], ignore_index=True)[[*hist.columns]], params={"horizon": H})
        return fc.sort_values(["product_id", "market_id", "week"]).reset_index(drop=True)

    base = forecast(future)
    assert len(base) == 12 * H and base["yhat"].notna().all()
    first = dh["week"].max() + pd.Timedelta(weeks=1)
    promo_weeks = pd.date_range(first + pd.Timedelta(weeks=2), periods=3, freq="7D")  # forecast weeks 3-5
    moved = forecast(future.assign(promo_pct=np.where(future["week"].isin(promo_weeks), PROMO, 0.0)))
    assert (moved[["week", "product_id", "market_id"]] == base[["week", "product_id", "market_id"]]).all().all()
    before = base["week"] < promo_weeks[0]
    during = base["week"].isin(promo_weeks)
    # weeks before the promotion do not move; promoted weeks move up (the driver's monotone sign is +1)
    assert moved.loc[before, "yhat"].to_numpy() == pytest.approx(base.loc[before, "yhat"].to_numpy(), rel=1e-12)
    assert (moved.loc[during, "yhat"].to_numpy() >= base.loc[during, "yhat"].to_numpy() - 1e-9).all()
    assert moved.loc[during, "yhat"].sum() > 1.15 * base.loc[during, "yhat"].sum()

    # without the future driver rows the model says what it needs
    with pytest.raises(Exception, match="future rows"):
        pyf.predict(hist[[*hist.columns]], params={"horizon": H})
