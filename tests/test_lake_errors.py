"""A truncated or missing lake table names the dataset, the file and what to re-run."""

from __future__ import annotations

import pandas as pd
import pytest

from core import catalog, lake


def test_truncated_parquet_names_dataset_path_and_rerun(tmp_path):
    root = str(tmp_path / "lake")
    key = "weekly-2026-11-23--a20261202T090000-abcd"
    uri = catalog.DEMAND_FORECAST.write(pd.DataFrame({"yhat": range(1000)}), key, root=root)
    path = tmp_path / "lake" / "forecast" / key / "demand_forecast.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(lake.LakeDataError) as e:
        catalog.DEMAND_FORECAST.read(key, root=root)
    msg = str(e.value)
    assert e.value.kind == "corrupt"
    assert uri in msg and "truncated or corrupt" in msg and f"{len(data) // 2} bytes" in msg
    assert "dataset forecast/demand_forecast" in msg
    assert "co2plan weekly --date 2026-11-23" in msg and "clear task 'forecast'" in msg
    assert "<Buffer>" not in msg and "magic bytes" in msg


def test_missing_table_says_missing(tmp_path):
    with pytest.raises(lake.LakeDataError, match=r"is missing .*dataset validated/plants.*clear task 'validate'"):
        catalog.VALIDATED.plants.read("weekly-2026-11-23", root=str(tmp_path))
    with pytest.raises(ValueError):  # LakeDataError is a ValueError: DAG tasks fail at once, no retries
        catalog.KPIS.read("r", "baseline", root=str(tmp_path))
