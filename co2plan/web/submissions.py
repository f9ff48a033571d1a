"""Supplier submissions at the door: parse (CSV upload, JSON rows, one form row), validate every row against
the ``supplier_submissions`` contract of ``core.tables`` (the table the weekly supply stage reads), quarantine
refused rows with the reason and their source row, cross-validate the rest, store the batch
(store.Store.store_batch: versioned, audited).

The supplier id, submission id, version and submission date are set by the server; a row naming another
supplier is quarantined.

Cross-validation: :func:`suppliers_check` runs issue 16's ``suppliers.check_submissions`` (unit slips,
activity and spend ratios, history jumps, copy-paste from last year, intensity far off peers) on the new
rows together with the supplier's stored records, so the supplier sees the flags the weekly stage raises.
"""

from __future__ import annotations

import csv
import io
import json
import math
import unicodedata
from typing import Any

from core.tables import TABLES

__all__ = ["DoorError", "parse_csv", "parse_json_rows", "check_rows", "suppliers_check", "CONTRACT", "FORM_CHOICES"]

CONTRACT = TABLES["supplier_submissions"]
#: what a supplier sends (the contract without the ids and dates the portal sets)
FIELDS = [c for c in CONTRACT.column_names if c not in ("supplier_id", "submission_id", "version", "submitted_on")]
#: choices of the one-record form
FORM_CHOICES = {"commodities": list(CONTRACT.column("commodity").isin), "units": list(CONTRACT.column("activity_unit").isin),
                "methods": list(CONTRACT.column("method").isin)}
#: columns a CSV must have (the nullable ones may be left out)
REQUIRED = [c for c in FIELDS if not CONTRACT.column(c).nullable]
MAX_TEXT = 64
#: the cross-validation's rule keys (docs/SUPPLIERS.md) in words, shown beside the key
RULE_TEXT = {
    "unit_slip_x1000": "t CO2e is about 1,000x (or 1/1,000x) the estimate from your activity: check the unit",
    "activity:ratio_high": "t CO2e is more than 10x the estimate from your activity and the material factor",
    "activity:ratio_low": "t CO2e is less than 1/10 of the estimate from your activity and the material factor",
    "value:impossible": "zero emissions for a positive activity",
    "spend:ratio": "t CO2e far from the estimate from our spend with you",
    "history:jump": "t CO2e moved more than 50 % against last year while activity hardly moved",
    "history:copy_paste": "t CO2e equal to last year's while activity changed: copied from last year?",
    "peer:robust_z": "intensity (t CO2e per unit) far off your peers' for this commodity and year",
}


class DoorError(ValueError):
    """The whole payload is unusable (not CSV/JSON, missing columns, too many rows): HTTP 422/413."""


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "utf-16"):
        try:
            text = data.decode(enc)
            if enc == "utf-16" and data[:2] not in (b"\xff\xfe", b"\xfe\xff"):
                continue
            return text
        except UnicodeDecodeError:
            continue
    raise DoorError("the file is not UTF-8 (or UTF-16 with a byte-order mark) text")


def parse_csv(data: bytes, max_rows: int) -> list[dict[str, Any]]:
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [f for f in REQUIRED if f not in header]
    if missing:
        raise DoorError(f"missing column(s) {', '.join(missing)}; expected {', '.join(FIELDS)} "
                        f"(may be left empty: {', '.join(f for f in FIELDS if f not in REQUIRED)})")
    reader.fieldnames = header
    out = []
    for i, r in enumerate(reader):
        if i >= max_rows:
            raise DoorError(f"more than {max_rows} rows in one upload: split the file")
        out.append({k: v for k, v in r.items() if k is not None})
    return out


def parse_json_rows(payload: Any, max_rows: int) -> list[dict[str, Any]]:
    rows = payload.get("rows") if isinstance(payload, dict) else payload
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DoorError("expected {\"rows\": [{...}, ...]}")
    if len(rows) > max_rows:
        raise DoorError(f"more than {max_rows} rows in one request: split it")
    return rows


def _clean_text(v: Any) -> str:
    s = unicodedata.normalize("NFC", str(v)).strip()
    if any(unicodedata.category(ch) == "Cc" for ch in s):
        raise ValueError("control characters")
    if len(s) > MAX_TEXT:
        raise ValueError(f"longer than {MAX_TEXT} characters")
    return s


