"""Validation at the door: raw (all-text) tables in, typed valid rows and quarantined bad rows out.

The schema of each table is derived from its ``core.tables`` spec, and every check is vectorised
(numpy / pandas / pyarrow compute on whole columns, or on a column's distinct values), so a few
million rows take seconds. Rules, in the order they are reported for a row:

- type: the text parses as the contract dtype (``float``: a finite decimal number, parsed exactly
  by Arrow, so nothing is rounded; ``int``: whole number; ``date``: ISO 8601 calendar day, and a
  column named ``week`` must be a Monday; ``bool``: true/false/t/f/1/0/yes/no). A value that does
  not parse makes the row bad; it never becomes NaN silently. ``nan``/``NaN`` counts as null.
- required: non-nullable columns are present and not null/blank;
- ranges ``ge``/``le`` and allowed values ``isin`` (exact, case-sensitive: ``kwh`` is not ``kWh``);
- row checks across columns (``ROW_CHECKS``: a contract ends on or after it starts);
- unique key: when several rows share a key and are exact copies of each other, the first is kept
  and the later copies are quarantined; when they differ, none can be trusted and *all* copies go
  to quarantine;
- references: a value must exist among the parent table's *valid* rows (tables are checked in
  ``core.tables.TABLE_ORDER``); a row whose parent was quarantined is quarantined too.

Bad rows keep their original text plus ``reason`` (e.g. ``units: -5 < 0 (ge 0)``, several joined by
``"; "``) and ``source_row`` (1-based data-row number in the input: line ``source_row + 1`` of a
CSV with a header). Counts per table: ``rows_in == valid + quarantined`` always; ``by_reason``
counts rule hits, so a row with two problems counts under both. Rule keys: ``<column>:type``,
``:required``, ``:ge``, ``:le``, ``:isin``, ``:monday``, ``:reference``, ``:parent_quarantined``;
``key:duplicate_copy``, ``key:duplicate_conflict``; ``row:end_before_start``.
Valid rows get the contract dtypes (str -> object, float -> float64, int -> int64, date ->
datetime64[ns], bool -> bool; nullable int/bool -> Int64/boolean) and the contract's columns only;
extra input columns are listed in the counts (``extra_columns_not_validated``) and kept in quarantine.
A missing *nullable* column is filled with nulls and listed (``missing_nullable_columns_filled``).

A table is unusable (``TableUnusableError``, the run stops) when it is missing, has no rows, lacks
a required column, has every row bad, or its bad-row share exceeds ``max_bad_share``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core import catalog, lake
from core.ghg.units import UNIT_ALIASES
from core.tables import (
    DRIVER_TABLES,
    PLAN_INPUT_TABLES,
    SUPPLY_TABLES,
    TABLE_ORDER,
    TABLES,
    Column,
    TableSpec,
)
from features import supply_checks

# Tables a run may lack (no renewable contracts, no supplier submissions yet); all others are required.
OPTIONAL_TABLES: tuple[str, ...] = ("energy_contracts", "supplier_emissions", "refrigerant_use", "process_activity",
                                    *PLAN_INPUT_TABLES, *SUPPLY_TABLES, *DRIVER_TABLES)
REQUIRED_TABLES: tuple[str, ...] = tuple(t for t in TABLE_ORDER if t not in OPTIONAL_TABLES)

# Cross-column checks: table -> [(rule key, (later, earlier) date columns)], later >= earlier.
ROW_CHECKS: dict[str, list[tuple[str, tuple[str, str]]]] = {
    "energy_contracts": [("end_before_start", ("end", "start"))],
    "refrigerant_use": [("end_before_start", ("period_end", "period_start"))],
    "process_activity": [("end_before_start", ("period_end", "period_start"))],
}

_FLOAT_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_INT_RE = r"^[+-]?\d+(\.0*)?$"
_NULL_TEXT = ["", "nan", "NaN", "NAN"]
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


class TableUnusableError(ValueError):
    """A table cannot be used; the run stops. ``table`` names it, ``reason`` says why.

    ``partial`` (a ``ValidationResult`` or None) holds what was validated before the stop, including
    the unusable table's quarantine, so the caller can still write it for diagnosis.
    """

    def __init__(self, table: str, reason: str, partial: ValidationResult | None = None):
        self.table = table
        self.reason = reason
        self.partial = partial
        super().__init__(f"table '{table}' is unusable: {reason}" if table != "*" else reason)


@dataclass
class ValidationResult:
    valid: dict[str, pd.DataFrame] = field(default_factory=dict)
    quarantine: dict[str, pd.DataFrame] = field(default_factory=dict)
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)  # input tables that are not in the contract
    positions: dict[str, np.ndarray] = field(default_factory=dict)  # input row positions of the valid rows
    plausibility: dict[str, Any] = field(default_factory=dict)  # features.plausibility summary


# ---------------------------------------------------------------------------------------------
# text form of any column (shared with extraction, so raw is text whatever the source)


def _scalar_text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating):
        return repr(float(v))  # shortest text that round-trips exactly
    if isinstance(v, pd.Timestamp | np.datetime64):
        v = pd.Timestamp(v).to_pydatetime()
    if hasattr(v, "isoformat"):
        if hasattr(v, "hour") and (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0):
            return v.date().isoformat()
        return v.isoformat(sep=" ") if hasattr(v, "hour") else v.isoformat()
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).hex()
    return str(v)


def to_text(s: pd.Series | list | np.ndarray) -> pd.Series:
    """The lossless text form of a column: object Series of ``str`` or ``None`` (for nulls).

    Floats get their shortest round-trip text (Arrow), booleans ``true``/``false``, date-times at
    midnight ``YYYY-MM-DD``. Text columns pass through untouched.
    """
    s = s if isinstance(s, pd.Series) else pd.Series(s, dtype=object)
    if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind in ("string", "empty"):
            out = s.astype(object)
            return out.where(out.notna(), None)
    try:
        arr = pa.array(s, from_pandas=True)
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        if pa.types.is_timestamp(arr.type):
            if arr.type.tz is None:
                days = pc.cast(arr, pa.date32())
                if pc.all(pc.equal(pc.cast(days, arr.type), arr)).as_py() is not False:
                    arr = days
        text = pc.cast(arr, pa.string())
        return pd.Series(text.to_numpy(zero_copy_only=False), index=s.index, dtype=object)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pd.Series([_scalar_text(v) for v in s.tolist()], index=s.index, dtype=object)


def as_text_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Every column in text form (see ``to_text``); column names as strings."""
    return pd.DataFrame({str(c): to_text(df[c]) for c in df.columns}, index=pd.RangeIndex(len(df)))


