"""Constants, input coding and small helpers shared by the accounting sections."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.ghg.carriers import CARRIERS, carriers_for
from core.ghg.errors import FactorConflictError, MissingFactorError, UnitConversionError
from core.ghg.errors import GHGError as AccountingError
from core.ghg.factors import YEAR_RULES
from core.ghg.gwp import GWP_SETS

__all__ = ["AccountingError", "FactorConflictError", "MissingFactorError", "UnitConversionError", "YEAR_RULES"]

CARBON_TO_CO2 = 44.0 / 12.0
SCOPES = ("scope1", "scope2_location", "scope2_market", "scope3_cat4")
OUTSIDE_SCOPES = ("biogenic_co2",)  # reported beside the scopes, never summed into them (GHG Protocol)
BOUNDARIES = ("operational_control", "equity_share")
FORMULAS = ("auto", "ef", "hhv", "carbon_content")
# market-based precedence (GHG Protocol Scope 2 Guidance, Table 6.3); lower rank is used first
INSTRUMENT_RANK = {"EAC": 0, "PPA": 1, "green_tariff": 1, "supplier_rate": 2}

SCOPE1_CARRIERS = carriers_for("scope1")
SCOPE2_CARRIERS = carriers_for("scope2")
# the unit per carrier in which carrier_intensities() quotes t CO2e per unit
INTENSITY_UNITS = {c.id: c.default_unit for c in CARRIERS.values()}

F_EF, F_HHV, F_CC = "fuel_x_ef", "fuel_x_hhv_x_ef", "fuel_x_cc_x_44/12"
F_GRID, F_RESIDUAL, F_GRID_FALLBACK = "kwh_x_grid_ef", "kwh_x_residual_mix", "kwh_x_grid_ef_no_residual_mix"
F_FREIGHT = "tonnes_x_km_x_ef"
F_LOCATION_FALLBACK = "qty_x_location_ef_no_residual_factor"

LEDGER_COLUMNS = [
    "scope", "plant_id", "lane_id", "week", "activity", "gas", "quantity", "unit", "emissions_t", "co2e_t",
    "source_table", "source_row", "factor_id", "factor_version", "factor_year", "property_id", "gwp_set",
    "formula", "basis", "category",
]
# detail columns: the activity in the factor's unit and the factor's year; derivable from source_row and
# factor_id, so build_ledger(detail=False) leaves them out for speed on very large runs
DETAIL_COLUMNS = ("quantity", "unit", "factor_year")
CORE_COLUMNS = [c for c in LEDGER_COLUMNS if c not in DETAIL_COLUMNS]

def _source_rows(df: pd.DataFrame) -> np.ndarray:
    """Source row ids: the table's ``source_row`` column when present, else its positional row number."""
    if "source_row" in df.columns:
        return df["source_row"].to_numpy(dtype=np.int64)
    return np.arange(len(df), dtype=np.int64)


def _dates(s: pd.Series) -> np.ndarray:
    """A date column as datetime64[ns] (no parsing pass when it already is one)."""
    if s.dtype == np.dtype("datetime64[ns]"):
        return s.to_numpy()
    return pd.to_datetime(s).to_numpy(dtype="datetime64[ns]")


_CHUNK = 1 << 20  # rows per block for per-row temporaries: small blocks are reused, not freshly paged in


def _years(weeks: pd.Series | np.ndarray) -> np.ndarray:
    """Calendar year of each date as int16: a binary search of the date (int64 ns) among the few new-year
    boundaries of the range, block by block (no calendar conversion per row, no hashing, no large
    temporaries)."""
    w = _dates(weeks) if isinstance(weeks, pd.Series) else np.asarray(weeks, dtype="datetime64[ns]")
    out = np.empty(len(w), dtype=np.int16)
    if not len(w):
        return out
    wi = w.view(np.int64)
    lo, hi = int(wi.min()), int(wi.max())
    if lo == np.iinfo(np.int64).min:  # a NaT: per distinct date, as before (NaT maps to a real year)
        codes, uniq = pd.factorize(w)
        years = np.asarray(uniq, dtype="datetime64[ns]").astype("datetime64[Y]").astype(np.int64) + 1970
        return np.take(years.astype(np.int16), codes, mode="clip")
    y_lo, y_hi = (int(np.datetime64(x, "ns").astype("datetime64[Y]").astype(np.int64)) + 1970 for x in (lo, hi))
    edges = np.array([np.datetime64(f"{y:04d}-01-01", "ns") for y in range(y_lo + 1, y_hi + 1)],
                     dtype="datetime64[ns]").view(np.int64)
    for s in range(0, len(wi), _CHUNK):
        blk = out[s:s + _CHUNK]
        blk[...] = np.searchsorted(edges, wi[s:s + _CHUNK], side="right")
        blk += y_lo
    return out


