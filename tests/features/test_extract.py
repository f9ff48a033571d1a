"""Extraction into the lake from CSV / Parquet / fsspec folders, SQLite and PostgreSQL, and bad input."""

from __future__ import annotations

import csv
import hashlib
import uuid

import fsspec
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

import core
from core import lake
from core.tables import TABLE_ORDER, TABLES
from features.extract import SourceReadError, extract, load_tables_to_sql, sql_engine_url
from features.validate import TableUnusableError, validate

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _by_key(df: pd.DataFrame, table: str) -> pd.DataFrame:
    return df.sort_values(list(TABLES[table].key)).reset_index(drop=True)


def _validated(run_id: str, root: str) -> dict[str, pd.DataFrame]:
    return {t: lake.read_table("validated", run_id, t, root) for t in TABLE_ORDER}


def _assert_same_tables(got: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    for t in TABLE_ORDER:
        pd.testing.assert_frame_equal(_by_key(got[t], t), _by_key(expected[t], t), obj=t)


def test_csv_folder_lands_in_raw_as_text_exactly_as_written(tmp_path, network, write_folder):
    network["markets"].loc[1, "country"] = "NA"  # Namibia, not a null
    network["plants"].loc[0, "name"] = "007 " + "y" * 5000
    network["demand_history"].loc[0, "units"] = 1.000000000000001
    write_folder(network, tmp_path / "src")
    root = str(tmp_path / "lake")
    out = extract(str(tmp_path / "src"), "r1", root=root)

    for t in TABLE_ORDER:  # raw == the cells of the file, read independently with the csv module
        with open(tmp_path / "src" / f"{t}.csv", newline="", encoding="utf-8") as fh:
            header, *rows = list(csv.reader(fh))
        expected = pd.DataFrame([[v if v != "" else None for v in r] for r in rows], columns=header, dtype=object)
        pd.testing.assert_frame_equal(lake.read_table("raw", "r1", t, root), expected, obj=t)
    assert lake.read_table("raw", "r1", "markets", root).loc[1, "country"] == "NA"
    assert lake.read_table("raw", "r1", "demand_history", root).loc[0, "units"] == "1.000000000000001"

    info = out["tables"]["demand_history"]
    data = (tmp_path / "src" / "demand_history.csv").read_bytes()
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert (info["rows"], info["columns"], info["format"]) == (24, ["week", "product_id", "market_id", "units"], "csv")
    assert info["source_uri"].endswith("/src/demand_history.csv")
    assert out["versions"]["co2plan"] == core.__version__ and out["versions"]["pandas"] == pd.__version__
    assert out["versions"]["pyarrow"] == pa.__version__
    assert out["status"] == "ok" and out["missing"] == {}
    assert lake.read_manifest("r1", root)["extract"] == out

    v = validate("r1", root=root)
    assert v["totals"]["quarantined"] == 0
    assert lake.read_table("validated", "r1", "demand_history", root).loc[0, "units"] == 1.000000000000001
    assert len(lake.read_table("validated", "r1", "plants", root).loc[0, "name"]) == 5004


def test_every_source_kind_gives_the_same_validated_tables(tmp_path, network, write_folder):
    root = str(tmp_path / "lake")
    write_folder(network, tmp_path / "csv", "csv")
    write_folder(network, tmp_path / "pq", "parquet")
    mem = f"memory://co2plan-test-{uuid.uuid4().hex}"
    fs = fsspec.filesystem("memory")
    for name, df in network.items():
        fs.pipe(f"{mem}/{name}.parquet", lake.frame_to_parquet_bytes(df))
    db = tmp_path / "source.db"
    assert load_tables_to_sql(network, f"sqlite:///{db}") == list(network)
    try:
        sources = {"csv": str(tmp_path / "csv"), "parquet": (tmp_path / "pq").as_uri(), "memory": mem,
                   "sqlite": f"sqlite:///{db}"}
        for run_id, source in sources.items():
            out = extract(source, run_id, root=root)
            # 104 + 4 refrigerant/process (issue 15) + 10 supply (issue 16) + 7 planning inputs (issue 13)
            # + 6 demand drivers (issue 14)
            assert sum(t["rows"] for t in out["tables"].values()) == 131
            validate(run_id, root=root)
            _assert_same_tables(_validated(run_id, root), network)
    finally:
        fs.rm(mem, recursive=True)
    sql_info = lake.read_manifest("sqlite", root)["extract"]
    assert sql_info["kind"] == "sql" and sql_info["tables"]["plants"]["format"] == "sql"
    assert sql_info["tables"]["plants"]["source_uri"] == f"sqlite:///{db}#plants"


def test_same_input_same_run_id_gives_byte_identical_lake_files(tmp_path, network, write_folder):
    write_folder(network, tmp_path / "src")
    load_tables_to_sql(network, f"sqlite:///{tmp_path / 'src.db'}")
    root = tmp_path / "lake"
    for run_id, source in (("csv", str(tmp_path / "src")), ("sql", f"sqlite:///{tmp_path / 'src.db'}")):
        extract(source, run_id, root=str(root))
        files = sorted(p for p in root.rglob("*") if p.is_file() and f"/{run_id}/" in str(p))
        first = {p: p.read_bytes() for p in files}
        extract(source, run_id, root=str(root))
        assert {p: p.read_bytes() for p in files} == first
        assert len(files) == len(TABLE_ORDER) + 2  # raw tables + manifest.json + its extract section
        assert not [p for p in root.rglob(".tmp-*")]


def test_sql_text_keeps_what_the_database_holds(tmp_path, network):
    """SQLite stores 'abc' in a REAL column; extraction keeps it and validation quarantines it."""
    url = f"sqlite:///{tmp_path / 'src.db'}"
    load_tables_to_sql(network, url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE demand_history SET units = 'abc' WHERE product_id = 'K1' "
                             "AND market_id = 'M1' AND week LIKE '2024-01-08%'"))
    engine.dispose()
    root = str(tmp_path / "lake")
    extract(url, "r1", root=root)
    validate("r1", root=root)
    q = lake.read_table("quarantine", "r1", "demand_history", root)
    assert q["units"].tolist() == ["abc"] and q["reason"].tolist() == ["units: 'abc' is not a number (float)"]
    assert q["source_row"].tolist() == [7]  # rows come ordered by key: week 2 starts at row 7


