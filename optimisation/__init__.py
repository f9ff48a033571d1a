"""Stage package ``optimisation``: the PuLP + HiGHS production and freight plan, scenarios, the Pareto
sweep and plan KPIs.

Entry points: ``ScenarioParams`` (the typed scenario parameters), ``optimise_scenario`` (validated +
forecast/<run> -> plan/<run>/<scenario>), ``pareto_sweep`` (the cost/CO2 frontier), and for work on
tables without the lake ``PlanInputs``, ``build_model``, ``solve``, ``run_plan``, ``compute_kpis``.
Imports only ``core``.
"""

from core.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "ScenarioParams": "optimisation.scenario:ScenarioParams",
    "DriverChange": "optimisation.scenario:DriverChange",
    "optimise_scenario": "optimisation.stage:optimise",
    "pareto_sweep": "optimisation.stage:pareto",
    "load_inputs": "optimisation.stage:load_inputs",
    "PlanInputs": "optimisation.inputs:PlanInputs",
    "build_model": "optimisation.model:build_model",
    "solve": "optimisation.solve:solve",
    "run_plan": "optimisation.plan:run_plan",
    "compute_kpis": "optimisation.kpis:compute_kpis",
})
