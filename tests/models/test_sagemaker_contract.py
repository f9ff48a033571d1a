"""SageMaker script-mode entry point run locally under the same contract, and the launcher's request."""

from __future__ import annotations

import json
import pickle
import sys

import pytest

from models import sagemaker_entry
from models.demand import forecast_table
from models.sagemaker_launch import SageMakerConfig, build_training_job_request, job_name, launch

ROLE = "arn:aws:iam::123456789012:role/co2plan-sagemaker"


def test_entry_point_trains_under_the_sagemaker_contract(tmp_path, monkeypatch, small_demand):
    train, model_dir, out = tmp_path / "train", tmp_path / "model", tmp_path / "output"
    train.mkdir()
    small_demand["demand_history"].to_parquet(train / "demand_history.parquet")
    small_demand["products"].to_csv(train / "products.csv", index=False)
    monkeypatch.setenv("SM_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(train))
    monkeypatch.setenv("SM_OUTPUT_DATA_DIR", str(out))
    monkeypatch.setenv("SM_HP_N_ESTIMATORS", "30")  # from the environment ...
    monkeypatch.setenv("SM_HP_HORIZON", "99")  # ... overridden by the command line below
    monkeypatch.setattr(sys, "argv", ["sagemaker_entry.py"])
    summary = sagemaker_entry.main(["--horizon", "6", "--cv_windows", "2", "--cv_step", "8",
                                    "--candidates", "lgbm,snaive", "--fold_step", "8"])
    assert summary["config"]["n_estimators"] == 30 and summary["config"]["horizon"] == 6
    assert (model_dir / "model.pkl").exists() and (out / "backtest_folds.csv").exists()
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["n_series"] == 12 and 0 < metrics["metrics"]["model"]["wape"] < 1
    model = pickle.loads((model_dir / "model.pkl").read_bytes())
    assert model.config.n_estimators == 30
    fc, _ = forecast_table(model, small_demand["demand_history"], small_demand["products"], None, 6)
    assert len(fc) == 12 * 6 and fc["yhat"].notna().all()


def test_hyperparameter_parsing_types():
    hp = sagemaker_entry.parse_hyperparameters(["--learning-rate", "0.1", "--lags", "1,2,52"],
                                               env={"SM_HP_STAT_SAMPLE": "50", "SM_HP_N_FOLDS": "4",
                                                    "SM_HP_NUM_LEAVES": "15"})
    assert hp["learning_rate"] == 0.1 and hp["lags"] == [1, 2, 52] and hp["stat_sample"] == 50 and hp["n_folds"] == 4
    assert hp["num_leaves"] == 15  # a field whose default is None (scaled to the data) still parses as a number
    assert hp["horizon"] == 26  # default


def _config(**kw):
    base = dict(role_arn=ROLE, image_uri="763104351884.dkr.ecr.eu-central-1.amazonaws.com/sklearn:1.2-1",
                train_s3_uri="s3://co2plan-lake/validated/r1/", output_s3_uri="s3://co2plan-models/out/",
                source_s3_uri="s3://co2plan-models/code/sourcedir.tar.gz")
    return SageMakerConfig(**{**base, **kw})


def test_training_job_request_shape():
    req = build_training_job_request(_config(instance_type="ml.c5.2xlarge"), {"horizon": 26, "blend": 0.0},
                                     name="co2plan-demand-test")
    assert set(req) == {"TrainingJobName", "AlgorithmSpecification", "RoleArn", "InputDataConfig",
                        "OutputDataConfig", "ResourceConfig", "StoppingCondition", "HyperParameters", "Tags"}
    assert req["InputDataConfig"][0]["ChannelName"] == "train"  # -> SM_CHANNEL_TRAIN in the container
    assert req["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://co2plan-lake/validated/r1/"
    assert req["ResourceConfig"] == {"InstanceType": "ml.c5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
    hp = req["HyperParameters"]
    assert all(isinstance(v, str) for v in hp.values())
    assert json.loads(hp["sagemaker_program"]) == "models/sagemaker_entry.py"
    assert json.loads(hp["horizon"]) == 26
    name = job_name("co2plan demand!", now=0)
    assert name == "co2plan-demand--19700101-000000" and len(name) <= 63


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError, match="role_arn"):
        build_training_job_request(_config(role_arn="not-an-arn"))
    with pytest.raises(ValueError, match="train_s3_uri"):
        build_training_job_request(_config(train_s3_uri="/local/path"))
    with pytest.raises(ValueError, match="CO2PLAN_SM_ROLE_ARN"):
        SageMakerConfig.from_env({})
    cfg = SageMakerConfig.from_env({"CO2PLAN_SM_ROLE_ARN": ROLE, "CO2PLAN_SM_IMAGE_URI": "img",
                                    "CO2PLAN_SM_TRAIN_S3": "s3://a/b", "CO2PLAN_SM_OUTPUT_S3": "s3://a/c",
                                    "CO2PLAN_SM_INSTANCE_COUNT": "2"})
    assert cfg.instance_count == 2


def test_launch_against_moto(monkeypatch):
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "eu-central-1"}.items():
        monkeypatch.setenv(k, v)
    with moto.mock_aws():
        client = boto3.client("sagemaker", region_name="eu-central-1")
        req = build_training_job_request(_config(), {"horizon": 26}, name="co2plan-demand-moto")
        out = launch(req, client=client)
        assert out["TrainingJobArn"].endswith("training-job/co2plan-demand-moto")
        desc = client.describe_training_job(TrainingJobName="co2plan-demand-moto")
        assert desc["RoleArn"] == ROLE
        assert desc["HyperParameters"]["sagemaker_program"] == '"models/sagemaker_entry.py"'
        assert desc["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge"
