"""energy_use checked once and grouped by key (plant region, carrier, unit, year)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.ghg.errors import GHGError as AccountingError
from features.accounting._columns import _RC, _Cat, _Prod
from features.accounting._common import (
    _CHUNK,
    SCOPE1_CARRIERS,
    SCOPE2_CARRIERS,
    _codes,
    _dates,
    _plant_codes,
    _row_context,
    _source_rows,
    _years,
)


@dataclass
class _EnergyRows:
    """energy_use checked once and held as numpy arrays grouped by key (plant region, carrier, unit, year):
    rows of key k are ``bounds[k]:bounds[k+1]``; ``rows`` maps them back to the table's positions."""
    table: pd.DataFrame  # the source table, for error messages
    rows: np.ndarray | None  # positions in ``table`` (set once the rows are grouped)
    pcodes: np.ndarray  # plant positions in the plants table
    ccodes: np.ndarray | None  # None once the rows are grouped by key
    ccats: list
    ucodes: np.ndarray | None
    ucats: list
    years: np.ndarray | None
    weeks: np.ndarray
    qty: np.ndarray
    src: np.ndarray | None  # source row ids (the table's source_row column, else positions)

    duplicates: dict[str, Any] = field(default_factory=dict)  # same plant, week and carrier more than once
    keys: dict[str, Any] = field(default_factory=dict)  # distinct keys and each (sorted) row's key code
    bounds: np.ndarray | None = None  # rows of key k are bounds[k]:bounds[k+1]
    _plant_ids: list | None = None

    def plant_ids(self, plants: pd.DataFrame) -> list:
        """The plant ids as one list object, so the ledger maps them to categories once, not per part."""
        if self._plant_ids is None:
            self._plant_ids = list(plants.index)
        return self._plant_ids

    def row_cols(self, plants: pd.DataFrame) -> dict[str, Any]:
        return {"plant_id": _RC(self.pcodes, self.plant_ids(plants)), "week": self.weeks, "source_row": self.src}

    def gather_cols(self, plants: pd.DataFrame, idx: np.ndarray) -> dict[str, Any]:
        return {"plant_id": _Cat(self.pcodes, self.plant_ids(plants), idx), "week": _Prod(self.weeks, idx),
                "source_row": _Prod(self.src, idx)}

    def key_error(self, k: int, exc: AccountingError) -> AccountingError:
        n = int(self.bounds[k + 1] - self.bounds[k])
        more = f" and {n - 1} more row(s) like it" if n > 1 else ""
        return type(exc)(f"{self.context(int(self.bounds[k]))}{more}: {exc}")

    def context(self, pos: int) -> str:
        return _row_context("energy_use", self.table, int(self.rows[pos]), ("plant_id", "week", "carrier", "unit"))


DUPLICATE_RULES = ("refuse", "report")


def _energy_rows(energy_use: pd.DataFrame | _EnergyRows, plants: pd.DataFrame,
                 duplicates: str = "refuse") -> _EnergyRows:
    """Check energy_use (columns, carriers, quantities, plants, duplicate activity) and code its columns once.

    ``duplicates``: the same (plant, week, carrier) twice, in any units (1,000 kWh and 1 MWh), is refused
    naming both rows (``refuse``, the default, the door's key rule), or kept and summed with the count in
    ``er.duplicates`` for the accounting report (``report``).
    """
    if isinstance(energy_use, _EnergyRows):
        return energy_use
    if duplicates not in DUPLICATE_RULES:
        raise AccountingError(f"duplicates {duplicates!r} not in {DUPLICATE_RULES}")
    eu = energy_use
    need = {"week", "plant_id", "carrier", "quantity", "unit"}
    missing = need - set(eu.columns)
    if missing:
        raise AccountingError(f"energy_use: missing columns {sorted(missing)}")
    ccodes, ccats = _codes(eu["carrier"], "energy_use")
    known = set(SCOPE1_CARRIERS) | set(SCOPE2_CARRIERS)
    bad = [i for i, c in enumerate(ccats) if str(c) not in known]
    if bad:
        row = int(np.flatnonzero(np.isin(ccodes, bad))[0])
        raise AccountingError(f"energy_use row {row}: carrier {ccats[bad[0]]!r} is not one of {sorted(known)}")
    q = eu["quantity"].to_numpy(dtype=float)
    if not (q >= 0).all():  # NaN >= 0 is False too
        row = int(np.flatnonzero(np.isnan(q) | (q < 0))[0])
        raise AccountingError(f"energy_use row {row}: quantity {q[row]} must be a number >= 0")
    ucodes, ucats = _codes(eu["unit"], "energy_use")
    weeks = _dates(eu["week"])
    if np.isnat(weeks).any():
        row = int(np.flatnonzero(np.isnat(weeks))[0])
        raise AccountingError(f"energy_use row {row}: week is missing")
    years = _years(weeks)
    pcodes = _plant_codes("energy_use", eu, plants)
    dup = _duplicate_activity(pcodes, len(plants), ccodes, len(ccats), weeks)
    if dup["groups"] and duplicates == "refuse":
        a, b = dup["example"]
        raise AccountingError(
            f"energy_use rows {a} and {b}: the same plant, week and carrier twice "
            f"({_row_context('energy_use', eu, a, ('plant_id', 'week', 'carrier', 'quantity', 'unit'))}; "
            f"{_row_context('energy_use', eu, b, ('quantity', 'unit'))}); {dup['groups']} such group(s). "
            "Sum them at the source, or pass duplicates='report' to keep both (summed) and report them")
    er = _EnergyRows(eu, None, pcodes, ccodes, ccats, ucodes, [str(u) for u in ucats], years, weeks, q, None)
    # group the rows by key once: every scope then works on contiguous runs
    keys = _energy_keys(er, plants["_rep"].to_numpy())
    # a stable radix sort on the small raw key groups rows by key (raw keys are ordered like the keys)
    perm = np.argsort(keys.pop("raw"), kind="stable")
    bounds = np.zeros(len(keys["year"]) + 1, dtype=np.int64)
    np.cumsum(keys.pop("counts"), out=bounds[1:])

    def t(a):
        return np.take(a, perm, mode="clip")
    # only what the scopes still need per row is permuted; carrier, unit and year live in the keys now
    src = perm if "source_row" not in eu.columns else t(_source_rows(eu))  # written as int32 when it fits
    er = _EnergyRows(eu, perm, t(er.pcodes), None, ccats, None, er.ucats, None, t(weeks), t(q), src)
    er.keys, er.bounds = keys, bounds
    er.duplicates = dup
    return er


