"""The lake catalog: one place that names every dataset of the lake.

Each :class:`Dataset` knows its stage, table, key columns, the stage function that produces it and
the Airflow Asset it belongs to; readers and writers go through it (``catalog.DEMAND_FORECAST.read(run_id)``)
instead of spelling ``"forecast"``/``"demand_forecast"`` at the call site. The canonical tables of
``core.tables`` exist three times (raw, validated, quarantine) as :class:`TableFamily` members:
``catalog.VALIDATED.plants`` or ``catalog.VALIDATED["plants"]``.

Airflow Assets: one per stage folder (``co2plan_<stage>``, URI ``<lake>/<stage>``); the application
layer turns :func:`asset_spec` into ``airflow.sdk.Asset`` objects (this module imports no Airflow).
Files that are not tables (report, published pointers) are named here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.settings import lake_root

if TYPE_CHECKING:
    import pandas as pd


def _lake():
    """core.lake (fsspec, pandas) imported on first use: DAG files import the catalog for their Assets
    and must parse fast."""
    from core import lake

    return lake

__all__ = [
    "Dataset", "TableFamily", "STAGES", "RAW", "VALIDATED", "QUARANTINE",
    "EMISSIONS_LEDGER", "EMISSIONS_SUMMARY", "DEMAND_BACKTEST", "DEMAND_INPUT_REPORT", "DEMAND_FORECAST",
    "DEMAND_FORECAST_REPORT", "PLANT_EMISSION_COEFFICIENTS", "ENERGY_LINEARISATION",
    "PLAN", "PRODUCTION_PLAN", "FLOWS", "UNMET", "KPIS", "PARETO_FRONTIER",
    "DATASETS", "STAGE_TASK", "rerun_hint", "asset_spec", "report_folder", "published_uri", "latest_pointer_uri",
]

#: stage folder -> what it holds; every dataset lives in one of these
STAGES: dict[str, str] = {
    "raw": "tables as extracted from the source, values untouched",
    "validated": "canonical tables that passed the contract, with contract dtypes",
    "quarantine": "rows refused at the door, with reason and source row",
    "ledger": "GHG Protocol emissions ledger and summary",
    "forecast": "demand and plant-emission forecasts, backtests, input reports",
    "plan": "production plan, flows, unmet demand, KPIs and Pareto frontier per scenario",
    "report": "report.html and summary.png per run and scenario",
    "published": "pointers to the newest plan (latest.json, <run_id>.json)",
}


def _stage_uri(stage: str, root: str | None = None) -> str:
    base = (root or lake_root()).rstrip("/")
    return f"{base}/{stage}" if "://" in base else f"file://{base}/{stage}"


def asset_spec(stage: str, root: str | None = None) -> tuple[str, str]:
    """(name, uri) of the Airflow Asset of a stage folder."""
    if stage not in STAGES:
        raise KeyError(f"unknown lake stage {stage!r}; known: {sorted(STAGES)}")
    return f"co2plan_{stage}", _stage_uri(stage, root)


@dataclass(frozen=True)
class Dataset:
    """One lake table: ``<lake>/<stage>/<run_id>[/<scenario_id>]/<table>.parquet``."""

    stage: str
    table: str
    producer: str
    keys: tuple[str, ...] = ()
    description: str = ""
    per_scenario: bool = False

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise KeyError(f"unknown lake stage {self.stage!r}")

    def _folder(self, run_id: str, scenario_id: str | None) -> str:
        if self.per_scenario:
            if not scenario_id:
                raise ValueError(f"{self.stage}/{self.table} is stored per scenario: pass scenario_id")
            return f"{run_id}/{scenario_id}"
        return run_id

    def uri(self, run_id: str, scenario_id: str | None = None, root: str | None = None) -> str:
        return _lake().table_uri(self.stage, self._folder(run_id, scenario_id), self.table, root)

    def read(self, run_id: str, scenario_id: str | None = None, root: str | None = None,
             dictionary: tuple[str, ...] = ()) -> pd.DataFrame:
        """``dictionary``: string columns to read dictionary-encoded (as pandas categoricals)."""
        lake = _lake()
        try:
            return lake.read_uri(self.uri(run_id, scenario_id, root), dictionary)
        except lake.LakeDataError as e:
            raise lake.LakeDataError(e.uri, e.kind, e.detail, hint=f"dataset {self.name} of run {run_id}: "
                                     + rerun_hint(self.stage, run_id)) from e

    def write(self, df: pd.DataFrame, run_id: str, scenario_id: str | None = None, root: str | None = None) -> str:
        return _lake().write_table(df, self.stage, self._folder(run_id, scenario_id), self.table, root)

    def exists(self, run_id: str, scenario_id: str | None = None, root: str | None = None) -> bool:
        return _lake().exists(self.uri(run_id, scenario_id, root))

    @property
    def name(self) -> str:
        """``<stage>/<table>``: how manifests and messages name the dataset."""
        return f"{self.stage}/{self.table}"

    @property
    def asset_name(self) -> str:
        return asset_spec(self.stage)[0]


class TableFamily:
    """The canonical tables of one stage folder (raw, validated, quarantine): ``family.plants`` or
    ``family["plants"]``. Names outside the contract are allowed (raw keeps what the source had)."""

    def __init__(self, stage: str, producer: str, description: str) -> None:
        self.stage, self.producer, self.description = stage, producer, description

    def __getitem__(self, table: str) -> Dataset:
        from core.tables import TABLES  # the contract is imported on first use, like core.lake

        spec = TABLES.get(table)
        return Dataset(self.stage, table, self.producer, keys=spec.key if spec else (),
                       description=spec.description if spec else "")

    def __getattr__(self, table: str) -> Dataset:
        from core.tables import TABLES

        if table.startswith("_") or table not in TABLES:
            raise AttributeError(f"{self.stage} has no canonical table {table!r}")
        return self[table]

    def __iter__(self) -> Iterator[Dataset]:
        from core.tables import TABLE_ORDER

        return (self[t] for t in TABLE_ORDER)

    def present(self, run_id: str, root: str | None = None) -> list[str]:
        """Tables of this stage that exist for a run (sorted names)."""
        return _lake().list_tables(self.stage, run_id, root)

    def folder_uri(self, run_id: str, root: str | None = None) -> str:
        return _lake().table_uri(self.stage, run_id, "<table>", root)

    def remove(self, run_id: str, table: str, root: str | None = None) -> None:
        import fsspec

        fs, path = fsspec.core.url_to_fs(self[table].uri(run_id, root=root))
        if fs.exists(path):
            fs.rm(path)


RAW = TableFamily("raw", "features.extract.extract", STAGES["raw"])
VALIDATED = TableFamily("validated", "features.validate.validate", STAGES["validated"])
QUARANTINE = TableFamily("quarantine", "features.validate.validate", STAGES["quarantine"])

EMISSIONS_LEDGER = Dataset("ledger", "emissions_ledger", "features.accounting.account",
                           description="one row per activity x gas x scope, with factor provenance")
EMISSIONS_SUMMARY = Dataset("ledger", "emissions_summary", "features.accounting.account",
                            description="t CO2e by plant, week and scope")
DEMAND_BACKTEST = Dataset("forecast", "demand_backtest", "models.stages.train_demand",
                          description="rolling-origin backtest metrics per fold and model")
DEMAND_INPUT_REPORT = Dataset("forecast", "demand_input_report", "models.stages.train_demand",
                              description="what the demand forecaster changed or dropped in its training input")
DEMAND_FORECAST = Dataset("forecast", "demand_forecast", "models.stages.forecast_demand",
                          keys=("week", "product_id", "market_id"),
                          description="point forecast and 80%/95% intervals per product x market x week")
DEMAND_FORECAST_REPORT = Dataset("forecast", "demand_forecast_report", "models.stages.forecast_demand",
                                 description="what the forecast input report found")
PLANT_EMISSION_COEFFICIENTS = Dataset("forecast", "plant_emission_coefficients",
                                      "models.emissions.forecast_emissions", keys=("plant_id", "week", "scope"),
                                      description="marginal t CO2e per unit and fixed t CO2e per plant-week")
ENERGY_LINEARISATION = Dataset("forecast", "energy_linearisation", "models.emissions.forecast_emissions",
                               description="per-plant fit of energy against volume behind the coefficients")
# issue 15: what accounting noticed, the factors it used (with status), the Scope 3 coverage statement
ACCOUNTING_REPORT = Dataset("ledger", "accounting_report", "features.accounting.account",
                            description="findings: surplus certificates, duplicates, GWP fallbacks, approximations")
FACTOR_APPENDIX = Dataset("ledger", "factor_appendix", "features.accounting.account",
                          description="every factor and GWP used: value, unit, source, year, status, rows, t CO2e")
SCOPE3_COVERAGE = Dataset("ledger", "scope3_coverage", "features.accounting.account", keys=("category",),
                          description="the 15 Scope 3 categories: measured / estimated / excluded, with reason")


def _plan(table: str, keys: tuple[str, ...], description: str) -> Dataset:
    return Dataset("plan", table, "optimisation.stage.optimise", keys=keys, description=description,
                   per_scenario=True)


PRODUCTION_PLAN = _plan("production_plan", ("plant_id", "product_id", "week"), "units built per plant x product x week")
FLOWS = _plan("flows", ("lane_id", "product_id", "week"), "units shipped per lane x product x week")
UNMET = _plan("unmet", ("product_id", "market_id", "week"), "demand left unmet")
KPIS = _plan("kpis", ("kpi",), "cost, CO2e, service level, shadow price (long format)")
PARETO_FRONTIER = Dataset("plan", "pareto_frontier", "optimisation.stage.pareto", keys=("point",),
                          description="cost/CO2 epsilon-constraint frontier", per_scenario=True)

#: the tables a solved scenario writes, by name
PLAN: dict[str, Dataset] = {d.table: d for d in (PRODUCTION_PLAN, FLOWS, UNMET, KPIS)}

#: every derived dataset (the canonical families are RAW, VALIDATED, QUARANTINE)
DATASETS: tuple[Dataset, ...] = (
    EMISSIONS_LEDGER, EMISSIONS_SUMMARY, DEMAND_BACKTEST, DEMAND_INPUT_REPORT, DEMAND_FORECAST,
    DEMAND_FORECAST_REPORT, PLANT_EMISSION_COEFFICIENTS, ENERGY_LINEARISATION, *PLAN.values(), PARETO_FRONTIER,
    ACCOUNTING_REPORT, FACTOR_APPENDIX, SCOPE3_COVERAGE,
)


#: lake stage -> the weekly DAG task that writes it (for "re-run ..." hints)
STAGE_TASK: dict[str, str] = {"raw": "extract", "validated": "validate", "quarantine": "validate",
                              "ledger": "account", "forecast": "forecast", "plan": "optimise",
                              "report": "report", "published": "publish"}


def rerun_hint(stage: str, run_id: str) -> str:
    """What to do about a missing or corrupt dataset of ``stage``: which task to re-run."""
    week = run_id.split("--", 1)[0]
    date = week.removeprefix("weekly-")
    how = f"co2plan weekly --date {date}" if week.startswith("weekly-") else "co2plan weekly"
    return (f"re-run the weekly refresh for {week} ({how}), or clear task '{STAGE_TASK.get(stage, stage)}' "
            "and its downstream tasks in Airflow")


def report_folder(run_id: str, scenario_id: str = "baseline", root: str | None = None) -> str:
    """Folder of a run's report files: ``report/<run_id>/`` (baseline) or ``report/<run_id>/<scenario_id>/``."""
    base = f"{(root or lake_root()).rstrip('/')}/report/{run_id}"
    return base if scenario_id == "baseline" else f"{base}/{scenario_id}"


