"""Frequency, seasonality and step arithmetic of a time-series panel (pure pandas, no model code).

A panel is a long frame ``unique_id, ds, y``. ``infer_freq`` finds its pandas frequency (daily, weekly with any
anchor, month start/end, quarter start/end, hourly) from the longest series and checks that every date of every
series sits on that frequency's grid: irregular spacing is refused with a ``ValueError`` that says so.
``FreqSpec`` carries the frequency, its season lengths and the step arithmetic (``shift``, ``steps_between``,
``grid``) that replaces hard-coded ``Timedelta(weeks=...)`` and ``days // 7``. ``derive_lags`` /
``derive_windows`` build the LightGBM lag and rolling-window features from the season and what the history
allows; ``date_features`` gives the calendar features of the real dates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def _normalise(freq: str) -> str:
    """Canonical spelling: 'W' -> 'W-SUN', 'M' -> 'ME', 'Q' -> 'QE-DEC', 'H' -> 'h'."""
    off = pd.tseries.frequencies.to_offset(freq)
    s = off.freqstr
    return {"W": "W-SUN", "M": "ME", "H": "h", "Q": "QE-DEC", "QS": "QS-JAN"}.get(s, s)


def _multiple(freq: str) -> tuple[int, str]:
    """(n, base): '3MS' -> (3, 'MS'), '2W-SUN' -> (2, 'W-SUN'), 'B' -> (1, 'B')."""
    off = pd.tseries.frequencies.to_offset(freq)
    return int(off.n), _normalise(off.base.freqstr)


def kind(freq: str) -> str:
    """One of hourly, daily, weekly, monthly, quarterly, yearly (by the offset's family, whatever its multiple:
    '3MS' is monthly, '2W-SUN' weekly, 'B' daily)."""
    f = _multiple(freq)[1].upper()
    if f.startswith("W"):
        return "weekly"
    if f in ("MS", "ME", "BMS", "BME", "SMS", "SME") or f.startswith(("MS", "ME")):
        return "monthly"
    if f.startswith(("Q", "BQ")):
        return "quarterly"
    if f.startswith(("Y", "A", "BY", "BA")):
        return "yearly"
    if f in ("D", "B") or f.endswith("D"):
        return "daily"
    if f.endswith("H") or f == "H":
        return "hourly"
    return "other"


def default_seasons(freq: str, n_steps: int | None = None) -> list[int]:
    """Season lengths by frequency: daily [7, 365 if >= 2 years], weekly [52], monthly [12], quarterly [4],
    hourly [24, 168], yearly [1]."""
    k = kind(freq)
    n, base = _multiple(freq)
    if base == "B":  # business days: the week has 5, the year ~260
        return [5, 260] if n == 1 and n_steps is not None and n_steps >= 2 * 260 else ([5] if n == 1 else [1])
    if k == "daily":
        if n > 1:
            return [7 // n] if 7 % n == 0 and 7 // n > 1 else [1]
        return [7, 365] if n_steps is not None and n_steps >= 2 * 365 else [7]
    per = {"weekly": [52], "monthly": [12], "quarterly": [4], "hourly": [24, 168], "yearly": [1]}.get(k, [1])
    if n > 1:  # a multiple: the season in steps of n (3MS -> 4 per year; 2W -> 26), else none
        per = [p // n for p in per if p % n == 0 and p // n > 1] or [1]
    return per


def _guess_from_spacing(ds: pd.Series) -> str | None:
    """A frequency from the most common spacing when pd.infer_freq gives up (gaps in the longest series)."""
    d = pd.DatetimeIndex(ds.sort_values())
    if len(d) < 2:
        return None
    days = int(pd.Series(np.diff(d.asi8) // 86_400_000_000_000).mode().iloc[0])
    if days == 1:
        return "D"
    if days % 7 == 0 and days == 7:
        return f"W-{_WEEKDAYS[d[0].dayofweek]}"
    if 28 <= days <= 31:
        return "MS" if (d.day == 1).all() else "ME"
    if 89 <= days <= 92:
        return "QS" if (d.day == 1).all() else "QE"
    return None


def infer_freq(panel: pd.DataFrame) -> str:
    """The panel's pandas frequency, checked against every series (ValueError when irregular)."""
    if panel.empty:
        raise ValueError("panel: no rows to infer a frequency from")
    ds = pd.to_datetime(panel["ds"])
    sizes = panel.groupby("unique_id").size()
    longest = sizes.idxmax()
    own = ds[panel["unique_id"] == longest].sort_values()
    freq = None
    if len(own) >= 3:
        freq = pd.infer_freq(pd.DatetimeIndex(own))
    freq = freq or _guess_from_spacing(own)
    if freq is None:
        raise ValueError(f"panel: frequency cannot be inferred from series {longest!r} ({len(own)} dates); "
                         "set DemandConfig.freq")
    freq = _normalise(freq)
    check_regular(panel, freq)
    return freq


