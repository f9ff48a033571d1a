"""Issue 14: any frequency through the public interface, drivers, fallbacks, small panels, selection,
coherent hierarchy levels with their own bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.demand_features import prepare_demand_panel
from features.frequency import FreqSpec, derive_lags, infer_freq
from models.demand import FORECAST_COLUMNS, DemandConfig, fit_table, forecast_table
from models.hierarchy import demand_attrs, hierarchy_forecast


def _panel(n_series: int, n: int, freq: str, season: int, seed: int = 0, start: str = "2015-01-01",
           noise: float = 0.05) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=n, freq=freq)
    rows = []
    for i in range(n_series):
        level = rng.uniform(50, 500)
        phase = rng.uniform(0, 2 * np.pi)
        t = np.arange(n)
        y = level * (1 + 0.3 * np.sin(2 * np.pi * t / season + phase)) * (1 + 0.002 * t)
        y = y * (1 + noise * rng.standard_normal(n))
        rows.append(pd.DataFrame({"week": dates, "product_id": f"P{i:03d}", "market_id": "M00",
                                  "units": np.round(np.maximum(y, 0), 2)}))
    return pd.concat(rows, ignore_index=True)


def _holdout_mase(dh, fc, h, season):
    from models.metrics import seasonal_scale

    last = dh["week"].max()
    train = dh[dh["week"] <= sorted(dh["week"].unique())[-h - 1]]
    test = dh[dh["week"] > sorted(dh["week"].unique())[-h - 1]]
    hist = train.assign(unique_id=train["product_id"], ds=train["week"], y=train["units"])
    scale = seasonal_scale(hist, season)
    m = test.merge(fc, on=["week", "product_id", "market_id"])
    assert len(m) == len(test) and m["week"].max() == last
    return m, scale


def test_monthly_panel_through_the_public_interface():
    dh = _panel(30, 96, "MS", 12, seed=1)
    h = 6
    train = dh[dh["week"] < sorted(dh["week"].unique())[-h]]
    model, rep = fit_table(train, config=DemandConfig(horizon=h, n_estimators=60))
    assert model.spec.freq == "MS" and model.spec.season_lengths == [12]
    assert 12 in model.lags
    fc, frep = forecast_table(model, train, horizon=h)
    assert list(fc.columns) == FORECAST_COLUMNS
    exp = pd.date_range(train["week"].max(), periods=h + 1, freq="MS")[1:]
    assert sorted(fc["week"].unique()) == list(exp)  # month starts, h month steps
    m, scale = _holdout_mase(dh, fc, h, 12)
    err = (m["y"] if "y" in m else m["units"]).sub(m["yhat"]).abs().groupby(m["product_id"]).mean()
    sn = []
    for _pid, g in dh.groupby("product_id"):
        y = g.sort_values("week")["units"].to_numpy()
        sn.append(np.mean(np.abs(y[-h:] - y[-h - 12:-12])))
    sn = np.array(sn)
    s = scale.reindex(err.index).to_numpy()
    assert np.mean(err.to_numpy() / s) < np.mean(sn / s)  # beats seasonal naive on the holdout
    assert frep["model"][0]["detail"].startswith("selected ")


def test_weekly_friday_anchor():
    dh = _panel(8, 130, "W-FRI", 52, seed=2)
    model, _ = fit_table(dh, config=DemandConfig(horizon=8, n_estimators=40, candidates=["lgbm", "snaive"]))
    assert model.spec.freq == "W-FRI" and model.spec.season_lengths == [52]
    fc, _ = forecast_table(model, dh, horizon=8)
    assert (fc["week"].dt.dayofweek == 4).all()
    assert fc["week"].min() == dh["week"].max() + pd.Timedelta(days=7)
    assert fc[FORECAST_COLUMNS[3:]].notna().all().all()


def test_irregular_dates_refused():
    dates = pd.DatetimeIndex(np.cumsum([0] + [7, 8] * 20) * pd.Timedelta(days=1) + pd.Timestamp("2024-01-05"))
    dh = pd.DataFrame({"week": dates, "product_id": "P", "market_id": "M", "units": 1.0})
    with pytest.raises(ValueError, match="irregular"):
        prepare_demand_panel(dh)
    with pytest.raises(ValueError, match="irregular"):
        infer_freq(dh.rename(columns={"week": "ds"}).assign(unique_id="a"))


def test_freq_spec_steps_and_seasons():
    assert FreqSpec("MS").season_lengths == [12] and FreqSpec("W-SUN").season == 52
    assert FreqSpec("QS").season == 4 and FreqSpec("D").season_lengths == [7]
    s = FreqSpec("MS")
    assert s.steps_between(pd.Timestamp("2020-01-01"), pd.Timestamp("2021-03-01")) == 14
    assert s.shift(pd.Timestamp("2020-11-01"), 3) == pd.Timestamp("2021-02-01")
    assert derive_lags(12, 6) == [1, 2, 3, 12] and derive_lags(52, 13) == [1, 2, 3, 51, 52, 53]
    assert derive_lags(52, 13, max_len=60) == [1, 2, 3]  # cut to what the history allows


def _promo_panel(seed=4, n_series=12, n=150):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n + 10, freq="W-MON")
    rows = []
    for i in range(n_series):
        base = rng.uniform(80, 200) * (1 + 0.2 * np.sin(2 * np.pi * np.arange(n + 10) / 52 + i))
        promo = (rng.random(n + 10) < 0.2).astype(float)
        price = 100 + 10 * rng.standard_normal(n + 10).cumsum() / 5
        y = base * (1 + 0.3 * promo) * (100 / price) ** 1.0 * (1 + 0.03 * rng.standard_normal(n + 10))
        rows.append(pd.DataFrame({"week": dates, "product_id": f"P{i}", "market_id": "M", "units": y,
                                  "promo": promo, "price": price}))
    full = pd.concat(rows, ignore_index=True)
    hist = full[full["week"] <= dates[n - 1]]
    fut = full[full["week"] > dates[n - 1]][["week", "product_id", "market_id", "promo", "price"]]
    return hist, fut


def test_driver_moves_the_forecast_in_its_direction():
    hist, fut = _promo_panel()
    cfg = DemandConfig(horizon=10, n_estimators=150, candidates=["lgbm"], future_exog=["promo", "price"],
                       exog_monotone={"promo": 1, "price": -1})
    model, _ = fit_table(hist, config=cfg)
    base = fut.assign(promo=0.0)
    f0, _ = forecast_table(model, hist, horizon=10, future=base)
    f1, _ = forecast_table(model, hist, horizon=10, future=base.assign(promo=1.0))
    fp, _ = forecast_table(model, hist, horizon=10, future=base.assign(price=base["price"] * 1.3))
    assert (f1["yhat"].to_numpy() > f0["yhat"].to_numpy()).all()  # promotion lifts every step
    uplift = f1["yhat"].sum() / f0["yhat"].sum() - 1
    assert 0.1 < uplift < 0.6  # truth: +30%
    assert (fp["yhat"].to_numpy() <= f0["yhat"].to_numpy() + 1e-9).all() and fp["yhat"].sum() < f0["yhat"].sum()


def test_undeclared_driver_reported_and_missing_future_driver_errors():
    hist, fut = _promo_panel(n_series=4)
    _, rep = prepare_demand_panel(hist)
    assert {"promo", "price"} <= {r["detail"].split("'")[1] for r in rep["exog_ignored"]}
    cfg = DemandConfig(horizon=10, n_estimators=30, candidates=["lgbm"], future_exog=["promo"])
    model, _ = fit_table(hist.drop(columns="price"), config=cfg)
    with pytest.raises(ValueError, match="pass their future values"):
        forecast_table(model, hist.drop(columns="price"), horizon=10)
    cut = fut[fut["week"] < fut["week"].max()]
    with pytest.raises(ValueError, match=r"future driver 'promo' missing .* at \d{4}-\d\d-\d\d"):
        forecast_table(model, hist.drop(columns="price"), horizon=10, future=cut)


def test_short_series_forecast_by_the_fallback_and_reported():
    dh = _panel(40, 150, "W-MON", 52, seed=5)
    last = dh["week"].max()
    short = dh[dh["product_id"].isin(["P000", "P001", "P002"])]
    dh = pd.concat([dh[~dh.index.isin(short.index)],
                    short[short["week"] > last - pd.Timedelta(weeks=20)]], ignore_index=True)
    dh.loc[(dh["product_id"] == "P002") & (dh["week"] <= last - pd.Timedelta(weeks=8)), "units"] = np.nan
    dh = dh.dropna(subset=["units"])  # P002: 8 points
    model, rep = fit_table(dh, config=DemandConfig(horizon=8, n_estimators=40, min_history=10))
    fb = {r["unique_id"]: r["detail"] for r in rep["fallback"]}
    assert set(fb) == {"P000|M00", "P001|M00", "P002|M00"}
    assert all("too short" in d for d in fb.values())
    fc, frep = forecast_table(model, dh, horizon=8)
    assert len(fc) == 40 * 8 and fc[FORECAST_COLUMNS[3:]].notna().all().all()
    used = {r["unique_id"]: r["detail"] for r in frep["fallback"]}
    assert "AutoETS(non-seasonal)" in used["P000|M00"] and "mean" in used["P002|M00"]
    p2 = fc[fc["product_id"] == "P002"]["yhat"].to_numpy()
    assert p2 == pytest.approx(np.full(8, dh[dh["product_id"] == "P002"]["units"].mean()))
    assert "P000|M00" not in model.train_ids


def test_small_panel_lgbm_is_not_flat():
    dh = _panel(5, 60, "MS", 12, seed=6, noise=0.02)
    model, _ = fit_table(dh, config=DemandConfig(horizon=6, candidates=["lgbm"]))
    assert model.lgbm_params["min_child_samples"] <= 20
    fc, _ = forecast_table(model, dh, horizon=6)
    assert (fc.groupby("product_id")["yhat"].std() > 1.0).all()


def test_selection_is_honest_and_prefers_ets_on_ets_data():
    rng = np.random.default_rng(7)
    rows = []
    for i in range(12):  # damped random-walk levels: what ETS is built for, nothing for lags to learn
        lvl, y = 100.0, []
        for _ in range(120):
            lvl = lvl + 3 * rng.standard_normal()
            y.append(max(lvl + 2 * rng.standard_normal(), 0))
        rows.append(pd.DataFrame({"week": pd.date_range("2010-01-01", periods=120, freq="MS"),
                                  "product_id": f"P{i}", "market_id": "M", "units": y}))
    dh = pd.concat(rows)
    model, _ = fit_table(dh, config=DemandConfig(horizon=6, n_estimators=40))
    sel = model.selection
    assert sel["selection_windows"].iloc[0] == model.calibration_windows - 1
    assert (sel["holdout_window"] == sel["holdout_window"].iloc[0]).all()
    assert model.winner in ("autoets", "autotheta", "ensemble") and model.winner != "snaive"
    assert sel.loc[sel["chosen"], "mase_select"].iloc[0] == sel["mase_select"].min()


def test_reconciled_levels_sum_exactly_with_their_own_bands():
    from models.synthetic import demand_tables

    t = demand_tables(n_products=6, n_markets=4, n_weeks=130, seed=8)
    markets = t["markets"].assign(region=["EU", "EU", "NA", "NA"])
    cfg = DemandConfig(horizon=8, n_estimators=40, candidates=["lgbm", "snaive"])
    model, rep = fit_table(t["demand_history"], t["products"], markets, cfg)
    panel, prep = prepare_demand_panel(t["demand_history"], t["products"], markets)
    fc, _ = model.predict(panel, prep, 8)
    attrs = demand_attrs(panel, markets)
    hf = hierarchy_forecast(model, fc, panel, attrs)
    assert set(hf["level"]) == {"total", "powertrain", "powertrain/product_id", "region", "region/market_id"}
    bottom = fc.merge(attrs, on="unique_id")
    for cols, level in ((["powertrain"], "powertrain"), (["region"], "region"), ([], "total")):
        exp = bottom.groupby(cols + ["ds"])["yhat"].sum() if cols else bottom.groupby("ds")["yhat"].sum()
        got = hf[hf["level"] == level].set_index(["node", "week"])["yhat"]
        assert len(got) == len(exp)
        exp_vals = exp.to_numpy()
        got_vals = got.sort_index().to_numpy()
        np.testing.assert_allclose(got_vals, exp_vals, rtol=1e-12)
    # the total's band is the band of the total, not the sum of bottom bounds
    tot = hf[hf["level"] == "total"].sort_values("week")
    sum_width = (bottom["yhat_hi_80"] - bottom["yhat_lo_80"]).groupby(bottom["ds"]).sum().to_numpy()
    assert ((tot["yhat_hi_80"] - tot["yhat_lo_80"]).to_numpy() < 0.8 * sum_width).all()
    # children of a powertrain add up to it
    pt = hf[hf["level"] == "powertrain"].set_index(["node", "week"])["yhat"]
    prod = hf[hf["level"] == "powertrain/product_id"].copy()
    prod["parent"] = prod["node"].str.split("/").str[0]
    np.testing.assert_allclose(prod.groupby(["parent", "week"])["yhat"].sum().sort_index().to_numpy(),
                               pt.sort_index().to_numpy(), rtol=1e-12)


def test_weighted_conformal_quantile_tracks_recent_windows():
    from models.conformal import conformal_quantile, step_quantiles, weighted_conformal_quantile

    s = np.arange(1.0, 11.0)
    assert weighted_conformal_quantile(s, np.ones(10), 80) == conformal_quantile(s, 80) == 9.0
    # an old window with large errors, a recent one with small errors: the recent one dominates
    cv = pd.DataFrame({"score": np.r_[np.full(50, 5.0), np.full(50, 1.0)], "age": np.r_[np.full(50, 3), np.zeros(50)],
                       "step": np.tile(np.arange(1, 3), 50)})
    q = step_quantiles(cv, 2, (80, 95), halflife=1.0, pool=0)
    assert q[80] == [1.0, 1.0] and q[95] == [5.0, 5.0]  # 0.5**3 weight: old errors only reach the 95% tail
    flat = step_quantiles(cv, 2, (80,), halflife=1e9, pool=0)
    assert flat[80] == [5.0, 5.0]


def test_signed_conformal_bounds_follow_the_bias():
    from models.conformal import step_bounds, step_quantiles

    # signed errors -1, 0, 1, ..., 8 (a model that under-forecasts): 80 % band = the 90 % tail on each side with
    # the (n + 1) correction once: upper = 10th smallest of 10 = 8, lower = -(10th smallest of 1, 0, ..., -8) = -1
    s = np.arange(-1.0, 9.0)
    cv = pd.DataFrame({"signed": s, "score": np.abs(s), "step": 1, "age": 0})
    lo, hi = step_bounds(cv, 1, (80,), halflife=1e9, pool=0)[80]
    assert (lo[0], hi[0]) == (-1.0, 8.0)
    # the absolute-score band is symmetric: ceil(11 * 0.8) = 9th smallest of |s| (0,1,1,2..8) = 7
    assert step_quantiles(cv, 1, (80,), halflife=1e9, pool=0)[80] == [7.0]
    # all errors positive: the band still contains the point forecast (lower offset 0)
    cv2 = cv.assign(signed=np.arange(1.0, 11.0))
    assert step_bounds(cv2, 1, (80,), halflife=1e9, pool=0)[80] == ([0.0], [10.0])


def test_segments_forecast_statistical_models_only_where_chosen():
    from models.synthetic import demand_tables

    t = demand_tables(n_products=10, n_markets=8, n_weeks=150, seed=4, noise=0.05)
    # a weak LightGBM (5 trees) loses to seasonal naive on the panel; with stat_margin=1 no segment may keep a
    # statistical model, so every segment goes back to LightGBM and seasonal naive is never forecast
    cfg = DemandConfig(horizon=8, n_estimators=5, candidates=["lgbm", "snaive", "ensemble"], stat_sample=70,
                       segments=2, stat_margin=1.0)
    model, _ = fit_table(t["demand_history"], t["products"], t["markets"], cfg)
    assert model.winner == "segments" and model.members == ["lgbm"]
    assert set(model.routes.values()) == {"lgbm"} and len(model.segment_edges) == 1
    sel = model.selection
    assert sel.loc[sel["chosen"], "candidate"].tolist() == ["segments"]
    panel, prep = prepare_demand_panel(t["demand_history"], t["products"], t["markets"])
    fc, rep = model.predict(panel, prep, 8)
    assert "predict: statistical" not in model.timings
    np.testing.assert_allclose(fc["yhat"], fc["yhat_lgbm"])
    # stat_margin=0: segments where the statistical candidate is better keep it, and only their series get it
    model0, _ = fit_table(t["demand_history"], t["products"], t["markets"],
                          DemandConfig(**{**cfg.__dict__, "stat_margin": 0.0}))
    if model0.winner == "segments":
        fc0, _ = model0.predict(panel, prep, 8)
        seg = model0._segment_of(panel)
        stat_segs = [k for k, ms in model0.route_members.items() if "snaive" in ms]
        has = fc0.groupby("unique_id")["snaive"].apply(lambda x: x.notna().all())
        assert (has == has.index.map(seg).isin(stat_segs)).all()


def test_mint_reconciled_levels_sum_exactly_and_total_band_is_narrower():
    from models.synthetic import demand_tables

    t = demand_tables(n_products=6, n_markets=4, n_weeks=130, seed=8)
    markets = t["markets"].assign(region=["EU", "EU", "NA", "NA"])
    cfg = DemandConfig(horizon=8, n_estimators=40, candidates=["lgbm", "snaive", "autoets"])
    model, _ = fit_table(t["demand_history"], t["products"], markets, cfg)
    panel, prep = prepare_demand_panel(t["demand_history"], t["products"], markets)
    fc, _ = model.predict(panel, prep, 8)
    attrs = demand_attrs(panel, markets)
    hf = hierarchy_forecast(model, fc, panel, attrs, method="mint_shrink")
    assert set(hf["level"]) == {"total", "powertrain", "powertrain/product_id", "region", "region/market_id",
                                "bottom"}
    bottom = hf[hf["level"] == "bottom"].merge(attrs.rename(columns={"unique_id": "node"}), on="node")
    # MinTrace revises the bottom forecasts (it is not bottom-up of the base forecasts) ...
    base = fc.set_index(["unique_id", "ds"])["yhat"].sort_index().to_numpy()
    assert np.abs(bottom.set_index(["node", "week"])["yhat"].sort_index().to_numpy() - base).max() > 1e-6
    # ... and every level is the exact sum of the revised bottom series
    for cols, level in ((["powertrain"], "powertrain"), (["region"], "region"), ([], "total"),
                        (["region", "market_id"], "region/market_id")):
        keys = (cols + ["week"]) if cols else ["week"]
        exp = bottom.groupby(keys)["yhat"].sum().sort_index().to_numpy()
        got = hf[hf["level"] == level].sort_values(["node", "week"])["yhat"].to_numpy()
        np.testing.assert_allclose(got, exp, rtol=1e-12)
    tot = hf[hf["level"] == "total"].sort_values("week")
    sum_width = (bottom["yhat_hi_80"] - bottom["yhat_lo_80"]).groupby(bottom["week"]).sum().to_numpy()
    assert ((tot["yhat_hi_80"] - tot["yhat_lo_80"]).to_numpy() < 0.8 * sum_width).all()


def _long(dh: pd.DataFrame) -> pd.DataFrame:
    return dh.assign(unique_id=dh["product_id"] + "|" + dh["market_id"], ds=pd.to_datetime(dh["week"]),
                     y=dh["units"].astype(float))[["unique_id", "ds", "y"]]


def test_fixed_forms_equal_the_fixed_statsforecast_models():
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS, Naive, OptimizedTheta

    from models.candidates import _sf, fitted_form, stat_cv, stat_forecast, stat_model

    df = _long(_panel(6, 130, "W-MON", 52, seed=3))
    forms = {"autoets": "ETS(Z,Ad,N)", "autotheta": "OTM", "mstl": "ETS(Z,A,N)"}
    got = stat_forecast(df, 10, ["autoets", "autotheta", "mstl"], "W-MON", [52], forms=forms)
    ref = StatsForecast(models=[AutoETS(model="ZAN", damped=True, alias="autoets"),
                                OptimizedTheta(season_length=52, alias="autotheta"),
                                MSTL(season_length=[52], trend_forecaster=AutoETS(model="ZAN", damped=False),
                                     alias="mstl")],
                        freq="W-MON", n_jobs=1, fallback_model=Naive()).forecast(h=10, df=df)
    m = got.merge(ref, on=["unique_id", "ds"], suffixes=("", "_ref"))
    assert len(m) == 60
    for col in forms:
        np.testing.assert_allclose(m[col], m[f"{col}_ref"].clip(lower=0), rtol=1e-9)
    # a fixed model fits that one form on every series
    sf = _sf([stat_model(n, [52], f) for n, f in forms.items()], "W-MON").fit(df=df)
    for j, (n, f) in enumerate(forms.items()):
        assert {fitted_form(n, sf.fitted_[i, j]) for i in range(6)} == {f}
    # variants in one backtest = the backtest of each fixed form alone
    both = stat_cv(df, ["autoets"], "W-MON", [52], 6, 3, 3, variants={"autoets": ["ETS(Z,N,N)", "ETS(Z,Ad,N)"]})
    one = stat_cv(df, ["autoets"], "W-MON", [52], 6, 3, 3, forms={"autoets": "ETS(Z,Ad,N)"})
    assert set(both.columns) >= {"autoets@ETS(Z,N,N)", "autoets@ETS(Z,Ad,N)"} and "autoets" not in both
    np.testing.assert_allclose(both["autoets@ETS(Z,Ad,N)"], one["autoets"], rtol=1e-9)
    with pytest.raises(ValueError, match="Theta form"):
        stat_forecast(df, 10, "autotheta", "W-MON", [52], forms={"autotheta": "XTM"})


def test_big_panel_shares_the_best_backtest_form_per_segment_and_reports_it():
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, Naive

    from models.candidates import form_choices, stat_cv

    dh = _panel(100, 110, "W-MON", 52, seed=5, noise=0.1)
    cfg = DemandConfig(horizon=6, candidates=["autoets"], stat_sample=60, segments=2)
    model, _ = fit_table(dh, config=cfg)
    assert set(model.stat_forms) == {0, 1}
    assert all(f["autoets"] in form_choices("autoets", [52]) for f in model.stat_forms.values())
    scores = pd.DataFrame(model.form_scores)
    for k in (0, 1):  # the chosen form: the cheaper one unless the dearer beats it by stat_margin
        part = scores[scores["segment"] == k].set_index("form")
        assert len(part) == 2 and part.index[part["chosen"]].tolist() == [model.stat_forms[k]["autoets"]]
        cheap, dear = part.loc["ETS(Z,N,N)", "mase_select"], part.loc["ETS(Z,Ad,N)", "mase_select"]
        want = "ETS(Z,Ad,N)" if dear < (1 - cfg.stat_margin) * cheap else "ETS(Z,N,N)"
        assert model.stat_forms[k]["autoets"] == want
    row = model.selection.set_index("candidate").loc["autoets"]
    assert row["spec"] == "autoets:" + ",".join(f"s{k}={model.stat_forms[k]['autoets']}" for k in (0, 1))
    assert model.params()["shared_specs"] == row["spec"]
    panel, rep = prepare_demand_panel(dh)
    # the backtest column of the candidate is, per segment, the backtest of the segment's fixed form
    sampled = sorted(model.cv["unique_id"].unique())
    assert len(sampled) == 60
    shist = model._stat_history(panel[panel["unique_id"].isin(sampled)])
    seg_fit = model._segment_of(panel[panel["ds"] <= model.cv["cutoff"].min()])
    for k in (0, 1):
        alone = stat_cv(shist, ["autoets"], "W-MON", [52], 6, model.calibration_windows, 3,
                        forms={"autoets": model.stat_forms[k]["autoets"]})
        mine = model.cv[model.cv["unique_id"].map(seg_fit) == k]
        m = mine.merge(alone, on=["unique_id", "ds", "cutoff"], suffixes=("", "_alone"))
        assert len(m) == len(mine) > 0
        np.testing.assert_allclose(m["autoets"], m["autoets_alone"], rtol=1e-9)
    fc, _ = model.predict(panel, rep, 6)
    seg = model._segment_of(panel)
    hist = model._stat_history(panel)
    for k in (0, 1):  # each segment's series are forecast by exactly the segment's fixed form
        form = model.stat_forms[k]["autoets"]
        ids = seg.index[seg == k]
        err, trend, season = form[4], form[6], form[-2]
        ref = StatsForecast(models=[AutoETS(model=f"{err}{trend}{season}", damped="d" in form, alias="ref")],
                            freq="W-MON", n_jobs=1, fallback_model=Naive()).forecast(
            h=6, df=hist[hist["unique_id"].isin(ids)][["unique_id", "ds", "y"]])
        m = fc.merge(ref, on=["unique_id", "ds"])
        assert len(m) == 6 * len(ids) > 0
        np.testing.assert_allclose(m["yhat"], m["ref"].clip(lower=0), rtol=1e-9)
    # the per-series search is kept when asked for, and on panels no bigger than the sample
    off, _ = fit_table(dh, config=DemandConfig(**{**cfg.__dict__, "shared_spec": []}))
    small, _ = fit_table(dh, config=DemandConfig(**{**cfg.__dict__, "stat_sample": 200}))
    for mdl in (off, small):
        assert mdl.stat_forms == {} and (mdl.selection["spec"] == "").all()
        assert "fit: shared specification" not in mdl.timings
    with pytest.raises(ValueError, match="shared_spec"):
        DemandConfig(shared_spec=["snaive"]).validate()


def test_cheapest_within_prefers_the_cheaper_option_unless_beaten_by_the_margin():
    from models.candidates import cheapest_within, form_cost

    cost = {"a": 1.0, "b": 5.0, "c": 9.0}
    assert cheapest_within({"a": 1.00, "b": 0.99, "c": 0.985}, cost, 0.02) == "a"  # c beats a by 1.5 % only
    assert cheapest_within({"a": 1.00, "b": 0.97, "c": 0.965}, cost, 0.02) == "b"  # b beats a; c beats b by 0.5 %
    assert cheapest_within({"a": 1.00, "b": 0.97, "c": 0.90}, cost, 0.02) == "c"
    assert cheapest_within({"a": 1.00, "b": 0.99, "c": float("nan")}, cost, 0.0) == "b"  # margin 0: the best
    with pytest.raises(ValueError):
        cheapest_within({"a": float("nan")}, cost, 0.02)
    # the cost order the rule walks: no trend before a damped trend, simple Theta before the optimised ones,
    # an ensemble costs its members
    assert form_cost("autoets", "ETS(Z,N,N)") < form_cost("autoets", "ETS(Z,Ad,N)")
    assert form_cost("autotheta", "STM") < form_cost("autotheta", "DOTM") < form_cost("autotheta", "OTM")
    assert form_cost("autoets+autotheta", None) == form_cost("autoets") + form_cost("autotheta")
    assert form_cost("lgbm") == 0.0 and form_cost("snaive") < form_cost("autoets", "ETS(Z,N,N)")


def test_big_panel_with_one_season_skips_mstl_and_says_so():
    dh = _panel(50, 110, "W-MON", 52, seed=6, noise=0.1)
    cfg = DemandConfig(horizon=6, candidates=["snaive", "autoets", "mstl"], stat_sample=30, segments=1,
                       season_lengths=[52])
    model, _ = fit_table(dh, config=cfg)
    assert "mstl" not in set(model.selection["candidate"])
    notes = [r["detail"] for r in model.fit_report.get("skipped_candidates", [])]
    assert len(notes) == 1 and notes[0].startswith("mstl: one season length [52]")
    # two seasons: MSTL is what they need, and it is scored
    two, _ = fit_table(dh, config=DemandConfig(**{**cfg.__dict__, "season_lengths": [52, 13]}))
    assert "mstl" in set(two.selection["candidate"]) and not two.fit_report.get("skipped_candidates")


def test_statistical_models_in_worker_processes_give_the_same_forecast():
    from models.candidates import PARALLEL_MIN_SERIES, stat_forecast

    dh = _panel(PARALLEL_MIN_SERIES + 4, 60, "MS", 12, seed=2)
    panel, _ = prepare_demand_panel(dh)
    one = stat_forecast(panel, 6, ["autoets", "snaive"], "MS", [12], n_jobs=1)
    two = stat_forecast(panel, 6, ["autoets", "snaive"], "MS", [12], n_jobs=2)
    m = one.merge(two, on=["unique_id", "ds"], suffixes=("", "_2"))
    assert len(m) == 6 * (PARALLEL_MIN_SERIES + 4)
    for col in ("autoets", "snaive"):
        np.testing.assert_allclose(m[col], m[f"{col}_2"], rtol=1e-9)