def published_uri(run_id: str, root: str | None = None) -> str:
    return f"{(root or lake_root()).rstrip('/')}/published/{run_id}.json"


def latest_pointer_uri(root: str | None = None) -> str:
    return published_uri("latest", root)


# --- issue 13: plan realism outputs (stock, constraint duals, abatement levers, MAC curve)
PLAN_STOCK = _plan("stock", ("kind", "location", "product_id", "week"),
                   "plant stock, market stock and backlog per product x week")
PLAN_CONSTRAINTS = _plan("constraints", ("family", "row"),
                         "constraint families with rhs, activity, dual and slack (aggregated per family when large)")
PLAN_LEVERS = _plan("levers", ("lever", "plant_id", "week"), "abatement levers bought per plant x week (MWh, EUR, t)")
PLAN_MAC_CURVE = _plan("mac_curve", ("lever", "key", "period"),
                       "marginal abatement cost curve of the plan: t CO2e abated and EUR/t per lever")
PLAN.update({d.table: d for d in (PLAN_STOCK, PLAN_CONSTRAINTS, PLAN_LEVERS, PLAN_MAC_CURVE)})
DATASETS = (*DATASETS, PLAN_STOCK, PLAN_CONSTRAINTS, PLAN_LEVERS, PLAN_MAC_CURVE)
PLAN_SHIFTS = _plan("shifts", ("plant_id", "week"), "shift-weeks run per plant x week, with the fixed emissions "
                    "that follow them (plants with a shift pattern)")
