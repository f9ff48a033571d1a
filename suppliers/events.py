"""News events -> risk category and severity, by an NLP model trained here, offline.

No usable text model ships inside a PyPI wheel (sentence-transformers, model2vec and fastembed fetch
weights from a hub), so the classifier is trained on the labelled events of the run: TF-IDF of word
1-2 grams and character 3-5 grams, then a class-balanced logistic regression (scikit-learn, fixed
seed); a second one predicts the severity 1..3. ``evaluate_event_model`` holds apart whole sentence
frames and issue phrases (``source`` is ``<outlet>#<frame>/<phrase>``; one of each per category is never
trained on), so the precision and recall it reports are on wordings the model has not seen. On the synthetic sample this
proves the pipeline, not the quality on real news; a real labelled feed goes in the same table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

SEED = 16
EXPERIMENT = "co2plan-risk-nlp"
MODEL_NAME = "co2plan-event-classifier"


def _pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    feats = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True, min_df=1)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)),
    ])
    return Pipeline([("tfidf", feats), ("lr", LogisticRegression(C=5.0, class_weight="balanced", max_iter=3000,
                                                                   random_state=SEED))])


@dataclass
class EventModel:
    category: Any
    severity: Any
    data_hash: str

    def predict(self, events: pd.DataFrame) -> pd.DataFrame:
        """event_id, category, category_proba, severity."""
        text = events["text"].fillna("").astype(str).tolist()
        if not text:
            return pd.DataFrame({"event_id": [], "category": [], "category_proba": [], "severity": []})
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            proba = self.category.predict_proba(text)
            sev = self.severity.predict(text)
        cls = self.category.classes_
        return pd.DataFrame({
            "event_id": events["event_id"].to_numpy(),
            "category": cls[proba.argmax(axis=1)],
            "category_proba": proba.max(axis=1).round(4),
            "severity": sev.astype("int64"),
        })


def labelled(events: pd.DataFrame) -> pd.DataFrame:
    return events[events["label_category"].notna() & events["label_severity"].notna()].reset_index(drop=True)


def data_hash(events: pd.DataFrame) -> str:
    lab = labelled(events)[["text", "label_category", "label_severity"]].astype(str)
    return hashlib.sha256(pd.util.hash_pandas_object(lab, index=False).to_numpy().tobytes()).hexdigest()[:16]


def _family(events: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(sentence frame, issue phrase) from ``source`` = ``<outlet>#<frame>[/<phrase>]`` (empty if absent)."""
    src = events["source"].fillna("").astype(str)
    fam = src.str.split("#").str[1].fillna("")
    return fam.str.split("/").str[0].fillna(""), fam.str.split("/").str[1].fillna("")


def fit_event_model(events: pd.DataFrame) -> EventModel:
    """Fit on every labelled event."""
    lab = labelled(events)
    if lab["label_category"].nunique() < 2:
        raise ValueError("need labelled events of at least two categories to train the event classifier")
    from threadpoolctl import threadpool_limits

    text = lab["text"].astype(str).tolist()
    with threadpool_limits(1):  # BLAS threads on a tiny problem only fight over the cores (30x slower)
        cat = _pipeline().fit(text, lab["label_category"].to_numpy())
        sev = _pipeline().fit(text, lab["label_severity"].astype("int64").to_numpy())
    return EventModel(cat, sev, data_hash(events))


def held_apart_split(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test): the test set holds every event whose sentence frame *or* issue phrase is held
    apart (per category the frame and the phrase with the highest name), so the model is scored on
    wordings it has never seen; events without that record are split by a hash of their id (1 in 4)."""
    lab = labelled(events)
    frame, phrase = _family(lab)
    cat = lab["label_category"]
    known = frame != ""
    held_f = set(frame[known].groupby(cat[known]).max())
    known_p = phrase != ""
    held_p = set(phrase[known_p].groupby(cat[known_p]).max())
    h = lab["event_id"].astype(str).map(lambda s: int(hashlib.md5(s.encode()).hexdigest(), 16) % 4 == 0)
    test = np.where(known, frame.isin(held_f) | (known_p & phrase.isin(held_p)), h)
    return lab[~test].reset_index(drop=True), lab[test].reset_index(drop=True)


def evaluate_event_model(events: pd.DataFrame) -> dict[str, Any]:
    """Precision, recall and F1 per category (and severity accuracy) on held-apart template families."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    train, test = held_apart_split(events)
    m = fit_event_model(train)
    pred = m.predict(test)
    labels = sorted(labelled(events)["label_category"].unique())
    p, r, f, s = precision_recall_fscore_support(test["label_category"], pred["category"], labels=labels,
                                                 zero_division=0)
    per = {c: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4),
               "support": int(s[i])} for i, c in enumerate(labels)}
    return {
        "n_train": len(train), "n_test": len(test), "per_category": per,
        "macro_f1": round(float(np.mean([v["f1"] for v in per.values() if v["support"] > 0])), 4),
        "accuracy": round(float(accuracy_score(test["label_category"], pred["category"])), 4),
        "severity_accuracy": round(float(accuracy_score(test["label_severity"].astype("int64"), pred["severity"])), 4),
        "data_hash": data_hash(events),
    }


def log_event_model(model: EventModel, metrics: dict[str, Any], tracking_uri: str | None = None) -> dict[str, Any]:
    """Log the metrics and the category model to MLflow (experiment ``co2plan-risk-nlp``) and register it
    as ``co2plan-event-classifier``. Returns the run id and model version."""
    import mlflow
    import mlflow.sklearn

    from core.settings import mlflow_artifact_root, mlflow_tracking_uri

    uri = tracking_uri or mlflow_tracking_uri()
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(uri)
    exp = client.get_experiment_by_name(EXPERIMENT)
    exp_id = exp.experiment_id if exp else client.create_experiment(
        EXPERIMENT, artifact_location=f"{mlflow_artifact_root(uri).rstrip('/')}/{EXPERIMENT}")
    flat = {"macro_f1": metrics["macro_f1"], "accuracy": metrics["accuracy"],
            "severity_accuracy": metrics["severity_accuracy"]}
    for c, v in metrics["per_category"].items():
        for k in ("precision", "recall", "f1"):
            flat[f"{k}_{c}"] = v[k]
    with mlflow.start_run(experiment_id=exp_id, run_name="event-classifier") as run:
        mlflow.log_params({"model": "tfidf-word12-char35+logreg-balanced", "seed": SEED,
                           "data_hash": model.data_hash, "n_train": metrics["n_train"], "n_test": metrics["n_test"],
                           "split": "held-apart template families"})
        mlflow.log_metrics(flat)
        info = mlflow.sklearn.log_model(model.category, name="model", registered_model_name=MODEL_NAME)
    version = getattr(info, "registered_model_version", None)
    return {"mlflow_run_id": run.info.run_id, "model_version": version}
