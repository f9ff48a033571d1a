import json

import pandas as pd
import pytest

from core import lake
from core.tables import TABLE_ORDER, TABLES


def test_table_order_resolves_references_before_use():
    seen: set[str] = set()
    for name in TABLE_ORDER:
        for _col, (ref_table, ref_col) in TABLES[name].references.items():
            assert ref_table in seen, f"{name} references {ref_table} before it is validated"
            assert ref_col in TABLES[ref_table].column_names
        seen.add(name)


def test_write_table_is_atomic_and_deterministic(tmp_path):
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    uri = lake.write_table(df, "raw", "r1", "t", root=str(tmp_path))
    first = (tmp_path / "raw" / "r1" / "t.parquet").read_bytes()
    lake.write_table(df, "raw", "r1", "t", root=str(tmp_path))
    assert (tmp_path / "raw" / "r1" / "t.parquet").read_bytes() == first
    assert not [p for p in (tmp_path / "raw" / "r1").iterdir() if p.name.startswith(".tmp")]
    pd.testing.assert_frame_equal(lake.read_uri(uri), df)


def test_manifest_sections_merge(tmp_path):
    lake.update_manifest("r1", "extract", {"rows": 3}, root=str(tmp_path))
    lake.update_manifest("r1", "validate", {"bad": 0}, root=str(tmp_path))
    m = json.loads((tmp_path / "runs" / "r1" / "manifest.json").read_text())
    assert m["extract"] == {"rows": 3} and m["validate"] == {"bad": 0} and m["run_id"] == "r1"
    assert lake.list_runs(root=str(tmp_path)) == ["r1"]


def test_frame_hash_changes_with_content():
    a = pd.DataFrame({"x": [1.0, 2.0]})
    assert lake.frame_hash(a) == lake.frame_hash(a.copy())
    assert lake.frame_hash(a) != lake.frame_hash(pd.DataFrame({"x": [1.0, 2.5]}))
    with pytest.raises(KeyError):
        TABLES["nope"]


def test_manifest_section_names_round_trip_and_nan_becomes_null(tmp_path):
    import numpy as np

    lake.update_manifest("r1", "plan/cut__15", {"x": float("nan"), "y": np.float64(2.5)}, root=str(tmp_path))
    m = lake.read_manifest("r1", root=str(tmp_path))
    assert m["plan/cut__15"] == {"x": None, "y": 2.5}
    json.loads((tmp_path / "runs" / "r1" / "manifest.json").read_text())  # strict JSON, no NaN token
    assert "NaN" not in (tmp_path / "runs" / "r1" / "manifest.json").read_text()
