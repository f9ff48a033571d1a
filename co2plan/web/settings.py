"""Web app settings from the environment (``CO2PLAN_WEB_*``); every default works on a fresh clone."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from core.settings import PROJECT_ROOT

__all__ = ["WebSettings"]


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CO2PLAN_WEB_{name}", default)


@dataclass
class WebSettings:
    #: users, sessions and submissions; SQLite file by default, postgresql+psycopg2://... in production
    db_url: str = field(default_factory=lambda: _env(
        "DB", f"sqlite:///{PROJECT_ROOT / 'webdata' / 'web.db'}"))
    #: Secure cookies (__Host- prefix). Browsers accept them on http://127.0.0.1; switch off only for a
    #: client that insists on plain http to another host name
    cookie_secure: bool = field(default_factory=lambda: _env("COOKIE_SECURE", "1") != "0")
    session_idle_s: int = 30 * 60
    session_absolute_s: int = 12 * 3600
    max_upload_bytes: int = field(default_factory=lambda: int(_env("MAX_UPLOAD_BYTES", str(10 * 1024 * 1024))))
    max_rows: int = 50_000
    throttle_failures: int = 5
    throttle_window_s: int = 15 * 60
    #: "airflow": scenarios go through Airflow's REST API; "local": run co2plan.pipeline.scenario_stage in a
    #: worker thread of the web process (embedded default and tests, no Airflow server needed)
    scenario_runner: str = field(default_factory=lambda: _env("SCENARIO_RUNNER", "airflow"))
    airflow_api_url: str = field(default_factory=lambda: _env("AIRFLOW_API", "http://127.0.0.1:8080"))
    airflow_user: str = field(default_factory=lambda: _env("AIRFLOW_USER", "admin"))
    #: a file holding the Airflow service password (never the password itself in the environment)
    airflow_password_file: str = field(default_factory=lambda: _env("AIRFLOW_PASSWORD_FILE", ""))
    #: the public commitment: reduce scope 1+2 by target_pct % against the base year by target_year
    target_pct: float = field(default_factory=lambda: float(_env("TARGET_PCT", "42")))
    target_year: int = field(default_factory=lambda: int(_env("TARGET_YEAR", "2030")))
    company: str = field(default_factory=lambda: _env("COMPANY", "co2plan demo manufacturer"))
    #: minimum number of peers before a supplier sees its share within its industry
    min_peers: int = 3
    lake_root: str | None = None
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "testserver")
