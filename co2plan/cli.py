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


def _run_dag(dag_id: str, conf: dict, logical_date: str | None, log_name: str) -> int:
    """``airflow dags test`` under the project-local AIRFLOW_HOME; progress lines to the terminal,
    the full Airflow log to a file."""
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
    cmd = [airflow_bin(), "dags", "test", dag_id]
    if logical_date:
        cmd.append(logical_date)
    cmd += ["-c", json.dumps(conf)]
    print(f"[co2plan] running DAG {dag_id} (full log: {log_path})", flush=True)
    t0 = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            fh.write(line)
            if "[co2plan]" in line or "ParamValidationError" in line or "Traceback" in line:
                print("  " + line.split("[co2plan]", 1)[-1].strip(), flush=True)
        rc = proc.wait()
    state = _last_run_state(env, dag_id)
    failed = state != "success"
    print(f"[co2plan] DAG {dag_id} finished in {time.perf_counter() - t0:.0f} s: "
          f"{state}", flush=True)
    if rc or failed:
        tail = log_path.read_text(encoding="utf-8").splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
        return rc or 1
    return 0


def _last_run_state(env: dict[str, str], dag_id: str) -> str:
    """State of the DAG's newest run, read from the Airflow metadata database."""
    import sqlalchemy as sa

    engine = sa.create_engine(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    try:
        with engine.connect() as con:
            row = con.execute(sa.text("select state from dag_run where dag_id = :d order by id desc limit 1"),
                              {"d": dag_id}).first()
    finally:
        engine.dispose()
    return str(row[0]) if row else "no run"


def _cmd_weekly(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from co2plan.pipeline import headline
    from co2plan.weekly import WeeklyParams
    from core.params import options_to_conf

    try:
        conf = options_to_conf(args, WeeklyParams)
    except ValidationError as e:
        print(f"weekly refresh refused: {e}", file=sys.stderr)
        return 2
    date = args.date or time.strftime("%Y-%m-%d", time.gmtime())
    run_id = conf["run_id"] or f"weekly-{date}"
    rc = _run_dag("weekly_plan_refresh", conf, date, run_id)
    if rc == 0:
        print(headline(run_id))
    return rc


def _cmd_scenario(args: argparse.Namespace) -> int:
    from co2plan.pipeline import headline, latest_weekly_run, scenario_params

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
        conf["base_run_id"] = conf.get("base_run_id") or latest_weekly_run()
    except (ValueError, LookupError) as e:
        print(str(e), file=sys.stderr)
        return 2
    rc = _run_dag("scenario_plan", conf, None, f"scenario-{conf['scenario_id']}")
    if rc == 0:
        print(headline(conf["base_run_id"], scenario_id=conf["scenario_id"]))
    return rc


def _cmd_airflow(args: argparse.Namespace) -> int:
    """Run any airflow command under the project's Airflow environment (home, dags folder, SQLite)."""
    import os

    from co2plan.airflow_home import airflow_bin, airflow_env, ensure_db
    from core import tracking

    env = airflow_env()
    env["MLFLOW_TRACKING_URI"] = tracking.configure()
    ensure_db(env)
    argv = [a for a in args.airflow_args if a != "--"]
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
    w.add_argument("--date", default=None, help="logical date YYYY-MM-DD (default today); names the run")
    add_cli_options(w, WeeklyParams, aliases=CLI_ALIASES)
    w.set_defaults(func=_cmd_weekly)

    c = sub.add_parser("scenario", help="trigger the planner scenario DAG (airflow dags test)")
    c.add_argument("--scenario-id", default="scenario")
    c.add_argument("--conf", default=None, help="JSON object of scenario parameters")
    c.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="one scenario parameter (JSON value), repeatable, e.g. --set co2_reduction_pct=15")
    c.set_defaults(func=_cmd_scenario)

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
