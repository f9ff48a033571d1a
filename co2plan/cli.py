"""co2plan command line. ``co2plan weekly`` runs the weekly refresh DAG through real Airflow;
``co2plan scenario`` triggers a planner scenario the same way; the other commands run single stages.
Stages are imported lazily so that --help is instant."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def _cmd_sample(args: argparse.Namespace) -> int:
    from features import write_sample

    t0 = time.perf_counter()
    out = write_sample(args.out, size=args.size, seed=args.seed, fmt=args.format)
    print(f"sample '{args.size}' (seed {args.seed}) written to {out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _run_dag(dag_id: str, conf: dict, log_name: str) -> int:
    """``airflow dags test`` under the project-local AIRFLOW_HOME; progress lines to the terminal,
    the full Airflow log to a file (line-buffered, so a killed run keeps what was written).

    The run gets a logical date of its own (now, to the microsecond), so the state printed is the state
    of the run this command started, read by that date, even when other runs overlap. SIGTERM, SIGINT
    and SIGHUP are forwarded to Airflow's whole process group; the command waits for it to end
    (SIGKILL after 5 s), marks its own run failed and exits 128 + signal."""
    import os
    import signal
    import threading
    from datetime import UTC, datetime

    from co2plan.airflow_home import airflow_bin, airflow_env, ensure_db
    from core import tracking

    env = airflow_env()
    env["MLFLOW_TRACKING_URI"] = tracking.configure()
    print(f"[co2plan] Airflow home {env['AIRFLOW_HOME']} (SQLite metadata); preparing the database ...",
          flush=True)
    ensure_db(env)
    logs = Path(env["AIRFLOW_HOME"]) / "runs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{log_name}.log"
    logical = datetime.now(UTC)
    cmd = [airflow_bin(), "dags", "test", dag_id, logical.isoformat(), "-c", json.dumps(conf)]
    print(f"[co2plan] running DAG {dag_id} (full log: {log_path})", flush=True)
    t0 = time.perf_counter()
    got: list[int] = []
    refusals: list[str] = []
    with open(log_path, "w", encoding="utf-8", buffering=1) as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)

        def kill_group(sig: int) -> None:
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

        # `airflow dags test` runs tasks in-process and Airflow's task runner leaves a SIGTERM handler that
        # only calls on_kill(), so the run would go on: SIGKILL the group after a short grace period
        watchdog = threading.Timer(5.0, kill_group, args=(signal.SIGKILL,))
        watchdog.daemon = True

        def forward(signum, frame):  # noqa: ARG001
            if not got:
                got.append(signum)
                kill_group(signum)
                watchdog.start()

        handlers = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                fh.write(line)
                if "[co2plan] REFUSED" in line:
                    refusals.append(line.split("[co2plan] REFUSED", 1)[1].strip())
                elif "[co2plan]" in line or "ParamValidationError" in line:
                    print("  " + line.split("[co2plan]", 1)[-1].strip(), flush=True)
            rc = proc.wait()
        finally:
            watchdog.cancel()
            for sig, h in handlers.items():
                signal.signal(sig, h)
    if got:
        _mark_failed(env, dag_id, logical)
        name = signal.Signals(got[0]).name
        print(f"[co2plan] DAG {dag_id} stopped by {name} after {time.perf_counter() - t0:.0f} s; run marked "
              f"failed (full log: {log_path})", file=sys.stderr, flush=True)
        return 128 + got[0]
    state = _run_state(env, dag_id, logical) or ("success" if rc == 0 else "failed")
    if rc and state == "success":  # the process failed after the run: never report success
        state = "failed"
    print(f"[co2plan] DAG {dag_id} finished in {time.perf_counter() - t0:.0f} s: {state}", flush=True)
    if state != "success":
        msg = refusals[-1] if refusals else _last_error(log_path)
        print(f"[co2plan] REFUSED {msg}" if refusals else f"[co2plan] FAILED {msg}", file=sys.stderr)
        print(f"[co2plan] full log: {log_path}", file=sys.stderr, flush=True)
        return rc or 1
    return 0


def _last_error(log_path: Path) -> str:
    """The last ``...Error: message`` / ``...Exception: message`` line of a log (else its last line)."""
    import re

    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    pat = re.compile(r"^(?:[\w.]+\.)?(\w*(?:Error|Exception|Refused|Exit)): (.+)$")
    for line in reversed(lines):
        m = pat.match(line.strip())
        if m:
            return f"{m.group(1)}: {m.group(2)}"
    return lines[-1].strip() if lines else "(empty log)"


def _dag_runs(env: dict[str, str], dag_id: str) -> list[tuple[str, str, object]]:
    import sqlalchemy as sa

    engine = sa.create_engine(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    try:
        with engine.connect() as con:
            rows = con.execute(sa.text("select run_id, state, logical_date from dag_run where dag_id = :d"),
                               {"d": dag_id}).fetchall()
    finally:
        engine.dispose()
    return [(str(r[0]), str(r[1]), r[2]) for r in rows]


def _same_instant(value: object, when) -> bool:
    from datetime import UTC, datetime

    if value is None:
        return False
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace(" ", "T"))
        except ValueError:
            return False
    if not isinstance(value, datetime):
        return False
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value == when


def _run_state(env: dict[str, str], dag_id: str, logical) -> str | None:
    """State of the DAG run with this logical date (the one this command started), or None."""
    for _, state, when in _dag_runs(env, dag_id):
        if _same_instant(when, logical):
            return state
    return None


def _mark_failed(env: dict[str, str], dag_id: str, logical) -> None:
    """Mark the run this command started failed (its process group was stopped by a signal)."""
    import sqlalchemy as sa

    run_ids = [r for r, state, when in _dag_runs(env, dag_id) if _same_instant(when, logical)
               and state not in ("success", "failed")]
    if not run_ids:
        return
    engine = sa.create_engine(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    try:
        with engine.begin() as con:
            for rid in run_ids:
                con.execute(sa.text("update dag_run set state = 'failed' where dag_id = :d and run_id = :r"),
                            {"d": dag_id, "r": rid})
                con.execute(sa.text("update task_instance set state = 'failed' where dag_id = :d and run_id = :r "
                                    "and state in ('running', 'queued', 'scheduled', 'up_for_retry')"),
                            {"d": dag_id, "r": rid})
    finally:
        engine.dispose()


def _cmd_weekly(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from co2plan.pipeline import headline, lake_run_id, new_attempt, run_key
    from co2plan.weekly import WeeklyParams
    from core.params import options_to_conf

    try:
        conf = options_to_conf(args, WeeklyParams)
    except ValidationError as e:  # the field and the rule, never the input value (it may hold a password)
        print("weekly refresh refused: " + "; ".join(
            f"{'.'.join(map(str, err['loc'])) or 'params'}: {err['msg']}" for err in e.errors()), file=sys.stderr)
        return 2
    date = args.date or time.strftime("%Y-%m-%d", time.gmtime())
    conf["run_id"] = lake_run_id("weekly", explicit=conf["run_id"], when=date)
    conf["attempt"] = conf.get("attempt") or new_attempt()
    key = run_key(conf["run_id"], conf["attempt"])
    print(f"[co2plan] run {conf['run_id']}, attempt {conf['attempt']} (lake key {key})", flush=True)
    rc = _run_dag("weekly_plan_refresh", conf, key)
    if rc == 0:
        print(headline(key))
    return rc


def _cmd_scenario(args: argparse.Namespace) -> int:
    from co2plan.pipeline import headline, latest_weekly_run, resolve_run, scenario_params

    conf = json.loads(args.conf) if args.conf else {}
    for kv in args.set or []:
        k, _, v = kv.partition("=")
        try:
            conf[k] = json.loads(v)
        except json.JSONDecodeError:
            conf[k] = v
    conf.setdefault("scenario_id", args.scenario_id)
    try:
        scenario_params(conf)  # refuse bad input before Airflow starts, naming the field
        base = conf.get("base_run_id")
        conf["base_run_id"] = resolve_run(base) if base else latest_weekly_run()
    except (ValueError, LookupError) as e:
        print(str(e), file=sys.stderr)
        return 2
    rc = _run_dag("scenario_plan", conf, f"scenario-{conf['scenario_id']}")
    if rc == 0:
        print(headline(conf["base_run_id"], scenario_id=conf["scenario_id"]))
    return rc


def _cmd_publish(args: argparse.Namespace) -> int:
    """Publish a run's plan after review (``--force`` overrides the publish gate)."""
    from co2plan.pipeline import ATTEMPT_SEP, publish_stage
    from co2plan.publish import PublishRefused
    from core import lake, tracking

    tracking.configure()
    key = args.run
    if ATTEMPT_SEP not in key:
        attempts = [r for r in lake.list_runs() if r.startswith(key + ATTEMPT_SEP)
                    and "plan/baseline" in lake.read_manifest(r)]
        if not attempts:
            print(f"publish refused: no attempt of {key} with a plan in the lake", file=sys.stderr)
            return 2
        key = attempts[-1]
    try:
        out = publish_stage(key, force=args.force)
    except (PublishRefused, LookupError) as e:
        print(str(e), file=sys.stderr)
        return 1
    print(f"published {key} ({out['status']}); latest: {out['latest']}")
    return 0


