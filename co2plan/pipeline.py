"""The stages of the weekly refresh and of a planner scenario, as plain functions of a lake run id.

This is the one module that composes the stages of features/, models/ and optimisation/; the DAGs
and the command line call it, the stages never do. Every function takes ids and returns a small
JSON-able dict (URIs and figures) that Airflow passes on through XCom and that goes into the run
manifest. Heavy libraries are imported inside the functions.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from co2plan.settings import sample_dir

log = logging.getLogger("co2plan.pipeline")

SAMPLE_SEED = 7


def lake_run_id(prefix: str, context: dict[str, Any] | None = None, explicit: str | None = None) -> str:
    """Run id of the lake: explicit if given, else ``<prefix>-<YYYY-MM-DD>`` of the Airflow run's
    logical date (or run_after for a manual run), so re-running the same week rewrites the same files."""
    if explicit:
        return explicit
    context = context or {}
    params = context.get("params") or {}
    if params.get("run_id"):
        return str(params["run_id"])
    dag_run = context.get("dag_run")
    when = None
    if dag_run is not None:
        when = getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
    if when is None:
        import pendulum

        when = pendulum.now("UTC")
    return f"{prefix}-{when:%Y-%m-%d}"


def _timed(section: str, run_id: str, fn, *args, **kwargs) -> dict:
    t0 = time.perf_counter()
    out = dict(fn(*args, **kwargs) or {})
    out.setdefault("run_id", run_id)
    out["seconds"] = round(time.perf_counter() - t0, 3)
    log.info("%s done in %.1f s", section, out["seconds"])
    return out


def resolve_source(source: str) -> str:
    """``sample:<size>`` -> the embedded sample's folder, generated on first use."""
    if not source.startswith("sample:"):
        return source
    from features.sample import write_sample

    size = source.split(":", 1)[1] or "demo"
    folder = Path(sample_dir(size))
    if not (folder / "plants.parquet").exists():
        log.info("generating the embedded '%s' sample into %s", size, folder)
        write_sample(folder, size=size, seed=SAMPLE_SEED, fmt="parquet")
    return str(folder)


def extract_stage(run_id: str, source: str = "sample:demo", root: str | None = None) -> dict:
    from features.extract import extract

    src = resolve_source(source)
    return _timed("extract", run_id, lambda: {"run_id": run_id, "source": src,
                                              **_small(extract(src, run_id, root=root))})


def validate_stage(run_id: str, root: str | None = None, max_bad_share: float = 0.05) -> dict:
    from features.validate import validate

    return _timed("validate", run_id, lambda: _small(validate(run_id, root=root, max_bad_share=max_bad_share)))


def account_stage(run_id: str, root: str | None = None, gwp_set: str = "AR5",
                  boundary: str = "operational_control") -> dict:
    from features.accounting import account

    return _timed("account", run_id, lambda: _small(account(run_id, root=root, gwp_set=gwp_set,
                                                             boundary=boundary)))


def _small(d: Any) -> dict:
    """Keep XCom small: drop anything that is not JSON-ish scalars, lists or dicts of them."""
    import json

    if not isinstance(d, dict):
        return {"result": str(d)}
    out = {}
    for k, v in d.items():
        try:
            json.dumps(v)
        except TypeError:
            v = str(v)
        out[k] = v
    return out
