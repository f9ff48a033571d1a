"""Inputs a forecaster brings from their own data (found by a held-out review of the forecaster): business-day,
multiple-step (2W, 3MS) frequencies, pandas Periods and quarter strings, a freq that names the other end of the
period, transaction logs that leave no-sale periods out, lags that reach into a long horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.demand_features import prepare_panel
from features.frequency import FreqSpec, derive_lags, kind


@pytest.mark.parametrize("freq,kind_,seasons", [("B", "daily", [5]), ("2W-SUN", "weekly", [26]),
                                                ("3MS", "monthly", [4]), ("2MS", "monthly", [6]),
                                                ("2D", "daily", [1]), ("W-MON", "weekly", [52]),
                                                ("QS-OCT", "quarterly", [4])])
def test_multiples_and_business_days_have_their_own_seasons_and_steps(freq, kind_, seasons):
    spec = FreqSpec(freq)
    assert kind(freq) == kind_ and spec.season_lengths == seasons
    grid = pd.date_range("2024-01-01", periods=40, freq=spec.freq)
    # steps count positions on the frequency's grid (a Friday to the next Monday is one business day)
    assert spec.steps_between(grid[3], grid[11]) == 8
    assert spec.steps_between(grid[:4].values, grid[10:14].values).tolist() == [10, 10, 10, 10]
    assert spec.shift(grid[5], 7) == grid[12]


def test_business_day_and_quarterly_multiple_panels_forecast_end_to_end():
    from models.demand import DemandConfig, fit_table, forecast_table

    rng = np.random.default_rng(3)
    # B and 2W-SUN are inferred from the dates; 3MS is given (the dates alone read as quarters, QS-OCT)
    for freq, n, h, given in (("B", 160, 10, None), ("2W-SUN", 130, 6, None), ("3MS", 48, 4, "3MS")):
        dates = pd.date_range("2015-01-01", periods=n, freq=freq)
        dh = pd.concat([pd.DataFrame({"week": dates, "product_id": f"P{i}", "market_id": "M",
                                      "units": 100 + 10 * np.sin(np.arange(n) * 2 * np.pi / FreqSpec(freq).season)
                                      + rng.normal(0, 2, n)}) for i in range(4)], ignore_index=True)
        model, _ = fit_table(dh, config=DemandConfig(horizon=h, n_estimators=30, candidates=["lgbm", "snaive"],
                                                     cv_windows=2, min_history=8, freq=given))
        assert model.spec.freq == FreqSpec(freq).freq
        fc, _ = forecast_table(model, dh, horizon=h)
        assert sorted(fc["week"].unique()) == list(pd.date_range(dates[-1], periods=h + 1, freq=freq)[1:])
        assert fc["yhat"].between(60, 140).all()


def test_periods_and_quarter_strings_are_read_as_period_starts():
    q = pd.period_range("2010Q1", periods=12, freq="Q")
    base = pd.DataFrame({"unique_id": "a", "y": np.arange(12.0)})
    for ds in (pd.Series(q), [f"{p.year} Q{p.quarter}" for p in q], [f"{p.year}-Q{p.quarter}" for p in q]):
        panel, _ = prepare_panel(base.assign(ds=ds), min_history=4)
        assert panel["ds"].tolist() == list(q.to_timestamp(how="start"))
        assert kind(panel.attrs["freq"]) == "quarterly"
    with pytest.raises(ValueError, match="dates cannot be read"):
        prepare_panel(base.assign(ds=["not a date"] * 12), min_history=4)


def test_freq_naming_the_other_end_of_the_period_says_which_one_fits():
    q = pd.date_range("2010-01-01", periods=12, freq="QS")
    with pytest.raises(ValueError, match=r"dates look like 'QS-"):
        prepare_panel(pd.DataFrame({"unique_id": "a", "ds": q, "y": 1.0}), freq="QE")


def test_gaps_of_an_intermittent_series_are_no_sales_and_of_a_smooth_series_are_interpolated():
    d = pd.date_range("2024-01-01", periods=30, freq="D")
    y = np.where(np.arange(30) % 3 == 0, 0.0, 1.0 + np.arange(30) % 2)  # 0, 2, 1, 0, 1, 2, ...
    log = pd.DataFrame({"unique_id": "log", "ds": d, "y": y})
    log = log[log["y"] > 0]  # a transaction log leaves the no-sale days out
    smooth = pd.DataFrame({"unique_id": "smooth", "ds": d, "y": 10.0 + np.arange(30)}).drop(index=[10])
    # unreported months of a big series (a city selling 100-130 houses a month): many gaps, but never near 0
    big = pd.DataFrame({"unique_id": "big", "ds": d, "y": 100.0 + np.arange(30)}).drop(index=range(5, 25, 3))
    panel, rep = prepare_panel(pd.concat([log, smooth, big]), min_history=4, freq="D")
    got = panel.set_index(["unique_id", "ds"])["y"]
    assert got["log"].tolist()[:6] == [2.0, 1.0, 0.0, 1.0, 2.0, 0.0]  # day 0 is before the first sale
    assert got["log"].sum() == pytest.approx(y[1:].sum())  # no phantom sales
    assert got[("smooth", d[10])] == pytest.approx(20.0)  # a data gap in a smooth series: interpolated
    assert got[("big", d[5])] == pytest.approx(105.0)
    detail = {g["unique_id"]: g["detail"] for g in rep["gaps"]}
    assert "set to 0 (intermittent series)" in detail["log"] and "interpolated" in detail["smooth"]
    assert "7 missing periods interpolated" in detail["big"]
    forced, _ = prepare_panel(pd.concat([log, smooth]), min_history=4, freq="D", fill_gaps="interpolate")
    assert forced.loc[forced["unique_id"] == "log", "y"].sum() > y[1:].sum()
    zero, _ = prepare_panel(pd.concat([log, smooth]), min_history=4, freq="D", fill_gaps="zero")
    assert zero.set_index(["unique_id", "ds"])["y"][("smooth", d[10])] == 0.0
    with pytest.raises(ValueError, match="fill_gaps"):
        prepare_panel(log, fill_gaps="mean")


def test_lags_reach_into_a_horizon_longer_than_the_season():
    assert derive_lags(7, 28) == [1, 2, 3, 7, 14, 21, 28]  # daily data, four weeks ahead
    assert derive_lags(4, 8) == [1, 2, 3, 4, 8]  # quarterly, two years ahead
    assert derive_lags(12, 12) == [1, 2, 3, 12] and derive_lags(52, 26) == [1, 2, 3, 51, 52, 53]
    assert derive_lags(7, 28, max_len=40) == [1, 2, 3, 7, 14]  # cut to what the history allows