def _cmd_airflow(args: argparse.Namespace) -> int:
    """Run any airflow command under the project's Airflow environment (home, dags folder, SQLite)."""
    import os

    from co2plan.airflow_home import airflow_bin, airflow_env, ensure_db
    from core import tracking

    env = airflow_env()
    env["MLFLOW_TRACKING_URI"] = tracking.configure()
    ensure_db(env)
    argv = [a for a in args.airflow_args if a != "--"]
    if argv[:1] == ["standalone"]:  # Airflow's own would start log servers on 0.0.0.0
        from co2plan.airflow_home import standalone

        return standalone(env)
    os.execve(airflow_bin(), [airflow_bin(), *argv], env)
    return 0  # not reached


def _cmd_web(args: argparse.Namespace) -> int:
    """The web app and its users: ``co2plan web serve``, ``create-user``, ``create-token``, ``seed-demo``."""
    from co2plan.web.server import main as web_main

    return web_main([a for a in args.web_args if a != "--"] or ["serve"])


def build_parser() -> argparse.ArgumentParser:
    from co2plan.weekly import CLI_ALIASES, WeeklyParams
    from core.params import add_cli_options

    p = argparse.ArgumentParser(prog="co2plan", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="generate the embedded sample network")
    s.add_argument("--size", choices=["demo", "large"], default="demo")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--format", choices=["csv", "parquet"], default="parquet")
    s.add_argument("--out", default=None, help="output folder (default: lake/_sample/<size>)")
    s.set_defaults(func=_cmd_sample)

    w = sub.add_parser("weekly", help="run the weekly plan refresh DAG end to end (airflow dags test)")
    w.add_argument("--date", default=None, help="a date YYYY-MM-DD (default today) of the week to run: names the lake run "
                        "weekly-<Monday of that week>")
    add_cli_options(w, WeeklyParams, aliases=CLI_ALIASES)
    w.set_defaults(func=_cmd_weekly)

    c = sub.add_parser("scenario", help="trigger the planner scenario DAG (airflow dags test)")
    c.add_argument("--scenario-id", default="scenario")
    c.add_argument("--conf", default=None, help="JSON object of scenario parameters")
    c.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="one scenario parameter (JSON value), repeatable, e.g. --set co2_reduction_pct=15")
    c.set_defaults(func=_cmd_scenario)

    pb = sub.add_parser("publish", help="publish a run's plan (move latest.json) after review; --force "
                                        "overrides the publish checks")
    pb.add_argument("run", help="lake run key <run id>--<attempt> (a run id picks its newest attempt)")
    pb.add_argument("--force", action="store_true", help="publish even if the publish checks refuse")
    pb.set_defaults(func=_cmd_publish)

    a = sub.add_parser("airflow", help="run an airflow command with the project's AIRFLOW_HOME, e.g. "
                                        "'co2plan airflow standalone' for the UI")
    a.add_argument("airflow_args", nargs=argparse.REMAINDER)
    a.set_defaults(func=_cmd_airflow)

    web = sub.add_parser("web", help="the web app: 'co2plan web serve' (public, supplier and enterprise views), "
                                     "'co2plan web create-user|create-token|seed-demo'",
                         description="co2plan web {serve,init-db,create-user,create-token,seed-demo} ...; "
                                     "'co2plan web serve --help' for the options")
    web.add_argument("web_args", nargs=argparse.REMAINDER)
    web.set_defaults(func=_cmd_web)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
