"""CeleryExecutor configuration, checked for real: with AIRFLOW__CORE__EXECUTOR=CeleryExecutor, a Redis
broker and the Celery result backend on PostgreSQL, the Airflow CLI reports the executor, Airflow loads
the celery provider's executor class, and the Celery app the provider builds from that configuration runs
a task through Redis on an in-process worker (stopped within the test) with its result stored in
PostgreSQL. RabbitMQ (the other broker) is checked with a message round trip on the same kind of app.

Needs the optional extra ``[celery]`` (apache-airflow-providers-celery, redis); skips cleanly without it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from importlib.metadata import PackageNotFoundError, version

import pytest
from prod_helpers import AMQP_URL, REDIS_URL, clean_env, pg_query, port_open

from co2plan.airflow_home import airflow_env

pytestmark = pytest.mark.postgres

PROBE = textwrap.dedent('''
    """Runs under the Airflow environment of the test; prints one line: PROBE <json>."""
    import contextlib, io, json, os, sys

    from airflow.configuration import conf
    from airflow.providers.celery.executors.celery_executor_utils import app, create_celery_app
    from celery.contrib.testing.worker import start_worker

    out = {}
    buf = io.StringIO()
    sys.argv = ["airflow", "config", "get-value", "core", "executor"]  # the real CLI, in this process
    from airflow.__main__ import main
    with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
        main()
    out["cli_executor"] = buf.getvalue().strip()
    from airflow.executors.executor_loader import ExecutorLoader
    cls = ExecutorLoader.import_default_executor_cls()[0]
    out["executor_class"] = f"{cls.__module__}.{cls.__name__}"
    out["broker_url"] = app.conf.broker_url
    out["result_backend"] = type(app.backend).__name__

    queue = os.environ["CO2PLAN_PROBE_QUEUE"]

    @app.task(name="co2plan.probe_add")
    def add(x, y):
        return x + y

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20, queues=[queue]):
        result = add.apply_async((2, 3), queue=queue)
        out["redis"] = {"task_id": result.id, "value": result.get(timeout=30), "state": result.state}
    import redis  # leave nothing of the probe queue in Redis

    redis.Redis.from_url(app.conf.broker_url).delete(queue, f"_kombu.binding.{queue}",
                                                     f"_kombu.binding_permanent.{queue}")

    if os.environ.get("CO2PLAN_PROBE_AMQP"):
        os.environ["AIRFLOW__CELERY__BROKER_URL"] = os.environ["CO2PLAN_PROBE_AMQP"]
        amqp_app = create_celery_app(conf)
        with amqp_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=2)
            q = conn.SimpleQueue(queue + "_amqp", queue_opts={"auto_delete": True, "durable": False})
            q.put({"probe": 42})
            msg = q.get(timeout=10)
            msg.ack()
            out["amqp"] = {"broker_url": amqp_app.conf.broker_url, "transport": conn.transport.driver_type,
                           "payload": msg.payload}
            q.close()  # auto_delete: the queue goes with its last consumer
    print("PROBE " + json.dumps(out), flush=True)
''')


def _installed(*dists: str) -> list[str]:
    missing = []
    for d in dists:
        try:
            version(d)
        except PackageNotFoundError:
            missing.append(d)
    return missing


def test_celery_executor_with_redis_broker_and_postgres_result_backend(pg_database, tmp_path):
    missing = _installed("apache-airflow-providers-celery", "celery", "redis")
    if missing:
        pytest.skip(f"optional extra [celery] not installed: {', '.join(missing)}")
    if not port_open("127.0.0.1", 6379):
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    url = pg_database("celery")
    backend = f"db+{url}"
    queue = f"co2plan_probe_{uuid.uuid4().hex[:8]}"
    amqp = AMQP_URL if port_open("127.0.0.1", 5672) else ""
    env = airflow_env(home=tmp_path / "airflow_home", base=clean_env(
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=url, AIRFLOW__CORE__DAGS_FOLDER=str(tmp_path / "dags"),
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor", AIRFLOW__CELERY__BROKER_URL=REDIS_URL,
        AIRFLOW__CELERY__RESULT_BACKEND=backend, CO2PLAN_PROBE_QUEUE=queue, CO2PLAN_PROBE_AMQP=amqp))
    (tmp_path / "dags").mkdir()
    (tmp_path / "probe.py").write_text(PROBE)
    proc = subprocess.run([sys.executable, str(tmp_path / "probe.py")], env=env, capture_output=True, text=True,
                          timeout=180)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(lines[-1][len("PROBE "):])

    assert out["cli_executor"] == "CeleryExecutor"
    assert out["executor_class"] == "airflow.providers.celery.executors.celery_executor.CeleryExecutor"
    assert out["broker_url"] == REDIS_URL
    assert out["result_backend"] == "DatabaseBackend"
    assert out["redis"]["value"] == 5 and out["redis"]["state"] == "SUCCESS"
    # the result row was written by the worker into the PostgreSQL result backend
    rows = pg_query(url, "select status from celery_taskmeta where task_id = %s", (out["redis"]["task_id"],))
    assert rows == [("SUCCESS",)]

    if not amqp:
        pytest.skip("Redis path passed; RabbitMQ not reachable at 127.0.0.1:5672, its check was not run")
    assert out["amqp"] == {"broker_url": AMQP_URL, "transport": "amqp", "payload": {"probe": 42}}