PLAN[PLAN_SHIFTS.table] = PLAN_SHIFTS
DATASETS = (*DATASETS, PLAN_SHIFTS)
# issue 14: the demand forecaster's model selection and its coherent hierarchy levels
DEMAND_SELECTION = Dataset("forecast", "demand_selection", "models.stages.train_demand",
                           description="candidate models scored on shared rolling-origin windows (selection "
                                       "windows vs the held-out newest window) and the chosen one")
DEMAND_FORECAST_HIERARCHY = Dataset("forecast", "demand_forecast_hierarchy", "models.stages.forecast_demand",
                                    keys=("level", "node", "week"),
                                    description="coherent forecast per hierarchy level and node with the "
                                                "level's own 80%/95% band (totals are not sums of bounds)")
DATASETS = (*DATASETS, DEMAND_SELECTION, DEMAND_FORECAST_HIERARCHY)
__all__ += ["DEMAND_SELECTION", "DEMAND_FORECAST_HIERARCHY"]
# ---- supply chain (issue 16): suppliers.stage writes supply/<run_id>/<table>
STAGES["supply"] = "supplier graph, exposure, risk, alerts, submission checks and Scope 3 category 1"


def _supply(table: str, producer: str, keys: tuple[str, ...], description: str) -> Dataset:
    return Dataset("supply", table, f"suppliers.stage.{producer}", keys=keys, description=description)