# ---------------------------------------------------------------------------------------------
# row problems: (mask, rule key, message per failing row)


class _Problems:
    """Row problems of one table: (mask, rule key, message for the failing rows)."""

    def __init__(self, n: int):
        self.n = n
        self.items: list[tuple[np.ndarray, str, np.ndarray | str]] = []

    def add(self, mask: np.ndarray, rule: str,
            message: str | np.ndarray | Callable[[np.ndarray], np.ndarray]) -> None:
        """``message``: one text, one text per failing row, or a function of the failing positions."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        if callable(message):
            message = np.asarray(message(np.flatnonzero(mask)), dtype=object)
        self.items.append((mask, rule, message))

    def bad(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for mask, _, _ in self.items:
            out |= mask
        return out

    def reasons(self, bad_idx: np.ndarray) -> np.ndarray:
        """Reason text for the rows at positions ``bad_idx``, messages joined by '; '."""
        pos = np.full(self.n, -1, dtype=np.int64)
        pos[bad_idx] = np.arange(len(bad_idx))
        out = np.full(len(bad_idx), "", dtype=object)
        for mask, _, msg in self.items:
            where = pos[mask]
            prev = out[where]
            out[where] = np.where(prev == "", "", prev + "; ") + msg
        return out

    def by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for mask, rule, _ in self.items:
            counts[rule] = counts.get(rule, 0) + int(mask.sum())
        return dict(sorted(counts.items()))


def _says(name: str, values: np.ndarray, what: str, quote: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """Message builder: ``<name>: '<value>' <what>`` for the failing positions."""
    q = "'" if quote else ""

    def build(idx: np.ndarray) -> np.ndarray:
        return f"{name}: {q}" + values[idx].astype(object) + f"{q} {what}"

    return build


def _fmt(x: float) -> str:
    return f"{x:g}"


def _bool_array(a: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(a, False).to_numpy(zero_copy_only=False), dtype=bool)


# ---------------------------------------------------------------------------------------------
# parsing one column from text


def _parse_str(col: Column, values: np.ndarray, isnull: np.ndarray, problems: _Problems
               ) -> tuple[pd.Series, np.ndarray]:
    codes, uniques = pd.factorize(values)  # nulls get code -1; checks run on distinct values
    has, take = codes >= 0, np.maximum(codes, 0)
    if col.name == "unit" and len(uniques):  # unit aliases (L -> litre), the table the engine uses too
        uniques = np.array([UNIT_ALIASES.get(x, x) for x in uniques], dtype=object)
        values = np.where(has, uniques[take], values)
    missing = isnull.copy()
    if len(uniques):
        u = pd.Series(uniques, dtype=object)
        missing |= has & (u.str.strip() == "").to_numpy()[take]
        if col.isin is not None:
            u_bad = ~u.isin(col.isin).to_numpy()
            problems.add(~missing & u_bad[take], f"{col.name}:isin",
                         _says(col.name, values, f"not allowed (isin {', '.join(col.isin)})"))
    typed = pd.Series(np.where(missing, None, values), dtype=object)  # a copy: raw stays as it came
    return typed, missing


def _parse_number(col: Column, values: np.ndarray, isnull: np.ndarray, problems: _Problems
                  ) -> tuple[pd.Series, np.ndarray]:
    name, n = col.name, len(values)
    trimmed = pc.utf8_trim_whitespace(pa.array(values, type=pa.string(), from_pandas=True))
    missing = isnull | _bool_array(pc.is_in(trimmed, value_set=pa.array(_NULL_TEXT)))
    ok = _bool_array(pc.match_substring_regex(trimmed, _FLOAT_RE if col.dtype == "float" else _INT_RE))
    problems.add(~missing & ~ok, f"{name}:type",
                 _says(name, values, "is not a number (float)" if col.dtype == "float" else
                       "is not a whole number (int)"))
    number = np.full(n, np.nan)
    if col.dtype == "float":
        if ok.any():  # Arrow parses decimal text exactly (pandas.to_numeric may be off by one ulp)
            number[ok] = pc.cast(pc.filter(trimmed, pa.array(ok)), pa.float64()).to_numpy()
        infinite = ok & ~np.isfinite(number)  # e.g. 1e999
        problems.add(infinite, f"{name}:type", _says(name, values, "is not a finite number"))
        good = ok & ~infinite
        integer = None
    else:
        integer = np.zeros(n, dtype=np.int64)
        toobig = np.zeros(n, dtype=bool)
        if ok.any():
            digits = pc.replace_substring_regex(pc.filter(trimmed, pa.array(ok)), r"^\+|\.0*$", "")
            try:
                integer[ok] = pc.cast(digits, pa.int64()).to_numpy()
            except pa.ArrowInvalid:  # beyond int64: find which (rare), one by one
                for i, d in zip(np.flatnonzero(ok), digits.to_pylist(), strict=True):
                    if -(2**63) <= int(d) < 2**63:
                        integer[i] = int(d)
                    else:
                        toobig[i] = True
        problems.add(toobig, f"{name}:type", _says(name, values, "is out of the int64 range"))
        good = ok & ~toobig
        number = integer.astype(float)
    for bound, rule, word, op in ((col.ge, "ge", "<", np.less), (col.le, "le", ">", np.greater)):
        if bound is not None:
            problems.add(good & op(np.where(good, number, bound), bound), f"{name}:{rule}",
                         _says(name, values, f"{word} {_fmt(bound)} ({rule} {_fmt(bound)})", quote=False))
    if integer is None:
        typed = pd.Series(np.where(good, number, np.nan), dtype="float64")
    else:
        typed = pd.Series(pd.arrays.IntegerArray(integer, ~good))
    return typed, missing


_DATE_RE = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$"


def _parse_date(col: Column, values: np.ndarray, isnull: np.ndarray, problems: _Problems
                ) -> tuple[pd.Series, np.ndarray]:
    name, n = col.name, len(values)
    codes, uniques = pd.factorize(values)  # dates repeat a lot: parse each distinct text once
    has, take = codes >= 0, np.maximum(codes, 0)
    missing = isnull.copy()
    if not len(uniques):
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")), missing
    u = pd.Series(uniques, dtype=object).str.strip()
    u_blank = (u == "").to_numpy()
    u_iso = u.str.match(_DATE_RE).to_numpy(dtype=bool)
    u_parsed = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns]")
    if u_iso.any():
        u_parsed[u_iso] = pd.to_datetime(u[u_iso], format="ISO8601", errors="coerce")
    u_bad = ~u_blank & u_parsed.isna().to_numpy()
    u_time = ~u_bad & ~u_blank & (u_parsed != u_parsed.dt.normalize()).to_numpy()
    u_notmonday = ~u_bad & ~u_blank & ~u_time & (u_parsed.dt.dayofweek != 0).to_numpy()
    if name != "week":
        u_notmonday[:] = False
    missing |= has & u_blank[take]
    problems.add(has & u_bad[take], f"{name}:type", _says(name, values, "is not an ISO date (YYYY-MM-DD)"))
    problems.add(has & u_time[take], f"{name}:type", _says(name, values, "has a time of day (a date is expected)"))
    problems.add(has & u_notmonday[take], f"{name}:monday",
                 _says(name, values, "is not a Monday (week = Monday of the ISO week)"))
    u_good = ~u_blank & ~u_bad & ~u_time & ~u_notmonday
    good = has & u_good[take]
    parsed = u_parsed.to_numpy(dtype="datetime64[ns]")[take]
    return pd.Series(np.where(good, parsed, np.datetime64("NaT", "ns")), dtype="datetime64[ns]"), missing


def _parse_bool(col: Column, values: np.ndarray, isnull: np.ndarray, problems: _Problems
                ) -> tuple[pd.Series, np.ndarray]:
    low = pd.Series(values, dtype=object).str.strip().str.lower()
    missing = isnull | low.isin(["", "nan", "none", "null"]).to_numpy()
    is_true = low.isin(_TRUE).to_numpy()
    is_false = low.isin(_FALSE).to_numpy()
    problems.add(~missing & ~is_true & ~is_false, f"{col.name}:type",
                 _says(col.name, values, "is not a boolean (true/false)"))
    return pd.Series(pd.arrays.BooleanArray(is_true, ~(is_true | is_false))), missing


_PARSERS = {"str": _parse_str, "float": _parse_number, "int": _parse_number, "date": _parse_date,
            "bool": _parse_bool}


def _parse_column(col: Column, text: pd.Series, problems: _Problems) -> pd.Series:
    """Typed column (null where the value is missing or bad); problems recorded by row."""
    values = text.to_numpy(dtype=object)
    isnull = pd.isna(values)
    typed, missing = _PARSERS[col.dtype](col, values, isnull, problems)
    if not col.nullable:
        problems.add(missing, f"{col.name}:required", f"{col.name}: missing (required)")
    return typed


def _final_dtype(col: Column, s: pd.Series) -> pd.Series:
    """Contract dtype of a column that holds only valid values."""
    if col.dtype == "int" and not col.nullable:
        return s.astype("int64")
    if col.dtype == "bool" and not col.nullable:
        return s.astype(bool)
    return s


# ---------------------------------------------------------------------------------------------
# one table


@dataclass
class _Parent:
    valid: dict[str, set]  # column -> values among valid rows
    quarantined: dict[str, set]  # column -> values among quarantined rows (not among valid)


def _key_label(spec: TableSpec, typed: dict[str, pd.Series], idx: np.ndarray) -> np.ndarray:
    parts = []
    for k in spec.key:
        v = typed[k].iloc[idx]
        if spec.column(k).dtype == "date":
            v = v.dt.strftime("%Y-%m-%d")
        parts.append(f"{k}=" + v.astype(str).to_numpy(dtype=object))
    out = parts[0]
    for p in parts[1:]:
        out = out + ", " + p
    return out


def _id_columns(spec: TableSpec) -> set[str]:
    """Key, reference and referenced columns of a table: ids, where surrounding spaces are never meant."""
    referenced = {pcol for t in TABLES.values() for (pt, pcol) in t.references.values() if pt == spec.name}
    return set(spec.key) | set(spec.references) | referenced


def _check_key(spec: TableSpec, raw: pd.DataFrame, typed: dict[str, pd.Series], problems: _Problems) -> None:
    n = len(raw)
    complete = np.ones(n, dtype=bool)
    group = np.zeros(n, dtype=np.int64)
    for k in spec.key:
        codes, uniques = pd.factorize(typed[k])
        complete &= codes >= 0
        if group.max(initial=0) >= 2**62 // (len(uniques) + 1):  # keep the combined code in int64
            group = pd.factorize(group)[0].astype(np.int64)
        group = group * (len(uniques) + 1) + (codes + 1)
    gser = pd.Series(np.where(complete, group, -1 - np.arange(n)))  # incomplete keys never collide
    dup = gser.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    idx = np.flatnonzero(dup)
    rowhash = pd.util.hash_pandas_object(raw.iloc[idx], index=False).to_numpy()
    d = pd.DataFrame({"g": gser.to_numpy()[idx], "h": rowhash, "row": idx + 1})
    exact_group = d.groupby("g")["h"].transform("nunique").to_numpy() == 1
    first_row = d.groupby("g")["row"].transform("min").to_numpy()
    rows_list = d.groupby("g")["row"].transform(
        lambda r: ", ".join(map(str, r.iloc[:5])) + (", ..." if len(r) > 5 else "")).to_numpy(dtype=object)
    label = _key_label(spec, typed, idx)
    keyname = "(" + ", ".join(spec.key) + ")"
    later_copy = exact_group & (d["row"].to_numpy() != first_row)
    conflict = ~exact_group
    msg = np.where(
        conflict,
        "duplicate key " + keyname + ": " + label + " on conflicting rows (source rows " + rows_list + ")",
        "duplicate key " + keyname + ": " + label + " is an exact copy of source row " + first_row.astype(str),
    )
    for sel, rule in ((later_copy, "key:duplicate_copy"), (conflict, "key:duplicate_conflict")):
        mask = np.zeros(n, dtype=bool)
        mask[idx[sel]] = True
        problems.add(mask, rule, msg[sel])


def _check_references(spec: TableSpec, raw: pd.DataFrame, typed: dict[str, pd.Series],
                      parents: dict[str, _Parent], problems: _Problems) -> None:
    for column, (ptable, pcol) in spec.references.items():
        if ptable not in parents:
            raise TableUnusableError(spec.name, f"cannot check reference {column} -> {ptable}.{pcol}: "
                                                f"table {ptable} is not in the input")
        values = typed[column]
        codes, uniques = pd.factorize(values)
        if not len(uniques):
            continue
        u = pd.Series(uniques, dtype=object)
        u_valid = u.isin(parents[ptable].valid[pcol]).to_numpy()
        u_quar = ~u_valid & u.isin(parents[ptable].quarantined[pcol]).to_numpy()
        take = np.maximum(codes, 0)
        has = codes >= 0
        text = raw[column].to_numpy(dtype=object)
        problems.add(has & u_quar[take], f"{column}:parent_quarantined",
                     _says(column, text, f"refers to a quarantined {ptable} row"))
        problems.add(has & ~u_valid[take] & ~u_quar[take], f"{column}:reference",
                     _says(column, text, f"not found in {ptable}.{pcol}"))


def _empty_quarantine(columns: list[str]) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    out["reason"] = pd.Series([], dtype=object)
    out["source_row"] = pd.Series([], dtype="int64")
    return out


def _empty_valid(spec: TableSpec) -> pd.DataFrame:
    dtypes = {"str": object, "float": "float64", "date": "datetime64[ns]"}
    cols = {}
    for c in spec.columns:
        if c.dtype == "int":
            dt = "Int64" if c.nullable else "int64"
        elif c.dtype == "bool":
            dt = "boolean" if c.nullable else bool
        else:
            dt = dtypes[c.dtype]
        cols[c.name] = pd.Series([], dtype=dt)
    return pd.DataFrame(cols)


def validate_table(spec: TableSpec, raw: pd.DataFrame, parents: dict[str, _Parent],
                   max_bad_share: float = 0.05, optional: bool = False
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Validate one table. Returns (valid typed frame, quarantine frame, counts)."""
    valid, quarantine, counts, _ = _validate_table(spec, raw, parents, max_bad_share, optional)
    return valid, quarantine, counts