def to_dates(ds: pd.Series) -> pd.Series:
    """Dates of a panel's ``ds`` column: datetimes as they are; pandas Periods at their start; strings such as
    '2010 Q1', '2010-Q1' or '2010 Jan' parsed as periods when they are not dates."""
    if isinstance(ds.dtype, pd.PeriodDtype):
        return ds.dt.to_timestamp(how="start")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "could not infer format": parsed one by one
            return pd.to_datetime(ds)
    except (ValueError, TypeError) as err:
        if ds.dtype != object:
            raise
        text = ds.astype(str).str.replace(r"\s+", "", regex=True).str.replace("-Q", "Q", regex=False)
        try:
            per = {v: pd.Period(v).start_time for v in text.unique()}
            return text.map(per).astype("datetime64[ns]")
        except (ValueError, TypeError):
            try:
                return pd.to_datetime(ds.astype(str), format="%Y %b")
            except (ValueError, TypeError):
                raise ValueError(f"ds: dates cannot be read ({err}); pass datetimes, pandas Periods or strings "
                                 "such as '2024-01-01', '2024Q1' or '2024 Jan'") from None


def check_regular(panel: pd.DataFrame, freq: str) -> None:
    """Every date must sit on ``freq``'s grid (gaps are allowed: they are filled later)."""
    ds = pd.to_datetime(panel["ds"])
    grid = pd.date_range(ds.min(), ds.max(), freq=freq)
    if len(grid) == 0 or grid[0] != ds.min():
        # the earliest date itself is off the anchor (e.g. a Tuesday for W-MON)
        off = ds[~ds.isin(pd.date_range(pd.tseries.frequencies.to_offset(freq).rollback(ds.min()), ds.max(),
                                        freq=freq))]
    else:
        off = ds[~ds.isin(grid)]
    if len(off):
        hint = "pass a regular series or set freq"
        try:
            seen = _guess_from_spacing(ds[panel["unique_id"] == panel.groupby("unique_id").size().idxmax()])
            seen = _normalise(pd.infer_freq(pd.DatetimeIndex(ds.drop_duplicates().sort_values())) or seen or "")
        except (TypeError, ValueError):
            seen = None
        if seen and seen != _normalise(freq):
            hint = f"the dates look like {seen!r} (e.g. period start vs end): set freq={seen!r}"
        raise ValueError(f"panel dates are irregular: {len(off)} dates are not on the {freq} grid "
                         f"(first: {pd.Timestamp(off.iloc[0]).date()}); {hint}")


def _period_freq(freq: str) -> str:
    k = kind(freq)
    f = _normalise(freq)
    if k == "monthly":
        return "M"
    if k == "quarterly":
        anchor = f.split("-")[1] if "-" in f else "DEC"
        return f"Q-{anchor}"
    if k == "weekly":
        return f
    if k == "yearly":
        return "Y"
    return f


