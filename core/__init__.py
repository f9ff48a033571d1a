"""co2plan core: the bottom layer, which imports no stage, no application code and no Airflow.

Entry points: ``core.settings`` (where things live: LAKE, MLflow store, sample folder), ``core.lake``
(atomic run-stamped parquet I/O and the run manifest), ``core.catalog`` (every lake dataset by name,
with its keys, producer and Airflow Asset), ``core.tables`` (the canonical table contract),
``core.tracking`` (MLflow set-up), ``core.params`` (Airflow Params and CLI options from a pydantic model).
"""

from core.exports import lazy_exports

__version__ = "0.1.0"

_all, __getattr__, __dir__ = lazy_exports(__name__, {
    "settings": "core.settings", "lake": "core.lake", "catalog": "core.catalog", "tables": "core.tables",
    "tracking": "core.tracking", "params": "core.params", "exports": "core.exports", "secrets": "core.secrets",
    "TABLES": "core.tables:TABLES", "TABLE_ORDER": "core.tables:TABLE_ORDER",
    "lake_root": "core.settings:lake_root", "PROJECT_ROOT": "core.settings:PROJECT_ROOT",
})
__all__ = ["__version__", *_all]
