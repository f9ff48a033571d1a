"""GHG Protocol accounting engine: validated activity tables in, an emissions ledger out.

Scopes (GHG Protocol Corporate Standard and Scope 2 Guidance):

- ``scope1``          fuels burnt on site (energy_use carriers natural_gas, diesel), per gas, by one of the
                      three formulas: fuel x EF; fuel x HHV x EF; fuel x CC x 44/12.
- ``scope2_location`` electricity x grid-average factor (grid subregion before country).
- ``scope2_market``   electricity covered by contractual instruments in the order EAC -> PPA / green tariff ->
                      supplier-specific rate; the rest x residual mix (or x grid average when the country has
                      no residual mix). An instrument counts only inside its own period and its own market.
- ``scope3_cat4``     upstream transport: tonnes x lane distance x freight_<mode> factor (TTW or WTW).

Every ledger row carries its lineage (source table and row, factor id, version and year, GWP set, formula)
and the facility's gross emissions; the organisational boundary (operational control or equity share) is
applied by :func:`totals_by_scope` / :func:`summarise`, so totals can be recomputed under the other
approach from the same ledger. See docs/ACCOUNTING.md for the choices made and why.

The engine is vectorised: factors are resolved once per distinct (plant region, carrier, unit, year) key —
a few hundred keys for millions of rows; the rows are grouped by key once (a radix sort), and every ledger
column is then written run by run (fills, slice copies and streaming multiplies), with no per-row Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pint

from features.factors import FACTOR_VERSION, fuel_properties, reference_factors

# ----------------------------------------------------------------------------- constants

CARBON_TO_CO2 = 44.0 / 12.0
SCOPES = ("scope1", "scope2_location", "scope2_market", "scope3_cat4")
BOUNDARIES = ("operational_control", "equity_share")
YEAR_RULES = ("latest_le", "latest_le_else_earliest", "exact")
FORMULAS = ("auto", "ef", "hhv", "carbon_content")

# GWP-100 sets. AR4/AR5: IPCC AR4 WG1 Table 2.14 and AR5 WG1 Table 8.A.1 (no climate-carbon feedback; the
# same value for fossil and biogenic methane, as the GHG Protocol and US EPA apply them). AR6: WG1 Table 7.15
# (CH4 fossil 29.8, non-fossil 27.0) and Table 7.SM.7 (CH4 without origin 27.9, N2O 273).
GWP_SETS: dict[str, dict[str, float]] = {
    "AR4": {"CO2": 1.0, "CH4": 25.0, "CH4_fossil": 25.0, "CH4_biogenic": 25.0, "N2O": 298.0, "CO2e": 1.0},
    "AR5": {"CO2": 1.0, "CH4": 28.0, "CH4_fossil": 28.0, "CH4_biogenic": 28.0, "N2O": 265.0, "CO2e": 1.0},
    "AR6": {"CO2": 1.0, "CH4": 27.9, "CH4_fossil": 29.8, "CH4_biogenic": 27.0, "N2O": 273.0, "CO2e": 1.0},
}

# market-based precedence (GHG Protocol Scope 2 Guidance, Table 6.3); lower rank is used first
INSTRUMENT_RANK = {"EAC": 0, "PPA": 1, "green_tariff": 1, "supplier_rate": 2}

SCOPE1_CARRIERS = ("natural_gas", "diesel")
SCOPE2_CARRIERS = ("electricity",)
# the unit per carrier in which carrier_intensities() quotes t CO2e per unit
INTENSITY_UNITS = {"electricity": "kWh", "natural_gas": "kWh", "diesel": "litre"}

F_EF, F_HHV, F_CC = "fuel_x_ef", "fuel_x_hhv_x_ef", "fuel_x_cc_x_44/12"
F_GRID, F_RESIDUAL, F_GRID_FALLBACK = "kwh_x_grid_ef", "kwh_x_residual_mix", "kwh_x_grid_ef_no_residual_mix"
F_FREIGHT = "tonnes_x_km_x_ef"

LEDGER_COLUMNS = [
    "scope", "plant_id", "lane_id", "week", "activity", "gas", "quantity", "unit", "emissions_t", "co2e_t",
    "source_table", "source_row", "factor_id", "factor_version", "factor_year", "property_id", "gwp_set",
    "formula", "basis",
]
# detail columns: the activity in the factor's unit and the factor's year; derivable from source_row and
# factor_id, so build_ledger(detail=False) leaves them out for speed on very large runs
DETAIL_COLUMNS = ("quantity", "unit", "factor_year")
CORE_COLUMNS = [c for c in LEDGER_COLUMNS if c not in DETAIL_COLUMNS]


class AccountingError(ValueError):
    """Bad input to the accounting engine; the message names the table, row and reason."""


class MissingFactorError(AccountingError, LookupError):
    """No emission factor matches an activity, region and year."""


class UnitConversionError(AccountingError):
    """A quantity's unit cannot be converted to the unit of its factor."""


# ----------------------------------------------------------------------------- units (pint)

def _make_registry() -> pint.UnitRegistry:
    ureg = pint.UnitRegistry()
    # pint's Btu is the International Table Btu (1055.056 J); US EPA's mmBtu is 10^6 of those
    ureg.define("mmBtu = 1e6 * Btu = MMBtu")
    ureg.define("US_gallon = gallon")  # pint's gallon is the US liquid gallon (3.785411784 l)
    ureg.define("scf = foot ** 3")  # standard cubic foot (volume; reference conditions are the data's)
    ureg.define("m3 = meter ** 3")
    ureg.define("tonne_km = tonne * kilometer")
    return ureg


UREG = _make_registry()


@lru_cache(maxsize=4096)
def _unit_multiplier_or_error(from_unit: str, to_unit: str) -> float | str:
    try:
        return float(UREG.Quantity(1.0, from_unit).to(to_unit).magnitude)
    except pint.errors.DimensionalityError as exc:
        return f"cannot convert {from_unit!r} to {to_unit!r}: different dimensions ({exc.dim1} vs {exc.dim2})"
    except (pint.errors.UndefinedUnitError, AttributeError, TypeError, ValueError, AssertionError) as exc:
        return f"unknown unit in {from_unit!r} -> {to_unit!r}: {exc}"


def unit_multiplier(from_unit: str, to_unit: str) -> float:
    """Factor f such that ``x [from_unit] == x * f [to_unit]``; raises UnitConversionError across dimensions."""
    out = _unit_multiplier_or_error(str(from_unit), str(to_unit))
    if isinstance(out, str):
        raise UnitConversionError(out)
    return out


