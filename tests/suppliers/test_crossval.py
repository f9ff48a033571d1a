"""Cross-validation of supplier submissions: each planted error caught by the right rule, clean rows accepted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from suppliers import build_reference, check_submissions

STEEL = 1.92  # t CO2e per t, suppliers.factors.MATERIAL


def _row(sid, supplier, year, qty, tco2e, unit="t", commodity="steel", version=1):
    return {"submission_id": sid, "version": version, "supplier_id": supplier, "year": year, "commodity": commodity,
            "plant_id": None, "product_id": None, "activity_qty": qty, "activity_unit": unit, "tco2e": tco2e,
            "method": "supplier_specific", "dq_tier": 1, "submitted_on": pd.Timestamp(year + 1, 4, 30)}


def _peers(year=2025, n=8):
    # eight clean steel peers, intensities 1.8..2.1 t/t
    return [_row(f"P{i}", f"PEER{i}", year, 1000.0, 1000.0 * (1.8 + 0.04 * i)) for i in range(n)]


def _check(rows, **kw):
    return check_submissions(pd.DataFrame(rows), **kw).set_index("submission_id")


def test_a_kg_typed_as_tonnes_is_rejected_as_a_unit_slip_and_a_clean_row_is_accepted():
    rows = _peers() + [
        _row("CLEAN", "S1", 2025, 500.0, 500.0 * 1.95),
        # 800 t of steel reported as 800,000 "t" (it was kg): the estimate is 1000x the emissions
        _row("SLIP", "S2", 2025, 800_000.0, 800.0 * 1.95),
    ]
    c = _check(rows)
    assert c.loc["CLEAN", "status"] == "accepted" and c.loc["CLEAN", "reasons"] == ""
    assert c.loc["CLEAN", "activity_ratio"] == pytest.approx(1.95 / STEEL)
    assert c.loc["SLIP", "status"] == "rejected"
    assert c.loc["SLIP", "reasons"].split("; ")[0] == "unit_slip_x1000"
    assert c.loc["SLIP", "activity_ratio"] == pytest.approx(1.95 / STEEL / 1000)


def test_units_are_converted_before_the_activity_check():
    c = _check(_peers() + [_row("KG", "S1", 2025, 500_000.0, 500.0 * 1.95, unit="kg")])
    assert c.loc["KG", "status"] == "accepted"
    assert c.loc["KG", "activity_estimate_t"] == pytest.approx(500.0 * STEEL)


def test_copy_paste_from_last_year_is_flagged():
    rows = _peers(2024) + _peers(2025) + [
        _row("S1-2024", "S1", 2024, 1000.0, 1950.0),
        _row("S1-2025", "S1", 2025, 1200.0, 1950.0),  # same total, 20 % more steel
    ]
    c = _check(rows)
    assert c.loc["S1-2024", "status"] == "accepted"
    assert c.loc["S1-2025", "status"] == "flagged"
    assert c.loc["S1-2025", "reasons"] == "history:copy_paste"
    assert c.loc["S1-2025", "prev_tco2e"] == 1950.0


def test_a_jump_without_activity_change_is_flagged():
    rows = _peers(2024) + _peers(2025) + [_row("A", "S1", 2024, 1000.0, 1300.0), _row("B", "S1", 2025, 1020.0, 2000.0)]
    c = _check(rows)
    assert c.loc["B", "reasons"] == "history:jump" and c.loc["B", "status"] == "flagged"


def test_an_intensity_far_off_peers_is_flagged_by_the_robust_z():
    # 5.0 t/t is within the activity band (2.6x the factor) but far from peers at 1.8-2.1
    c = _check(_peers() + [_row("OFF", "S1", 2025, 1000.0, 5000.0)])
    assert c.loc["OFF", "status"] == "flagged" and c.loc["OFF", "reasons"] == "peer:robust_z"
    x = np.log10(np.r_[1.8 + 0.04 * np.arange(8), 5.0])
    med = np.median(x)
    mad = np.median(np.abs(x - med))
    assert c.loc["OFF", "peer_z"] == pytest.approx(0.6745 * (np.log10(5.0) - med) / mad)


def test_one_row_is_checked_against_a_reference_and_older_versions_are_superseded():
    ref = build_reference(check_submissions(pd.DataFrame(_peers())))
    assert ref[["commodity", "year", "n_peers"]].values.tolist() == [["steel", 2025, 8]]
    one = _check([_row("OFF", "S1", 2025, 1000.0, 5000.0)], reference=ref)
    assert one.loc["OFF", "reasons"] == "peer:robust_z"
    two = check_submissions(pd.DataFrame([_row("X", "S1", 2025, 1000.0, 5000.0, version=1),
                                          _row("X", "S1", 2025, 1000.0, 1950.0, version=2)]), reference=ref)
    assert two["status"].tolist() == ["superseded", "accepted"]


def test_spend_check_uses_eeio_and_flags_a_far_ratio():
    links = pd.DataFrame({"from_id": ["S1", "S2"], "commodity": ["steel", "steel"], "spend_year": [2021, 2021],
                          "annual_spend_eur": [1_000_000.0, 1_000_000.0]})
    rows = _peers(2021) + [_row("OK", "S1", 2021, 1000.0, 1950.0), _row("HI", "S2", 2021, 6000.0, 11700.0)]
    c = _check(rows, links=links)
    est = 1_000_000 * 1.183 * 0.979 / 1000  # EUR 2021 -> USD 2021 x EPA SEF 331110 with margins
    assert c.loc["OK", "spend_estimate_t"] == pytest.approx(est)
    assert c.loc["OK", "status"] == "accepted"
    assert "spend:ratio" in c.loc["HI", "reasons"].split("; ")


def test_every_planted_error_in_the_demo_sample_is_caught():
    from features.sample import generate
    from features.sample_suppliers import planted_errors

    t = generate("demo")
    c = check_submissions(t["supplier_submissions"], links=t["supply_links"]).merge(
        planted_errors("demo"), on="submission_id", validate="1:1")
    assert len(c) == len(t["supplier_submissions"])
    assert (c.loc[c["planted"] == "unit_slip", "status"] == "rejected").all()
    assert (c.loc[c["planted"] == "peer_outlier", "status"] != "accepted").all()
    assert (c.loc[c["planted"] == "copy_paste", "status"] != "accepted").mean() >= 0.8
    assert (c.loc[c["planted"] == "", "status"] == "accepted").mean() >= 0.97
