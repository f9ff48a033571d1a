"""Accounting findings: what the engine noticed and did not refuse (certificate surplus, duplicate activity
kept under ``duplicates='report'``, GWP fallbacks, market-based location fallbacks, CO2e factors published
under another GWP set, factor rows marked approximation). One table per run (ACCOUNTING_REPORT) and counts
in the manifest."""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.ghg.gwp import CO2E_PUBLISHER_GWP  # publisher -> GWP set of its CO2e factors (one table, core.ghg)

FINDING_COLUMNS = ["kind", "severity", "table", "source_row", "key", "value", "unit", "message"]



def instrument_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for cid, mwh in sorted(report.get("instruments_surplus_mwh", {}).items()):
        why = report.get("instruments_not_counted", {}).get(cid, "no consumption left to cover in its period")
        out.append({"kind": "instrument_surplus", "severity": "warning", "table": "energy_contracts",
                    "source_row": -1, "key": cid, "value": float(mwh), "unit": "MWh",
                    "message": f"contract {cid}: {mwh:g} MWh not used ({why}); not counted anywhere"})
    for key, msg in sorted(report.get("market_location_fallback", {}).items()):
        out.append({"kind": "market_location_fallback", "severity": "info", "table": "emission_factors",
                    "source_row": -1, "key": key, "value": float("nan"), "unit": "", "message": msg})
    return out


def co2e_gwp_findings(ledger: pd.DataFrame, factors: pd.DataFrame, gwp_set: str) -> list[dict[str, Any]]:
    """CO2e factors (gas CO2e) used in the ledger whose publisher states them under another GWP set."""
    if not len(ledger):
        return []
    used = used_factor_ids(ledger)
    out = []
    f = factors[factors["factor_id"].astype(str).isin(used) & (factors["gas"] == "CO2e")]
    for rec in f.to_dict("records"):
        src = str(rec.get("source", ""))
        pub = next((k for k in CO2E_PUBLISHER_GWP if k in src), None)
        if pub is not None and CO2E_PUBLISHER_GWP[pub] != gwp_set:
            out.append({"kind": "co2e_gwp_set_differs", "severity": "warning", "table": "emission_factors",
                        "source_row": -1, "key": str(rec["factor_id"]), "value": float(rec["value"]),
                        "unit": str(rec["unit"]),
                        "message": f"{rec['factor_id']}: CO2e published by {pub} under {CO2E_PUBLISHER_GWP[pub]} "
                                   f"GWPs, run uses {gwp_set}; the CO2e value is used as published"})
    return out


def approximation_findings(ledger: pd.DataFrame, factors: pd.DataFrame) -> list[dict[str, Any]]:
    if "status" not in factors.columns or not len(ledger):
        return []
    used = used_factor_ids(ledger)
    f = factors[(factors["status"] == "approximation") & factors["factor_id"].astype(str).isin(used)]
    return [{"kind": "factor_approximation", "severity": "info", "table": "emission_factors", "source_row": -1,
             "key": str(r["factor_id"]), "value": float(r["value"]), "unit": str(r["unit"]),
             "message": f"{r['factor_id']} is marked approximation in its source text: {r['source']}"}
            for r in f.to_dict("records")]


def used_factor_ids(ledger: pd.DataFrame) -> set[str]:
    """The factor ids in the ledger: the categories of its factor_id column (no pass over the rows; the
    writer builds categories from the keys that have rows, plus the ids of contracts, which never match a
    factor id)."""
    fid = ledger["factor_id"]
    if isinstance(fid.dtype, pd.CategoricalDtype):
        return {str(c) for c in fid.cat.categories}
    return set(fid.dropna().astype(str).unique())


def findings_frame(findings: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(findings, columns=FINDING_COLUMNS)
    df["source_row"] = df["source_row"].astype("int64")
    df["value"] = df["value"].astype(float)
    return df