# ------------------------------------------------------------------------------------ missing tables


def test_missing_required_table_is_an_error_naming_table_and_place(tmp_path, network, write_folder):
    write_folder(network, tmp_path / "src")
    (tmp_path / "src" / "lanes.csv").unlink()
    (tmp_path / "src" / "markets.csv").unlink()
    root = str(tmp_path / "lake")
    with pytest.raises(TableUnusableError, match=r"table 'markets, lanes' is unusable: required table\(s\) not "
                                                 r"found \(markets: looked for markets.csv or markets.parquet in "):
        extract(str(tmp_path / "src"), "r1", root=root)
    m = lake.read_manifest("r1", root)["extract"]
    assert m["status"] == "failed" and set(m["missing"]) == {"markets", "lanes"}
    assert lake.list_tables("raw", "r1", root) == []


def test_missing_optional_table_is_recorded_and_the_run_goes_on(tmp_path, network, write_folder):
    write_folder(network, tmp_path / "src")
    root = str(tmp_path / "lake")
    extract(str(tmp_path / "src"), "r1", root=root)
    (tmp_path / "src" / "supplier_emissions.csv").unlink()
    out = extract(str(tmp_path / "src"), "r1", root=root)  # again, same run id, without the table
    assert "supplier_emissions" not in lake.list_tables("raw", "r1", root)
    assert list(out["missing"]) == ["supplier_emissions"]
    assert "supplier_emissions.csv or supplier_emissions.parquet" in out["missing"]["supplier_emissions"]
    v = validate("r1", root=root)
    assert "supplier_emissions" not in v["tables"] and v["status"] == "ok"


def test_explicit_table_list_makes_each_required(tmp_path, network, write_folder):
    write_folder({"plants": network["plants"]}, tmp_path / "src")
    out = extract(str(tmp_path / "src"), "r1", root=str(tmp_path / "lake"), tables=["plants"])
    assert list(out["tables"]) == ["plants"]
    with pytest.raises(TableUnusableError, match="table 'products' is unusable: required"):
        extract(str(tmp_path / "src"), "r1", root=str(tmp_path / "lake"), tables=["plants", "products"])


def test_missing_sql_table_is_named(tmp_path, network):
    url = f"sqlite:///{tmp_path / 'src.db'}"
    load_tables_to_sql({k: v for k, v in network.items() if k != "shipments"}, url)
    with pytest.raises(TableUnusableError, match=r"table 'shipments' is unusable: .*table 'shipments' in sqlite:///"):
        extract(url, "r1", root=str(tmp_path / "lake"))