@lru_cache(maxsize=1024)
def _dimensionality(unit: str) -> str:
    try:
        return str(UREG.parse_units(unit).dimensionality)
    except (pint.errors.UndefinedUnitError, AttributeError, TypeError, ValueError) as exc:
        raise UnitConversionError(f"unknown unit {unit!r}: {exc}") from None


def split_unit(unit: str) -> tuple[str, str]:
    """``"kg/kWh"`` -> ``("kg", "kWh")``; the factor unit is numerator/denominator."""
    if not isinstance(unit, str) or unit.count("/") != 1:
        raise AccountingError(f"emission_factors.unit {unit!r} must be 'numerator/denominator', e.g. kg/kWh")
    num, den = (p.strip() for p in unit.split("/"))
    return num, den


# ----------------------------------------------------------------------------- factor library

def prepare_factors(factors: pd.DataFrame | None = None, version: str | None = None) -> pd.DataFrame:
    """Check and normalise a factor table; keep one version (``version`` or the only one present)."""
    f = reference_factors() if factors is None else factors.copy()
    need = {"factor_id", "activity", "gas", "value", "unit", "year", "region", "version"}
    missing = need - set(f.columns)
    if missing:
        raise AccountingError(f"emission_factors: missing columns {sorted(missing)}")
    if "basis" not in f.columns:
        f["basis"] = None
    if version is not None:
        f = f[f["version"] == version]
        if f.empty:
            raise AccountingError(f"emission_factors: no factor with version {version!r}")
    versions = sorted(f["version"].astype(str).unique())
    if len(versions) > 1:
        raise AccountingError(f"emission_factors holds several versions {versions}; choose one (factor_version=)")
    f = f.reset_index(drop=True)
    f["year"] = f["year"].astype("int64")
    f["value"] = f["value"].astype(float)
    f["basis"] = f["basis"].where(f["basis"].notna(), None)
    key = ["activity", "region", "gas", "year", "basis"]
    dup = f[f.duplicated(key, keep=False)]
    if not dup.empty:
        raise AccountingError("emission_factors: ambiguous factors (same activity, region, gas, year, basis): "
                              f"{sorted(dup['factor_id'])}")
    return f


class FactorIndex:
    """A prepared factor table indexed by (activity, region) for fast, memoised resolution."""

    def __init__(self, factors: pd.DataFrame) -> None:
        self.df = factors
        self.version = str(factors["version"].iloc[0]) if len(factors) else FACTOR_VERSION
        self._by: dict[tuple[str, str], list[dict]] = {}
        for rec in factors.to_dict("records"):
            self._by.setdefault((rec["activity"], rec["region"]), []).append(rec)
        self._memo: dict[tuple, list[dict]] = {}

    def resolve(self, activity: str, regions: list[str], year: int, year_rule: str = "latest_le_else_earliest",
                basis: str | None = None) -> list[dict]:
        """Factor records (one per gas, sorted by gas) for an activity: see :func:`resolve_factor_set`."""
        tried = tuple(r for r in regions if isinstance(r, str) and r)
        key = (activity, tried, int(year), year_rule, basis)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self._resolve(activity, tried, int(year), year_rule, basis)
        return hit

    def _resolve(self, activity: str, tried: tuple[str, ...], year: int, year_rule: str,
                 basis: str | None) -> list[dict]:
        if year_rule not in YEAR_RULES:
            raise AccountingError(f"year_rule {year_rule!r} not in {YEAR_RULES}")
        for region in tried:
            cand = [r for r in self._by.get((activity, region), []) if basis is None or r["basis"] == basis]
            if not cand:
                continue
            by_gas: dict[str, list[dict]] = {}
            for r in cand:
                by_gas.setdefault(r["gas"], []).append(r)
            chosen = []
            for gas in sorted(by_gas):
                recs = by_gas[gas]
                if year_rule == "exact":
                    pick = [r for r in recs if r["year"] == year]
                else:
                    pick = [r for r in recs if r["year"] <= year]
                    if pick:
                        pick = [max(pick, key=lambda r: r["year"])]
                    elif year_rule == "latest_le_else_earliest":
                        pick = [min(recs, key=lambda r: r["year"])]
                if pick:
                    chosen.append(pick[0])
            if not chosen:
                raise MissingFactorError(
                    f"no emission factor for activity={activity!r} region={region!r} year={year} under year rule "
                    f"{year_rule!r} (factor years there: {sorted({r['year'] for r in cand})})")
            return chosen
        raise MissingFactorError(
            f"no emission factor for activity={activity!r}" + (f" basis={basis!r}" if basis else "")
            + f" in regions {list(tried)} (tried in this order) for year {year}")


def resolve_factor_set(factors: pd.DataFrame, activity: str, regions: list[str], year: int,
                       year_rule: str = "latest_le_else_earliest", basis: str | None = None) -> pd.DataFrame:
    """The factor rows (one per gas) for an activity in the first region of ``regions`` that has any.

    Year rule: ``latest_le`` picks the latest factor year <= activity year (error if none);
    ``latest_le_else_earliest`` (default) does the same but falls back to the earliest later year when the
    activity predates the library (the ledger's ``factor_year`` shows it); ``exact`` needs the same year.
    Raises MissingFactorError naming the activity, regions tried and year.
    """
    idx = FactorIndex(prepare_factors(factors))
    return pd.DataFrame(idx.resolve(activity, regions, year, year_rule, basis))


def _prop_index(props: pd.DataFrame | None) -> dict[tuple[str, str, str], dict]:
    """Fuel properties keyed by (fuel, property, region)."""
    if props is None or props.empty:
        return {}
    out: dict[tuple[str, str, str], dict] = {}
    for rec in props.to_dict("records"):
        out.setdefault((rec["fuel"], rec["property"], rec["region"]), rec)
    return out


def _resolve_property(props: dict, fuel: str, prop: str, regions: list[str]) -> dict | None:
    for region in regions:
        hit = props.get((fuel, prop, region))
        if hit is not None:
            return hit
    return None


def _convert_with_heating_value(from_unit: str, to_unit: str, hv: dict) -> float:
    """Multiplier from ``from_unit`` to ``to_unit`` through a heating value 'energy/physical' unit."""
    e_unit, p_unit = split_unit(hv["unit"])
    d_from, d_to = _dimensionality(from_unit), _dimensionality(to_unit)
    d_e, d_p = _dimensionality(e_unit), _dimensionality(p_unit)
    if d_from == d_p and d_to == d_e:  # physical -> energy: x * HHV
        return unit_multiplier(from_unit, p_unit) * float(hv["value"]) * unit_multiplier(e_unit, to_unit)
    if d_from == d_e and d_to == d_p:  # energy -> physical: x / HHV
        return unit_multiplier(from_unit, e_unit) / float(hv["value"]) * unit_multiplier(p_unit, to_unit)
    raise UnitConversionError(f"heating value {hv['property_id']} ({hv['unit']}) does not bridge "
                              f"{from_unit!r} -> {to_unit!r}")


