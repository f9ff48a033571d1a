"""Supplier submissions at the door: parse (CSV upload, JSON rows, one form row), validate every row against
the ``supplier_emissions`` contract of ``core.tables``, quarantine refused rows with the reason and their
source row, cross-validate the rest, store the batch (store.Store.store_batch: versioned, audited).

The supplier id is set by the server from the principal; a row naming another supplier is quarantined.

HOOK(issue 16): :func:`suppliers_check` is the one place where issue 16's public
``suppliers.check_submissions(df, reference)`` plugs in. Until it lands the minimal local rules below run
(history jump against the supplier's own previous version, zero emissions).
"""

from __future__ import annotations

import csv
import io
import json
import math
import unicodedata
from typing import Any

from core.tables import TABLES

__all__ = ["DoorError", "parse_csv", "parse_json_rows", "check_rows", "suppliers_check", "CONTRACT"]

CONTRACT = TABLES["supplier_emissions"]
FIELDS = [c for c in CONTRACT.column_names if c != "supplier_id"]
MAX_TEXT = 64
#: a jump against the previous version of the same record above this share is flagged (issue 16: history)
JUMP = 0.5


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
    missing = [f for f in FIELDS if f not in header]
    if missing:
        raise DoorError(f"missing column(s) {', '.join(missing)}; expected {', '.join(FIELDS)}")
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
    """One value converted to the contract dtype, or ValueError naming the rule."""
    if v is None or (isinstance(v, str) and not v.strip()):
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
        if not reasons and plants is not None and row["plant_id"] not in plants:
            reasons.append("plant_id: unknown plant (not in the validated plants table)")
        if not reasons:
            key = (row["plant_id"], row["year"], row["category"])
            if key in seen:
                reasons.append("duplicate of an earlier row in this upload (same plant_id, year, category)")
            seen.add(key)
        if reasons:
            bad.append((i, raw, "; ".join(reasons)))
        else:
            good.append(row)
    return good, bad


def suppliers_check(rows: list[dict], history: dict[str, dict]) -> list[dict]:
    """HOOK(issue 16): cross-validation of door-valid rows; sets ``status`` (accepted | flagged | rejected)
    and ``reasons`` on each row and returns them. ``history``: record key -> this supplier's current stored
    version. Replace the body with ``suppliers.check_submissions`` once issue 16 lands."""
    for r in rows:
        reasons = []
        prev = history.get("|".join(str(r[k]) for k in ("plant_id", "year", "category")))
        if prev is not None and prev["tco2e"] > 0:
            change = r["tco2e"] / prev["tco2e"] - 1
            if abs(change) > JUMP:
                reasons.append(f"history:jump {change:+.0%} against version {prev['version']}")
        if r["tco2e"] == 0:
            reasons.append("value:zero emissions reported")
        r["status"] = "flagged" if reasons else "accepted"
        r["reasons"] = reasons
    return rows


def rows_as_json(raw: Any) -> str:
    return json.dumps(raw, default=str, ensure_ascii=False)