def _cell(col, v: Any) -> Any:
    """One value converted to the contract dtype (None for an empty nullable one), or ValueError naming the rule."""
    if v is None or (isinstance(v, str) and not v.strip()):
        if col.nullable:
            return None
        raise ValueError("missing")
    if col.dtype == "int":
        if isinstance(v, bool):
            raise ValueError("not an integer")
        f = float(str(v).strip()) if not isinstance(v, (int, float)) else float(v)
        if not math.isfinite(f) or f != int(f):
            raise ValueError("not an integer")
        out: Any = int(f)
    elif col.dtype == "float":
        if isinstance(v, bool):
            raise ValueError("not a number")
        out = float(str(v).strip().replace(",", ".")) if isinstance(v, str) else float(v)
        if not math.isfinite(out):
            raise ValueError("not a finite number")
    else:
        out = _clean_text(v)
        if not out:
            raise ValueError("missing")
    if col.ge is not None and out < col.ge:
        raise ValueError(f"below {col.ge:g}")
    if col.le is not None and out > col.le:
        raise ValueError(f"above {col.le:g}")
    if col.isin is not None and out not in col.isin:
        raise ValueError(f"not one of {', '.join(col.isin)}")
    return out


def check_rows(raw_rows: list[dict[str, Any]], supplier_id: str, plants: set[str] | None = None
               ) -> tuple[list[dict], list[tuple[int, dict, str]]]:
    """Door validation. Returns (good rows with source_row, [(source_row, raw, reason)]). Source rows count
    from 1 (the first data row of a CSV). ``plants``: known plant ids (reference check) when given."""
    good, bad, seen = [], [], set()
    for i, raw in enumerate(raw_rows, start=1):
        reasons = []
        given = raw.get("supplier_id")
        if given not in (None, "") and str(given).strip() != supplier_id:
            bad.append((i, raw, "supplier_id is not yours: rows are stored under your own supplier id"))
            continue
        row: dict[str, Any] = {"source_row": i}
        for name in FIELDS:
            try:
                row[name] = _cell(CONTRACT.column(name), raw.get(name))
            except (ValueError, TypeError) as e:
                reasons.append(f"{name}: {e}")
        if not reasons and plants is not None and row["plant_id"] is not None and row["plant_id"] not in plants:
            reasons.append("plant_id: unknown plant (not in the validated plants table)")
        if not reasons and (row["activity_qty"] is None) != (row["activity_unit"] is None):
            reasons.append("activity_qty and activity_unit: give both or neither")
        if not reasons:
            key = (row["year"], row["commodity"], row["plant_id"])
            if key in seen:
                reasons.append("duplicate of an earlier row in this upload (same year, commodity, plant_id)")
            seen.add(key)
        if reasons:
            bad.append((i, raw, "; ".join(reasons)))
        else:
            good.append(row)
    return good, bad


def _no_peers():
    """A reference that matches no (commodity, year): the peer check is skipped rather than run against the
    supplier's own rows (``check_submissions`` compares within the input when no reference is given)."""
    import pandas as pd

    return pd.DataFrame({"commodity": ["-"], "year": [0], "median_log10_intensity": [float("nan")],
                         "mad_log10_intensity": [float("nan")], "n_peers": [0]})


def suppliers_check(rows: list[dict], history: dict[str, dict], supplier_id: str, reference: Any = None,
                    links: Any = None) -> list[dict]:
    """Cross-validation of door-valid rows by ``suppliers.check_submissions``; sets ``status`` (accepted |
    flagged | rejected) and ``reasons`` (rule key: words) on each row and returns them.

    ``history``: record key -> this supplier's current stored version (last year's values for the history
    rules; a record sent again is replaced by its new version). ``reference``: the peer statistics of the
    newest run (``supply/<run>/xval_reference``; None: no peer check). ``links``: this supplier's validated
    ``supply_links`` rows (spend check; None: skipped)."""
    import pandas as pd

    from co2plan.web.store import record_key
    from suppliers import check_submissions

    if not rows:
        return rows
    new = {record_key(r) for r in rows}
    hist = [(k, h) for k, h in sorted(history.items()) if k not in new]
    recs = [{"submission_id": f"H{i}", "version": int(h["version"]), **{f: h[f] for f in FIELDS}}
            for i, (_k, h) in enumerate(hist)]
    for i, r in enumerate(rows):
        prev = history.get(record_key(r))
        recs.append({"submission_id": f"N{i}", "version": int(prev["version"]) + 1 if prev else 1,
                     **{f: r[f] for f in FIELDS}})
    df = pd.DataFrame(recs)
    df.insert(2, "supplier_id", supplier_id)
    df["activity_qty"] = pd.to_numeric(df["activity_qty"], errors="coerce").astype(float)
    df["tco2e"] = df["tco2e"].astype(float)
    df["year"] = df["year"].astype("int64")
    checked = check_submissions(df, reference=reference if reference is not None and len(reference) else _no_peers(),
                                links=links)
    tail = checked.iloc[len(hist):]
    for r, st, why in zip(rows, tail["status"].astype(str), tail["reasons"].astype(str), strict=True):
        r["status"] = st
        r["reasons"] = [f"{k}: {RULE_TEXT.get(k, k)}" for k in why.split("; ") if k]
    return rows


def rows_as_json(raw: Any) -> str:
    return json.dumps(raw, default=str, ensure_ascii=False)