# ----------------------------------------------------------------------------- ledger assembly

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


@dataclass
class _GasItem:
    gas: str
    coef_t: float  # tonnes of gas per source quantity unit
    mult: float  # source unit -> factor denominator unit
    unit: str  # factor denominator unit (the ledger's quantity unit)
    factor_id: str
    factor_version: str
    factor_year: int
    formula: str
    property_id: str | None = None
    basis: str | None = None


def _factor_item(frow: dict, mult: float, formula: str, property_id: str | None = None) -> _GasItem:
    num, den = split_unit(frow["unit"])
    to_t = unit_multiplier(num, "tonne")
    return _GasItem(gas=str(frow["gas"]), coef_t=mult * float(frow["value"]) * to_t, mult=mult, unit=den,
                    factor_id=str(frow["factor_id"]), factor_version=str(frow["version"]),
                    factor_year=int(frow["year"]), formula=formula, property_id=property_id,
                    basis=frow["basis"] if isinstance(frow.get("basis"), str) else None)


def _emit(parts: _LedgerParts, *, scope: str, key_items: list[list[_GasItem]], bounds: np.ndarray,
          quantity: np.ndarray, gwp: dict[str, float], gwp_set: str, row_cols: dict[str, Any],
          key_cols: dict[str, Any], base: dict[str, Any]) -> None:
    """Expand key-sorted rows into one ledger row per gas of their key.

    Rows are grouped by key (``bounds[k]:bounds[k+1]``), so every per-key value is a fill over a run and
    every per-row value a slice copy or a streaming multiply: no gathers over millions of rows.
    """
    nkeys = len(key_items)
    ngas = [len(items) for items in key_items]
    for j in range(max(ngas, default=0)):
        runs = [(int(bounds[k]), int(bounds[k + 1]), k) for k in range(nkeys)
                if ngas[k] > j and bounds[k + 1] > bounds[k]]
        if not runs:
            continue
        items = [key_items[k][j] if ngas[k] > j else None for k in range(nkeys)]

        def per_key(attr, dtype=float, items=items):
            return np.array([getattr(it, attr) if it is not None else (np.nan if dtype is float else 0)
                             for it in items], dtype=dtype)

        def cat(attr, items=items):
            vals = [getattr(it, attr) if it is not None else None for it in items]
            cats = sorted({v for v in vals if v is not None})
            pos = {c: i for i, c in enumerate(cats)}
            return _KC(np.array([pos[v] if v is not None else -1 for v in vals], dtype=np.int32), cats)

        coef = per_key("coef_t")
        gwp_k = np.array([gwp[it.gas] if it is not None else np.nan for it in items])
        parts.add_runs(
            runs, scope=scope, gas=cat("gas"), quantity=_K(per_key("mult"), quantity), unit=cat("unit"),
            emissions_t=_K(coef, quantity), co2e_t=_K(coef * gwp_k, quantity), factor_id=cat("factor_id"),
            factor_version=cat("factor_version"), factor_year=_K(per_key("factor_year", np.int64)),
            property_id=cat("property_id"), gwp_set=gwp_set, formula=cat("formula"), basis=cat("basis"),
            **row_cols, **key_cols, **base)


def _gwp(gwp_set: str) -> dict[str, float]:
    if gwp_set not in GWP_SETS:
        raise AccountingError(f"gwp_set {gwp_set!r} not in {sorted(GWP_SETS)}")
    return GWP_SETS[gwp_set]


def _row_context(table: str, df: pd.DataFrame, row: int, cols: tuple[str, ...]) -> str:
    vals = ", ".join(f"{c}={df[c].iloc[row]!s}" for c in cols if c in df.columns)
    return f"{table} row {row} ({vals})"


# ----------------------------------------------------------------------------- Scope 1

def _scope1_items(fuel: str, unit: str, regions: list[str], year: int, factors: FactorIndex,
                  props: dict, formula: str, year_rule: str) -> list[_GasItem]:
    fset = factors.resolve(fuel, regions, year, year_rule)
    region = str(fset[0]["region"])
    prop_regions = list(dict.fromkeys([region, *regions, "GLOBAL"]))
    items: list[_GasItem] = []
    for frow in fset:
        _, den = split_unit(frow["unit"])
        if formula == "carbon_content" and frow["gas"] in ("CO2", "CO2e"):
            if frow["gas"] == "CO2e":
                raise AccountingError(f"carbon-content formula needs a per-gas CO2 factor; {fuel} in {region} has "
                                      f"only CO2e ({frow['factor_id']})")
            cc = _resolve_property(props, fuel, "carbon_content", prop_regions)
            if cc is None:
                raise MissingFactorError(f"no carbon_content for fuel {fuel!r} in regions {prop_regions}")
            _, cc_den = split_unit(cc["unit"])
            mult, hv_id = _quantity_multiplier(unit, cc_den, fuel, prop_regions, props, allow_hv=True)
            num, _ = split_unit(cc["unit"])
            coef = mult * float(cc["value"]) * unit_multiplier(num, "tonne") * CARBON_TO_CO2
            items.append(_GasItem(gas="CO2", coef_t=coef, mult=mult, unit=cc_den, factor_id=str(cc["property_id"]),
                                  factor_version=FACTOR_VERSION, factor_year=int(cc["year"]), formula=F_CC,
                                  property_id=hv_id))
            continue
        mult, hv_id = _quantity_multiplier(unit, den, fuel, prop_regions, props, allow_hv=formula != "ef")
        used = F_HHV if hv_id is not None else F_EF
        items.append(_factor_item(frow, mult, used, hv_id))
    return items


def _quantity_multiplier(unit: str, den: str, fuel: str, regions: list[str], props: dict,
                         allow_hv: bool) -> tuple[float, str | None]:
    try:
        return unit_multiplier(unit, den), None
    except UnitConversionError as direct:
        if not allow_hv:
            raise
        hv = _resolve_property(props, fuel, "heating_value", regions)
        if hv is None:
            raise UnitConversionError(f"{direct}; no heating value for {fuel!r} in regions {regions} to bridge "
                                      "them (fuel x HHV x EF)") from None
        return _convert_with_heating_value(unit, den, hv), str(hv["property_id"])


