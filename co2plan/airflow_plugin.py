"""Airflow plugin of co2plan: a DAG-run listener that writes the scenario run's note.

Tasks cannot set a run's note (the Execution API has no such route), so the scheduler (and
``airflow dags test``) does it here, with the ORM DagRun of the state change: a running or successful
``scenario_plan`` run without a note gets ``<scenario_id> · base <run> · <parameters>``; a failed one whose
``validate`` task refused the conf gets ``REFUSED — <field>: <reason>; ...``. Registered through the
``airflow.plugins`` entry point; import-light, and a listener error never fails the run.
"""

from __future__ import annotations

import logging

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger("co2plan.airflow_plugin")

SCENARIO_DAG = "scenario_plan"


def _refusal(dag_run) -> list | None:
    from airflow.models.xcom import XComModel
    from sqlalchemy.orm import object_session

    session = object_session(dag_run)
    if session is None:
        return None
    query = XComModel.get_many(run_id=dag_run.run_id, key="refusal", task_ids="validate",
                               dag_ids=dag_run.dag_id, limit=1)
    row = session.scalars(query).first()
    if row is None:
        return None
    value = XComModel.deserialize_value(row)
    return value if isinstance(value, list) else None


class _RunNotes:
    @hookimpl
    def on_dag_run_running(self, dag_run, msg):
        self._name(dag_run)

    @hookimpl
    def on_dag_run_success(self, dag_run, msg):
        self._name(dag_run)

    @hookimpl
    def on_dag_run_failed(self, dag_run, msg):
        if dag_run.dag_id != SCENARIO_DAG:
            return
        try:
            from co2plan.scenario_form import refusal_text

            refusal = _refusal(dag_run)
            if refusal:
                dag_run.note = refusal_text(refusal)[:1000]
            else:
                self._name(dag_run)
        except Exception:  # noqa: BLE001 - a note is never worth failing the scheduler loop
            log.exception("co2plan: could not write the refusal note of %s", dag_run.run_id)

    @staticmethod
    def _name(dag_run) -> None:
        if dag_run.dag_id != SCENARIO_DAG:
            return
        try:
            if dag_run.note:
                return
            from co2plan.scenario_form import scenario_note

            dag_run.note = scenario_note(dict(dag_run.conf or {}))
        except Exception:  # noqa: BLE001
            log.exception("co2plan: could not name run %s", dag_run.run_id)


run_notes = _RunNotes()


class Co2planPlugin(AirflowPlugin):
    name = "co2plan"
    listeners = [run_notes]
