"""Airflow plugin of co2plan: a DAG-run listener that writes the scenario run's note.

Tasks cannot set a run's note (the Execution API has no such route), so the scheduler (and
``airflow dags test``) does it here, with the ORM DagRun of the state change: a running or successful
``scenario_plan`` run without a note gets ``<scenario_id> · base <run> · <parameters>``; a failed one whose
``validate`` task refused the conf gets ``REFUSED — <field>: <reason>; ...``. Registered through the
``airflow.plugins`` entry point; import-light, and a listener error never fails the run.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger("co2plan.airflow_plugin")

SCENARIO_DAG = "scenario_plan"


@contextmanager
def _bound(dag_run):
    """The run bound to a session: the listener's own (scheduler) or a new one (``dags test`` hands over a
    detached run at the end)."""
    from sqlalchemy.orm import object_session

    session = object_session(dag_run)
    if session is not None:
        yield dag_run, session
        return
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        yield session.scalar(select(DagRun).where(DagRun.dag_id == dag_run.dag_id,
                                                  DagRun.run_id == dag_run.run_id)), session


def _refusal(dag_run, session) -> list | None:
    from airflow.models.xcom import XComModel

    query = XComModel.get_many(run_id=dag_run.run_id, key="refusal", task_ids="validate",
                               dag_ids=dag_run.dag_id, limit=1)
    row = session.scalars(query).first()
    if row is None:
        return None
    value = XComModel.deserialize_value(row)
    return value if isinstance(value, list) else None


def _write_note(dag_run, failed: bool) -> None:
    if dag_run.dag_id != SCENARIO_DAG:
        return
    try:
        from co2plan.scenario_form import refusal_text, scenario_note, with_run_scenario_id

        with _bound(dag_run) as (run, session):
            if run is None:
                return
            refusal = _refusal(run, session) if failed else None
            if refusal:
                run.note = refusal_text(refusal)[:1000]
            elif not run.note:
                run.note = scenario_note(with_run_scenario_id(dict(run.conf or {}), run.run_id))
    except Exception as e:  # noqa: BLE001 - a note is never worth failing the scheduler loop or the run
        log.warning("co2plan: could not write the note of run %s: %s", dag_run.run_id, e)


class _RunNotes:
    @hookimpl
    def on_dag_run_running(self, dag_run, msg):
        _write_note(dag_run, failed=False)

    @hookimpl
    def on_dag_run_success(self, dag_run, msg):
        _write_note(dag_run, failed=False)

    @hookimpl
    def on_dag_run_failed(self, dag_run, msg):
        _write_note(dag_run, failed=True)


run_notes = _RunNotes()


class Co2planPlugin(AirflowPlugin):
    name = "co2plan"
    listeners = [run_notes]