def scope1(energy_use: pd.DataFrame, plants: pd.DataFrame, factors: pd.DataFrame | None = None, *,
           gwp_set: str = "AR5", fuel_props: pd.DataFrame | None = None, formula: str = "auto",
           year_rule: str = "latest_le_else_earliest", factor_version: str | None = None) -> pd.DataFrame:
    """Scope 1 ledger rows (one per source row and gas) for the fuel carriers of ``energy_use``.

    ``formula``: ``ef`` (fuel x EF, units must convert directly), ``hhv`` / ``auto`` (fuel x EF, or
    fuel x HHV x EF when the quantity is physical and the factor per energy or the reverse), ``carbon_content``
    (CO2 = fuel x CC x 44/12; CH4 and N2O still fuel x EF). ``fuel_props`` defaults to
    :func:`features.factors.fuel_properties`; pass an empty frame to forbid heating-value bridges.
    """
    parts = _LedgerParts()
    _scope1_into(parts, energy_use, _plant_table(plants), FactorIndex(prepare_factors(factors, factor_version)),
                 _gwp(gwp_set), gwp_set, fuel_props, formula, year_rule)
    return parts.frame()


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


def _energy_rows(energy_use: pd.DataFrame | _EnergyRows, plants: pd.DataFrame) -> _EnergyRows:
    """Check energy_use (columns, carriers, quantities, plants) and code its columns once."""
    if isinstance(energy_use, _EnergyRows):
        return energy_use
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
    er = _EnergyRows(eu, None, _plant_codes("energy_use", eu, plants), ccodes, ccats, ucodes,
                     [str(u) for u in ucats], years, weeks, q, None)
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
    return er


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


def _scope1_into(parts: _LedgerParts, energy_use: pd.DataFrame | _EnergyRows, plants: pd.DataFrame,
                 factors: FactorIndex, gwp: dict[str, float], gwp_set: str, fuel_props: pd.DataFrame | None,
                 formula: str, year_rule: str) -> None:
    if formula not in FORMULAS:
        raise AccountingError(f"formula {formula!r} not in {FORMULAS}")
    props = _prop_index(fuel_properties() if fuel_props is None else fuel_props)
    er = _energy_rows(energy_use, plants)
    keys = er.keys
    items: list[list[_GasItem]] = []
    for k in range(len(keys["year"])):
        fuel, unit, year = keys["carrier"][k], keys["unit"][k], int(keys["year"][k])
        if fuel not in SCOPE1_CARRIERS:
            items.append([])  # not a fuel: no Scope 1 row
            continue
        try:
            items.append(_scope1_items(fuel, unit, _regions(plants, int(keys["plant"][k]), True), year,
                                       factors, props, formula, year_rule))
        except AccountingError as exc:
            raise er.key_error(k, exc) from None
    if not any(items):
        return
    _emit(parts, scope="scope1", key_items=items, bounds=er.bounds, quantity=er.qty, gwp=gwp, gwp_set=gwp_set,
          row_cols=er.row_cols(plants), key_cols={"activity": _KC(keys["carrier_code"], er.ccats)},
          base={"source_table": "energy_use"})


# ----------------------------------------------------------------------------- Scope 2

def scope2(energy_use: pd.DataFrame, plants: pd.DataFrame, factors: pd.DataFrame | None = None,
           contracts: pd.DataFrame | None = None, *, gwp_set: str = "AR5",
           year_rule: str = "latest_le_else_earliest", factor_version: str | None = None) -> pd.DataFrame:
    """Scope 2 ledger rows, location-based and market-based, for the electricity rows of ``energy_use``."""
    parts = _LedgerParts()
    _scope2_into(parts, energy_use, _plant_table(plants), FactorIndex(prepare_factors(factors, factor_version)),
                 contracts, _gwp(gwp_set), gwp_set, year_rule)
    return parts.frame()


def _scope2_into(parts: _LedgerParts, energy_use: pd.DataFrame | _EnergyRows, plants: pd.DataFrame,
                 factors: FactorIndex, contracts: pd.DataFrame | None, gwp: dict[str, float], gwp_set: str,
                 year_rule: str) -> dict:
    er = _energy_rows(energy_use, plants)
    report: dict[str, Any] = {"instruments_applied_mwh": {}, "instruments_not_counted": {}}
    keys = er.keys
    elec_key = np.array([c in SCOPE2_CARRIERS for c in keys["carrier"]], dtype=bool)
    if not elec_key.any():
        return report
    def wrap(k, fn):
        try:
            return fn()
        except AccountingError as exc:
            raise er.key_error(k, exc) from None

    # location-based: grid subregion -> country (no GLOBAL grid average)
    loc_items, kwh_mult = [], np.zeros(len(keys["year"]))
    for k in range(len(keys["year"])):
        if not elec_key[k]:
            loc_items.append([])
            continue
        p, unit, year = int(keys["plant"][k]), keys["unit"][k], int(keys["year"][k])
        fset = wrap(k, lambda p=p, year=year: factors.resolve("electricity_grid", _regions(plants, p, False), year,
                                                               year_rule))
        items = [wrap(k, lambda fr=fr, unit=unit: _factor_item(fr, unit_multiplier(unit, split_unit(fr["unit"])[1]),
                                                                F_GRID)) for fr in fset]
        loc_items.append(items)
        kwh_mult[k] = wrap(k, lambda unit=unit: unit_multiplier(unit, "kWh"))
    _emit(parts, scope="scope2_location", key_items=loc_items, bounds=er.bounds, quantity=er.qty, gwp=gwp,
          gwp_set=gwp_set, row_cols=er.row_cols(plants), key_cols={"activity": "electricity_grid"},
          base={"source_table": "energy_use"})

    # market-based: instruments first, in precedence order, then residual mix (or grid average)
    # kWh per row, written on the electricity runs only (rows of other carriers are never read)
    kwh = np.empty(len(er.qty))
    elec_spans = []
    for k in np.flatnonzero(elec_key):
        lo, hi = int(er.bounds[k]), int(er.bounds[k + 1])
        np.multiply(er.qty[lo:hi], kwh_mult[k], out=kwh[lo:hi])
        elec_spans.append((lo, hi))
    remainder, slices, report = _allocate_instruments(er, plants, kwh, contracts, elec_spans)
    mkt_items = []
    for k in range(len(keys["year"])):
        if not elec_key[k]:
            mkt_items.append([])
            continue
        p, year = int(keys["plant"][k]), int(keys["year"][k])
        try:
            fset = factors.resolve("electricity_residual_mix", _regions(plants, p, False, False), year, year_rule)
            formula = F_RESIDUAL
        except MissingFactorError:
            fset = wrap(k, lambda p=p, year=year: factors.resolve(
                "electricity_grid", _regions(plants, p, False), year, year_rule))
            formula = F_GRID_FALLBACK
        mkt_items.append([wrap(k, lambda fr=fr, formula=formula: _factor_item(
            fr, unit_multiplier("kWh", split_unit(fr["unit"])[1]), formula)) for fr in fset])
    _emit(parts, scope="scope2_market", key_items=mkt_items, bounds=er.bounds, quantity=remainder, gwp=gwp,
          gwp_set=gwp_set, row_cols=er.row_cols(plants), key_cols={"activity": "electricity_residual"},
          base={"source_table": "energy_use"})
    if slices is not None and len(slices["row"]):
        idx = slices["row"]
        ci = slices["contract"]
        c = slices["table"]
        q = slices["kwh"]
        ef_t = c["factor_kg_per_kwh"].to_numpy(dtype=float) / 1000.0
        inst = c["instrument"].astype(str).to_numpy()
        n_c = np.arange(len(c), dtype=np.int32)
        parts.add(
            len(idx), scope="scope2_market", activity=_Cat(n_c, list("instrument_" + inst), ci), gas="CO2e",
            quantity=q, unit="kWh", emissions_t=_Prod(ef_t, ci, q), co2e_t=_Prod(ef_t * gwp["CO2e"], ci, q),
            factor_id=_Cat(n_c, list(c["contract_id"].astype(str)), ci), factor_version="energy_contracts",
            factor_year=_Prod(_years(c["start"]), ci), formula=_Cat(n_c, list("kwh_x_" + inst), ci),
            gwp_set=gwp_set, source_table="energy_use", **er.gather_cols(plants, idx))
    return report