SUPPLY_NODES = _supply("graph_nodes", "supply_graph", ("node_id",),
                       "every supplier and plant with its graph depth, country, commodity and degree")
SUPPLY_EXPOSURE = _supply("exposure", "supply_graph", ("plant_id", "node_id"),
                          "volume-weighted share of each plant's inputs that passes through each node")
SUPPLY_CONCENTRATION = _supply("concentration", "supply_graph", ("commodity", "by"),
                               "HHI (0..10,000) per commodity over suppliers and over countries")
SUPPLY_SPOF = _supply("single_points_of_failure", "supply_graph", ("plant_id", "commodity", "node_id"),
                      "nodes every path of a plant's commodity passes (structural) or carrying >= 99.9 %")
ESG_NORMALISED = _supply("esg_normalised", "supply_risk", ("supplier_id",),
                         "ESG risk per provider on [0, 1] with median, min, max, spread and a disagreement flag")
EVENTS_CLASSIFIED = _supply("events_classified", "supply_risk", ("event_id",),
                            "news events with predicted risk category, severity and probability")
SUPPLY_RISK = _supply("risk_scores", "supply_risk", ("node_id",),
                      "own, inherited and total risk per supplier and plant")
SUPPLY_ALERTS = _supply("alerts", "supply_risk", ("node_id",),
                        "nodes whose risk crossed the threshold, with drivers and paths to the plants hit")