def _validate_table(spec: TableSpec, raw: pd.DataFrame, parents: dict[str, _Parent],
                    max_bad_share: float = 0.05, optional: bool = False
                    ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], np.ndarray]:
    """``validate_table`` plus the input positions of the valid rows (for plausibility moves)."""
    raw = as_text_frame(raw)
    n = len(raw)
    columns = list(raw.columns)
    counts: dict[str, Any] = {"rows_in": n}
    if n == 0 and not columns:
        raise TableUnusableError(spec.name, "empty input (no header, no rows)")
    missing_required = [c for c in spec.required if c not in columns]
    if missing_required:
        hint = ""
        joined = ",".join(columns)
        for sep, word in ((";", "';'"), ("\t", "tab"), ("|", "'|'")):
            if sep in joined:
                hint = (f"; the header looks {word}-separated, not comma-separated: re-export the file with ',' "
                        "as the delimiter")
                break
        raise TableUnusableError(
            spec.name, f"required column(s) missing: {', '.join(missing_required)} (found: {', '.join(columns)}){hint}")
    filled = [c.name for c in spec.columns if c.nullable and c.name not in columns]
    extra = [c for c in columns if c not in spec.column_names]
    counts.update(missing_nullable_columns_filled=filled, extra_columns_not_validated=extra)
    if n == 0:
        if not optional:
            raise TableUnusableError(spec.name, "the table is empty (header only, 0 rows)")
        counts.update(valid=0, quarantined=0, bad_share=0.0, by_reason={})
        return _empty_valid(spec), _empty_quarantine(columns), counts, np.zeros(0, dtype=np.int64)

    problems = _Problems(n)
    typed: dict[str, pd.Series] = {}
    ids = _id_columns(spec)
    trimmed: dict[str, int] = {}
    for col in spec.columns:
        text = raw[col.name] if col.name in raw else pd.Series([None] * n, dtype=object)
        if col.name in ids and col.dtype == "str" and col.name in raw:  # ' P01' is P01: trim ids, say so
            stripped = text.str.strip()
            changed = int((text.notna() & (stripped != text)).sum())
            if changed:
                trimmed[col.name] = changed
                text = stripped
        typed[col.name] = _parse_column(col, text, problems)
    if trimmed:
        counts["whitespace_trimmed"] = trimmed
    for rule, (later, earlier) in ROW_CHECKS.get(spec.name, []):
        wrong = (typed[later] < typed[earlier]).to_numpy(dtype=bool)  # NaT compares False
        a, b = raw[later].to_numpy(dtype=object), raw[earlier].to_numpy(dtype=object)
        problems.add(wrong, f"row:{rule}", lambda i, a=a, b=b, la=later, eb=earlier:
                     f"{la} before {eb}: " + a[i] + " < " + b[i])
    _check_key(spec, raw, typed, problems)
    _check_references(spec, raw, typed, parents, problems)

    bad = problems.bad()
    bad_idx = np.flatnonzero(bad)
    quarantine = raw.iloc[bad_idx].reset_index(drop=True)
    quarantine["reason"] = problems.reasons(bad_idx)
    quarantine["source_row"] = (bad_idx + 1).astype("int64")
    good = ~bad
    valid = pd.DataFrame({c.name: _final_dtype(c, typed[c.name][good]) for c in spec.columns}).reset_index(drop=True)

    nbad = int(bad.sum())
    share = nbad / n
    counts.update(valid=int(good.sum()), quarantined=nbad, bad_share=round(share, 6), by_reason=problems.by_reason())
    assert counts["valid"] + counts["quarantined"] == n

    if nbad == n or share > max_bad_share:
        top = sorted(counts["by_reason"].items(), key=lambda kv: -kv[1])[:5]
        detail = ", ".join(f"{k} x{v}" for k, v in top)
        example = f"; first: row {bad_idx[0] + 1}: {quarantine['reason'].iloc[0]}"
        if nbad == n:
            reason = f"every row is bad ({n} of {n}); rules: {detail}{example}"
        else:
            reason = (f"bad-row share {share:.1%} ({nbad} of {n}) exceeds max_bad_share "
                      f"{max_bad_share:.1%}; rules: {detail}{example}")
        err = TableUnusableError(spec.name, reason)
        err.valid, err.quarantine, err.counts = valid, quarantine, counts  # type: ignore[attr-defined]
        raise err
    return valid, quarantine, counts, np.flatnonzero(good)


