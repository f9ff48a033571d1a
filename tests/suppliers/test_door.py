"""Supply tables at the door: dangling ends, cycles and share sums quarantined with a reason; counts balance."""

from __future__ import annotations

import pandas as pd

from features.validate import validate_tables


def _plants() -> pd.DataFrame:
    return pd.DataFrame({"plant_id": ["P"], "name": ["p"], "country": ["DE"], "grid_region": [None],
                         "lat": [50.0], "lon": [10.0], "capacity_units_per_week": [100.0],
                         "equity_share": [1.0], "operational_control": [True]})


def _suppliers(ids) -> pd.DataFrame:
    return pd.DataFrame({"supplier_id": ids, "name": ids, "country": "DE", "lat": None, "lon": None,
                         "commodity": "parts", "tier": 1, "kind": "supplier"})


def _links(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["from_id", "to_id", "share"])
    df.insert(0, "link_id", [f"L{i}" for i in range(len(df))])
    return df.assign(commodity="parts", annual_volume=10.0, volume_unit="units", annual_spend_eur=100.0,
                     spend_year=2025, capacity_per_week=None)


def _validate(links: pd.DataFrame, ids) -> object:
    raw = {"plants": _plants(), "suppliers": _suppliers(ids), "supply_links": links}
    return validate_tables(raw, max_bad_share=1.0, required=["plants"])


def test_a_cycle_is_quarantined_with_its_path_and_a_clean_chain_is_kept():
    ids = ["A", "B", "C", "X", "Y"]
    links = _links([("X", "Y", 1.0), ("Y", "P", 1.0),  # clean chain X -> Y -> P
                    ("A", "B", 1.0), ("B", "C", 1.0), ("C", "A", 1.0)])  # cycle
    res = _validate(links, ids)
    q = res.quarantine["supply_links"]
    assert sorted(q["link_id"]) == ["L2", "L3", "L4"]
    assert set(q["reason"]) == {"link in a cycle: A -> B -> C -> A"}
    assert sorted(res.valid["supply_links"]["link_id"]) == ["L0", "L1"]
    c = res.counts["supply_links"]
    assert (c["rows_in"], c["valid"], c["quarantined"]) == (5, 2, 3)
    assert c["by_reason"] == {"link:cycle": 3}
    assert q["source_row"].tolist() == [3, 4, 5]


def test_shares_that_do_not_sum_quarantine_the_group_and_a_dangling_end_fails_the_reference():
    ids = ["A", "B", "C"]
    links = _links([("A", "P", 0.5), ("B", "P", 0.3),  # sums to 0.8
                    ("C", "NOWHERE", 1.0)])
    res = _validate(links, ids)
    q = res.quarantine["supply_links"].set_index("link_id")["reason"].to_dict()
    assert q == {"L0": "shares of (P, parts) sum to 0.8 (1 +- 0.01 expected)",
                 "L1": "shares of (P, parts) sum to 0.8 (1 +- 0.01 expected)",
                 "L2": "to_id: 'NOWHERE' not found in suppliers or plants"}
    assert res.counts["supply_links"]["by_reason"] == {"share:sum": 2, "to_id:reference": 1}
    assert res.counts["supply_links"]["valid"] == 0


def test_the_demo_sample_passes_the_door_with_hundreds_of_suppliers():
    from features.sample import generate

    t = generate("demo")
    res = validate_tables(t)
    for name in ("suppliers", "supply_links", "esg_scores", "supplier_events", "supplier_submissions"):
        assert res.counts[name]["quarantined"] == 0, res.counts[name]
    assert len(t["suppliers"]) >= 300 and len(t["supply_links"]) >= 1000
    assert set(t["suppliers"]["tier"]) == {1, 2, 3, 4}
