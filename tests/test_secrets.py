"""Credentials by reference (core.secrets): inline passwords refused before Airflow, references expanded
only inside the task, and the extract stage's XCom carries the reference, not the password."""

from __future__ import annotations

import pytest

from core import secrets


def test_inline_password_is_detected_and_masked():
    url = "postgresql+psycopg2://etl:S3cr3t@db:5432/erp?schema=x"
    assert secrets.has_inline_password(url)
    assert secrets.mask_url(url) == "postgresql+psycopg2://etl:***@db:5432/erp?schema=x"
    for ok in ("postgresql://etl@db/erp", "postgresql://etl:${ERP_PW}@db/erp", "env:ERP_URL", "sample:demo",
               "/data/erp", "s3://bucket/erp"):
        assert not secrets.has_inline_password(ok), ok
    with pytest.raises(ValueError, match="env:VAR") as e:
        secrets.check_reference(url)
    assert "S3cr3t" not in str(e.value)


def test_references_expand_with_their_secrets():
    env = {"ERP_URL": "postgresql://etl:pw1@db/erp", "ERP_PW": "pw2"}
    assert secrets.expand("env:ERP_URL", env) == ("postgresql://etl:pw1@db/erp", ["pw1"])
    assert secrets.expand("postgresql://etl:${ERP_PW}@db/erp", env) == ("postgresql://etl:pw2@db/erp", ["pw2"])
    with pytest.raises(ValueError, match="NOPE"):
        secrets.expand("env:NOPE", env)


def test_weekly_params_and_cli_refuse_an_inline_password(capsys):
    from pydantic import ValidationError

    from co2plan.cli import main
    from co2plan.weekly import WeeklyParams
    from core.params import field_schemas

    with pytest.raises(ValidationError, match="by reference"):
        WeeklyParams(source="postgresql://u:Probe-42@127.0.0.1/x")
    assert WeeklyParams(source="env:CO2PLAN_SRC").source == "env:CO2PLAN_SRC"
    schema = field_schemas(WeeklyParams)["source"][1]
    assert schema["not"]["pattern"] == secrets.INLINE_PASSWORD_PATTERN  # Airflow's form/conf check
    assert main(["weekly", "--source", "postgresql://u:Probe-42@127.0.0.1/x"]) == 2  # before Airflow starts
    err = capsys.readouterr().err
    assert "by reference" in err and "Probe-42" not in err


def test_extract_stage_returns_the_reference_not_the_password(tmp_path, monkeypatch):
    from co2plan import pipeline
    from features.extract import SourceUnavailableError

    monkeypatch.setenv("CO2PLAN_TEST_SRC", "postgresql://u:Probe-42@127.0.0.1:1/x")
    with pytest.raises(SourceUnavailableError) as e:
        pipeline.extract_stage("r--a1", source="env:CO2PLAN_TEST_SRC", root=str(tmp_path))
    assert "Probe-42" not in str(e.value)
    folder = tmp_path / "src"
    from features.sample import write_sample

    write_sample(folder, size="demo", seed=7, fmt="parquet")
    monkeypatch.setenv("CO2PLAN_TEST_DIR", str(folder))
    out = pipeline.extract_stage("r--a2", source="env:CO2PLAN_TEST_DIR", root=str(tmp_path))
    assert out["source"] == "env:CO2PLAN_TEST_DIR"