def _parent_info(spec: TableSpec, valid: pd.DataFrame, quarantine: pd.DataFrame) -> _Parent:
    """Values of the columns other tables reference, among valid and among quarantined rows."""
    referenced = {pcol for t in TABLES.values() for (pt, pcol) in t.references.values() if pt == spec.name}
    vals, quar = {}, {}
    for c in referenced:
        vals[c] = set(valid[c].dropna().tolist())
        quar[c] = set(quarantine[c].dropna().tolist()) - vals[c] if c in quarantine else set()
    return _Parent(vals, quar)


def validate_tables(raw: dict[str, pd.DataFrame], max_bad_share: float = 0.05,
                    required: tuple[str, ...] | list[str] | None = None,
                    plausibility: dict[str, str] | None = None) -> ValidationResult:
    """Validate raw tables (any dtypes; they are read as text) against the contract, in TABLE_ORDER.

    ``required`` defaults to ``REQUIRED_TABLES``. Raises ``TableUnusableError`` (with ``partial``)
    at the first unusable table. ``plausibility``: policy overrides for ``features.plausibility``
    rules (``{}`` runs them with their default policies; None skips them).
    """
    required = REQUIRED_TABLES if required is None else tuple(required)
    result = ValidationResult(ignored=sorted(t for t in raw if t not in TABLES))
    missing = [t for t in TABLE_ORDER if t in required and t not in raw]
    if missing:
        raise TableUnusableError(", ".join(missing), "missing from the input (required)", partial=result)
    parents: dict[str, _Parent] = {}
    for name in TABLE_ORDER:
        if name not in raw:
            continue
        spec = TABLES[name]
        try:
            valid, quarantine, counts, positions = _validate_table(spec, raw[name], parents, max_bad_share,
                                                                   optional=name not in required)
        except TableUnusableError as e:
            if hasattr(e, "quarantine"):
                result.quarantine[name] = e.quarantine
                result.counts[name] = e.counts
            e.partial = result
            raise
        result.valid[name], result.quarantine[name], result.counts[name] = valid, quarantine, counts
        result.positions[name] = positions
        parents[name] = _parent_info(spec, valid, quarantine)
    supply_checks.apply(raw, result, as_text_frame)  # cross-row supply rules: cycles, dangling ends, share sums
    if plausibility is not None:
        _apply_plausibility(raw, result, plausibility)
    return result


