"""Factor tables: preparation checks and memoised resolution (activity, region chain, year, gas)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.ghg.errors import FactorConflictError, GHGError, MissingFactorError, UnitConversionError
from core.ghg.library import FACTOR_VERSION, reference_factors
from core.ghg.units import dimensionality, split_unit, unit_multiplier

YEAR_RULES = ("latest_le", "latest_le_else_earliest", "exact")
AccountingError = GHGError
_dimensionality = dimensionality

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
            _check_conflicts(activity, region, year, chosen)
            if not chosen:
                raise MissingFactorError(
                    f"no emission factor for activity={activity!r} region={region!r} year={year} under year rule "
                    f"{year_rule!r} (factor years there: {sorted({r['year'] for r in cand})})")
            return chosen
        raise MissingFactorError(
            f"no emission factor for activity={activity!r}" + (f" basis={basis!r}" if basis else "")
            + f" in regions {list(tried)} (tried in this order) for year {year}")


def _check_conflicts(activity: str, region: str, year: int, chosen: list[dict]) -> None:
    """One factor per activity, region, year and gas after resolution: a CO2e row beside per-gas rows (or CH4
    beside CH4_fossil / CH4_biogenic) would count the same emissions twice, so it raises naming both rows."""
    gases = {r["gas"]: r for r in chosen}
    pairs = []
    if "CO2e" in gases:
        pairs += [(gases["CO2e"], r) for g, r in gases.items() if g != "CO2e"]
    if "CH4" in gases:
        pairs += [(gases["CH4"], gases[g]) for g in ("CH4_fossil", "CH4_biogenic") if g in gases]
    if pairs:
        a, b = pairs[0]
        raise FactorConflictError(
            f"conflicting emission factors for activity={activity!r} region={region!r} year={year}: "
            f"{a['factor_id']} ({a['gas']}, {a['year']}) and {b['factor_id']} ({b['gas']}, {b['year']}) would both "
            "count; keep either the CO2e row or the per-gas rows")


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



# ---------------------------------------------------------------- planning look-ups (issue 15c)
# The optimiser's engineering stand-ins and levers quote one CO2e factor per activity and region without an
# activity year (the latest factor wins). They used to combine gases with their own AR5 table and convert units
# with their own kWh table; these two functions are that look-up on this layer's GWP sets and unit registry.

def co2e_of_rows(rows: list[dict], gwp_set: str = "AR5", where: str = "") -> float:
    """Sum of value x GWP over one factor set (one row per gas, values in one unit). A CO2e row beside
    per-gas rows, CH4 beside CH4_fossil/CH4_biogenic, or one gas twice raises FactorConflictError."""
    from core.ghg.gwp import gwp

    seen: dict[str, dict] = {}
    for r in rows:
        if r["gas"] in seen:
            a = seen[r["gas"]]
            raise FactorConflictError(f"conflicting emission factors{where}: {a.get('factor_id')} and "
                                      f"{r.get('factor_id')} both give {r['gas']} for year {r['year']}")
        seen[r["gas"]] = r
    if rows:
        _check_conflicts(str(rows[0].get("activity")), str(rows[0].get("region")), int(rows[0]["year"]), rows)
    return float(sum(float(r["value"]) * gwp(r["gas"], gwp_set)[0] for r in rows))


def latest_energy_factor(factors: pd.DataFrame, activity: str, regions: list[str], to_unit: str = "kWh",
                         gwp_set: str = "AR5") -> float | None:
    """kg CO2e per ``to_unit`` for an energy activity, from the first region in ``regions`` that has a factor
    per unit of energy (mass numerator, energy denominator); within it the latest year wins (the first unit in
    sorted order on a tie). Per-gas rows are combined with ``gwp_set`` (:func:`co2e_of_rows`). None when no
    region has one."""
    rows = factors[factors["activity"] == activity]
    if rows.empty:
        return None
    energy_dim = dimensionality("kWh")
    for region in regions:
        r = rows[rows["region"] == region]
        if r.empty:
            continue
        best = None
        for (year, unit), g in r.groupby(["year", "unit"]):
            num, _, den = str(unit).partition("/")
            try:
                if dimensionality(num) != dimensionality("kg") or dimensionality(den) != energy_dim:
                    continue
            except GHGError:
                continue
            kg = co2e_of_rows(g.to_dict("records"), gwp_set, f" for activity={activity!r} region={region!r}")
            cand = (int(year), kg * unit_multiplier(num, "kg") * unit_multiplier(to_unit, den))
            if best is None or cand[0] > best[0]:
                best = cand
        if best is not None:
            return best[1]
    return None


def freight_factors(factors: pd.DataFrame, modes, basis: str = "TTW") -> dict[str, float]:
    """kg CO2e per tonne-km for each transport mode: rows with activity ``freight_<mode>``, gas CO2e, a
    mass / tonne_km unit and the given basis (an empty basis counts as TTW); the latest year (then version)
    wins. Raises MissingFactorError naming a mode without a factor."""
    ef = factors
    basis_col = ef["basis"] if "basis" in ef.columns else pd.Series(None, index=ef.index, dtype=object)
    basis_ok = basis_col.fillna("TTW").astype(str).str.upper() == basis.upper()
    out: dict[str, float] = {}
    for mode in sorted(set(modes)):
        rows = ef[(ef["activity"] == f"freight_{mode}") & (ef["gas"] == "CO2e") & basis_ok]
        per_kg = []
        for unit in rows["unit"].astype(str):
            num, _, den = unit.partition("/")
            try:
                ok = den == "tonne_km" and dimensionality(num) == dimensionality("kg")
            except GHGError:
                ok = False
            per_kg.append(unit_multiplier(num, "kg") if ok else np.nan)
        rows = rows.assign(_kg=per_kg).dropna(subset=["_kg"])
        if rows.empty:
            raise MissingFactorError(f"emission_factors: no factor for transport mode '{mode}' (activity "
                                     f"'freight_{mode}', gas CO2e, unit kg/tonne_km, basis {basis})")
        sort_cols = ["year"] + (["version"] if "version" in rows.columns else [])
        last = rows.sort_values(sort_cols).iloc[-1]
        out[mode] = float(last["value"]) * float(last["_kg"])
    return out