# ------------------------------------------------------------------------------------ unreadable input


def test_non_utf8_csv_names_the_file_and_byte_offset(tmp_path, network, write_folder):
    write_folder(network, tmp_path / "src")
    text = (tmp_path / "src" / "plants.csv").read_text().replace("Leipzig", "Zwickau-Mosel Müller")
    data = text.encode("latin-1")
    (tmp_path / "src" / "plants.csv").write_bytes(data)
    offset = data.index(b"\xfc")
    with pytest.raises(SourceReadError, match=rf"table 'plants' is unusable: cannot read \S*plants.csv: not UTF-8 "
                                              rf"text \(byte 0xfc at byte offset {offset}, line 2") as e:
        extract(str(tmp_path / "src"), "r1", root=str(tmp_path / "lake"))
    assert isinstance(e.value.__cause__, UnicodeDecodeError) and isinstance(e.value, ValueError)


def test_truncated_parquet_names_the_file(tmp_path, network, write_folder):
    write_folder(network, tmp_path / "src", "parquet")
    path = tmp_path / "src" / "demand_history.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceReadError, match=r"table 'demand_history' is unusable: cannot read "
                                              r"\S*demand_history.parquet: not a readable Parquet file") as e:
        extract(str(tmp_path / "src"), "r1", root=str(tmp_path / "lake"))
    assert isinstance(e.value.__cause__, pa.ArrowException | OSError)
    assert lake.read_manifest("r1", str(tmp_path / "lake"))["extract"]["status"] == "failed"


def test_malformed_csv_row_names_the_file(tmp_path, network, write_folder):
    write_folder(network, tmp_path / "src")
    with open(tmp_path / "src" / "lanes.csv", "a") as fh:
        fh.write("L5,P1,M1,road,1,2,3,4,surplus,fields\n")
    with pytest.raises(SourceReadError, match=r"cannot read \S*lanes.csv: malformed CSV"):
        extract(str(tmp_path / "src"), "r1", root=str(tmp_path / "lake"))


@pytest.mark.parametrize("content, message", [
    (b"", r"empty input \(no header, no rows\)"),
    (b"week,product_id,market_id,units\n", r"the table is empty \(header only, 0 rows\)"),
])
def test_empty_file_is_extracted_then_stops_validation(tmp_path, network, write_folder, content, message):
    write_folder(network, tmp_path / "src")
    (tmp_path / "src" / "demand_history.csv").write_bytes(content)
    root = str(tmp_path / "lake")
    out = extract(str(tmp_path / "src"), "r1", root=root)
    assert out["tables"]["demand_history"]["rows"] == 0
    with pytest.raises(TableUnusableError, match=rf"table 'demand_history' is unusable: {message}"):
        validate("r1", root=root)


def test_utf8_bom_is_not_part_of_the_first_column_name(tmp_path, network, write_folder):
    write_folder(network, tmp_path / "src")
    p = tmp_path / "src" / "markets.csv"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    extract(str(tmp_path / "src"), "r1", root=str(tmp_path / "lake"))
    assert lake.read_table("raw", "r1", "markets", str(tmp_path / "lake")).columns[0] == "market_id"


def test_ambiguous_or_absent_sources_are_refused(tmp_path, network, write_folder):
    write_folder(network, tmp_path / "src")
    write_folder({"plants": network["plants"]}, tmp_path / "src", "parquet")
    with pytest.raises(SourceReadError, match="ambiguous source: both plants.csv and plants.parquet"):
        extract(str(tmp_path / "src"), "r1", root=str(tmp_path / "lake"))
    with pytest.raises(SourceReadError, match="source folder .*nowhere does not exist"):
        extract(str(tmp_path / "nowhere"), "r1", root=str(tmp_path / "lake"))
    # an unreachable server is transient (issue 12): retried, not refused
    from features.extract import SourceUnavailableError

    with pytest.raises(SourceUnavailableError, match=r"SQL source postgresql\+psycopg2?://postgres@127.0.0.1:1/x"):
        extract("postgresql://postgres@127.0.0.1:1/x", "r1", root=str(tmp_path / "lake"))


def test_postgres_url_without_driver_uses_an_installed_one():
    assert sql_engine_url("postgres://u@h/db").drivername.startswith("postgresql+psycopg")
    assert sql_engine_url("sqlite:///x.db").drivername == "sqlite"


