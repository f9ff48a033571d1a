"""The layout of issue 10: a core that imports no stage, public interfaces in ``__all__``, a lake catalog
behind every lake read and write, and one model behind the weekly DAG's Params and the CLI's options."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.settings import PROJECT_ROOT

OURS = ("core", "features", "models", "optimisation", "suppliers", "co2plan", "dags")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, []


def _sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (PROJECT_ROOT / f).rglob("*.py"))


def test_core_imports_without_any_stage_application_or_airflow():
    code = ("import sys, core, core.catalog, core.lake, core.params, core.settings, core.tables, core.tracking; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'features', 'models', 'optimisation', 'co2plan', 'dags', 'airflow'}); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PROJECT_ROOT)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("package", ["core", "features", "models", "optimisation", "suppliers", "co2plan"])
def test_every_public_name_resolves_and_is_documented(package):
    mod = importlib.import_module(package)
    assert mod.__doc__ and len(mod.__doc__) > 80, f"{package}/__init__.py needs a docstring naming its entry points"
    assert mod.__all__, f"{package} names no public interface"
    for name in mod.__all__:
        assert getattr(mod, name) is not None, f"{package}.{name}"
    with pytest.raises(AttributeError):
        mod.no_such_name  # noqa: B018


def _public_violations(folder: str) -> list[str]:
    """Imports from another first-party package that bypass its public interface."""
    out = []
    for path in _sources(folder):
        for line, module, names in _imports(path):
            top = module.split(".")[0]
            if top not in OURS or top == folder:
                continue
            pkg = importlib.import_module(top)
            where = f"{path.relative_to(PROJECT_ROOT)}:{line}"
            if module == top:
                out += [f"{where}: {top}.{n} is not in {top}.__all__" for n in names if n not in pkg.__all__]
                if not names:
                    out.append(f"{where}: import {module}")
            elif module.split(".")[1] not in pkg.__all__:  # a submodule that is not public
                out.append(f"{where}: {module} is not public (use 'from {top} import ...')")
    return out


@pytest.mark.parametrize("folder", ["dags", "co2plan"])
def test_dags_and_application_layer_use_only_public_names(folder):
    assert _public_violations(folder) == []


def test_the_scan_catches_a_private_import(tmp_path, monkeypatch):
    """The public-name scan is not vacuous: a DAG reaching into a stage module is reported."""
    fake = tmp_path / "dags"
    fake.mkdir()
    (fake / "bad.py").write_text("from optimisation.scenario import ScenarioParams\nfrom features import nope\n")
    monkeypatch.setattr(sys.modules[__name__], "PROJECT_ROOT", tmp_path)
    found = _public_violations("dags")
    assert len(found) == 2 and "optimisation.scenario is not public" in found[0] and "nope" in found[1]


LAKE_CALLS = {"read_table", "write_table", "table_uri", "list_tables"}


def test_no_lake_location_literals_outside_the_catalog():
    """Readers and writers name datasets through core.catalog, never as lake.read_table("stage", ...)."""
    offenders = []
    for path in _sources("core", "features", "models", "optimisation", "co2plan", "dags"):
        if path.relative_to(PROJECT_ROOT).as_posix() in ("core/lake.py", "core/catalog.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LAKE_CALLS
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "lake"):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.func.attr}")
            if isinstance(node, ast.JoinedStr) and any(
                    isinstance(v, ast.Constant) and isinstance(v.value, str)
                    and any(f"/{s}/" in v.value for s in ("published", "report")) for v in node.values):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} f-string lake path")
    assert offenders == []


def test_catalog_round_trip_keys_producers_and_assets(tmp_path):
    from core import catalog

    root = str(tmp_path)
    df = pd.DataFrame({"kpi": ["co2e_total_t"], "key": [""], "value": [1.5], "text": [""]})
    with pytest.raises(ValueError, match="per scenario"):
        catalog.KPIS.write(df, "r1", root=root)
    uri = catalog.KPIS.write(df, "r1", "baseline", root)
    assert uri == f"{root}/plan/r1/baseline/kpis.parquet"
    pd.testing.assert_frame_equal(catalog.KPIS.read("r1", "baseline", root), df)
    assert catalog.VALIDATED.plants.keys == ("plant_id",)
    assert catalog.VALIDATED["plants"].uri("r1", root=root) == f"{root}/validated/r1/plants.parquet"
    assert catalog.VALIDATED.present("r1", root) == []
    with pytest.raises(AttributeError):
        catalog.VALIDATED.plantz  # noqa: B018
    assert catalog.asset_spec("plan", root) == ("co2plan_plan", f"file://{root}/plan")
    assert catalog.asset_spec("plan", "s3://b/lake") == ("co2plan_plan", "s3://b/lake/plan")
    # every producer named in the catalog is a real function in a stage package
    for d in (*catalog.DATASETS, catalog.RAW.plants, catalog.VALIDATED.plants, catalog.QUARANTINE.plants):
        module, _, fn = d.producer.rpartition(".")
        assert callable(getattr(importlib.import_module(module), fn)), d.producer
        assert d.stage in catalog.STAGES


def test_weekly_params_drive_the_dag_params_and_the_cli():
    from co2plan.cli import build_parser
    from co2plan.weekly import WeeklyParams
    from core.params import field_schemas

    fields = field_schemas(WeeklyParams)
    # optional numbers render as numbers in Airflow's form: a type list, not anyOf
    assert fields["co2_reduction_pct"][1]["type"] == ["null", "number"]
    assert fields["co2_reduction_pct"][1]["exclusiveMinimum"] == 0 and "anyOf" not in fields["co2_reduction_pct"][1]
    weekly = build_parser()._subparsers._group_actions[0].choices["weekly"]
    defaults = {a.dest: a.default for a in weekly._actions}
    for name, (default, _) in fields.items():
        assert defaults[name] == default, name
    args = build_parser().parse_args(["weekly", "--horizon", "12", "--co2-reduction-pct", "none"])
    assert (args.horizon_weeks, args.co2_reduction_pct) == (12, None)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["weekly", "--retrain", "sometimes"])


def test_weekly_cli_refuses_a_bad_value_naming_the_field(capsys):
    from co2plan.cli import main

    assert main(["weekly", "--horizon-weeks", "3"]) == 2
    assert "horizon_weeks" in capsys.readouterr().err
    assert main(["weekly", "--pareto-points", "1"]) == 2
    assert "pareto_points" in capsys.readouterr().err
