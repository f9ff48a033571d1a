"""Extraction: copy the source tables, as text, into ``raw/<run_id>/<table>.parquet``.

Sources are URLs:

- a folder (plain path or any fsspec URL: ``file://``, ``memory://``, ``s3://``...) holding
  ``<table>.csv`` or ``<table>.parquet`` (both for one table is an error: ambiguous);
- a SQLAlchemy URL (``sqlite:///path.db``, ``postgresql://user@host:5432/db``) whose database holds
  the tables by name; ``?schema=NAME`` in the URL (or ``schema=``) picks a database schema.

Raw keeps every value as text, so nothing is coerced or truncated at the door and validation does
all the typing in one place: CSV cells exactly as written (only an empty cell is null, so ``NA``
stays the text "NA"); Parquet and SQL values in a lossless text form (floats as their shortest
round-trip text, booleans ``true``/``false``, dates ``YYYY-MM-DD``; see ``features.validate.to_text``).

By default every contract table is looked for: a missing table of ``features.validate.REQUIRED_TABLES``
stops the run (``TableUnusableError`` naming the tables and where it looked), a missing optional
one is listed under ``missing`` in the manifest. An unreadable file (not UTF-8, malformed CSV,
truncated Parquet) or table raises ``SourceReadError`` (a ``TableUnusableError``) naming the file.

SQL rows are read ordered by all columns (key first), so re-extraction is deterministic; the
``source_row`` of a quarantined SQL row is its position in that order.

The manifest section ``extract`` records per table: source URI, sha256 (of the file bytes; of the
query result's text for SQL), rows, columns and the raw URI, plus code and library versions. It holds
no timestamps: extracting the same input under the same run id again gives byte-identical files.
"""

from __future__ import annotations

import io
import platform
from collections.abc import Iterable, Mapping
from typing import Any

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import core
from core import catalog, lake
from core.tables import TABLE_ORDER, TABLES
from features.validate import REQUIRED_TABLES, TableUnusableError, as_text_frame, to_text

SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "mssql", "oracle", "duckdb")


class SourceReadError(TableUnusableError):
    """A source file or table exists but cannot be read (bad encoding, truncated file, bad SQL)."""


class SourceUnavailableError(ConnectionError):
    """The source database cannot be reached right now (refused, timed out, server going away): a
    transient error, so the task is retried with back-off. Not a ValueError: bad data stays final."""


# libpq/psycopg texts of errors that no retry will fix (wrong password, unknown database or role)
_FINAL_TEXT = ("password authentication failed", "does not exist", "no password supplied",
               "authentication failed", "permission denied", "no pg_hba.conf entry")


def _is_transient(e: BaseException, at_connect: bool) -> bool:
    """Connection errors are transient (retried), data and credential errors final."""
    import sqlalchemy as sa

    orig = getattr(e, "orig", None)
    code = str(getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None) or "")
    text = str(e).lower()
    if code[:2] in ("28", "3D", "42") or any(t in text for t in _FINAL_TEXT):
        return False
    if code[:2] == "08" or code[:3] == "57P" or code == "53300":
        return True
    if at_connect:
        return isinstance(e, sa.exc.OperationalError | sa.exc.InterfaceError | TimeoutError)
    return any(t in text for t in ("server closed the connection", "connection refused", "timeout",
                                   "timed out", "could not connect", "connection reset"))


def is_sql_url(source: str) -> bool:
    scheme = source.split("://", 1)[0].split("+", 1)[0].lower() if "://" in source else ""
    return scheme in SQL_SCHEMES


# ---------------------------------------------------------------------------------------------
# folder sources


