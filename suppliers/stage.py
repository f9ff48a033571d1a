"""Lake stages of the supply chain: validated/<run_id> -> supply/<run_id> (catalog entries ``catalog.SUPPLY``).

Each function reads the validated supply tables through the catalog, writes its datasets, records a
``supply_<step>`` manifest section and returns it. A run without supply tables is skipped
with ``status: "skipped"`` (the tables are optional at the door).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from core import catalog, lake


def _tables(run_id: str, root: str | None, names: tuple[str, ...]) -> dict[str, pd.DataFrame] | None:
    present = set(catalog.VALIDATED.present(run_id, root))
    if not set(names) <= present:
        return None
    return {t: catalog.VALIDATED[t].read(run_id, root=root) for t in names}


def _record(run_id: str, root: str | None, step: str, info: dict[str, Any]) -> dict[str, Any]:
    """One manifest section per step (``supply_graph``, ``supply_risk``, ``supply_submissions``): the
    steps may run in parallel and sections are separate files."""
    lake.update_manifest(run_id, f"supply_{step}", info, root)
    return info


def supply_graph(run_id: str, root: str | None = None) -> dict[str, Any]:
    """Graph nodes, exposure, concentration (HHI) and single points of failure."""
    from suppliers.graph import build_graph, concentration, exposure, graph_nodes, single_points_of_failure

    t = _tables(run_id, root, ("plants", "suppliers", "supply_links"))
    if t is None:
        return _record(run_id, root, "graph", {"status": "skipped", "why": "no supply tables"})
    G = build_graph(t["suppliers"], t["supply_links"], t["plants"])
    exp = exposure(G)
    nodes = graph_nodes(G)
    out = {
        "graph_nodes": catalog.SUPPLY_NODES.write(nodes, run_id, root=root),
        "exposure": catalog.SUPPLY_EXPOSURE.write(exp, run_id, root=root),
        "concentration": catalog.SUPPLY_CONCENTRATION.write(concentration(t["suppliers"], t["supply_links"]),
                                                            run_id, root=root),
        "single_points_of_failure": catalog.SUPPLY_SPOF.write(single_points_of_failure(G, exp), run_id, root=root),
    }
    return _record(run_id, root, "graph", {
        "status": "ok", "nodes": G.g.number_of_nodes(), "links": G.g.number_of_edges(),
        "tier_mismatches": int(nodes["tier_mismatch"].sum()), "uris": out})


def supply_submissions(run_id: str, root: str | None = None) -> dict[str, Any]:
    """Check every supplier submission, build the peer reference and compute Scope 3 category 1."""
    from suppliers.cat1 import scope3_cat1
    from suppliers.crossval import build_reference, check_submissions

    t = _tables(run_id, root, ("plants", "supply_links"))
    if t is None:
        return _record(run_id, root, "submissions", {"status": "skipped", "why": "no supply tables"})
    subs = _tables(run_id, root, ("supplier_submissions",))
    checked = check_submissions(subs["supplier_submissions"], links=t["supply_links"]) if subs else None
    cat1 = scope3_cat1(t["supply_links"], t["plants"]["plant_id"], checked)
    out = {"scope3_cat1": catalog.SCOPE3_CAT1.write(cat1, run_id, root=root)}
    info: dict[str, Any] = {"status": "ok", "scope3_cat1_tco2e": round(float(cat1["tco2e"].sum()), 1),
                            "scope3_cat1_by_tier": {str(k): round(float(v), 1) for k, v in
                                                    cat1.groupby("method")["tco2e"].sum().items()}}
    if checked is not None:
        out["submission_checks"] = catalog.SUBMISSION_CHECKS.write(checked, run_id, root=root)
        out["xval_reference"] = catalog.XVAL_REFERENCE.write(build_reference(checked), run_id, root=root)
        info["submissions"] = {k: int(v) for k, v in checked["status"].value_counts().sort_index().items()}
    info["uris"] = out
    return _record(run_id, root, "submissions", info)
