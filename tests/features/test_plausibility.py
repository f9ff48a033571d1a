"""Plausibility at the door (features.plausibility) on the demo sample with faults a real ERP export has."""

from __future__ import annotations

import pandas as pd
import pytest

from features.sample import generate
from features.validate import validate_tables


@pytest.fixture(scope="module")
def demo() -> dict[str, pd.DataFrame]:
    return generate(size="demo", seed=7)


def _copy(demo):
    return {k: v.copy() for k, v in demo.items()}


def test_clean_demo_has_no_findings(demo):
    r = validate_tables(_copy(demo), plausibility={})
    assert r.plausibility == {"hold": False, "findings": [], "quarantined": {}}
    assert r.counts["demand_history"]["quarantined"] == 0


def test_demand_of_1e12_is_quarantined_with_the_rule_named(demo):
    raw = _copy(demo)
    d = raw["demand_history"]
    d.loc[100, "units"] = 1e12
    r = validate_tables(raw, plausibility={})
    c = r.counts["demand_history"]
    assert c["quarantined"] == 1 and c["valid"] + c["quarantined"] == c["rows_in"] == len(d)
    assert c["by_reason"]["units:plausibility_capacity"] == 1
    q = r.quarantine["demand_history"]
    assert q["source_row"].tolist() == [101]
    assert "plausibility units:capacity" in q["reason"].iloc[0] and "1e+12" in q["reason"].iloc[0]
    assert r.valid["demand_history"]["units"].max() < 1e6
    rules = {f["rule"] for f in r.plausibility["findings"]}
    assert "demand_history.units:capacity" in rules
    # without the rules the row goes through (this is what the door let in before)
    assert validate_tables(_copy(raw), plausibility=None).counts["demand_history"]["quarantined"] == 0


def test_demand_spike_within_capacity_is_an_outlier(demo):
    raw = _copy(demo)
    d = raw["demand_history"]
    series = d[(d["product_id"] == d["product_id"].iloc[0]) & (d["market_id"] == d["market_id"].iloc[0])]
    i = series.index[len(series) // 2]
    d.loc[i, "units"] = float(series["units"].median()) * 20
    r = validate_tables(raw, plausibility={})
    assert r.counts["demand_history"]["by_reason"].get("units:plausibility_outlier") == 1
    assert r.quarantine["demand_history"]["source_row"].tolist() == [i + 1]


def test_production_at_10x_capacity_is_quarantined(demo):
    raw = _copy(demo)
    p = raw["production_history"]
    cap = raw["plants"].set_index("plant_id")["capacity_units_per_week"]
    row = p.iloc[0]
    p.loc[0, "units"] = float(cap[row["plant_id"]]) * 10
    r = validate_tables(raw, plausibility={})
    c = r.counts["production_history"]
    same_week = ((p["week"] == row["week"]) & (p["plant_id"] == row["plant_id"])).sum()
    assert c["quarantined"] == same_week >= 1
    assert c["valid"] + c["quarantined"] == c["rows_in"]
    assert "capacity" in r.quarantine["production_history"]["reason"].iloc[0]


def test_energy_at_20x_only_warns(demo):
    raw = _copy(demo)
    e = raw["energy_use"]
    e.loc[5, "quantity"] = float(e.loc[5, "quantity"]) * 20
    r = validate_tables(raw, plausibility={})
    assert r.counts["energy_use"]["quarantined"] == 0
    f = [f for f in r.plausibility["findings"] if f["rule"] == "energy_use.quantity:intensity"]
    assert f and f[0]["policy"] == "warn" and f[0]["rows"] >= 1
    assert r.plausibility["hold"] is False


def test_hold_policy_quarantines_nothing_and_holds_the_run(demo):
    raw = _copy(demo)
    raw["demand_history"].loc[100, "units"] = 1e12
    r = validate_tables(raw, plausibility={"demand_history.units:capacity": "hold",
                                           "demand_history.units:outlier": "hold"})
    assert r.plausibility["hold"] is True
    assert r.counts["demand_history"]["quarantined"] == 0


def test_unknown_rule_or_policy_is_refused(demo):
    with pytest.raises(ValueError, match="unknown plausibility rule"):
        validate_tables(_copy(demo), plausibility={"nope": "warn"})
    with pytest.raises(ValueError, match="policy must be one of"):
        validate_tables(_copy(demo), plausibility={"energy_use.quantity:intensity": "ignore"})
