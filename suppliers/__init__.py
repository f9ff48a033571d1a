"""Stage package ``suppliers`` (issue 16): the multi-tier supplier network, its risk signals, the
cross-validation of supplier emission submissions and Scope 3 category 1. Contract: docs/SUPPLIERS.md.

Entry points (plain functions on validated tables or on a lake run id, no Airflow):
``check_submissions`` (every submission accepted, flagged or rejected with reasons; the web app calls
it), ``build_reference`` (peer statistics for checking one submission), ``scope3_cat1`` (purchased
goods by GHG Protocol data-quality tier), ``build_graph``/``exposure``/``concentration``/
``single_points_of_failure``/``dependants`` (the network), ``normalise_esg``, ``train_event_model``,
``propagate_risk``/``alerts`` (risk), ``supply_stage`` (validated/<run> -> supply/<run>).
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
    "spend_factors": "suppliers.factors:spend_factors",
})