def _codes(values: pd.Series, table: str = "") -> tuple[np.ndarray, list]:
    """Integer codes and categories of a column (fast path for categoricals); a null is an error naming
    the table, row and column (never mapped onto some category)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, cats = values.cat.codes.to_numpy(), list(values.cat.categories)  # native int8/16 codes
    else:
        codes, uniques = pd.factorize(values, sort=False)
        codes, cats = codes.astype(np.int64, copy=False), list(uniques)
    if len(codes) and codes.min() < 0:
        row = int(np.flatnonzero(codes < 0)[0])
        raise AccountingError(f"{table or 'table'} row {row}: {values.name} is missing")
    return codes, cats


def _unique_index(df: pd.DataFrame, key: str, table: str) -> pd.DataFrame:
    """``df`` indexed by its key column; a duplicated key is an error (nothing is silently dropped)."""
    dup = df[key].duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise AccountingError(f"{table} row {row}: {key} {df[key].iloc[row]!r} appears more than once")
    return df.set_index(key)


def _plant_table(plants: pd.DataFrame) -> pd.DataFrame:
    need = {"plant_id", "country", "equity_share", "operational_control"}
    missing = need - set(plants.columns)
    if missing:
        raise AccountingError(f"plants: missing columns {sorted(missing)}")
    p = _unique_index(plants, "plant_id", "plants")
    if "grid_region" not in p.columns:
        p["grid_region"] = None
    # plants with the same (grid_region, country) resolve the same factors: key on a representative plant
    chain = p["grid_region"].where(p["grid_region"].notna(), "").astype(str) + "|" + p["country"].astype(str)
    codes, _ = pd.factorize(chain.to_numpy())
    first = pd.Series(np.arange(len(p))).groupby(codes).transform("min").to_numpy()
    p["_rep"] = first
    return p


def _plant_codes(table: str, df: pd.DataFrame, plants: pd.DataFrame, col: str = "plant_id") -> np.ndarray:
    """Map a table's plant_id column to positions in ``plants``; unknown plants are an error naming the row."""
    codes, cats = _codes(df[col], table)
    pos = plants.index.get_indexer(pd.Index(cats, dtype=object))
    if (pos < 0).any():
        bad = [cats[i] for i in np.flatnonzero(pos < 0)]
        row = int(np.flatnonzero(np.isin(codes, np.flatnonzero(pos < 0)))[0])
        raise AccountingError(f"{table} row {row}: {col} {bad[0]!r} is not in plants (unknown: {bad[:5]})")
    small = np.int16 if len(plants) < 2 ** 15 else np.int32  # narrow codes: fewer bytes to gather and sort
    return np.take(pos.astype(small), codes, mode="clip")



def _gwp(gwp_set: str) -> dict[str, float]:
    if gwp_set not in GWP_SETS:
        raise AccountingError(f"gwp_set {gwp_set!r} not in {sorted(GWP_SETS)}")
    return GWP_SETS[gwp_set]


def _row_context(table: str, df: pd.DataFrame, row: int, cols: tuple[str, ...]) -> str:
    vals = ", ".join(f"{c}={df[c].iloc[row]!s}" for c in cols if c in df.columns)
    return f"{table} row {row} ({vals})"



def _regions(plants: pd.DataFrame, p: int, with_global: bool, with_subregion: bool = True) -> list[str]:
    row = plants.iloc[p]
    chain = []
    gr = row.get("grid_region")
    if with_subregion and isinstance(gr, str) and gr:
        chain.append(gr)
    chain.append(str(row["country"]))
    if with_global:
        chain.append("GLOBAL")
    return chain

