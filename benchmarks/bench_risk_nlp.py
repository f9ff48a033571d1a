"""Precision and recall of the news-event risk classifier on held-apart sentence frames.

    .venv/bin/python benchmarks/bench_risk_nlp.py [demo|large] [--mlflow]

Trains suppliers.events on the sample's labelled events, holding apart every event of one sentence frame
and of one issue phrase per category (wordings never seen in training), and prints precision, recall and F1 per category, macro
F1, accuracy and severity accuracy. With ``--mlflow`` the metrics and the model go to the project's
MLflow store (experiment ``co2plan-risk-nlp``, model ``co2plan-event-classifier``).
Caveat: the texts are synthetic (frames x issue phrases); this proves the pipeline, not real-news quality.
"""

from __future__ import annotations

import sys
import time

from features.sample import generate
from suppliers.events import evaluate_event_model, fit_event_model, log_event_model


def main(size: str = "demo", mlflow: bool = False) -> dict:
    ev = generate(size)["supplier_events"]
    t0 = time.perf_counter()
    m = evaluate_event_model(ev)
    secs = time.perf_counter() - t0
    print(f"events: {len(ev)} ({m['n_train']} train, {m['n_test']} held-apart test), trained and scored in {secs:.1f} s")
    print(f"{'category':22s} {'precision':>9s} {'recall':>7s} {'f1':>6s} {'support':>7s}")
    for c, v in m["per_category"].items():
        print(f"{c:22s} {v['precision']:9.3f} {v['recall']:7.3f} {v['f1']:6.3f} {v['support']:7d}")
    print(f"macro F1 {m['macro_f1']:.3f}, accuracy {m['accuracy']:.3f}, severity accuracy {m['severity_accuracy']:.3f}")
    if mlflow:
        out = log_event_model(fit_event_model(ev), m)
        print(f"logged to MLflow: run {out['mlflow_run_id']}, model version {out['model_version']}")
    return m


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(args[0] if args else "demo", mlflow="--mlflow" in sys.argv)