def _decode_check(table: str, uri: str, data: bytes) -> None:
    """Raise SourceReadError naming the file and byte offset if ``data`` is not UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        snippet = data[max(0, e.start - 20): e.start + 10]
        raise SourceReadError(
            table, f"cannot read {uri}: not UTF-8 text (byte 0x{data[e.start]:02x} at byte offset {e.start}, "
                   f"line {line}, near {snippet!r}); re-save the file as UTF-8 (it looks like "
                   f"{'latin-1/cp1252' if data[e.start] >= 0x80 else 'another encoding'})") from e


def _sniff_delimiter(data: bytes) -> str:
    """The CSV's delimiter: ``,`` unless the header has no comma and a sniffer finds ``;``, tab or ``|``
    (an ERP export in a European locale is often ``;``-separated)."""
    import csv

    head = data[:65536].decode("utf-8-sig", errors="replace")
    header = head.splitlines()[0] if head.splitlines() else ""
    if "," in header:
        return ","
    try:
        sep = csv.Sniffer().sniff(head, delimiters=";\t|").delimiter
    except csv.Error:
        return ","
    return sep if sep in header else ","


def _read_csv(table: str, uri: str, data: bytes, info: dict[str, Any] | None = None) -> pd.DataFrame:
    _decode_check(table, uri, data)
    if not data.strip():
        return pd.DataFrame()
    sep = _sniff_delimiter(data)
    try:
        df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""],
                         encoding="utf-8-sig", sep=sep)
    except (pd.errors.ParserError, ValueError) as e:
        raise SourceReadError(table, f"cannot read {uri}: malformed CSV ({e})") from e
    if info is not None:
        info["delimiter"] = sep
    return as_text_frame(df)


def _read_parquet(table: str, uri: str, data: bytes) -> pd.DataFrame:
    try:
        arrow = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError) as e:
        raise SourceReadError(
            table, f"cannot read {uri}: not a readable Parquet file (truncated or corrupt? {len(data)} bytes; "
                   f"{e})") from e
    text = {}
    for name in arrow.column_names:
        col = arrow.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            text[name] = pd.Series(col.to_numpy(zero_copy_only=False), dtype=object)
        else:
            text[name] = to_text(col.to_pandas())
    return pd.DataFrame(text, index=pd.RangeIndex(arrow.num_rows))


class _FolderSource:
    kind = "folder"

    def __init__(self, url: str):
        self.url = url
        self.fs, self.base = fsspec.core.url_to_fs(url)
        if not self.fs.isdir(self.base):
            raise SourceReadError("*", f"source folder {url} does not exist")

    def where(self, table: str) -> str:
        return f"{table}.csv or {table}.parquet in {self.url}"

    def locate(self, table: str) -> str | None:
        found = [f"{self.base.rstrip('/')}/{table}.{ext}" for ext in ("csv", "parquet")]
        found = [p for p in found if self.fs.isfile(p)]
        if len(found) > 1:
            raise SourceReadError(table, f"ambiguous source: both {table}.csv and {table}.parquet in {self.url}")
        return found[0] if found else None

    def read(self, table: str, path: str) -> tuple[pd.DataFrame, dict[str, Any]]:
        uri = self.fs.unstrip_protocol(path)
        data = self.fs.cat_file(path)
        fmt = path.rsplit(".", 1)[-1]
        info: dict[str, Any] = {"source_uri": uri, "format": fmt, "bytes": len(data),
                                "sha256": lake.sha256_bytes(data), "sha256_of": "file bytes"}
        df = _read_csv(table, uri, data, info) if fmt == "csv" else _read_parquet(table, uri, data)
        return df, info

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# SQL sources


def sql_engine_url(url: str):
    """A SQLAlchemy URL object for ``url``, choosing an installed PostgreSQL driver when none is named.

    SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3; the project ships psycopg2, so a bare
    URL uses whichever of the two is importable. ``postgres://`` is accepted as ``postgresql://``.
    """
    import importlib.util

    import sqlalchemy as sa

    u = sa.engine.make_url(url)
    if u.drivername in ("postgres", "postgresql"):
        driver = "psycopg" if importlib.util.find_spec("psycopg") else "psycopg2"
        u = u.set(drivername=f"postgresql+{driver}")
    return u


class _SqlSource:
    kind = "sql"

    def __init__(self, url: str, schema: str | None = None):
        import sqlalchemy as sa

        self.sa = sa
        u = sql_engine_url(url)
        self.schema = schema or u.query.get("schema")
        u = u.difference_update_query(["schema"])
        self.url = u.render_as_string(hide_password=True) + (f"?schema={self.schema}" if self.schema else "")
        self.engine = sa.create_engine(u)
        try:
            self.conn = self.engine.connect()
            self.names = set(sa.inspect(self.conn).get_table_names(schema=self.schema))
        except sa.exc.SQLAlchemyError as e:
            self.engine.dispose()
            first = str(e).splitlines()[0]
            if _is_transient(e, at_connect=True):
                raise SourceUnavailableError(f"SQL source {self.url} is unreachable ({e.__class__.__name__}: "
                                             f"{first}); transient: the task is retried") from e
            raise SourceReadError("*", f"cannot open SQL source {self.url}: {e.__class__.__name__}: {first}") from e

    def where(self, table: str) -> str:
        return f"table {table!r} in {self.url}"

    def locate(self, table: str) -> str | None:
        return table if table in self.names else None

    def read(self, table: str, name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
        sa = self.sa
        quote = self.engine.dialect.identifier_preparer.quote
        qualified = (quote(self.schema) + "." if self.schema else "") + quote(name)
        columns = [c["name"] for c in sa.inspect(self.conn).get_columns(name, schema=self.schema)]
        spec = TABLES.get(table)
        first = [c for c in (spec.key + tuple(spec.column_names) if spec else ()) if c in columns]
        order = list(dict.fromkeys(first + columns))
        sql = f"SELECT {', '.join(map(quote, columns))} FROM {qualified} ORDER BY {', '.join(map(quote, order))}"
        try:
            rows = self.conn.execute(sa.text(sql)).fetchall()
        except sa.exc.SQLAlchemyError as e:
            if _is_transient(e, at_connect=False):
                raise SourceUnavailableError(f"lost the SQL source while reading {self.where(name)}: "
                                             f"{str(e).splitlines()[0]}; transient: the task is retried") from e
            raise SourceReadError(table, f"cannot read {self.where(name)}: {str(e).splitlines()[0]}") from e
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
        df = pd.DataFrame({c: to_text(pd.Series(list(v), dtype=object)) for c, v in zip(columns, cols, strict=True)},
                          index=pd.RangeIndex(len(rows)))
        return df, {"source_uri": f"{self.url}#{qualified}", "format": "sql", "sha256": lake.frame_hash(df),
                    "sha256_of": "query result as text (core.lake.frame_hash)"}

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


# ---------------------------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    import sqlalchemy

    return {"co2plan": core.__version__, "pandas": pd.__version__, "pyarrow": pa.__version__,
            "fsspec": fsspec.__version__, "sqlalchemy": sqlalchemy.__version__,
            "python": platform.python_version()}


def extract(source: str, run_id: str, root: str | None = None, tables: list[str] | None = None,
            schema: str | None = None) -> dict[str, Any]:
    """Copy the tables of ``source`` into ``raw/<run_id>/`` and record them in the manifest.

    ``tables`` defaults to every contract table; then the tables in
    ``features.validate.REQUIRED_TABLES`` must exist and the optional ones are recorded as missing.
    Tables named explicitly are all required. Raises ``TableUnusableError`` naming the missing
    tables (and where it looked), ``SourceReadError`` for an unreadable file or table.
    Returns the manifest section (JSON-able).
    """
    names = list(tables) if tables else list(TABLE_ORDER)
    required = set(names) if tables else set(REQUIRED_TABLES)
    section: dict[str, Any] = {"run_id": run_id, "source": source, "versions": _versions(), "tables": {},
                               "missing": {}}
    src = _SqlSource(source, schema) if is_sql_url(source) else _FolderSource(source)
    section.update(source=src.url, kind=src.kind)
    try:
        found = {t: src.locate(t) for t in names}
        section["missing"] = {t: f"looked for {src.where(t)}" for t, loc in found.items() if loc is None}
        missing_required = [t for t in names if found[t] is None and t in required]
        if missing_required:
            where = "; ".join(f"{t}: {section['missing'][t]}" for t in missing_required)
            raise TableUnusableError(", ".join(missing_required), f"required table(s) not found ({where})")
        for t in names:
            if found[t] is None:  # optional and absent: drop what an earlier extraction left under this run id
                catalog.RAW.remove(run_id, t, root)
                continue
            df, info = src.read(t, found[t])
            info.update(rows=len(df), columns=list(df.columns),
                        raw_uri=catalog.RAW[t].write(df, run_id, root=root))
            section["tables"][t] = info
    except TableUnusableError as e:
        section.update(status="failed", error=str(e))
        lake.update_manifest(run_id, "extract", section, root)
        raise
    finally:
        src.close()
    section["status"] = "ok"
    lake.update_manifest(run_id, "extract", section, root)
    return section


def load_tables_to_sql(tables: Mapping[str, pd.DataFrame], url: str, schema: str | None = None,
                       if_exists: str = "replace", names: Iterable[str] | None = None) -> list[str]:
    """Write DataFrames into a SQL database as tables of the same names (for tests and demos).

    Creates the schema if given and missing (PostgreSQL). Returns the table names written.
    """
    import sqlalchemy as sa

    engine = sa.create_engine(sql_engine_url(url))
    written = []
    try:
        with engine.begin() as conn:
            if schema:
                conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {engine.dialect.identifier_preparer.quote(schema)}"))
            for name in names or tables:
                tables[name].to_sql(name, conn, schema=schema, if_exists=if_exists, index=False, chunksize=50_000)
                written.append(name)
    finally:
        engine.dispose()
    return written
