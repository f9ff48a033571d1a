"""Validation at the door: every rule with a failing and a passing case, quarantine, counts, stops."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core import lake
from core.tables import TABLE_ORDER, TABLES
from features.extract import extract
from features.validate import TableUnusableError, validate, validate_tables

# (table, row, column, bad text, expected reason, rule key, good text, parsed good value)
RULE_CASES = [
    ("demand_history", 3, "units", "abc", "units: 'abc' is not a number (float)", "units:type", "12.5", 12.5),
    ("demand_history", 3, "units", "1e999", "units: '1e999' is not a finite number", "units:type", "1e3", 1000.0),
    ("demand_history", 3, "units", "-5", "units: -5 < 0 (ge 0)", "units:ge", "0", 0.0),
    ("demand_history", 3, "units", "NaN", "units: missing (required)", "units:required", " 7 ", 7.0),
    ("plants", 1, "equity_share", "1.5", "equity_share: 1.5 > 1 (le 1)", "equity_share:le", "1", 1.0),
    ("products", 0, "weight_t", "0.2", "weight_t: 0.2 < 0.3 (ge 0.3)", "weight_t:ge", "0.3", 0.3),
    ("emission_factors", 0, "year", "2023.5", "year: '2023.5' is not a whole number (int)", "year:type",
     "2023.0", 2023),
    ("emission_factors", 0, "year", "99999999999999999999", "year: '99999999999999999999' is out of the int64 range",
     "year:type", " 2024 ", 2024),
    ("emission_factors", 0, "year", "1989", "year: 1989 < 1990 (ge 1990)", "year:ge", "1990", 1990),
    ("supplier_emissions", 0, "year", "2101", "year: 2101 > 2100 (le 2100)", "year:le", "2100", 2100),
    ("energy_use", 2, "unit", "furlong", "unit: 'furlong' not allowed (isin kWh, MWh, GJ", "unit:isin",
     "MWh", "MWh"),
    # unit aliases (issue 15): 'kwh' and 'L' are accepted as kWh / litre; mWh (milliwatt-hour) and the
    # ambiguous 'gal' stay refused
    ("energy_use", 2, "unit", "mWh", "unit: 'mWh' not allowed", "unit:isin", "kwh", "kWh"),
    ("energy_use", 2, "unit", "gal", "unit: 'gal' not allowed", "unit:isin", "L", "litre"),
    ("lanes", 0, "mode", "teleport", "mode: 'teleport' not allowed (isin road, rail, sea, air)", "mode:isin",
     "rail", "rail"),
    ("energy_use", 0, "week", "01/02/2024", "week: '01/02/2024' is not an ISO date (YYYY-MM-DD)", "week:type",
     "2024-01-01 00:00:00", pd.Timestamp("2024-01-01")),
    ("energy_use", 0, "week", "2024-01-03", "week: '2024-01-03' is not a Monday", "week:monday",
     "2024-01-01T00:00:00", pd.Timestamp("2024-01-01")),
    ("energy_use", 0, "week", "2024-01-01 05:00", "week: '2024-01-01 05:00' has a time of day", "week:type",
     "2024-01-01", pd.Timestamp("2024-01-01")),
    ("energy_contracts", 0, "start", "2024-02-30", "start: '2024-02-30' is not an ISO date", "start:type",
     "2024-01-02", pd.Timestamp("2024-01-02")),
    ("plants", 0, "operational_control", "maybe", "operational_control: 'maybe' is not a boolean",
     "operational_control:type", "yes", True),
    ("plants", 0, "name", "   ", "name: missing (required)", "name:required", "  Leipzig  ", "  Leipzig  "),
    ("plants", 0, "name", None, "name: missing (required)", "name:required", "NA", "NA"),
    ("lanes", 0, "plant_id", "P9", "plant_id: 'P9' not found in plants.plant_id", "plant_id:reference",
     "P2", "P2"),
    ("demand_history", 3, "product_id", "K9", "product_id: 'K9' not found in products.product_id",
     "product_id:reference", "K2", "K2"),
    ("energy_contracts", 0, "end", "2023-12-31", "end before start: 2023-12-31 < 2024-01-01",
     "row:end_before_start", "2024-01-01", pd.Timestamp("2024-01-01")),
]


def _ids(case):
    return f"{case[0]}.{case[2]}={case[3]!r}"


@pytest.mark.parametrize("case", RULE_CASES, ids=[_ids(c) for c in RULE_CASES])
def test_rule_fails_on_bad_value_and_passes_on_good_value(network, as_text, case):
    table, row, column, bad, reason, rule, good, parsed = case
    raw = as_text(network)
    raw[table].loc[row, column] = bad
    res = validate_tables(raw, max_bad_share=1.0)
    q = res.quarantine[table]
    assert q["source_row"].tolist() == [row + 1]
    assert reason in q["reason"].iloc[0]
    assert q[column].iloc[0] == bad or (bad is None and pd.isna(q[column].iloc[0]))  # original text kept
    assert res.counts[table]["by_reason"] == {rule: 1}
    assert res.counts[table]["valid"] == len(network[table]) - 1

    raw[table].loc[row, column] = good
    res = validate_tables(raw, max_bad_share=1.0)
    assert res.counts[table]["quarantined"] == 0
    assert res.valid[table].loc[row, column] == parsed


def test_valid_network_passes_unchanged_with_contract_dtypes(network, as_text):
    res = validate_tables(as_text(network))
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(res.valid[name], network[name])  # dtypes included
        assert res.counts[name]["quarantined"] == 0 and len(res.quarantine[name]) == 0
    # typed input (e.g. straight from a generator) gives the same result
    typed = validate_tables(network)
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(typed.valid[name], network[name])


def test_several_reasons_are_joined(network, as_text):
    raw = as_text(network)
    raw["energy_use"].loc[5, ["quantity", "unit"]] = ["-1", "barrel"]
    q = validate_tables(raw, max_bad_share=1.0).quarantine["energy_use"]
    assert q["reason"].tolist() == ["quantity: -1 < 0 (ge 0); unit: 'barrel' not allowed "
                                    "(isin kWh, MWh, GJ, mmBtu, therm, m3, scf, litre, US_gallon, GWh, imp_gallon, "
                                    "tonne, short_ton, kg)"]


def test_exact_duplicate_keeps_first_and_quarantines_the_copy(network, as_text):
    raw = as_text(network)
    d = raw["demand_history"]
    raw["demand_history"] = pd.concat([d, d.iloc[[4]]], ignore_index=True)  # copy of source row 5
    res = validate_tables(raw)
    q = res.quarantine["demand_history"]
    assert q["source_row"].tolist() == [25]
    assert "exact copy of source row 5" in q["reason"].iloc[0]
    assert "week=2024-01-01, product_id=K3, market_id=M1" in q["reason"].iloc[0]
    assert res.counts["demand_history"]["valid"] == 24
    assert res.counts["demand_history"]["by_reason"] == {"key:duplicate_copy": 1}


def test_conflicting_duplicates_are_all_quarantined(network, as_text):
    raw = as_text(network)
    d = raw["demand_history"]
    extra = d.iloc[[4]].copy()
    extra["units"] = "999"
    extra["week"] = "2024-01-01 00:00:00"  # the same week written differently is the same key
    raw["demand_history"] = pd.concat([d, extra], ignore_index=True)
    res = validate_tables(raw, max_bad_share=0.1)
    q = res.quarantine["demand_history"]
    assert q["source_row"].tolist() == [5, 25]
    assert all("on conflicting rows (source rows 5, 25)" in r for r in q["reason"])
    assert res.counts["demand_history"]["valid"] == 23


def test_distinct_keys_pass(network, as_text):
    raw = as_text(network)
    d = raw["demand_history"]
    extra = d.iloc[[4]].copy()
    extra["week"] = "2024-01-29"  # a fifth week: new key
    raw["demand_history"] = pd.concat([d, extra], ignore_index=True)
    assert validate_tables(raw).counts["demand_history"]["valid"] == 25


def test_rows_of_a_quarantined_parent_are_quarantined_down_the_chain(network, as_text):
    raw = as_text(network)
    raw["plants"].loc[1, "lat"] = "north"  # P2 is bad
    res = validate_tables(raw, max_bad_share=1.0)
    assert res.valid["plants"]["plant_id"].tolist() == ["P1"]
    lanes_q = res.quarantine["lanes"]
    assert lanes_q["lane_id"].tolist() == ["L3", "L4"]
    assert set(lanes_q["reason"]) == {"plant_id: 'P2' refers to a quarantined plants row"}
    # shipments on L3/L4 lose their lane in turn: 2 lanes x 4 weeks
    ship_q = res.quarantine["shipments"]
    assert len(ship_q) == 8 and set(ship_q["lane_id"]) == {"L3", "L4"}
    assert set(ship_q["reason"]) == {"lane_id: 'L3' refers to a quarantined lanes row",
                                     "lane_id: 'L4' refers to a quarantined lanes row"}
    assert res.counts["energy_use"]["quarantined"] == 12  # P2: 4 weeks x 3 carriers
    assert res.counts["plant_products"]["by_reason"] == {"plant_id:parent_quarantined": 2}


def test_no_value_is_truncated(network, as_text):
    raw = as_text(network)
    long_name = "Sindelfingen " + "x" * 10_000 + " ü€"
    raw["plants"].loc[0, "name"] = long_name
    raw["demand_history"].loc[0, "units"] = "1"
    raw["demand_history"].loc[1, "units"] = "1.000000000000001"
    raw["demand_history"].loc[2, "units"] = "0.30000000000000004"
    raw["demand_history"].loc[3, "units"] = "123456789.12345679"
    res = validate_tables(raw)
    assert res.valid["plants"].loc[0, "name"] == long_name
    u = res.valid["demand_history"]["units"]
    assert u[1] - u[0] == pytest.approx(1.1102230246251565e-15, rel=0, abs=0)  # one ulp above 1.0
    assert u[1] != u[0]
    assert u[2] == 0.1 + 0.2 and u[2] != 0.3
    assert u[3] == 123456789.12345679


def test_counts_add_up_for_every_table(network, as_text):
    raw = as_text(network)
    raw["plants"].loc[1, "lat"] = "north"
    raw["demand_history"].loc[0, "units"] = "-1"
    res = validate_tables(raw, max_bad_share=1.0)
    for name in TABLE_ORDER:
        c = res.counts[name]
        assert c["rows_in"] == len(raw[name]) == c["valid"] + c["quarantined"]
        assert len(res.valid[name]) == c["valid"] and len(res.quarantine[name]) == c["quarantined"]
    assert res.counts["demand_history"]["quarantined"] == 1


# ------------------------------------------------------------------------------------ unusable tables


def test_missing_required_column_stops_the_run(network, as_text):
    raw = as_text(network)
    raw["demand_history"] = raw["demand_history"].drop(columns=["units"])
    with pytest.raises(TableUnusableError, match=r"table 'demand_history' is unusable: required column\(s\) "
                                                 r"missing: units") as e:
        validate_tables(raw)
    assert e.value.table == "demand_history" and isinstance(e.value, ValueError)
    assert set(e.value.partial.valid) == set(TABLE_ORDER[:TABLE_ORDER.index("demand_history")])


def test_missing_nullable_column_is_filled_with_nulls_and_recorded(network, as_text):
    raw = as_text(network)
    raw["plants"] = raw["plants"].drop(columns=["grid_region"])
    raw["plants"]["comment"] = "extra"
    res = validate_tables(raw)
    assert res.valid["plants"]["grid_region"].isna().all()
    assert res.counts["plants"]["missing_nullable_columns_filled"] == ["grid_region"]
    assert res.counts["plants"]["extra_columns_not_validated"] == ["comment"]
    assert "comment" not in res.valid["plants"]


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame(), r"empty input \(no header, no rows\)"),
    (pd.DataFrame({c: pd.Series([], dtype=object) for c in TABLES["lanes"].column_names}),
     r"the table is empty \(header only, 0 rows\)"),
])
def test_empty_table_stops_the_run(network, as_text, frame, message):
    raw = as_text(network)
    raw["lanes"] = frame
    with pytest.raises(TableUnusableError, match=rf"table 'lanes' is unusable: {message}"):
        validate_tables(raw)


def test_optional_table_may_be_missing_or_header_only(network, as_text):
    raw = as_text(network)
    del raw["supplier_emissions"]
    raw["energy_contracts"] = raw["energy_contracts"].iloc[:0]
    res = validate_tables(raw)
    assert "supplier_emissions" not in res.valid
    assert len(res.valid["energy_contracts"]) == 0
    assert res.valid["energy_contracts"]["start"].dtype == "datetime64[ns]"


def test_missing_required_table_stops_the_run(network, as_text):
    raw = as_text(network)
    del raw["markets"], raw["shipments"]
    with pytest.raises(TableUnusableError, match=r"table 'markets, shipments' is unusable: missing"):
        validate_tables(raw)


def test_every_row_bad_stops_the_run_whatever_the_limit(network, as_text):
    raw = as_text(network)
    raw["markets"]["lat"] = "?"
    with pytest.raises(TableUnusableError, match=r"table 'markets' is unusable: every row is bad \(2 of 2\); "
                                                 r"rules: lat:type x2") as e:
        validate_tables(raw, max_bad_share=1.0)
    assert len(e.value.partial.quarantine["markets"]) == 2


def test_bad_share_over_the_limit_stops_the_run_and_the_limit_is_configurable(network, as_text):
    raw = as_text(network)
    raw["demand_history"].loc[[0, 1], "units"] = "-1"  # 2 of 24 = 8.3 %
    with pytest.raises(TableUnusableError, match=r"table 'demand_history' is unusable: bad-row share 8.3% "
                                                 r"\(2 of 24\) exceeds max_bad_share 5.0%; rules: units:ge x2"):
        validate_tables(raw)
    assert validate_tables(raw, max_bad_share=0.1).counts["demand_history"]["quarantined"] == 2
    raw["demand_history"].loc[1, "units"] = "1"  # 1 of 24 = 4.2 %: under the default limit
    assert validate_tables(raw).counts["demand_history"]["quarantined"] == 1


# ------------------------------------------------------------------------------------ lake stage with real files


@pytest.fixture
def csv_run(tmp_path, network, as_text):
    """Write the network as CSV text (editable first), extract it and return (root, tables)."""

    def run(edit=None, run_id="r1", **kw):
        raw = as_text(network)
        if edit:
            edit(raw)
        src = tmp_path / "src"
        src.mkdir(exist_ok=True)
        for name, df in raw.items():
            df.to_csv(src / f"{name}.csv", index=False)
        root = str(tmp_path / "lake")
        extract(str(src), run_id, root=root)
        return root, validate(run_id, root=root, **kw)

    return run


def test_malformed_csv_files_are_quarantined_with_reasons_and_counted(csv_run):
    def edit(raw):
        d = raw["demand_history"]
        d.loc[0, "units"] = "abc"  # wrong type
        d.loc[1, "units"] = "-5"  # negative quantity
        d.loc[2, "product_id"] = "K404"  # dangling reference
        raw["demand_history"] = pd.concat([d, d.iloc[[5]]], ignore_index=True)  # duplicate key (exact copy)
        raw["energy_use"].loc[3, "unit"] = "furlong"  # unknown unit

    root, out = csv_run(edit, max_bad_share=0.2)
    q = lake.read_table("quarantine", "r1", "demand_history", root)
    assert q["source_row"].tolist() == [1, 2, 3, 25]
    assert q["reason"].tolist() == [
        "units: 'abc' is not a number (float)",
        "units: -5 < 0 (ge 0)",
        "product_id: 'K404' not found in products.product_id",
        "duplicate key (week, product_id, market_id): week=2024-01-01, product_id=K3, market_id=M2 "
        "is an exact copy of source row 6",
    ]
    assert q["units"].tolist() == ["abc", "-5", "25", "55"]  # original text
    v = lake.read_table("validated", "r1", "demand_history", root)
    assert len(v) == 21 and v["units"].dtype == "float64" and v["week"].dtype == "datetime64[ns]"
    qe = lake.read_table("quarantine", "r1", "energy_use", root)
    assert qe["unit"].tolist() == ["furlong"] and qe["source_row"].tolist() == [4]

    m = json.loads(open(lake.manifest_uri("r1", root)).read())["validate"]
    assert m == out and m["status"] == "ok"
    dh = m["tables"]["demand_history"]
    assert (dh["rows_in"], dh["valid"], dh["quarantined"]) == (25, 21, 4)
    assert dh["by_reason"] == {"key:duplicate_copy": 1, "product_id:reference": 1, "units:ge": 1, "units:type": 1}
    assert m["tables"]["energy_use"]["by_reason"] == {"unit:isin": 1}
    # 2+3+2+4+4+24+16+24+16+5+2+2 = 104 rows written, + 2+2 refrigerant/process (issue 15) + 2+3+2+2+1 supply rows
    # (issue 16) + 7 planning-input rows (issue 13: 2+2+1+1+1) + 6 driver rows (issue 14: 2+2+2), plus the
    # duplicated demand row
    assert m["totals"] == {"rows_in": 132, "valid": 127, "quarantined": 5}
    for t in TABLE_ORDER:
        c = m["tables"][t]
        assert c["rows_in"] == c["valid"] + c["quarantined"]
        assert lake.exists(c["validated_uri"]) and lake.exists(c["quarantine_uri"])


def test_unusable_table_writes_quarantine_and_failed_manifest_then_raises(tmp_path, network, as_text):
    root = str(tmp_path / "lake")

    def extract_csv(raw):
        src = tmp_path / "src"
        src.mkdir(exist_ok=True)
        for name, df in raw.items():
            df.to_csv(src / f"{name}.csv", index=False)
        extract(str(src), "r2", root=root)

    raw = as_text(network)
    extract_csv(raw)
    validate("r2", root=root)  # a first, good attempt under the same run id
    assert lake.exists(lake.table_uri("validated", "r2", "demand_history", root))

    raw["demand_history"].loc[[0, 1, 2], "units"] = "-1"
    extract_csv(raw)
    with pytest.raises(TableUnusableError):
        validate("r2", root=root)
    m = lake.read_manifest("r2", root)["validate"]
    assert m["status"] == "failed" and m["failed_table"] == "demand_history"
    assert "12.5% (3 of 24)" in m["error"]
    assert m["tables"]["demand_history"]["quarantined"] == 3
    assert len(lake.read_table("quarantine", "r2", "demand_history", root)) == 3
    assert lake.list_tables("validated", "r2", root) == []  # nothing stale for a later stage to pick up


def test_validate_without_raw_tables_says_run_extract_first(tmp_path):
    with pytest.raises(TableUnusableError, match="no raw tables for run 'nope'.*run extract first"):
        validate("nope", root=str(tmp_path))


def test_validation_is_deterministic(csv_run, tmp_path):
    root, _ = csv_run()
    files = sorted(p for p in (tmp_path / "lake").rglob("*.parquet") if "/raw/" not in str(p))
    first = {p: p.read_bytes() for p in files}
    validate("r1", root=root)
    assert {p: p.read_bytes() for p in files} == first
    assert len(files) == 2 * len(TABLE_ORDER)


def test_many_rows_validate_vectorised(network, as_text):
    """Guard that the checks work column-wise on a larger frame (50k rows, a handful bad)."""
    raw = as_text(network)
    n = 50_000
    weeks = pd.date_range("2000-01-03", periods=n // 6 + 1, freq="7D")
    big = pd.DataFrame({
        "week": np.repeat(weeks.strftime("%Y-%m-%d"), 6)[:n],
        "product_id": np.tile(["K1", "K2", "K3"], n // 3 + 1)[:n],
        "market_id": np.tile(["M1", "M1", "M1", "M2", "M2", "M2"], n // 6 + 1)[:n],
        "units": np.arange(n).astype(str),
    })
    big.loc[[10, 20_000], "units"] = ["-3", "x"]
    raw["demand_history"] = big
    res = validate_tables(raw)
    c = res.counts["demand_history"]
    assert (c["valid"], c["quarantined"]) == (n - 2, 2)
    assert res.valid["demand_history"]["units"].sum() == sum(range(n)) - 10 - 20_000


def test_rerun_without_an_optional_table_removes_its_stale_validated_copy(tmp_path, network, write_folder):
    from core import lake
    from features.extract import extract
    from features.validate import validate

    src = tmp_path / "src"
    write_folder(network, src)
    root = str(tmp_path / "lake")
    extract(str(src), "r", root=root)
    validate("r", root=root)
    assert "energy_contracts" in lake.list_tables("validated", "r", root)
    next(src.glob("energy_contracts.*")).unlink()
    extract(str(src), "r", root=root)
    validate("r", root=root)
    assert "energy_contracts" not in lake.list_tables("validated", "r", root)
    assert "energy_contracts" not in lake.list_tables("quarantine", "r", root)
    assert "plants" in lake.list_tables("validated", "r", root)


def test_padded_ids_are_trimmed_and_reported(network, as_text):
    from features.validate import validate_tables

    raw = as_text(network)
    raw["plants"].loc[0, "plant_id"] = " " + raw["plants"].loc[0, "plant_id"] + "  "
    raw["production_history"]["product_id"] = raw["production_history"]["product_id"] + " "
    r = validate_tables(raw)
    assert r.counts["plants"]["whitespace_trimmed"] == {"plant_id": 1}
    assert r.counts["production_history"]["whitespace_trimmed"] == {"product_id": len(raw["production_history"])}
    assert sum(c["quarantined"] for c in r.counts.values()) == 0
    assert r.valid["plants"]["plant_id"].iloc[0] == network["plants"]["plant_id"].iloc[0]
    assert "whitespace_trimmed" not in r.counts["markets"]


def test_semicolon_header_gets_a_delimiter_hint(network, as_text):
    from features.validate import validate_tables

    raw = as_text(network)
    d = raw["demand_history"]
    raw["demand_history"] = pd.DataFrame({";".join(d.columns): d.astype(str).agg(";".join, axis=1)})
    with pytest.raises(TableUnusableError, match="looks ';'-separated"):
        validate_tables(raw)
