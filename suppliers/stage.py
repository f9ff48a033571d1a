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


#: the submissions' repeated string keys, read dictionary-encoded (categoricals): the checks' factorizations
#: of these columns then reuse the parquet dictionary instead of hashing a million Python strings
SUBMISSION_DICTIONARY = ("supplier_id", "commodity", "activity_unit", "method")


def read_submissions(run_id: str, root: str | None = None) -> pd.DataFrame:
    """validated supplier_submissions with the key columns dictionary-encoded."""
    return catalog.VALIDATED["supplier_submissions"].read(run_id, root=root, dictionary=SUBMISSION_DICTIONARY)


def _plain_strings(df: pd.DataFrame, cols: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Categorical columns (of ``cols``; None = all) back to object strings, so that the written tables do
    not depend on how the input was read."""
    cats = [c for c in (df.columns if cols is None else cols)
            if c in df.columns and isinstance(df[c].dtype, pd.CategoricalDtype)]
    return df.astype({c: object for c in cats}) if cats else df


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
    checked = None
    if "supplier_submissions" in set(catalog.VALIDATED.present(run_id, root)):
        subs = read_submissions(run_id, root)
        checked = _plain_strings(check_submissions(subs, links=t["supply_links"]), SUBMISSION_DICTIONARY)
    cat1 = scope3_cat1(t["supply_links"], t["plants"]["plant_id"], checked)
    out = {"scope3_cat1": catalog.SCOPE3_CAT1.write(cat1, run_id, root=root)}
    info: dict[str, Any] = {"status": "ok", "scope3_cat1_tco2e": round(float(cat1["tco2e"].sum()), 1),
                            "scope3_cat1_by_tier": {str(k): round(float(v), 1) for k, v in
                                                    cat1.groupby("method")["tco2e"].sum().items()}}
    if checked is not None:
        out["submission_checks"] = catalog.SUBMISSION_CHECKS.write(checked, run_id, root=root)
        out["xval_reference"] = catalog.XVAL_REFERENCE.write(build_reference(checked), run_id, root=root)
        info["submissions"] = {str(k): int(v) for k, v in checked["status"].value_counts().sort_index().items()
                               if v > 0}
    info["uris"] = out
    return _record(run_id, root, "submissions", info)


def supply_risk(run_id: str, root: str | None = None, previous_run_id: str | None = None,
                log_mlflow: bool = False, tracking_uri: str | None = None) -> dict[str, Any]:
    """ESG normalised across providers, news events classified (model trained on the labelled events,
    measured on held-apart template families, optionally logged to MLflow), risk propagated through the
    tiers, alerts against ``previous_run_id``'s risk scores."""
    from suppliers.esg import normalise_esg
    from suppliers.events import evaluate_event_model, fit_event_model, labelled, log_event_model
    from suppliers.graph import build_graph
    from suppliers.risk import alerts, event_weights, own_risk, product_risk, propagate_risk

    t = _tables(run_id, root, ("plants", "suppliers", "supply_links", "production_history"))
    if t is None:
        return _record(run_id, root, "risk", {"status": "skipped", "why": "no supply tables"})
    opt = {n: (_tables(run_id, root, (n,)) or {}).get(n) for n in
           ("esg_scores", "supplier_events", "plant_products", "lanes")}
    run_date = t["production_history"]["week"].max() + pd.Timedelta(days=7)
    info: dict[str, Any] = {"status": "ok", "run_date": str(run_date.date())}
    out: dict[str, str] = {}
    esg = normalise_esg(opt["esg_scores"], run_date) if opt["esg_scores"] is not None else None
    if esg is not None:
        out["esg_normalised"] = catalog.ESG_NORMALISED.write(esg, run_id, root=root)
        info["esg_disagree"] = int(esg["disagree"].sum())
    weights = None
    ev = opt["supplier_events"]
    if ev is not None and labelled(ev)["label_category"].nunique() >= 2:
        metrics = evaluate_event_model(ev)
        model = fit_event_model(ev)
        classified = model.predict(ev)
        out["events_classified"] = catalog.EVENTS_CLASSIFIED.write(classified, run_id, root=root)
        weights = event_weights(classified, ev, t["suppliers"], run_date)
        info["nlp"] = {k: metrics[k] for k in ("macro_f1", "accuracy", "severity_accuracy", "n_train", "n_test",
                                               "data_hash")}
        if log_mlflow:
            info["nlp"].update(log_event_model(model, metrics, tracking_uri))
    G = build_graph(t["suppliers"], t["supply_links"], t["plants"])
    own = own_risk(t["suppliers"], esg, weights)
    risk = propagate_risk(G, own.set_index("supplier_id")["own"])
    prod = product_risk(risk, t["production_history"])
    table = pd.concat([risk, pd.DataFrame({"node_id": prod["product_id"], "kind": "product", "own": float("nan"),
                                           "inherited": float("nan"), "total": prod["risk"]})], ignore_index=True)
    table = table.merge(own[["supplier_id", "esg_median", "esg_spread", "esg_rated", "n_events"]]
                        .rename(columns={"supplier_id": "node_id"}), on="node_id", how="left")
    out["risk_scores"] = catalog.SUPPLY_RISK.write(table, run_id, root=root)
    previous = catalog.SUPPLY_RISK.read(previous_run_id, root=root) \
        if previous_run_id and catalog.SUPPLY_RISK.exists(previous_run_id, root=root) else None
    al = alerts(G, risk, previous, weights, opt["plant_products"], opt["lanes"])
    out["alerts"] = catalog.SUPPLY_ALERTS.write(al, run_id, root=root)
    info.update(alerts=len(al), alerts_by_kind={k: int(v) for k, v in al["kind"].value_counts().sort_index().items()},
                max_plant_risk=round(float(risk.loc[risk["kind"] == "plant", "total"].max()), 4), uris=out)
    return _record(run_id, root, "risk", info)


def supply_stage(run_id: str, root: str | None = None, **risk_kw: Any) -> dict[str, Any]:
    """The steps in order: graph, submissions (checks + Scope 3 category 1), risk, then the plan's sourcing
    options (which read cat 1 and risk)."""
    out = {"graph": supply_graph(run_id, root), "submissions": supply_submissions(run_id, root),
           "risk": supply_risk(run_id, root, **risk_kw)}
    out["sourcing"] = supply_sourcing(run_id, root)
    return out


def supply_sourcing(run_id: str, root: str | None = None) -> dict[str, Any]:
    """Sourcing options (qualified tier-1 suppliers of key components with capacity, cat 1 intensity, price,
    risk) and component needs per vehicle, for the plan (optimisation.sourcing). Reads Scope 3 category 1
    and the risk scores when the other supply steps wrote them."""
    from suppliers.graph import build_graph
    from suppliers.sourcing import component_needs, sourcing_options, sourcing_upstream

    t = _tables(run_id, root, ("plants", "products", "suppliers", "supply_links"))
    if t is None:
        return _record(run_id, root, "sourcing", {"status": "skipped", "why": "no supply tables"})
    cat1 = catalog.SCOPE3_CAT1.read(run_id, root=root) if catalog.SCOPE3_CAT1.exists(run_id, root=root) else None
    risk = catalog.SUPPLY_RISK.read(run_id, root=root) if catalog.SUPPLY_RISK.exists(run_id, root=root) else None
    opt = sourcing_options(t["supply_links"], t["suppliers"], t["plants"]["plant_id"], cat1, risk)
    need = component_needs(t["products"], set(opt["commodity"]))
    G = build_graph(t["suppliers"], t["supply_links"], t["plants"])
    up = sourcing_upstream(G, opt["supplier_id"])
    out = {"sourcing_options": catalog.SOURCING_OPTIONS.write(opt, run_id, root=root),
           "component_needs": catalog.COMPONENT_NEEDS.write(need, run_id, root=root),
           "sourcing_upstream": catalog.SOURCING_UPSTREAM.write(up, run_id, root=root)}
    return _record(run_id, root, "sourcing", {
        "status": "ok", "options": len(opt), "plants": int(opt["plant_id"].nunique()),
        "suppliers": int(opt["supplier_id"].nunique()), "with_cat1": cat1 is not None, "with_risk": risk is not None,
        "uris": out})
