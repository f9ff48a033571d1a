"""Stage package ``suppliers`` (issue 16): the multi-tier supplier network, its risk signals, the
cross-validation of supplier emission submissions and Scope 3 category 1. Contract: docs/SUPPLIERS.md.

Entry points (plain functions on validated tables or on a lake run id, no Airflow):
``check_submissions`` (every submission accepted, flagged or rejected with reasons; the web app calls
it), ``build_reference`` (peer statistics for checking one submission), ``scope3_cat1`` (purchased
goods by GHG Protocol data-quality tier), ``build_graph``/``exposure``/``concentration``/
``single_points_of_failure``/``dependants`` (the network), ``normalise_esg``, ``fit_event_model``/``evaluate_event_model``,
``propagate_risk``/``alerts`` (risk), ``sourcing_options``/``component_needs``/``sourcing_upstream``
(the plan's component sourcing inputs), ``supply_graph``/``supply_submissions``/``supply_risk``/``supply_stage`` (validated/<run> -> supply/<run>).
Imports only ``core`` and ``features``.
"""

from core.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "check_submissions": "suppliers.crossval:check_submissions",
    "build_reference": "suppliers.crossval:build_reference",
    "material_factors": "suppliers.factors:material_factors",
    "scope3_cat1": "suppliers.cat1:scope3_cat1",
    "cat1_rollup": "suppliers.cat1:rollup",
    "build_graph": "suppliers.graph:build_graph",
    "exposure": "suppliers.graph:exposure",
    "concentration": "suppliers.graph:concentration",
    "single_points_of_failure": "suppliers.graph:single_points_of_failure",
    "dependants": "suppliers.graph:dependants",
    "top_paths": "suppliers.graph:top_paths",
    "normalise_esg": "suppliers.esg:normalise_esg",
    "fit_event_model": "suppliers.events:fit_event_model",
    "evaluate_event_model": "suppliers.events:evaluate_event_model",
    "log_event_model": "suppliers.events:log_event_model",
    "own_risk": "suppliers.risk:own_risk",
    "propagate_risk": "suppliers.risk:propagate_risk",
    "alerts": "suppliers.risk:alerts",
    "supply_graph": "suppliers.stage:supply_graph",
    "supply_submissions": "suppliers.stage:supply_submissions",
    "supply_risk": "suppliers.stage:supply_risk",
    "supply_stage": "suppliers.stage:supply_stage",
    "spend_factors": "suppliers.factors:spend_factors",
    "sourcing_options": "suppliers.sourcing:sourcing_options",
    "component_needs": "suppliers.sourcing:component_needs",
    "sourcing_upstream": "suppliers.sourcing:sourcing_upstream",
    "supply_sourcing": "suppliers.stage:supply_sourcing",
})