# ------------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture
def pg_schema():
    """A fresh schema in the PostgreSQL test database, dropped afterwards."""
    engine = sa.create_engine(sql_engine_url(PG_URL), connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as e:
        engine.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {str(e).splitlines()[0]}")
    schema = f"co2plan_test_{uuid.uuid4().hex[:12]}"
    yield schema
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.mark.postgres
def test_postgres_source_gives_the_same_validated_tables_as_the_folder(tmp_path, network, write_folder, pg_schema):
    load_tables_to_sql(network, PG_URL, schema=pg_schema)
    write_folder(network, tmp_path / "src")
    root = str(tmp_path / "lake")
    out = extract(f"{PG_URL}?schema={pg_schema}", "pg", root=root)
    assert out["kind"] == "sql" and out["tables"]["demand_history"]["rows"] == 24
    assert out["source"].endswith(f"/test?schema={pg_schema}")
    extract(str(tmp_path / "src"), "csv", root=root)
    for run_id in ("pg", "csv"):
        assert validate(run_id, root=root)["totals"]["quarantined"] == 0
    _assert_same_tables(_validated("pg", root), _validated("csv", root))
    _assert_same_tables(_validated("pg", root), network)
    # raw text of typed PostgreSQL columns: dates as dates, booleans as true/false, floats exact
    raw = lake.read_table("raw", "pg", "energy_contracts", root)
    assert raw["start"].tolist() == ["2024-01-01", "2024-01-01"]
    assert lake.read_table("raw", "pg", "plants", root)["operational_control"].tolist() == ["true", "false"]
    # the schema may also be passed as an argument; a second extraction is byte-identical
    before = (tmp_path / "lake" / "raw" / "pg" / "demand_history.parquet").read_bytes()
    extract(PG_URL, "pg", root=root, schema=pg_schema)
    assert (tmp_path / "lake" / "raw" / "pg" / "demand_history.parquet").read_bytes() == before


# ------------------------------------------------------------------------------------ the embedded sample


def test_demo_sample_as_csv_extracts_and_validates_with_nothing_quarantined(tmp_path):
    sample = pytest.importorskip("features.sample")
    folder = sample.write_sample(tmp_path / "demo", size="demo", seed=7, fmt="csv")
    root = str(tmp_path / "lake")
    extract(str(folder), "demo", root=root)
    out = validate("demo", root=root)
    bad = {t: c["by_reason"] for t, c in out["tables"].items() if c["quarantined"]}
    assert bad == {}, f"sample rows quarantined: {bad}"
    expected = sample.generate("demo", seed=7)
    for t in TABLE_ORDER:
        pd.testing.assert_frame_equal(lake.read_table("validated", "demo", t, root), expected[t], obj=t)


def test_semicolon_csv_is_detected_and_recorded(tmp_path, network, write_folder):
    folder = write_folder(network, tmp_path / "src")
    d = network["demand_history"]
    d.to_csv(folder / "demand_history.csv", index=False, sep=";")
    out = extract(str(folder), "semi", root=str(tmp_path / "lake"))
    assert out["tables"]["demand_history"]["delimiter"] == ";"
    assert out["tables"]["plants"]["delimiter"] == ","
    res = validate("semi", root=str(tmp_path / "lake"))
    assert res["tables"]["demand_history"]["valid"] == len(d)


def test_unreachable_db_is_transient_not_a_data_error(tmp_path):
    from features.extract import SourceUnavailableError

    with pytest.raises(SourceUnavailableError, match="unreachable.*transient") as e:
        extract("postgresql://u:pw@127.0.0.1:1/x", "down", root=str(tmp_path))
    assert not isinstance(e.value, ValueError)  # so the DAG task is retried, not failed at once
    assert "pw" not in str(e.value)


@pytest.mark.postgres
def test_unknown_database_is_final(tmp_path):
    try:
        extract("postgresql://postgres@127.0.0.1:5432/postgres", "probe", root=str(tmp_path), tables=["plants"])
    except TableUnusableError as e:  # reachable (the table is simply not there)
        assert "plants" in str(e)
    except ConnectionError as e:
        pytest.skip(f"PostgreSQL not reachable: {e}")
    with pytest.raises(SourceReadError, match="does not exist"):
        extract("postgresql://postgres@127.0.0.1:5432/co2plan_i12_no_such_db", "nodb", root=str(tmp_path))
