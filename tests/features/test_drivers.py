"""Known-in-advance demand drivers (issue 14): the contract at the door, the features the forecaster takes,
the planner's changes, and the sample's demand responding to them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.tables import DRIVER_TABLES, TABLES
from features.drivers import (
    LAUNCH_WEEKS,
    NEUTRAL,
    RUN_OUT_FLOOR,
    RUN_OUT_WEEKS,
    apply_driver_changes,
    availability,
    driver_features,
    future_drivers,
    with_drivers,
)
from features.sample_drivers import FUTURE_WEEKS, holidays, working_days
from features.validate import OPTIONAL_TABLES, validate_tables


@pytest.fixture(scope="module")
def demo() -> dict[str, pd.DataFrame]:
    from features.sample import generate

    return generate("demo")


def test_driver_tables_are_optional_and_bad_rows_are_quarantined_with_a_reason(network, as_text):
    assert set(DRIVER_TABLES) <= set(OPTIONAL_TABLES)
    ok = validate_tables(as_text({k: v for k, v in network.items() if k not in DRIVER_TABLES}))
    assert not set(DRIVER_TABLES) & set(ok.valid)  # a run without drivers is fine
    raw = as_text(network)
    pdv = raw["product_drivers"]
    extra = pd.DataFrame({"week": ["2024-01-15", "2024-01-16", "2024-01-15", "2024-01-15"],
                          "product_id": ["K1", "K1", "K9", "K2"], "market_id": ["M1", "M1", "M1", "M2"],
                          "list_price_eur": ["40000", "40000", "40000", "-1"],
                          "promo_discount_pct": ["150", "0", "0", "0"],
                          "lifecycle": ["sold_out", "active", "active", "active"]})
    raw["product_drivers"] = pd.concat([pdv, extra], ignore_index=True)
    raw["ev_incentives"].loc[1, "incentive_eur"] = "-500"
    r = validate_tables(raw, max_bad_share=0.9)
    q = r.quarantine["product_drivers"]
    assert q["source_row"].tolist() == [3, 4, 5, 6]
    assert q["reason"].tolist() == [
        "promo_discount_pct: 150 > 100 (le 100); lifecycle: 'sold_out' not allowed (isin pre_launch, launch, "
        "active, run_out, ended)",
        "week: '2024-01-16' is not a Monday (week = Monday of the ISO week)",
        "product_id: 'K9' not found in products.product_id",
        "list_price_eur: -1 < 0 (ge 0)",
    ]
    c = r.counts["product_drivers"]
    assert (c["rows_in"], c["valid"], c["quarantined"]) == (6, 2, 4)
    assert r.quarantine["ev_incentives"]["reason"].tolist() == ["incentive_eur: -500 < 0 (ge 0)"]
    assert r.valid["working_days"]["working_days"].tolist() == [4.0, 5.0]
    assert TABLES["working_days"].column("working_days").le == 7


def test_availability_follows_the_life_cycle_position():
    phases = ["pre_launch", "launch", "launch", "launch", "active", "run_out", "run_out", "ended"]
    d = pd.DataFrame({"product_id": "K1", "market_id": "M1",
                      "week": pd.date_range("2024-01-01", periods=len(phases), freq="7D"), "lifecycle": phases})
    expect = [0, 1 / LAUNCH_WEEKS, 2 / LAUNCH_WEEKS, 3 / LAUNCH_WEEKS, 1,
              1 - (1 - RUN_OUT_FLOOR) / RUN_OUT_WEEKS, 1 - 2 * (1 - RUN_OUT_FLOOR) / RUN_OUT_WEEKS, 0]
    np.testing.assert_allclose(availability(d), expect)
    # rows in any order, two series interleaved: the same values per row
    two = pd.concat([d, d.assign(market_id="M2")]).sample(frac=1.0, random_state=1)
    np.testing.assert_allclose(availability(two), np.array(expect * 2)[
        two["week"].rank(method="dense").astype(int).to_numpy() - 1])


def _tables():
    wk = pd.date_range("2024-01-01", periods=4, freq="7D")
    products = pd.DataFrame({"product_id": ["K1", "K2"], "powertrain": ["BEV", "ICE"], "price_eur": [40000.0, 30000.0]})
    pdv = pd.DataFrame({"week": np.tile(wk, 2), "product_id": np.repeat(["K1", "K2"], 4), "market_id": "M1",
                        "list_price_eur": [40000.0, 40000.0, 42000.0, 42000.0, 30000.0, 30000.0, 30000.0, 30000.0],
                        "promo_discount_pct": [0, 10.0, 0, 0, 0, 0, 5.0, 0],
                        "lifecycle": ["active"] * 4 + ["active", "run_out", "ended", "ended"]})
    inc = pd.DataFrame({"week": np.tile(wk, 2), "market_id": "M1", "powertrain": np.repeat(["BEV", "ICE"], 4),
                        "incentive_eur": [4000.0, 4000.0, 4200.0, 0.0, 0, 0, 0, 0]})
    wd = pd.DataFrame({"week": wk, "market_id": "M1", "working_days": [5.0, 4.0, 5.0, 3.0]})
    return {"product_drivers": pdv, "ev_incentives": inc, "working_days": wd}, products


def test_driver_features_hand_computed_and_neutral_where_a_table_is_missing():
    tables, products = _tables()
    f, filled = driver_features(tables, products)
    k1 = f[f["product_id"] == "K1"]
    np.testing.assert_allclose(k1["incentive_pct"], [10.0, 10.0, 10.0, 0.0])  # 4000/40000, 4200/42000, 0
    np.testing.assert_allclose(k1["price_index"], [1.0, 1.0, 1.05, 1.05])
    np.testing.assert_allclose(k1["promo_pct"], [0, 10, 0, 0])
    np.testing.assert_allclose(k1["working_days"], [5, 4, 5, 3])
    k2 = f[f["product_id"] == "K2"]
    np.testing.assert_allclose(k2["availability"], [1, 1 - (1 - RUN_OUT_FLOOR) / RUN_OUT_WEEKS, 0, 0])
    assert filled == dict.fromkeys(filled, 0)
    # no incentives and no working days: neutral values, counted
    f2, filled2 = driver_features({"product_drivers": tables["product_drivers"]}, products)
    assert (f2["incentive_pct"] == NEUTRAL["incentive_pct"]).all() and (f2["working_days"] == 5.0).all()
    assert filled2["incentive_pct"] == 8 and filled2["working_days"] == 8 and filled2["price_index"] == 0
    # history rows get the features; future rows come from the tables, neutral past their end
    dh = pd.DataFrame({"week": pd.date_range("2024-01-01", periods=2, freq="7D"), "product_id": "K1",
                       "market_id": "M1", "units": [10.0, 12.0]})
    h = with_drivers(dh, f)
    np.testing.assert_allclose(h["promo_pct"], [0, 10])
    fut, n_missing = future_drivers(dh, f, horizon=3)
    assert fut["week"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-15", "2024-01-22", "2024-01-29"]
    np.testing.assert_allclose(fut["incentive_pct"], [10.0, 0.0, 0.0])
    assert n_missing == 1 and fut["working_days"].iloc[-1] == NEUTRAL["working_days"]


def test_apply_driver_changes_edits_only_the_named_rows():
    tables, _ = _tables()
    first = pd.Timestamp("2024-01-08")  # week 1 of the horizon
    out, done = apply_driver_changes(tables, [
        {"market_id": "M1", "driver": "incentive_eur", "from_week": 2, "value": 0.0},
        {"market_id": "M1", "driver": "promo_discount_pct", "product_id": "K2", "from_week": 1, "to_week": 1,
         "value": 20.0},
        {"market_id": "M1", "driver": "list_price_pct", "product_id": "K1", "from_week": 3, "value": 10.0},
        {"market_id": "M1", "driver": "end_of_sale", "product_id": "K1", "from_week": 3, "value": 0.0},
    ], first)
    assert out["ev_incentives"]["incentive_eur"].tolist() == [4000.0, 4000.0, 0.0, 0.0, 0, 0, 0, 0]
    assert out["product_drivers"]["promo_discount_pct"].tolist() == [0, 10.0, 0, 0, 0, 20.0, 5.0, 0]
    np.testing.assert_allclose(out["product_drivers"]["list_price_eur"].iloc[:4], [40000.0, 40000.0, 42000.0, 46200.0])
    assert out["product_drivers"]["lifecycle"].tolist()[:4] == ["active", "active", "active", "ended"]
    assert [d["rows"] for d in done] == [2, 1, 1, 1]
    assert tables["ev_incentives"]["incentive_eur"].iloc[3] == 0.0 and tables["ev_incentives"][
        "incentive_eur"].iloc[2] == 4200.0  # the input is not modified
    with pytest.raises(ValueError, match="no ev_incentives rows match"):
        apply_driver_changes(tables, [{"market_id": "M_XX", "driver": "incentive_eur", "value": 0}], first)
    with pytest.raises(ValueError, match="end_of_sale: give product_id"):
        apply_driver_changes(tables, [{"market_id": "M1", "driver": "end_of_sale", "value": 0}], first)


def test_working_days_know_the_moving_holidays():
    # 2025: Easter Monday 21 Apr (DE: 4 days), Ascension 29 May, Whit Monday 9 Jun; US Thanksgiving 27 Nov
    assert {dt.isoformat() for dt in holidays("DE", 2025)} >= {"2025-04-18", "2025-04-21", "2025-05-29",
                                                                "2025-06-09", "2025-10-03"}
    weeks = pd.DatetimeIndex(["2025-04-14", "2025-04-21", "2025-05-26", "2025-11-24", "2025-09-29"])
    assert working_days("DE", weeks).tolist() == [4, 4, 4, 5, 4]
    assert working_days("US", weeks).tolist() == [5, 5, 4, 4, 5]
    assert working_days("CN", weeks).tolist() == [5, 5, 5, 5, 2]  # Golden Week starts Wednesday 1 Oct


def test_sample_demand_responds_to_the_drivers(demo):
    t = demo
    for name in DRIVER_TABLES:
        weeks = t[name]["week"]
        assert weeks.max() == t["demand_history"]["week"].max() + pd.Timedelta(weeks=FUTURE_WEEKS), name
    dh = t["demand_history"].merge(t["products"][["product_id", "powertrain"]], on="product_id").merge(
        t["markets"][["market_id", "country"]], on="market_id")
    # US: the 30D credit ended on 30 Sep 2025; BEV demand falls against ICE in the same weeks
    us = dh[dh["country"] == "US"]
    before = (us["week"] >= "2025-07-07") & (us["week"] < "2025-09-29")
    after = (us["week"] >= "2025-10-06") & (us["week"] < "2025-12-29")
    r = {p: us.loc[after & (us["powertrain"] == p), "units"].sum() / us.loc[before & (us["powertrain"] == p),
                                                                            "units"].sum() for p in ("BEV", "ICE")}
    assert r["BEV"] < 0.85 * r["ICE"], r
    # a product that ended sells nothing afterwards; promotions lift the promoted weeks
    pdv = t["product_drivers"]
    ended = pdv[(pdv["lifecycle"] == "ended") & (pdv["week"] <= t["demand_history"]["week"].max())]
    assert len(ended) and dh.merge(ended[["week", "product_id", "market_id"]])["units"].sum() == 0
    m = dh.merge(pdv, on=["week", "product_id", "market_id"])
    m = m[m["lifecycle"] == "active"]
    m["rel"] = m["units"] / m.groupby(["product_id", "market_id"])["units"].transform("median")
    assert m.loc[m["promo_discount_pct"] >= 8, "rel"].median() > 1.15 * m.loc[m["promo_discount_pct"] == 0,
                                                                             "rel"].median()