@dataclass
class FreqSpec:
    """Frequency + season lengths + step arithmetic."""

    freq: str
    season_lengths: list[int] = field(default_factory=list)

    def __post_init__(self):
        self.freq = _normalise(self.freq)
        if not self.season_lengths:
            self.season_lengths = default_seasons(self.freq)
        self.season_lengths = [int(s) for s in self.season_lengths]
        if any(s < 1 for s in self.season_lengths):
            raise ValueError(f"season_lengths must be >= 1: {self.season_lengths}")

    @classmethod
    def from_panel(cls, panel: pd.DataFrame, freq: str | None = None,
                   season_lengths: list[int] | None = None) -> FreqSpec:
        if freq:
            check_regular(panel, freq)
        else:
            freq = infer_freq(panel)
        n = int(panel.groupby("unique_id").size().max())
        return cls(freq, list(season_lengths) if season_lengths else default_seasons(freq, n))

    @property
    def season(self) -> int:
        """The main (shortest non-trivial) season length."""
        return int(self.season_lengths[0])

    @property
    def offset(self):
        return pd.tseries.frequencies.to_offset(self.freq)

    @property
    def kind(self) -> str:
        return kind(self.freq)

    def shift(self, ds, k: int):
        """``ds`` moved by ``k`` steps (Timestamp, Series or DatetimeIndex)."""
        off = self.offset
        if isinstance(ds, pd.Timestamp):
            return ds + k * off
        if isinstance(ds, pd.Series):
            return pd.Series(pd.DatetimeIndex(ds) + k * off, index=ds.index)
        return pd.DatetimeIndex(ds) + k * off

    def steps_between(self, a, b) -> np.ndarray | int:
        """Number of steps from ``a`` to ``b`` (b - a in steps; arrays or scalars)."""
        scalar = isinstance(a, pd.Timestamp) and isinstance(b, pd.Timestamp)
        da, db = pd.DatetimeIndex(np.atleast_1d(a)), pd.DatetimeIndex(np.atleast_1d(b))
        off = self.offset
        fixed = None
        try:  # D, h, 2D ...: a fixed length
            fixed = pd.Timedelta(off.nanos, unit="ns")
        except ValueError:  # calendar offsets (W, MS, QE, B, 3MS ...) have no fixed length
            pass
        if fixed is not None and self.kind in ("daily", "hourly", "other"):
            out = np.asarray((db - da) // fixed, dtype=int)
        elif off.n == 1 and self.kind in ("weekly", "monthly", "quarterly", "yearly"):
            pf = _period_freq(self.freq)
            out = np.asarray(db.to_period(pf).asi8 - da.to_period(pf).asi8, dtype=int)
        else:  # business days, multiples (2W, 3MS): positions on the frequency's own grid
            lo, hi = min(da.min(), db.min()), max(da.max(), db.max())
            grid = pd.date_range(off.rollback(lo), hi, freq=self.freq)
            ia, ib = grid.get_indexer(da), grid.get_indexer(db)
            if (ia < 0).any() or (ib < 0).any():
                raise ValueError(f"dates not on the {self.freq} grid")
            out = np.asarray(ib - ia, dtype=int)
        return int(out[0]) if scalar else out

    def grid(self, start, end) -> pd.DatetimeIndex:
        return pd.date_range(start, end, freq=self.freq)

    def future(self, last, h: int) -> pd.DatetimeIndex:
        """The ``h`` dates after ``last``."""
        return pd.date_range(self.shift(pd.Timestamp(last), 1), periods=h, freq=self.freq)


def derive_lags(season: int, h: int, max_len: int | None = None) -> list[int]:
    """[1, 2, 3, season] (+ season +- 1 for weekly-length seasons >= 26; + the season's multiples up to the
    horizon when the season is shorter than it, e.g. 14, 21, 28 for daily data and h = 28, so that the recursive
    forecast still sees last season's value deep into the horizon), cut to what ``max_len`` allows."""
    lags = {1, 2, 3}
    if season > 1:
        lags.add(season)
        if season >= 26:
            lags.update({season - 1, season + 1})
        lags.update(season * k for k in range(2, 5) if season * k <= h)
    if max_len is not None:
        lags = {lag for lag in lags if lag <= max(3, max_len // 2)}
    return sorted(lags)


def derive_windows(season: int, max_len: int | None = None) -> list[int]:
    """Rolling-mean windows on lag 1: [min(4, season), season] (and 13 for long seasons), cut to the history."""
    w = {min(4, max(2, season)), max(2, season)}
    if season >= 26:
        w.add(13)
    if max_len is not None:
        w = {x for x in w if x <= max(2, max_len // 2)}
    return sorted(w)


def _week(dates) -> np.ndarray:
    return pd.DatetimeIndex(dates).isocalendar().week.to_numpy().astype("int16")


def _month(dates) -> np.ndarray:
    return pd.DatetimeIndex(dates).month.to_numpy().astype("int16")


def _quarter(dates) -> np.ndarray:
    return pd.DatetimeIndex(dates).quarter.to_numpy().astype("int16")


def _dayofweek(dates) -> np.ndarray:
    return pd.DatetimeIndex(dates).dayofweek.to_numpy().astype("int16")


def _dayofyear(dates) -> np.ndarray:
    return pd.DatetimeIndex(dates).dayofyear.to_numpy().astype("int16")


def _hour(dates) -> np.ndarray:
    return pd.DatetimeIndex(dates).hour.to_numpy().astype("int16")


_week.__name__, _month.__name__, _quarter.__name__ = "week_of_year", "month", "quarter"
_dayofweek.__name__, _dayofyear.__name__, _hour.__name__ = "day_of_week", "day_of_year", "hour"
DATE_FEATURE_FUNCS = {"week_of_year": _week, "month": _month, "quarter": _quarter, "day_of_week": _dayofweek,
                      "day_of_year": _dayofyear, "hour": _hour}


def date_feature_names(freq: str) -> list[str]:
    return {"weekly": ["week_of_year", "month"], "monthly": ["month", "quarter"], "quarterly": ["quarter"],
            "daily": ["day_of_week", "day_of_year", "month"], "hourly": ["hour", "day_of_week"]}.get(kind(freq), [])


def date_features(freq: str, names: list[str] | None = None) -> list:
    """Calendar feature functions (mlforecast ``date_features``) computed from the real dates."""
    names = date_feature_names(freq) if names is None else names
    unknown = set(names) - set(DATE_FEATURE_FUNCS)
    if unknown:
        raise ValueError(f"unknown date features {sorted(unknown)} (known: {sorted(DATE_FEATURE_FUNCS)})")
    return [DATE_FEATURE_FUNCS[n] for n in names]