SUBMISSION_CHECKS = _supply("submission_checks", "supply_submissions", ("submission_id", "version"),
                            "every supplier submission with its check ratios, status and reasons")
SCOPE3_CAT1 = _supply("scope3_cat1", "supply_submissions", ("plant_id", "supplier_id", "commodity", "year"),
                      "Scope 3 category 1 t CO2e per plant, tier-1 supplier and commodity with its data-quality tier")
XVAL_REFERENCE = _supply("xval_reference", "supply_submissions", ("commodity", "year"),
                         "peer intensity medians/MADs per commodity and year, for checking one submission fast")

SUPPLY: dict[str, Dataset] = {d.table: d for d in (
    SUPPLY_NODES, SUPPLY_EXPOSURE, SUPPLY_CONCENTRATION, SUPPLY_SPOF, ESG_NORMALISED, EVENTS_CLASSIFIED,
    SUPPLY_RISK, SUPPLY_ALERTS, SUBMISSION_CHECKS, SCOPE3_CAT1, XVAL_REFERENCE)}
DATASETS = DATASETS + tuple(SUPPLY.values())
__all__ += ["SUPPLY", "SUPPLY_NODES", "SUPPLY_EXPOSURE", "SUPPLY_CONCENTRATION", "SUPPLY_SPOF", "ESG_NORMALISED",
            "EVENTS_CLASSIFIED", "SUPPLY_RISK", "SUPPLY_ALERTS", "SUBMISSION_CHECKS", "SCOPE3_CAT1", "XVAL_REFERENCE"]
# ---- issue 16 (item 5): component sourcing in the plan; inputs from the supply stage
SOURCING_OPTIONS = _supply("sourcing_options", "supply_sourcing", ("plant_id", "supplier_id", "commodity"),
                           "qualified tier-1 suppliers of each plant's key components: weekly capacity, cat 1 "
                           "t CO2e per unit (data-quality tier), price, risk score")
COMPONENT_NEEDS = _supply("component_needs", "supply_sourcing", ("product_id", "commodity"),
                          "key component units per vehicle built (battery pack kWh by powertrain)")
PLAN_SOURCING = _plan("sourcing", ("plant_id", "supplier_id", "commodity", "week"),
                      "components bought per plant x supplier x week: units, capacity after outages, cat 1 t CO2e")
PLAN_SUPPLIER_OUTAGE = _plan("supplier_outage", ("kind", "id"),
                             "what a supplier outage moved: plants, products, market unmet vs the same plan "
                             "without the outage")
SOURCING_UPSTREAM = _supply("sourcing_upstream", "supply_sourcing", ("supplier_id", "node_id"),
                            "each option supplier's exposure to upstream suppliers and countries (tier 2+)")
SUPPLY.update({d.table: d for d in (SOURCING_OPTIONS, COMPONENT_NEEDS, SOURCING_UPSTREAM)})
PLAN.update({d.table: d for d in (PLAN_SOURCING, PLAN_SUPPLIER_OUTAGE)})
DATASETS = (*DATASETS, SOURCING_OPTIONS, COMPONENT_NEEDS, SOURCING_UPSTREAM, PLAN_SOURCING, PLAN_SUPPLIER_OUTAGE)
__all__ += ["SOURCING_OPTIONS", "COMPONENT_NEEDS", "SOURCING_UPSTREAM", "PLAN_SOURCING", "PLAN_SUPPLIER_OUTAGE"]

# ---- issue 14: a scenario's demand re-forecast under changed drivers (forecast/<run_id>/whatif-<scenario_id>/)


def whatif_forecast_run(run_id: str, scenario_id: str) -> str:
    """The forecast key of a scenario's re-forecast: ``DEMAND_FORECAST`` and ``PLANT_EMISSION_COEFFICIENTS``
    are written under it and the scenario's plan reads them (``forecast_run_id``)."""
    return f"{run_id}/whatif-{scenario_id}"


__all__ += ["whatif_forecast_run"]