_WEEK_NS = 7 * 86_400_000_000_000


def _duplicate_activity(pcodes: np.ndarray, nplants: int, ccodes: np.ndarray, ncarriers: int,
                        weeks: np.ndarray) -> dict[str, Any]:
    """Groups of rows with the same (plant, week, carrier) — the energy_use key; dates count in the 7-day bin
    from the earliest date, i.e. their ISO week when dates are Mondays as the contract says: one int key per
    row, a row count per possible key (bincount, block by block, no hashing); a hash only when the key range
    is too large to count."""
    n = len(pcodes)
    out: dict[str, Any] = {"groups": 0, "rows": 0, "example": None}
    if n < 2:
        return out
    day = weeks.view(np.int64)
    d0 = int(day.min())
    ndays = (int(day.max()) - d0) // _WEEK_NS + 1
    nc = max(ncarriers, 1)
    key_range = nplants * ndays * nc
    if key_range <= max(4 * n, 1 << 20) and key_range < 2 ** 31:
        # the int32 key written block by block into one array, then one row count per possible key
        key = np.empty(n, dtype=np.int32)
        for s in range(0, n, _CHUNK):
            e = s + _CHUNK
            k = key[s:e]
            np.floor_divide(day[s:e] - d0, _WEEK_NS, out=k, casting="unsafe")  # 7-day bin from the first date
            k *= nc
            k += ccodes[s:e]
            k += pcodes[s:e].astype(np.int32) * np.int32(ndays * nc)
        counts = np.bincount(key, minlength=key_range)
        many = counts > 1
        if not many.any():
            return out
        first = int(np.flatnonzero(many)[0])
        rows = np.flatnonzero(key == first)
        out.update(groups=int(many.sum()), rows=int(counts[many].sum()), example=(int(rows[0]), int(rows[1])))
        return out
    key = pd.Series(((day - d0) // _WEEK_NS) * nc + ccodes + pcodes.astype(np.int64) * (ndays * nc))
    d = key.duplicated(keep=False).to_numpy()
    if d.any():
        rows = np.flatnonzero(key.to_numpy() == key.to_numpy()[np.flatnonzero(d)[0]])
        out.update(groups=int(key[d].nunique()), rows=int(d.sum()), example=(int(rows[0]), int(rows[1])))
    return out


def _energy_keys(er: _EnergyRows, rep: np.ndarray) -> dict[str, Any]:
    """Distinct (representative plant, carrier, unit, year) keys of the rows, each row's key (``raw``: a
    small int, ordered like the keys) and the number of rows per key.

    Representatives are ranked first, so the key range is (regions x carriers x units x years), a few
    thousand at most: the key fits int16, is built block by block with in-place arithmetic and needs no
    hashing; a row count per possible key gives the distinct keys.
    """
    nc, nu = max(len(er.ccats), 1), max(len(er.ucats), 1)
    y0 = int(er.years.min()) if len(er.years) else 0
    ny = int(er.years.max()) - y0 + 1 if len(er.years) else 1
    reps, rep_rank = np.unique(rep, return_inverse=True)
    key_range = len(reps) * nc * nu * ny
    dt = np.int16 if key_range < 2 ** 15 else np.int32 if key_range < 2 ** 31 else np.int64
    plant_part = (rep_rank.astype(np.int64) * (nc * nu * ny)).astype(dt)
    raw = np.empty(len(er.pcodes), dtype=dt)
    counts = np.zeros(key_range, dtype=np.int64)
    for s in range(0, len(raw), _CHUNK):
        e = s + _CHUNK
        blk = raw[s:e]
        np.take(plant_part, er.pcodes[s:e], out=blk, mode="clip")
        rest = er.ccodes[s:e].astype(dt)
        rest *= nu
        rest += er.ucodes[s:e]
        rest *= ny
        rest += er.years[s:e]
        rest -= y0
        blk += rest
        counts += np.bincount(blk, minlength=key_range)
    present = np.flatnonzero(counts)
    yk = present % ny + y0
    rest = present // ny
    uk = rest % nu
    rest //= nu
    ck = rest % nc
    pk = reps[rest // nc]
    return {"raw": raw, "counts": counts[present], "plant": pk, "carrier": [er.ccats[i] for i in ck],
            "carrier_code": ck, "unit": [er.ucats[i] for i in uk], "year": yk}

