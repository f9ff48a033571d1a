"""The generic ledger column writer: run/gather parts written once into preallocated columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.accounting._common import LEDGER_COLUMNS


@dataclass
class _Cat:
    """A categorical column under construction: codes (-1 = null) into ``categories``, optionally
    gathered by ``index`` (codes per key, index = each row's key) so the row-level gather happens once."""
    codes: np.ndarray
    categories: list
    index: np.ndarray | None = None


@dataclass
class _Prod:
    """A numeric column given per key: row values are ``values[index] * base`` (base optional), computed
    straight into the output array, so no row-level temporary is made."""
    values: np.ndarray
    index: np.ndarray | None
    base: np.ndarray | None = None


@dataclass
class _K:
    """Run parts: a numeric value per key, optionally times a per-row array (``base``)."""
    values: np.ndarray
    base: np.ndarray | None = None


@dataclass
class _KC:
    """Run parts: a categorical code per key."""
    codes: np.ndarray
    categories: list


@dataclass
class _RC:
    """Run parts: categorical codes per (key-sorted) row."""
    codes: np.ndarray
    categories: list


def _merge_runs(runs: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Adjacent runs merged into contiguous spans, so per-row columns are copied in few slices."""
    spans: list[tuple[int, int]] = []
    for lo, hi, _ in runs:
        if spans and spans[-1][1] == lo:
            spans[-1] = (spans[-1][0], hi)
        else:
            spans.append((lo, hi))
    return spans


def _key_sort(key_codes: np.ndarray, nkeys: int) -> tuple[np.ndarray, np.ndarray]:
    """A stable permutation grouping rows by key (radix sort on a small int type) and each key's bounds."""
    small = key_codes.astype(np.int16 if nkeys < 2 ** 15 else np.int32)
    perm = np.argsort(small, kind="stable")
    bounds = np.zeros(nkeys + 1, dtype=np.int64)
    np.cumsum(np.bincount(key_codes, minlength=nkeys), out=bounds[1:])
    return perm, bounds


_NUMERIC = {"quantity": np.float64, "emissions_t": np.float64, "co2e_t": np.float64, "source_row": np.int64,
            "factor_year": np.int16, "week": np.dtype("datetime64[ns]")}


class _LedgerParts:
    """Collects ledger pieces; :meth:`frame` writes them once into preallocated column arrays."""

    def __init__(self, columns: list[str] | None = None) -> None:
        self.parts: list[tuple[int, dict[str, Any], list | None]] = []
        self.columns = LEDGER_COLUMNS if columns is None else columns

    def add(self, n: int, **cols: Any) -> None:
        """A gather part: row arrays, _Prod / _Cat with an index, or scalars."""
        if n:
            self.parts.append((n, cols, None))

    def add_runs(self, runs: list[tuple[int, int, int]], **cols: Any) -> None:
        """A run part over key-sorted rows: runs are (lo, hi, key); columns are _K / _KC (per key),
        _RC / arrays (per sorted row) or scalars, written run by run (fills and slice copies)."""
        n = sum(hi - lo for lo, hi, _ in runs)
        if n:
            self.parts.append((n, cols, runs))

    def frame(self) -> pd.DataFrame:
        total = sum(n for n, _, _ in self.parts)
        out = {col: self._column(col, total, [(n, cols.get(col), runs) for n, cols, runs in self.parts])
               for col in self.columns}
        return pd.DataFrame(out, columns=self.columns, copy=False)  # copy=False: no block consolidation

    @staticmethod
    def _run_numeric(sl: np.ndarray, v: Any, runs: list[tuple[int, int, int]], col: str) -> None:
        if v is None:
            sl[...] = np.datetime64("NaT") if col == "week" else (np.nan if sl.dtype == np.float64 else -1)
            return
        if not isinstance(v, (_K, np.ndarray)):
            sl[...] = v
            return
        pos = 0
        if isinstance(v, np.ndarray):  # per-row values: copy merged contiguous spans
            for lo, hi in _merge_runs(runs):
                sl[pos:pos + hi - lo] = v[lo:hi]
                pos += hi - lo
            return
        vals = v.values.astype(sl.dtype, copy=False)
        for lo, hi, k in runs:
            seg = sl[pos:pos + hi - lo]
            if v.base is None:
                seg[...] = vals[k]
            else:
                np.multiply(v.base[lo:hi], vals[k], out=seg)
            pos += hi - lo

    @staticmethod
    def _column(col: str, total: int, pieces: list[tuple[int, Any, list | None]]) -> Any:
        if col in _NUMERIC:
            dt = _NUMERIC[col]
            if col == "source_row" and all(isinstance(v, (np.ndarray, _Prod)) for _, v, _ in pieces):
                arrays = {id(x): x for _, v, _ in pieces for x in [v.values if isinstance(v, _Prod) else v]}
                top = max((int(x.max()) for x in arrays.values() if len(x)), default=0)  # each array once
                dt = np.int32 if top < 2 ** 31 - 1 else np.int64  # half the bytes for realistic tables
            arr = np.empty(total, dtype=dt)
            o = 0
            for n, v, runs in pieces:
                sl = arr[o:o + n]
                if runs is not None:
                    _LedgerParts._run_numeric(sl, v, runs, col)
                elif isinstance(v, _Prod):
                    vals = v.values.astype(dt, copy=False)
                    if v.index is None:
                        sl[...] = vals
                    elif (len(vals) <= len(v.index) and len(vals) and (vals == vals[0]).all()
                          and not (dt == np.float64 and np.isnan(vals[0]))):
                        sl[...] = vals[0]  # one value for every key: a fill, not a gather
                    else:
                        np.take(vals, v.index, out=sl, mode="clip")
                    if v.base is not None:
                        np.multiply(sl, v.base, out=sl)
                elif v is None:
                    sl[...] = np.datetime64("NaT") if col == "week" else (np.nan if dt == np.float64 else -1)
                else:
                    sl[...] = v
                o += n
            return arr
        # categorical: union of the pieces' categories, codes remapped straight into one array
        cats: dict[Any, int] = {}
        remaps = []
        seen: dict[int, np.ndarray] = {}  # pieces sharing one category list (plant ids) are mapped once
        for _, v, _runs in pieces:
            if v is None:
                remaps.append(None)
                continue
            if not isinstance(v, (_Cat, _KC, _RC)):
                v = _Cat(np.zeros(1, dtype=np.int32), [v], None)
            rm = seen.get(id(v.categories))
            if rm is None:
                rm = np.array([cats.setdefault(c, len(cats)) for c in v.categories] + [-1], dtype=np.int32)
                seen[id(v.categories)] = rm
            remaps.append((v, rm))
        dt = np.int8 if len(cats) < 127 else np.int16 if len(cats) < 32767 else np.int32
        # zeroed memory from calloc is not paged in until written: fills with code 0 (the first category:
        # one GWP set, one source table, the library's factor version, ...) are skipped and cost nothing
        arr = np.zeros(total, dtype=dt)
        o = 0
        for (n, _, runs), r in zip(pieces, remaps, strict=True):
            sl = arr[o:o + n]
            if r is None:
                sl[...] = -1
            elif isinstance(r[0], _KC):
                small = r[1].astype(dt)[r[0].codes]
                pos = 0
                for lo, hi, k in runs:
                    if small[k]:
                        sl[pos:pos + hi - lo] = small[k]
                    pos += hi - lo
            elif isinstance(r[0], _RC):
                v, rm = r
                ident = np.array_equal(rm[:-1], np.arange(len(rm) - 1))
                rmd = rm.astype(dt)
                pos = 0
                for lo, hi in _merge_runs(runs):
                    seg = sl[pos:pos + hi - lo]
                    if ident:
                        seg[...] = v.codes[lo:hi]
                    else:
                        np.take(rmd, v.codes[lo:hi], out=seg, mode="wrap")
                    pos += hi - lo
            else:
                v, rm = r
                if v.index is None and len(v.codes) == 1:
                    if rm[v.codes[0]]:
                        sl[...] = rm[v.codes[0]]
                elif v.index is None:
                    np.take(rm.astype(dt), v.codes, out=sl, mode="wrap")  # -1 codes pick the trailing -1
                elif len(v.codes) > len(v.index):  # row-level codes: gather the few rows needed
                    np.take(rm.astype(dt), np.take(v.codes, v.index, mode="clip"), out=sl, mode="wrap")
                else:
                    small = rm.astype(dt)[v.codes]
                    if len(small) and (small == small[0]).all():
                        if small[0]:
                            sl[...] = small[0]  # one category for every key: a fill, not a gather
                    else:
                        np.take(small, v.index, out=sl, mode="clip")
            o += n
        return pd.Categorical.from_codes(arr, dtype=pd.CategoricalDtype(list(cats)), validate=False)