def _level_groups(level: np.ndarray, n_len: np.ndarray, max_cells: int = 1 << 22):
    """Contract positions per level (contracts with rows only), split so that a padded matrix (contracts x
    longest) stays under ``max_cells`` (contracts of one level are independent, so any split is exact)."""
    for lev in range(int(level.max()) + 1 if len(level) else 0):
        js = np.flatnonzero((level == lev) & (n_len > 0))
        js = js[np.argsort(n_len[js], kind="stable")]
        i = 0
        while i < len(js):
            k = i + 1
            while k < len(js) and (k + 1 - i) * int(n_len[js[k]]) <= max_cells:
                k += 1
            yield np.sort(js[i:k])
            i = k


def _allocate_instruments(er: _EnergyRows, plants: pd.DataFrame, kwh: np.ndarray,
                          contracts: pd.DataFrame | None, elec_spans: list[tuple[int, int]]):
    """Cover electricity with contractual instruments, week by week in precedence order.

    A contract applies to rows of its own plant whose week (the Monday) lies in [start, end] and only when
    its market equals the plant's country. Its volume (mwh) is used chronologically; what is left of a
    week's consumption falls to the next instrument, then to the residual mix. Allocating instrument by
    instrument (chronologically within each) equals the week-by-week greedy allocation, because an
    instrument only ever sees what the instruments before it left.

    Returns the kWh left for the residual mix per row, the instrument slices (row, contract, kWh) and a
    report of MWh applied per contract and of contracts not counted, with the reason.
    """
    report: dict[str, Any] = {"instruments_applied_mwh": {}, "instruments_not_counted": {}}
    if contracts is None or contracts.empty:
        return kwh, None, report
    need = {"contract_id", "plant_id", "instrument", "market", "start", "end", "mwh", "factor_kg_per_kwh"}
    missing = need - set(contracts.columns)
    if missing:
        raise AccountingError(f"energy_contracts: missing columns {sorted(missing)}")
    c = contracts.reset_index(drop=True).copy()
    bad_inst = ~c["instrument"].isin(list(INSTRUMENT_RANK))
    if bad_inst.any():
        row = int(np.flatnonzero(bad_inst.to_numpy())[0])
        raise AccountingError(f"energy_contracts row {row}: instrument {c['instrument'].iloc[row]!r} not in "
                              f"{sorted(INSTRUMENT_RANK)}")
    unknown = ~c["plant_id"].isin(plants.index)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise AccountingError(f"energy_contracts row {row}: plant_id {c['plant_id'].iloc[row]!r} is not in plants")
    c["start"] = pd.to_datetime(c["start"])
    c["end"] = pd.to_datetime(c["end"])
    c["_rank"] = c["instrument"].map(INSTRUMENT_RANK)
    c["_country"] = plants.loc[c["plant_id"], "country"].astype(str).to_numpy()
    wrong_market = c["market"].astype(str) != c["_country"]
    for cid, mkt, ctry in c.loc[wrong_market, ["contract_id", "market", "_country"]].itertuples(index=False):
        report["instruments_not_counted"][str(cid)] = f"market {mkt} differs from the plant's country {ctry}"
    order = c[~wrong_market].sort_values(["plant_id", "_rank", "start", "contract_id"])
    # electricity rows of plants with a contract, grouped by plant, chronological inside each plant
    has_contract = np.zeros(len(plants), dtype=bool)
    has_contract[plants.index.get_indexer(order["plant_id"].unique())] = True
    parts = [lo + np.flatnonzero(np.take(has_contract, er.pcodes[lo:hi], mode="clip")) for lo, hi in elec_spans]
    sel = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    sel = sel[np.lexsort((er.weeks[sel], er.pcodes[sel]))]
    # each row as one sortable number (plant, week rank): a contract's rows are then one contiguous span
    uweeks = np.unique(er.weeks[sel])
    wrank = np.searchsorted(uweeks, er.weeks[sel])
    stride = len(uweeks) + 1
    row_key = er.pcodes[sel].astype(np.int64) * stride + wrank
    o_plant = plants.index.get_indexer(order["plant_id"]).astype(np.int64)
    starts = order["start"].to_numpy(dtype="datetime64[ns]")
    ends = order["end"].to_numpy(dtype="datetime64[ns]")
    lo = np.searchsorted(row_key, o_plant * stride + np.searchsorted(uweeks, starts, "left"), "left")
    hi = np.searchsorted(row_key, o_plant * stride + np.searchsorted(uweeks, ends, "right"), "left")
    hi = np.where(np.isnat(starts) | np.isnat(ends), lo, np.maximum(hi, lo))  # NaT: no week qualifies
    caps = order["mwh"].to_numpy(dtype=float) * 1000.0
    # contracts of one plant use its rows one after the other (precedence order); contracts of different
    # plants are independent. So contracts are taken in levels (the 1st of every plant, then the 2nd, ...),
    # each level vectorised: its contracts' rows padded into a matrix, with a running sum along each line
    # (the same additions, in the same order, as contract by contract)
    level = order.groupby("plant_id", sort=False).cumcount().to_numpy()
    n_len = hi - lo
    residual = kwh  # updated in place: the caller hands over its array
    applied = np.zeros(len(order))
    out_j, out_t, out_rows, out_kwh = [], [], [], []
    for js in _level_groups(level, n_len):
        width = int(n_len[js].max())
        t = np.arange(width)
        valid = t[None, :] < n_len[js][:, None]
        rows2 = sel[np.where(valid, lo[js][:, None] + t[None, :], 0)]
        r = np.where(valid, residual[rows2], 0.0)
        before = np.cumsum(r, axis=1) - r
        take = np.clip(caps[js][:, None] - before, 0.0, r)
        residual[rows2[valid]] -= take[valid]
        applied[js] = take.sum(axis=1)
        jj, tt = np.nonzero(valid & (take > 0))
        out_j.append(js[jj])
        out_t.append(tt)
        out_rows.append(rows2[jj, tt])
        out_kwh.append(take[jj, tt])
    cids = c["contract_id"].astype(str).to_numpy()
    for j, ci in enumerate(order.index.to_numpy()):
        if n_len[j] == 0:
            report["instruments_not_counted"][cids[ci]] = "no consumption in its period"
        else:
            report["instruments_applied_mwh"][cids[ci]] = round(float(applied[j]) / 1000.0, 6)
    if not out_j or not sum(len(x) for x in out_j):
        return kwh, None, report
    j_a, t_a = np.concatenate(out_j), np.concatenate(out_t)
    srt = np.lexsort((t_a, j_a))  # contract by contract (precedence order), chronological inside each
    rows_a = np.concatenate(out_rows)[srt]
    con_a = order.index.to_numpy()[j_a[srt]].astype(np.int64)
    kwh_a = np.concatenate(out_kwh)[srt]
    return residual, {"row": rows_a, "contract": con_a, "kwh": kwh_a, "table": c}, report


