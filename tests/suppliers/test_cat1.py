"""Scope 3 category 1 by hand for each GHG Protocol data-quality tier; tier-2 submissions add nothing."""

from __future__ import annotations

import pandas as pd
import pytest
from supply_helpers import links_frame

from suppliers import check_submissions, scope3_cat1


def _sub(sid, supplier, commodity, qty, unit, tco2e, method="supplier_specific"):
    return {"submission_id": sid, "version": 1, "supplier_id": supplier, "year": 2025, "commodity": commodity,
            "plant_id": None, "product_id": None, "activity_qty": qty, "activity_unit": unit, "tco2e": tco2e,
            "method": method, "dq_tier": 1, "submitted_on": pd.Timestamp("2026-04-30")}


def test_each_data_quality_tier_by_hand_and_a_tier2_submission_adds_nothing():
    links = links_frame([
        ("S1", "P", "steel", 1.0, 100.0),  # accepted supplier-specific submission: 1.8 t/t x 100 t
        ("A1", "P", "aluminium", 1.0, 10.0),  # accepted hybrid submission: 10.5 t/t x 10 t
        ("K1", "P", "casting", 1.0, 20.0),  # no submission: average data 5.0 t/t x 20 t
        ("E1", "P", "electronics", 1.0, 0.0, 1_000_000.0),  # volume in t does not fit "units": spend-based
        ("C2", "K1", "cell", 1.0, 50.0),  # tier 2: never counted
    ])
    subs = pd.DataFrame([
        _sub("X1", "S1", "steel", 1000.0, "t", 1800.0),
        _sub("X2", "A1", "aluminium", 100.0, "t", 1050.0, method="hybrid"),
        _sub("X3", "C2", "cell", 50.0, "kWh", 4.0),
    ])
    checked = check_submissions(subs)
    assert checked["status"].tolist() == ["accepted"] * 3
    c = scope3_cat1(links, ["P"], checked).set_index("supplier_id")
    assert "C2" not in c.index
    assert c.loc["S1", "tco2e"] == pytest.approx(180.0) and c.loc["S1", "dq_tier"] == 1
    assert c.loc["S1", "basis"] == "X1"
    assert c.loc["A1", "tco2e"] == pytest.approx(105.0) and c.loc["A1", "method"] == "hybrid"
    assert c.loc["K1", "tco2e"] == pytest.approx(100.0) and c.loc["K1", "method"] == "average_data"
    # EUR 2025 -> USD 2021: 1.13 / 1.16; EPA SEF 336320 with margins 0.285 kg/USD
    assert c.loc["E1", "tco2e"] == pytest.approx(1_000_000 * 1.13 / 1.16 * 0.285 / 1000)
    assert c.loc["E1", "dq_tier"] == 4
    assert set(c["scope"]) == {"scope3_cat1"}


def test_a_rejected_submission_falls_back_to_average_data_and_says_so():
    links = links_frame([("S1", "P", "steel", 1.0, 100.0)])
    subs = pd.DataFrame([_sub("X1", "S1", "steel", 1_000_000.0, "t", 1800.0)])  # kg typed as t
    c = scope3_cat1(links, ["P"], check_submissions(subs)).iloc[0]
    assert c["dq_tier"] == 3 and c["tco2e"] == pytest.approx(192.0)
    assert c["note"] == "submission X1 rejected (unit_slip_x1000): fell back"
