"""The lake stage: validated tables in, ledger, summary and accounting report tables out."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pandas as pd

from core.ghg.errors import GHGError as AccountingError
from core.ghg.factors import prepare_factors
from core.ghg.library import reference_factors
from features.accounting._common import BOUNDARIES
from features.accounting.coverage import cat1_total, scope3_coverage
from features.accounting.findings import findings_frame
from features.accounting.ledger import build_ledger
from features.accounting.totals import _share, base_year_totals, summarise, totals_by_scope


def account(run_id: str, root: str | None = None, gwp_set: str = "AR5", boundary: str = "operational_control",
            basis: str = "TTW", formula: str = "auto", year_rule: str = "latest_le_else_earliest",
            base_year: int | None = None, factor_version: str | None = None, detail: bool = True,
            duplicates: str = "refuse", surplus: str = "report") -> dict:
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
                                  formula=formula, year_rule=year_rule, factor_version=version, detail=detail,
                                  refrigerant_use=read("refrigerant_use"), process_activity=read("process_activity"),
                                  duplicates=duplicates, surplus=surplus)
    summary = summarise(ledger, plants, boundary)
    findings = report.pop("findings")
    cat1 = catalog.SCOPE3_CAT1.read(run_id, root=root) if catalog.SCOPE3_CAT1.exists(run_id, root=root) else None
    coverage = scope3_coverage(ledger, _share(ledger, plants, boundary) if len(ledger) else None,
                               cat1_total(cat1, plants, boundary))  # cat 1 when the supply stage ran first
    appendix = factor_appendix(ledger, prepare_factors(factors, version))
    uris = {d.table: d.write(df, run_id, root=root)
            for d, df in ((catalog.EMISSIONS_LEDGER, ledger), (catalog.EMISSIONS_SUMMARY, summary),
                          (catalog.ACCOUNTING_REPORT, findings_frame(findings)),
                          (catalog.FACTOR_APPENDIX, appendix), (catalog.SCOPE3_COVERAGE, coverage))}
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
        "findings": dict(sorted(Counter(f["kind"] for f in findings).items())),
        "scope3_coverage": dict(sorted(Counter(coverage["status"]).items())),
        "by_category_t_co2e": _by_category(ledger, plants, boundary),
        "by_carrier_t_co2e": by_carrier(ledger, plants, boundary),
        "by_carrier_gross_t_co2e": by_carrier(ledger, plants, None),
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


def _by_category(ledger: pd.DataFrame, plants: pd.DataFrame, boundary: str) -> dict[str, float]:
    """t CO2e per (scope, category) under the boundary: shows the new sources (fugitive, process, heat)."""
    if not len(ledger) or "category" not in ledger.columns:
        return {}
    w = ledger["co2e_t"].to_numpy(dtype=float) * _share(ledger, plants, boundary)
    key = ledger["scope"].astype(str) + "|" + ledger["category"].astype(str)
    return {k: _round(float(v)) for k, v in pd.Series(w).groupby(key.to_numpy()).sum().sort_index().items()}


APPENDIX_COLUMNS = ["factor_id", "activity", "gas", "value", "unit", "source", "year", "region", "status", "rows",
                    "co2e_t_gross"]


def factor_appendix(ledger: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """Every factor row the ledger used, with its source, year and status (checked | approximation), the
    number of ledger rows and their gross t CO2e; contract, GWP and property ids are listed with their use."""
    if not len(ledger):
        return pd.DataFrame(columns=APPENDIX_COLUMNS)
    use = ledger.groupby(ledger["factor_id"].astype(str), observed=True)["co2e_t"].agg(["size", "sum"])
    use = use.rename(columns={"size": "rows", "sum": "co2e_t_gross"}).reset_index(names="factor_id")
    f = factors.copy()
    if "status" not in f.columns:
        f["status"] = None
    out = use.merge(f[[c for c in APPENDIX_COLUMNS if c in f.columns and c not in ("rows", "co2e_t_gross")]],
                    on="factor_id", how="left")
    return out[APPENDIX_COLUMNS].sort_values("factor_id").reset_index(drop=True)


_PURCHASED_CARRIER = {"purchased_electricity": "electricity", "purchased_heat": "district_heat",
                      "purchased_steam": "steam", "purchased_cooling": "district_cooling"}


def ledger_carrier(ledger: pd.DataFrame) -> pd.Series:
    """The energy carrier of each energy_use ledger row (None for the other sources): Scope 1 and biogenic rows
    carry the carrier as their activity; Scope 2 rows (grid, residual, instruments) by their category."""
    from core.ghg.carriers import CARRIERS

    act, cat = ledger["activity"].astype(str), ledger["category"].astype(str)
    out = act.where(act.isin(list(CARRIERS)), cat.map(_PURCHASED_CARRIER))
    return out.where(ledger["source_table"].astype(str) == "energy_use")


def by_carrier(ledger: pd.DataFrame, plants: pd.DataFrame, boundary: str | None) -> dict[str, float]:
    """t CO2e per (scope, energy carrier) under the boundary (None: gross, every plant at 100 %), energy_use
    rows only (issue 15: the report's by-carrier table)."""
    if not len(ledger) or "category" not in ledger.columns:
        return {}
    car = ledger_carrier(ledger)
    keep = car.notna().to_numpy()
    if not keep.any():
        return {}
    w = ledger["co2e_t"].to_numpy(dtype=float)[keep]
    if boundary is not None:
        w = w * _share(ledger, plants, boundary)[keep]
    key = ledger["scope"].astype(str).to_numpy()[keep] + "|" + car.to_numpy()[keep].astype(str)
    return {k: _round(float(v)) for k, v in pd.Series(w).groupby(key).sum().sort_index().items()}
