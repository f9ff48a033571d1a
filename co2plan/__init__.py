"""co2plan application layer: composes the stages and serves the users. Nothing below imports it.

Entry points: ``pipeline`` (every stage of the weekly refresh and of a scenario as a function of a lake
run id; the only module that composes features/, models/ and optimisation/), ``cli`` (the ``co2plan``
command), ``report`` (report.html and summary.png), ``airflow_home`` (project-local Airflow, lake Assets,
DAG Params), ``WeeklyParams`` and ``ScenarioParams`` (the typed parameters of the two DAGs).
The DAG files import only these names.
"""

from core import __version__
from core.exports import lazy_exports

_all, __getattr__, __dir__ = lazy_exports(__name__, {
    "pipeline": "co2plan.pipeline", "cli": "co2plan.cli", "report": "co2plan.report",
    "airflow_home": "co2plan.airflow_home",
    "WeeklyParams": "co2plan.weekly:WeeklyParams",
    "dag_default_args": "co2plan.weekly:dag_default_args",
    "ScenarioParams": "optimisation.scenario:ScenarioParams",
    "fail_fast_on_bad_input": "co2plan.airflow_home:fail_fast_on_bad_input",
    "lake_asset": "co2plan.airflow_home:lake_asset",
    "dag_params": "co2plan.airflow_home:dag_params",
    "lake_run_id": "co2plan.pipeline:lake_run_id",
    "scenario_form": "co2plan.scenario_form",
    "lake_run_key": "co2plan.pipeline:lake_run_key",
    "resolve_run": "co2plan.pipeline:resolve_run",
    "PublishRefused": "co2plan.publish:PublishRefused",
    "portal": "co2plan.portal",  # issue 17: the weekly pickup of supplier-portal submissions
})
__all__ = ["__version__", *_all]
