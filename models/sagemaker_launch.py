"""Build (and optionally submit) the SageMaker CreateTrainingJob request for models/sagemaker_entry.py.

Only configuration is needed: the request is a plain dict in the CreateTrainingJob shape, submitted with
boto3 (``launch``). The heavy ``sagemaker`` SDK is not used. Script mode in the framework containers takes
the program and the source tarball through the ``sagemaker_program`` / ``sagemaker_submit_directory``
hyperparameters; every hyperparameter value is a string (JSON-encoded, as the SageMaker SDK does).

Configuration from the environment (``SageMakerConfig.from_env``): CO2PLAN_SM_ROLE_ARN, CO2PLAN_SM_IMAGE_URI,
CO2PLAN_SM_TRAIN_S3 (the train channel), CO2PLAN_SM_OUTPUT_S3, CO2PLAN_SM_SOURCE_S3 (sourcedir.tar.gz),
CO2PLAN_SM_INSTANCE_TYPE, CO2PLAN_SM_INSTANCE_COUNT, CO2PLAN_SM_VOLUME_GB, CO2PLAN_SM_MAX_RUNTIME_S,
CO2PLAN_SM_REGION.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

ENTRY_POINT = "models/sagemaker_entry.py"


@dataclass
class SageMakerConfig:
    role_arn: str
    image_uri: str
    train_s3_uri: str
    output_s3_uri: str
    source_s3_uri: str = ""
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    volume_gb: int = 30
    max_runtime_s: int = 3600
    region: str = "eu-central-1"
    job_name_prefix: str = "co2plan-demand"
    tags: dict[str, str] = field(default_factory=lambda: {"project": "co2plan"})

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SageMakerConfig:
        env = dict(os.environ if env is None else env)
        need = {"role_arn": "CO2PLAN_SM_ROLE_ARN", "image_uri": "CO2PLAN_SM_IMAGE_URI",
                "train_s3_uri": "CO2PLAN_SM_TRAIN_S3", "output_s3_uri": "CO2PLAN_SM_OUTPUT_S3"}
        missing = [v for v in need.values() if not env.get(v)]
        if missing:
            raise ValueError(f"SageMaker configuration: missing environment variables {missing}")
        opt = {"source_s3_uri": ("CO2PLAN_SM_SOURCE_S3", str), "instance_type": ("CO2PLAN_SM_INSTANCE_TYPE", str),
               "instance_count": ("CO2PLAN_SM_INSTANCE_COUNT", int), "volume_gb": ("CO2PLAN_SM_VOLUME_GB", int),
               "max_runtime_s": ("CO2PLAN_SM_MAX_RUNTIME_S", int), "region": ("CO2PLAN_SM_REGION", str)}
        kw: dict[str, Any] = {k: env[v] for k, v in need.items()}
        kw.update({k: conv(env[v]) for k, (v, conv) in opt.items() if env.get(v)})
        return cls(**kw)

    def validate(self) -> None:
        if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/.+", self.role_arn):
            raise ValueError(f"SageMakerConfig.role_arn: not an IAM role ARN: {self.role_arn!r}")
        for name in ("train_s3_uri", "output_s3_uri") + (("source_s3_uri",) if self.source_s3_uri else ()):
            if not str(getattr(self, name)).startswith("s3://"):
                raise ValueError(f"SageMakerConfig.{name}: must be an s3:// URI, got {getattr(self, name)!r}")
        if self.instance_count < 1 or self.volume_gb < 1 or self.max_runtime_s < 1:
            raise ValueError("SageMakerConfig: instance_count, volume_gb and max_runtime_s must be >= 1")


def job_name(prefix: str, now: float | None = None) -> str:
    """A valid, unique-per-second training job name (<= 63 chars, [a-zA-Z0-9-])."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now if now is not None else time.time()))
    base = re.sub(r"[^a-zA-Z0-9-]", "-", prefix)[: 63 - len(stamp) - 1]
    return f"{base}-{stamp}"


def build_training_job_request(config: SageMakerConfig, hyperparameters: dict[str, Any] | None = None,
                               name: str | None = None) -> dict[str, Any]:
    """The CreateTrainingJob request for the demand forecaster's script-mode entry point."""
    config.validate()
    hp = {k: json.dumps(v) for k, v in (hyperparameters or {}).items()}
    hp["sagemaker_program"] = json.dumps(ENTRY_POINT)
    if config.source_s3_uri:
        hp["sagemaker_submit_directory"] = json.dumps(config.source_s3_uri)
    hp["sagemaker_region"] = json.dumps(config.region)
    return {
        "TrainingJobName": name or job_name(config.job_name_prefix),
        "AlgorithmSpecification": {"TrainingImage": config.image_uri, "TrainingInputMode": "File"},
        "RoleArn": config.role_arn,
        "InputDataConfig": [{
            "ChannelName": "train",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": config.train_s3_uri,
                                            "S3DataDistributionType": "FullyReplicated"}},
            "InputMode": "File",
        }],
        "OutputDataConfig": {"S3OutputPath": config.output_s3_uri},
        "ResourceConfig": {"InstanceType": config.instance_type, "InstanceCount": int(config.instance_count),
                           "VolumeSizeInGB": int(config.volume_gb)},
        "StoppingCondition": {"MaxRuntimeInSeconds": int(config.max_runtime_s)},
        "HyperParameters": hp,
        "Tags": [{"Key": k, "Value": v} for k, v in config.tags.items()],
    }


def launch(request: dict[str, Any], client=None, region: str | None = None) -> dict[str, Any]:
    """Submit the request with boto3; returns {"TrainingJobName", "TrainingJobArn"}."""
    if client is None:
        import boto3

        client = boto3.client("sagemaker", region_name=region)
    resp = client.create_training_job(**request)
    return {"TrainingJobName": request["TrainingJobName"], "TrainingJobArn": resp["TrainingJobArn"]}