def _apply_plausibility(raw: dict[str, pd.DataFrame], result: ValidationResult, policy: dict[str, str]) -> None:
    """Run ``features.plausibility`` on the valid tables; move rows a ``quarantine`` rule flags into the
    table's quarantine (reason names the rule), keeping ``rows_in == valid + quarantined``."""
    from features import plausibility

    found = plausibility.check(result.valid, policy)
    for table, (idx, reasons) in found.quarantine.items():
        src = result.positions[table][idx]  # input positions of the flagged valid rows
        text = as_text_frame(raw[table]).iloc[src].reset_index(drop=True)
        moved = text.reindex(columns=[c for c in result.quarantine[table].columns
                                      if c not in ("reason", "source_row")])
        moved["reason"] = reasons
        moved["source_row"] = (src + 1).astype("int64")
        q = pd.concat([result.quarantine[table], moved], ignore_index=True)
        result.quarantine[table] = q.sort_values("source_row", kind="stable").reset_index(drop=True)
        keep = np.ones(len(result.valid[table]), dtype=bool)
        keep[idx] = False
        result.valid[table] = result.valid[table][keep].reset_index(drop=True)
        result.positions[table] = result.positions[table][keep]
        c = result.counts[table]
        by_reason = dict(c["by_reason"])
        for k, v in found.by_reason.get(table, {}).items():
            by_reason[k] = by_reason.get(k, 0) + v
        c.update(valid=len(result.valid[table]), quarantined=len(result.quarantine[table]),
                 bad_share=round(len(result.quarantine[table]) / c["rows_in"], 6), by_reason=dict(sorted(by_reason.items())))
        assert c["valid"] + c["quarantined"] == c["rows_in"]
    result.plausibility = found.summary()


