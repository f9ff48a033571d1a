"""How long each DAG file in dags/ takes to parse, against an empty DAG file with the same airflow.sdk
imports, measured in the same run. Target (issue 7): < 2 s per DAG file.

    .venv/bin/python benchmarks/bench_dag_parse.py [repeats=3]

Every measurement runs in a fresh interpreter under the project's Airflow environment
(co2plan.airflow_home.airflow_env, with a temporary AIRFLOW_HOME), so nothing is cached between files:

- import: ``import airflow.sdk`` first (paid by every DAG file alike, reported separately), then the
  time to execute the DAG file as a module: its own top-level imports and DAG construction, which is
  what a file adds to the DAG processor's work;
- dagbag: ``DagBag(dag_folder=<file>)`` on that one file (Airflow's own parse: import, bagging, checks),
  after ``airflow.dag_processing.dagbag`` is imported.

Best and median over ``repeats`` fresh interpreters (other processes on the machine only ever add time,
so the best is the steadier figure); ratios are best against the empty DAG's best. The target is checked
on the median. Exit status 1 if a file fails to parse or is over the target.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from co2plan.airflow_home import airflow_env
from core.settings import PROJECT_ROOT

TARGET_S = 2.0

BASELINE_DAG = '''"""Empty DAG with the same airflow.sdk imports as the project's DAG files."""
import pendulum
from airflow.sdk import Asset, Param, dag, task


@dag(dag_id="bench_empty", schedule=None, start_date=pendulum.datetime(2026, 1, 5, tz="UTC"), catchup=False,
     params={"x": Param(1, type="integer")})
def bench_empty():
    @task(outlets=[Asset(name="bench_empty", uri="file:///tmp/bench_empty")])
    def noop() -> dict:
        return {}

    noop()


bench_empty()
'''

CHILD = r'''
import importlib.util, json, os, sys, time
mode, path = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(path))  # Airflow puts the DAGs folder on sys.path too
t0 = time.perf_counter()
import airflow.sdk  # noqa: F401
sdk_s = time.perf_counter() - t0
if mode == "import":
    from airflow.sdk import DAG
    from airflow.sdk.definitions._internal.contextmanager import DagContext
    t1 = time.perf_counter()
    spec = importlib.util.spec_from_file_location("bench_dag_module", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    DagContext.current_autoregister_module_name = spec.name  # as DagBag does: collect DAGs built by calls
    spec.loader.exec_module(module)
    s = time.perf_counter() - t1
    found = {d for d, _ in DagContext.autoregistered_dags} | {v for v in vars(module).values() if isinstance(v, DAG)}
    dags = sorted(d.dag_id for d in found)
    errors = {}
else:
    from airflow.dag_processing.dagbag import DagBag
    t1 = time.perf_counter()
    bag = DagBag(dag_folder=path)
    s = time.perf_counter() - t1
    dags = sorted(bag.dag_ids)
    errors = {k: str(v)[:300] for k, v in bag.import_errors.items()}
print("BENCH " + json.dumps({"sdk_s": sdk_s, "s": s, "dags": dags, "errors": errors}))
'''


def measure(mode: str, path: Path, env: dict[str, str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], env=env, capture_output=True,
                          text=True, timeout=600)
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{mode} of {path} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    out = json.loads(lines[-1][len("BENCH "):])
    out["wall_s"] = wall
    return out


def main(repeats: int = 3) -> int:
    files = sorted((PROJECT_ROOT / "dags").glob("*.py"))
    with tempfile.TemporaryDirectory(prefix="co2plan-bench-parse-") as tmp:
        base_file = Path(tmp) / "dags" / "bench_empty.py"
        base_file.parent.mkdir()
        base_file.write_text(BASELINE_DAG)
        clean = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        clean.update(AIRFLOW__CORE__DAGS_FOLDER=str(base_file.parent), LAKE=str(Path(tmp) / "lake"))
        env = airflow_env(home=Path(tmp) / "airflow_home", base=clean)

        results: dict[str, dict[str, float]] = {}
        failed: list[str] = []
        helpers: set[str] = set()
        for path in [base_file, *files]:
            row: dict[str, float] = {}
            for mode in ("import", "dagbag"):
                runs = [measure(mode, path, env) for _ in range(repeats)]
                if runs[-1]["errors"]:
                    failed.append(f"{path.name} ({mode}): {runs[-1]['errors']}")
                elif not runs[-1]["dags"]:
                    helpers.add(path.name)  # a module the DAG files import, not a DAG file
                row[mode] = min(r["s"] for r in runs)
                row[f"{mode}_median"] = statistics.median(r["s"] for r in runs)
                row[f"{mode}_sdk"] = statistics.median(r["sdk_s"] for r in runs)
                row[f"{mode}_wall"] = statistics.median(r["wall_s"] for r in runs)
            results[path.name] = row

    base = results[base_file.name]
    print(f"DAG file parse time in fresh interpreters, best (and median) of {repeats}; target < {TARGET_S:.0f} s per file")
    print(f"import airflow.sdk (paid once per interpreter, every file alike): {base['import_sdk']:.2f} s; "
          f"interpreter wall time incl. startup: {base['import_wall']:.2f} s")
    head = (f"{'file':<26}{'import s':>9}{'(median)':>10}{'ratio':>7}{'DagBag s':>10}{'(median)':>10}{'ratio':>7}"
            f"{'wall s':>8}  target")
    print(head)
    print("-" * len(head))
    worst = 0.0
    for name, row in results.items():
        label = f"{name} (baseline)" if name == base_file.name else name + (" (no DAG)" if name in helpers else "")
        parse = max(row["import_median"], row["dagbag_median"])
        if name != base_file.name and name not in helpers:
            worst = max(worst, parse)
        print(f"{label:<26}{row['import']:>9.3f}{row['import_median']:>10.3f}{row['import'] / base['import']:>7.2f}"
              f"{row['dagbag']:>10.3f}{row['dagbag_median']:>10.3f}{row['dagbag'] / base['dagbag']:>7.2f}"
              f"{row['dagbag_wall']:>8.2f}  {'ok' if parse < TARGET_S else 'OVER'}")
    print(f"slowest project DAG file (median): {worst:.3f} s ({worst / TARGET_S:.0%} of the {TARGET_S:.0f} s target)")
    for f in failed:
        print(f"PARSE PROBLEM: {f}")
    return 1 if failed or worst >= TARGET_S else 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:2])))