# ----------------------------------------------------------------------------- Scope 3 category 4

def scope3_transport(shipments: pd.DataFrame, lanes: pd.DataFrame, plants: pd.DataFrame,
                     factors: pd.DataFrame | None = None, *, basis: str = "TTW", gwp_set: str = "AR5",
                     year_rule: str = "latest_le_else_earliest", factor_version: str | None = None) -> pd.DataFrame:
    """Scope 3 category 4 ledger rows: tonne-km = tonnes x lane distance, x freight_<mode> factor."""
    parts = _LedgerParts()
    _scope3_into(parts, shipments, lanes, _plant_table(plants), FactorIndex(prepare_factors(factors, factor_version)),
                 basis,
                 _gwp(gwp_set), gwp_set, year_rule)
    return parts.frame()


def _scope3_into(parts: _LedgerParts, shipments: pd.DataFrame, lanes: pd.DataFrame, plants: pd.DataFrame,
                 factors: FactorIndex, basis: str, gwp: dict[str, float], gwp_set: str, year_rule: str) -> None:
    if basis not in ("TTW", "WTW"):
        raise AccountingError(f"basis {basis!r} must be 'TTW' or 'WTW'")
    if shipments is None or shipments.empty:
        return
    need = {"week", "lane_id", "tonnes"}
    missing = need - set(shipments.columns)
    if missing:
        raise AccountingError(f"shipments: missing columns {sorted(missing)}")
    ln = _unique_index(lanes, "lane_id", "lanes")
    lcodes, lcats = _codes(shipments["lane_id"], "shipments")
    lpos = ln.index.get_indexer(pd.Index(lcats, dtype=object))
    if (lpos < 0).any():
        bad = np.flatnonzero(lpos < 0)
        row = int(np.flatnonzero(np.isin(lcodes, bad))[0])
        raise AccountingError(f"shipments row {row}: lane_id {lcats[bad[0]]!r} is not in lanes")
    lane_pcodes = _plant_codes("lanes", ln.reset_index(), plants)
    row_lane = lpos[lcodes]
    pcodes = lane_pcodes[row_lane]
    dist = ln["distance_km"].to_numpy(dtype=float)[row_lane]
    tonnes = shipments["tonnes"].to_numpy(dtype=float)
    if len(tonnes) and (np.isnan(tonnes).any() or (tonnes < 0).any()):
        row = int(np.flatnonzero(np.isnan(tonnes) | (tonnes < 0))[0])
        raise AccountingError(f"shipments row {row}: tonnes {tonnes[row]} must be a number >= 0")
    tkm = tonnes * dist
    weeks = _dates(shipments["week"])
    if np.isnat(weeks).any():
        raise AccountingError(f"shipments row {int(np.flatnonzero(np.isnat(weeks))[0])}: week is missing")
    years = _years(weeks)
    mcodes, mcats = _codes(ln["mode"], "lanes")
    row_mode = mcodes[row_lane]
    y0 = int(years.min())
    ny = int(years.max()) - y0 + 1
    key = (plants["_rep"].to_numpy()[pcodes] * len(mcats) + row_mode) * ny + (years - y0)
    kcodes, kuniq = pd.factorize(key, sort=False)
    kuniq = np.asarray(kuniq, dtype=np.int64)
    items = []
    for k, kv in enumerate(kuniq):
        year = int(kv % ny) + y0
        mode = mcats[int((kv // ny) % len(mcats))]
        p = int(kv // ny // len(mcats))
        try:
            fset = factors.resolve(f"freight_{mode}", _regions(plants, p, True, False), year, year_rule, basis)
            items.append([_factor_item(fr, unit_multiplier("tonne_km", split_unit(fr["unit"])[1]), F_FREIGHT)
                          for fr in fset])
        except AccountingError as exc:
            row = int(np.flatnonzero(kcodes == k)[0])
            raise type(exc)(f"{_row_context('shipments', shipments, row, ('lane_id', 'week'))}: {exc}") from None
    perm, bounds = _key_sort(kcodes, len(kuniq))

    def t(a):
        return np.take(a, perm, mode="clip")
    mode_k = np.array([int((kv // ny) % len(mcats)) for kv in kuniq], dtype=np.int32)
    _emit(parts, scope="scope3_cat4", key_items=items, bounds=bounds, quantity=t(tkm), gwp=gwp, gwp_set=gwp_set,
          row_cols={"plant_id": _RC(t(pcodes), list(plants.index)), "lane_id": _RC(t(lcodes), lcats),
                    "week": t(weeks), "source_row": t(_source_rows(shipments))},
          key_cols={"activity": _KC(mode_k, [f"freight_{m}" for m in mcats])}, base={"source_table": "shipments"})


# ----------------------------------------------------------------------------- whole ledger, totals, summary

def build_ledger(plants: pd.DataFrame, energy_use: pd.DataFrame, factors: pd.DataFrame | None = None,
                 contracts: pd.DataFrame | None = None, shipments: pd.DataFrame | None = None,
                 lanes: pd.DataFrame | None = None, *, gwp_set: str = "AR5", basis: str = "TTW",
                 formula: str = "auto", fuel_props: pd.DataFrame | None = None,
                 year_rule: str = "latest_le_else_earliest", factor_version: str | None = None,
                 detail: bool = True) -> tuple[pd.DataFrame, dict]:
    """The full emissions ledger (Scope 1, 2 both methods, 3 cat. 4) and an instrument report.

    ``detail=False`` leaves out quantity, unit and factor_year (:data:`DETAIL_COLUMNS`), which are
    derivable from source_row and factor_id; the lineage columns stay.
    """
    gwp = _gwp(gwp_set)
    p = _plant_table(plants)
    f = FactorIndex(prepare_factors(factors, factor_version))
    parts = _LedgerParts(None if detail else CORE_COLUMNS)
    er = _energy_rows(energy_use, p)
    _scope1_into(parts, er, p, f, gwp, gwp_set, fuel_props, formula, year_rule)
    report = _scope2_into(parts, er, p, f, contracts, gwp, gwp_set, year_rule)
    if shipments is not None and not shipments.empty:
        if lanes is None:
            raise AccountingError("shipments given without lanes: distance and mode come from lanes")
        _scope3_into(parts, shipments, lanes, p, f, basis, gwp, gwp_set, year_rule)
    return parts.frame(), report


def boundary_shares(plants: pd.DataFrame, boundary: str) -> pd.Series:
    """Share of each plant's emissions inside the organisational boundary, indexed by plant_id.

    ``operational_control``: 1 for plants under operational control, else 0 (GHG Protocol ch. 3).
    ``equity_share``: plants.equity_share (0..1), whatever the control.
    """
    p = _unique_index(plants, "plant_id", "plants")
    if boundary == "operational_control":
        return p["operational_control"].astype(bool).astype(float)
    if boundary == "equity_share":
        share = p["equity_share"].astype(float)
        if ((share < 0) | (share > 1) | share.isna()).any():
            bad = share[(share < 0) | (share > 1) | share.isna()].index[0]
            raise AccountingError(f"plants: equity_share of {bad!r} must be within 0..1")
        return share
    raise AccountingError(f"boundary {boundary!r} not in {BOUNDARIES}")


def _share(ledger: pd.DataFrame, plants: pd.DataFrame, boundary: str) -> np.ndarray:
    shares = boundary_shares(plants, boundary)
    pid = ledger["plant_id"]
    if not isinstance(pid.dtype, pd.CategoricalDtype):
        pid = pid.astype("category")
    per_cat = shares.reindex(pid.cat.categories)
    if per_cat.isna().any():
        raise AccountingError(f"ledger plant_id {per_cat[per_cat.isna()].index[0]!r} is not in plants")
    codes = pid.cat.codes.to_numpy()
    return per_cat.to_numpy(dtype=float)[codes]


def totals_by_scope(ledger: pd.DataFrame, plants: pd.DataFrame, boundary: str = "operational_control",
                    year: int | None = None) -> dict[str, float]:
    """t CO2e per scope under an organisational boundary (optionally one calendar year).

    The ledger holds each facility's gross emissions; the boundary is applied here, so the same ledger gives
    totals under operational control and under equity share.
    """
    w = ledger["co2e_t"].to_numpy(dtype=float) * _share(ledger, plants, boundary)
    scope = ledger["scope"]
    scope = scope if isinstance(scope.dtype, pd.CategoricalDtype) else scope.astype("category")
    if year is not None:
        keep = _years(ledger["week"]) == year
        w, scope = w[keep], scope[keep]
    sums = np.bincount(scope.cat.codes.to_numpy(), weights=w, minlength=len(scope.cat.categories))
    out = {s: 0.0 for s in SCOPES}
    for i, s in enumerate(scope.cat.categories):
        out[str(s)] = float(sums[i])
    return out


def base_year_totals(ledger: pd.DataFrame, plants: pd.DataFrame, base_year: int | None = None) -> dict[str, Any]:
    """Base-year totals under both boundaries (base year = earliest year in the ledger unless given)."""
    if base_year is None:
        base_year = int(_years(ledger["week"]).min()) if len(ledger) else None
    if base_year is None:
        return {"year": None}
    return {"year": int(base_year), **{b: totals_by_scope(ledger, plants, b, base_year) for b in BOUNDARIES}}


def recalculate_base_year(base: dict[str, Any], ledger: pd.DataFrame, plants: pd.DataFrame,
                          boundary: str) -> dict[str, float]:
    """Base-year totals under ``boundary``: taken from the stored base-year record when it holds that
    approach, else recomputed from the ledger (e.g. after the boundary policy or the plants changed)."""
    stored = base.get(boundary)
    if stored is not None:
        return dict(stored)
    return totals_by_scope(ledger, plants, boundary, base.get("year"))


def summarise(ledger: pd.DataFrame, plants: pd.DataFrame, boundary: str = "operational_control") -> pd.DataFrame:
    """t CO2e by month x plant x scope (a week counts in the month of its Monday)."""
    share = _share(ledger, plants, boundary)
    gross = ledger["co2e_t"].to_numpy(dtype=float)
    df = pd.DataFrame({
        "month": ledger["week"].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype("datetime64[ns]"),
        "plant_id": ledger["plant_id"], "scope": ledger["scope"], "co2e_t": gross * share, "co2e_t_gross": gross,
    })
    out = df.groupby(["month", "plant_id", "scope"], observed=True, sort=True).sum().reset_index()
    out["plant_id"] = out["plant_id"].astype(str)
    out["scope"] = out["scope"].astype(str)
    out["boundary"] = boundary
    out["gwp_set"] = str(ledger["gwp_set"].iloc[0]) if len(ledger) else None
    return out


# ----------------------------------------------------------------------------- intensities for planning

def carrier_intensities(plants: pd.DataFrame, factors: pd.DataFrame | None, contracts: pd.DataFrame | None,
                        weeks, gwp_set: str = "AR5", *, fuel_props: pd.DataFrame | None = None,
                        year_rule: str = "latest_le_else_earliest",
                        factor_version: str | None = None) -> pd.DataFrame:
    """t CO2e per unit of each carrier, per plant and week, for the forecaster and the optimiser.

    Rows: (electricity, scope2_location, kWh), (electricity, scope2_market, kWh), (natural_gas, scope1, kWh),
    (diesel, scope1, litre). Market-based is quoted at the margin: contractual instruments have fixed
    volumes, so one more kWh is covered by the residual mix (the grid average where the country has none).
    ``contracts`` is accepted for that reason but does not change a marginal intensity.
    """
    del contracts  # marginal intensity: instruments are fixed volumes (see docstring)
    gwp = _gwp(gwp_set)
    p = _plant_table(plants)
    f = FactorIndex(prepare_factors(factors, factor_version))
    props = _prop_index(fuel_properties() if fuel_props is None else fuel_props)
    wk = pd.DatetimeIndex(pd.to_datetime(pd.Series(list(weeks)))).unique().sort_values()
    years = sorted(set(int(y) for y in wk.year))
    def co2e(items):
        return sum(it.coef_t * gwp[it.gas] for it in items)

    rows = []
    for pi in sorted(set(p["_rep"])):  # one representative per (grid_region, country)
        for year in years:
            try:
                vals = _intensities(p, pi, year, f, props, year_rule, co2e)
            except AccountingError as exc:
                raise type(exc)(f"plants {p.index[pi]!r} (and plants in the same region), year {year}: {exc}") \
                    from None
            for (carrier, scope), v in vals.items():
                rows.append((pi, year, carrier, scope, INTENSITY_UNITS[carrier], v))
    per_rep = pd.DataFrame(rows, columns=["_rep", "year", "carrier", "scope", "unit", "tco2e_per_unit"])
    per_year = pd.DataFrame({"plant_id": p.index, "_rep": p["_rep"].to_numpy()}).merge(per_rep, on="_rep")
    grid = pd.DataFrame({"week": wk, "year": wk.year.astype(int)})
    out = grid.merge(per_year.drop(columns="_rep"), on="year").drop(columns="year")
    return out[["plant_id", "week", "carrier", "scope", "unit", "tco2e_per_unit"]].sort_values(
        ["plant_id", "week", "carrier", "scope"]).reset_index(drop=True)


def _intensities(p: pd.DataFrame, pi: int, year: int, f: FactorIndex, props: dict, year_rule: str,
                 co2e) -> dict[tuple[str, str], float]:
    """t CO2e per unit of each (carrier, scope) for one plant region and year."""
    def per_kwh(fset, formula):
        return co2e([_factor_item(fr, unit_multiplier("kWh", split_unit(fr["unit"])[1]), formula) for fr in fset])

    loc = f.resolve("electricity_grid", _regions(p, pi, False), year, year_rule)
    try:
        mkt = f.resolve("electricity_residual_mix", _regions(p, pi, False, False), year, year_rule)
    except MissingFactorError:
        mkt = loc  # no residual mix for the country: the grid average (as in the ledger)
    vals = {("electricity", "scope2_location"): per_kwh(loc, F_GRID),
            ("electricity", "scope2_market"): per_kwh(mkt, F_RESIDUAL)}
    for fuel in SCOPE1_CARRIERS:
        vals[(fuel, "scope1")] = co2e(_scope1_items(fuel, INTENSITY_UNITS[fuel], _regions(p, pi, True), year, f,
                                                    props, "auto", year_rule))
    return vals


# ----------------------------------------------------------------------------- lake stage

def account(run_id: str, root: str | None = None, gwp_set: str = "AR5", boundary: str = "operational_control",
            basis: str = "TTW", formula: str = "auto", year_rule: str = "latest_le_else_earliest",
            base_year: int | None = None, factor_version: str | None = None, detail: bool = True) -> dict:
    """Lake stage: validated/<run_id>/* -> ledger/<run_id>/emissions_ledger and emissions_summary.

    Uses validated emission_factors when the run has them, else the reference library; updates the
    manifest section ``accounting``. Returns the same small dict. ``detail=False`` writes the lean ledger
    (see :func:`build_ledger`).
    """
    from core import catalog, lake

    if boundary not in BOUNDARIES:
        raise AccountingError(f"boundary {boundary!r} not in {BOUNDARIES}")
    have = set(catalog.VALIDATED.present(run_id, root))
    for t in ("plants", "energy_use"):
        if t not in have:
            raise AccountingError(f"{catalog.VALIDATED[t].uri(run_id, root=root)} is missing: accounting needs plants and energy_use")

    def read(t):
        if t not in have:
            return None
        if t in ("energy_use", "shipments"):  # the big ones: string columns straight to categoricals
            return _read_dictionary_encoded(catalog.VALIDATED[t].uri(run_id, root=root), t)
        return catalog.VALIDATED[t].read(run_id, root=root)

    factors = read("emission_factors")
    factor_source = catalog.VALIDATED.emission_factors.name
    if factors is None or factors.empty:
        factors, factor_source = reference_factors(), "features.factors.reference_factors"
    plants = read("plants")
    version = str(prepare_factors(factors, factor_version)["version"].iloc[0])
    ledger, report = build_ledger(plants, read("energy_use"), factors, read("energy_contracts"),
                                  read("shipments"), read("lanes"), gwp_set=gwp_set, basis=basis,
                                  formula=formula, year_rule=year_rule, factor_version=version, detail=detail)
    summary = summarise(ledger, plants, boundary)
    uris = {d.table: d.write(df, run_id, root=root)
            for d, df in ((catalog.EMISSIONS_LEDGER, ledger), (catalog.EMISSIONS_SUMMARY, summary))}
    versions = sorted(set(ledger["factor_version"].dropna().astype(str))) if len(ledger) else []
    result = {
        "uris": uris, "rows": {"emissions_ledger": len(ledger), "emissions_summary": len(summary)},
        "gwp_set": gwp_set, "boundary": boundary, "transport_basis": basis, "year_rule": year_rule,
        "ledger_detail": detail,
        "factor_version": version,
        "factor_versions_used": versions, "factor_source": factor_source,
        "totals_t_co2e": {k: _round(v) for k, v in totals_by_scope(ledger, plants, boundary).items()},
        "base_year": _round_nested(base_year_totals(ledger, plants, base_year)),
        "instruments": report,
    }
    lake.update_manifest(run_id, "accounting", result, root)
    return result


def _read_dictionary_encoded(uri: str, table: str) -> pd.DataFrame:
    """Read a lake table with its contract string columns dictionary-encoded (pandas categoricals), so no
    Python string objects are made and the engine codes them without hashing."""
    import fsspec
    import pyarrow.parquet as pq

    from core.tables import TABLES

    strings = [c.name for c in TABLES[table].columns if c.dtype == "str"]
    fs, path = fsspec.core.url_to_fs(uri)
    with fs.open(path, "rb") as fh:
        names = pq.read_schema(fh).names
        fh.seek(0)
        present = [c for c in strings if c in names]
        return pq.read_table(fh, read_dictionary=present).to_pandas()


def _round(x: float) -> float:
    return float(round(x, 9)) if math.isfinite(x) else x


def _round_nested(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _round_nested(v) for k, v in d.items()}
    return _round(d) if isinstance(d, float) else d