# ---------------------------------------------------------------------------------------------
# lake stage


def _remove_stale(family: catalog.TableFamily, run_id: str, root: str | None,
                  keep: frozenset[str] = frozenset()) -> None:
    for t in family.present(run_id, root):
        if t not in keep:
            family.remove(run_id, t, root)


def validate(run_id: str, root: str | None = None, max_bad_share: float = 0.05,
             plausibility: dict[str, str] | None = None) -> dict[str, Any]:
    """Validate ``raw/<run_id>/*`` into ``validated/<run_id>/*`` and ``quarantine/<run_id>/*``.

    Writes the manifest section ``validate`` (counts per table, URIs, status) and returns it. On an
    unusable table it still writes the quarantine gathered so far and a ``failed`` manifest section,
    removes validated tables an earlier attempt left under this run id, then raises
    ``TableUnusableError``.
    """
    names = catalog.RAW.present(run_id, root)
    if not names:
        where = catalog.RAW.folder_uri(run_id, root)
        raise TableUnusableError("*", f"no raw tables for run {run_id!r} (looked for {where}); run extract first")
    raw = {t: catalog.RAW[t].read(run_id, root=root) for t in names}
    section: dict[str, Any] = {"run_id": run_id, "max_bad_share": max_bad_share, "tables": {}}
    try:
        result = validate_tables(raw, max_bad_share, plausibility=plausibility or {})
    except TableUnusableError as e:
        _remove_stale(catalog.VALIDATED, run_id, root)  # a failed run must not leave older valid tables behind
        partial = e.partial or ValidationResult()
        for t, q in partial.quarantine.items():
            section["tables"][t] = dict(partial.counts.get(t, {}),
                                        quarantine_uri=catalog.QUARANTINE[t].write(q, run_id, root=root))
        section.update(status="failed", error=str(e), failed_table=e.table, ignored_tables=partial.ignored)
        lake.update_manifest(run_id, "validate", section, root)
        raise
    for t in result.valid:
        section["tables"][t] = dict(
            result.counts[t],
            validated_uri=catalog.VALIDATED[t].write(result.valid[t], run_id, root=root),
            quarantine_uri=catalog.QUARANTINE[t].write(result.quarantine[t], run_id, root=root),
        )
    for family in (catalog.VALIDATED, catalog.QUARANTINE):  # a table gone from the source must not linger
        _remove_stale(family, run_id, root, keep=frozenset(result.valid))
    totals = {k: sum(c[k] for c in result.counts.values()) for k in ("rows_in", "valid", "quarantined")}
    section.update(status="ok", totals=totals, ignored_tables=result.ignored, plausibility=result.plausibility)
    lake.update_manifest(run_id, "validate", section, root)
    return section
