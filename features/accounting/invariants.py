"""The engine's own checks of the table contract (core.tables), so a direct caller gets the same refusals as
the lake stage behind validation: numeric bounds (ge/le), no NaN in a required number, allowed values.

Vectorised: one comparison per column; the message names the table, the first bad row, the column, the
value and the rule, in the words validation uses ("distance_km: -5.0 < 0 (ge 0)").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.ghg.errors import GHGError as AccountingError
from core.tables import TABLES


def check(table: str, df: pd.DataFrame, columns: tuple[str, ...] | None = None) -> None:
    """Raise AccountingError at the first row breaking a ge/le/isin/required rule of ``table``'s contract."""
    spec = TABLES[table]
    for col in spec.columns:
        if (columns is not None and col.name not in columns) or col.name not in df.columns:
            continue
        s = df[col.name]
        if col.dtype in ("float", "int"):
            v = s.to_numpy(dtype=float, na_value=np.nan)
            nan = np.isnan(v)
            if not col.nullable and nan.any():
                _fail(table, int(np.flatnonzero(nan)[0]), f"{col.name}: missing (required)")
            if col.ge is not None and (v < col.ge).any():
                i = int(np.flatnonzero(v < col.ge)[0])
                _fail(table, i, f"{col.name}: {v[i]:g} < {col.ge:g} (ge {col.ge:g})")
            if col.le is not None and (v > col.le).any():
                i = int(np.flatnonzero(v > col.le)[0])
                _fail(table, i, f"{col.name}: {v[i]:g} > {col.le:g} (le {col.le:g})")
        elif col.isin is not None:
            bad = ~(s.isin(col.isin) | (s.isna() if col.nullable else False))
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                _fail(table, i, f"{col.name}: {s.iloc[i]!r} not allowed (isin {', '.join(col.isin)})")


def _fail(table: str, row: int, what: str) -> None:
    raise AccountingError(f"{table} row {row}: {what}")
