"""The embedded sample generator: contract conformance, internal consistency, realism, determinism."""

import numpy as np
import pandas as pd
import pytest

from core.tables import CARRIERS, MODES, POWERTRAINS, TABLE_ORDER, TABLES
from features import sample_catalog as cat
from features.factors import reference_factors
from features.sample import END_WEEK, KWH_PER, N_WEEKS, generate, great_circle_km, write_sample

PANDAS_DTYPE = {"str": "object", "float": "float64", "int": "int64", "bool": "bool", "date": "datetime64[ns]"}


@pytest.fixture(scope="module")
def demo() -> dict[str, pd.DataFrame]:
    return generate("demo", seed=7)


def test_every_table_has_exactly_the_contract_columns_and_dtypes(demo):
    assert list(demo) == list(TABLE_ORDER)
    for name, spec in TABLES.items():
        df = demo[name]
        assert list(df.columns) == spec.column_names, name
        assert len(df) > 0, name
        for col in spec.columns:
            want = "Int64" if (col.dtype, col.nullable) == ("int", True) else PANDAS_DTYPE[col.dtype]
            assert str(df[col.name].dtype) == want, (name, col.name, df[col.name].dtype)
            if col.dtype == "str":
                assert df[col.name].dropna().map(type).eq(str).all(), (name, col.name)


def test_keys_unique_nulls_and_ranges_follow_the_contract(demo):
    for name, spec in TABLES.items():
        df = demo[name]
        assert not df.duplicated(list(spec.key)).any(), f"{name}: duplicate key {spec.key}"
        for col in spec.columns:
            s = df[col.name]
            if not col.nullable:
                assert s.notna().all(), f"{name}.{col.name} has nulls"
            if col.ge is not None:
                assert (s.dropna() >= col.ge).all(), f"{name}.{col.name} < {col.ge}"
            if col.le is not None:
                assert (s.dropna() <= col.le).all(), f"{name}.{col.name} > {col.le}"
            if col.isin is not None:
                assert set(s.dropna()) <= set(col.isin), f"{name}.{col.name}: {set(s) - set(col.isin)}"


def test_every_reference_resolves(demo):
    for name, spec in TABLES.items():
        for col, (ref_table, ref_col) in spec.references.items():
            dangling = set(demo[name][col].dropna()) - set(demo[ref_table][ref_col])
            assert not dangling, f"{name}.{col} -> {ref_table}.{ref_col}: {sorted(dangling)[:5]}"
    # references the contract does not spell out but every stage relies on
    pairs = set(zip(demo["plant_products"]["plant_id"], demo["plant_products"]["product_id"], strict=True))
    prod = demo["production_history"]
    assert set(zip(prod["plant_id"], prod["product_id"], strict=True)) <= pairs
    lanes = demo["lanes"].set_index("lane_id")
    ship = demo["shipments"].join(lanes[["plant_id"]], on="lane_id")
    assert set(zip(ship["plant_id"], ship["product_id"], strict=True)) <= pairs  # shipped from a builder


def test_demo_meets_the_size_minima(demo):
    plants, products = demo["plants"], demo["products"]
    assert len(plants) >= 8 and plants["country"].nunique() >= 5
    assert len(products) >= 20 and set(products["powertrain"]) == set(POWERTRAINS)
    assert products["powertrain"].value_counts().min() >= 5
    assert len(demo["markets"]) >= 10
    assert set(demo["lanes"]["mode"]) == set(MODES)
    assert (plants["equity_share"] < 1).sum() >= 2 and (~plants["operational_control"]).sum() >= 1
    assert plants.loc[plants["country"] == "US", "grid_region"].notna().all()
    for table in ("demand_history", "production_history", "energy_use"):
        weeks = pd.DatetimeIndex(demo[table]["week"].unique())
        assert len(weeks) == N_WEEKS and weeks.max() == END_WEEK, table
        assert (weeks.dayofweek == 0).all(), table
    assert {"electricity", "natural_gas", "diesel"} <= set(demo["energy_use"]["carrier"]) <= set(CARRIERS)


def test_eligibility_and_sparsity(demo):
    pp = demo["plant_products"]
    per_product = pp.groupby("product_id").size()
    assert per_product.between(2, 4).all() and len(per_product) == len(demo["products"])
    assert (pp.groupby("plant_id").size() >= 3).all()
    markets_per_product = demo["demand_history"].groupby("product_id")["market_id"].nunique()
    assert (markets_per_product >= 3).all()
    n_series = demo["demand_history"][["product_id", "market_id"]].drop_duplicates().shape[0]
    assert n_series < len(demo["products"]) * len(demo["markets"])  # not every product sells everywhere
    # BEV and ICE differ in energy per unit
    e = pp.merge(demo["products"], on="product_id").groupby("powertrain")["electricity_kwh_per_unit"].mean()
    assert e["BEV"] > e["ICE"] * 1.1


def test_every_plant_country_and_grid_region_has_a_grid_factor():
    grid = reference_factors().query("activity == 'electricity_grid'")
    regions = set(grid["region"])
    for code, _town, country, grid_region, *_ in cat.PLANTS:  # demo and large
        assert country in regions, f"plant {code}: no grid factor for {country}"
        assert grid_region is None or grid_region in regions, f"plant {code}: no grid factor for {grid_region}"


def test_demand_has_yearly_seasonality_and_ev_growth(demo):
    dh = demo["demand_history"].merge(demo["products"][["product_id", "powertrain"]], on="product_id")
    agg = dh.groupby("week")["units"].sum().sort_index()
    x = np.log(agg.to_numpy())
    t = np.arange(len(x))
    x = x - np.polyval(np.polyfit(t, x, 1), t)
    acf52 = np.corrcoef(x[52:], x[:-52])[0, 1]
    assert acf52 > 0.5
    # European markets: the Christmas week and mid-August sell much less than mid-September
    eu = demo["markets"].loc[demo["markets"]["country"].map(cat.REGION) == "EU", "market_id"]
    agg_eu = dh[dh["market_id"].isin(eu)].groupby("week")["units"].sum().sort_index()
    wk = pd.DatetimeIndex(agg_eu.index).isocalendar().week.to_numpy()
    september = agg_eu[(wk >= 37) & (wk <= 39)].mean()
    assert agg_eu[wk == 52].mean() < 0.75 * september
    assert agg_eu[wk == 33].mean() < 0.85 * september
    year_block = t // 52  # three 52-week years
    by = dh.assign(y=year_block[pd.Index(agg.index).get_indexer(dh["week"])]).pivot_table(
        index="y", columns="powertrain", values="units", aggfunc="sum")
    share = by.div(by.sum(axis=1), axis=0)
    assert share.loc[2, "BEV"] > share.loc[0, "BEV"] * 1.2
    assert share.loc[2, "ICE"] < share.loc[0, "ICE"]


def test_demand_is_a_learnable_signal_not_a_random_walk(demo):
    """Week-to-week changes of one series are mean-reverting (noise around a smooth path): their lag-1
    autocorrelation is clearly negative, as for independent noise (-0.5), not ~0 as for a random walk."""
    dh = demo["demand_history"]
    top = dh.groupby(["product_id", "market_id"])["units"].sum().idxmax()
    one = dh[(dh["product_id"] == top[0]) & (dh["market_id"] == top[1])]
    y = one.sort_values("week")["units"].to_numpy()
    d = np.diff(np.log(y))
    assert np.corrcoef(d[1:], d[:-1])[0, 1] < -0.3


def test_production_matches_demand_and_stays_within_capacity(demo):
    dem = demo["demand_history"].groupby("product_id")["units"].sum()
    prod = demo["production_history"].groupby("product_id")["units"].sum()
    ratio = prod / dem
    assert ratio.between(0.97, 1.03).all(), ratio.describe()
    weekly = demo["production_history"].groupby(["plant_id", "week"])["units"].sum().reset_index()
    cap = weekly.merge(demo["plants"], on="plant_id")
    assert (cap["units"] <= cap["capacity_units_per_week"]).all()
    assert (cap.groupby("plant_id")["units"].mean() / cap.groupby("plant_id")["capacity_units_per_week"].first()
            ).between(0.4, 0.95).all()


def test_shipments_are_consistent_with_demand_weights_and_lane_capacity(demo):
    ship, products, lanes = demo["shipments"], demo["products"], demo["lanes"]
    w = ship["product_id"].map(products.set_index("product_id")["weight_t"])
    np.testing.assert_allclose(ship["tonnes"], ship["units"] * w, rtol=1e-12)
    s = ship.merge(lanes[["lane_id", "market_id"]], on="lane_id").groupby(["product_id", "market_id"])["units"].sum()
    d = demo["demand_history"].groupby(["product_id", "market_id"])["units"].sum()
    assert set(s.index) == set(d.index)
    assert 0.9 < s.sum() / d.sum() <= 1.02  # the first weeks of long lanes departed before the history
    # goods keep departing in the last weeks (they arrive after the history): no sag at the end
    shipped_w = ship.groupby("week")["units"].sum()
    demand_w = demo["demand_history"].groupby("week")["units"].sum()
    assert (shipped_w.iloc[-8:] / demand_w.iloc[-8:]).between(0.8, 1.25).all()
    weekly = ship.groupby(["lane_id", "week"])["tonnes"].sum().reset_index().merge(lanes, on="lane_id")
    assert (weekly["tonnes"] <= weekly["capacity_t_per_week"]).all()
    assert ship.merge(lanes, on="lane_id").groupby("mode")["tonnes"].sum().idxmax() in ("road", "sea")


def test_lane_distances_follow_the_coordinates(demo):
    lanes = demo["lanes"].merge(demo["plants"][["plant_id", "lat", "lon", "country"]], on="plant_id").merge(
        demo["markets"][["market_id", "lat", "lon", "country"]], on="market_id", suffixes=("_p", "_m"))
    gc = great_circle_km(lanes["lat_p"], lanes["lon_p"], lanes["lat_m"], lanes["lon_m"])
    far = gc > 50
    ratio = lanes["distance_km"][far] / gc[far]
    assert ratio.between(1.0, 2.5).all()
    # hand check: Wolfsburg -> Paris hub is about 700 km as the crow flies
    wob = gc[(lanes["plant_id"] == "P_DE_WOB") & (lanes["market_id"] == "M_FR_PAR")]
    assert 650 < wob.iloc[0] < 760
    land = lanes["country_p"].map(cat.LAND_GROUP) == lanes["country_m"].map(cat.LAND_GROUP)
    assert land[lanes["mode"].isin(["road", "rail"])].all()  # no trucks across oceans
    assert (lanes.loc[~land, "mode"].isin(["sea", "air"])).all()
    cost = lanes.groupby("mode")["cost_eur_per_t"].median()
    assert cost["air"] > cost["road"] > cost["rail"]
    assert (lanes.groupby("mode")["transit_days"].median()["sea"] >
            lanes.groupby("mode")["transit_days"].median()["air"])


def test_energy_follows_volume_and_season(demo):
    e = demo["energy_use"].copy()
    e["kwh"] = e["quantity"] * e["unit"].map(KWH_PER)
    units = demo["production_history"].groupby(["plant_id", "week"])["units"].sum()
    elec = e[e["carrier"] == "electricity"].set_index(["plant_id", "week"])["kwh"]
    both = pd.concat([elec, units], axis=1, join="inner")
    corr = both.groupby(level="plant_id").apply(lambda g: g["kwh"].corr(g["units"]))
    assert (corr > 0.5).all(), corr
    # natural gas: more in January than in July (same plant, same production weeks pooled)
    gas = e[(e["carrier"] == "natural_gas") & (e["plant_id"] == "P_DE_WOB")].set_index("week")["kwh"]
    per_unit = gas / units.loc["P_DE_WOB"]
    assert per_unit[per_unit.index.month == 1].mean() > 1.2 * per_unit[per_unit.index.month == 7].mean()
    # units vary realistically: US plants meter diesel in US gallons, others in litres
    d = e[e["carrier"] == "diesel"].merge(demo["plants"][["plant_id", "country"]], on="plant_id")
    assert set(d.loc[d["country"] == "US", "unit"]) == {"US_gallon"}
    assert set(d.loc[d["country"] != "US", "unit"]) == {"litre"}
    assert e.loc[e["carrier"] == "natural_gas", "unit"].nunique() >= 3


def test_energy_contracts_and_supplier_submissions(demo):
    c = demo["energy_contracts"].merge(demo["plants"][["plant_id", "country"]], on="plant_id")
    assert set(c["instrument"]) == set(TABLES["energy_contracts"].column("instrument").isin)
    foreign = c[c["market"] != c["country"]]
    assert len(foreign) == 1 and foreign["instrument"].iloc[0] == "EAC"
    assert (c["end"] > c["start"]).all()
    assert (c.loc[c["instrument"] != "supplier_rate", "factor_kg_per_kwh"] == 0).all()
    assert (c.loc[c["instrument"] == "supplier_rate", "factor_kg_per_kwh"] > 0).all()
    s = demo["supplier_emissions"]
    assert set(s["plant_id"]) == set(demo["plants"]["plant_id"])
    assert (s.groupby(["plant_id", "year"]).size() >= 3).all()


def test_same_seed_same_frames_other_seed_other_demand(demo):
    again = generate("demo", seed=7)
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(demo[name], again[name], obj=name)
    other = generate("demo", seed=8)
    assert not demo["demand_history"].equals(other["demand_history"])


def test_unknown_size_or_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="sample size"):
        generate("huge")
    with pytest.raises(ValueError, match="sample format"):
        write_sample(tmp_path, fmt="xlsx")


def test_write_sample_parquet_and_csv_round_trip(tmp_path, demo):
    out = write_sample(tmp_path / "s", size="demo", seed=7, fmt="parquet")
    files = sorted(p.name for p in out.iterdir() if p.name != "_generator.json")
    assert files == sorted(f"{n}.parquet" for n in TABLE_ORDER)
    first = {n: (out / f"{n}.parquet").read_bytes() for n in TABLE_ORDER}
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), demo[name], obj=name)
    write_sample(out, size="demo", seed=7, fmt="parquet")
    assert {n: (out / f"{n}.parquet").read_bytes() for n in TABLE_ORDER} == first  # byte-identical
    write_sample(out, size="demo", seed=7, fmt="csv")
    assert sorted(p.name for p in out.iterdir() if p.suffix == ".csv" or p.suffix == ".parquet") == sorted(
        f"{n}.csv" for n in TABLE_ORDER)
    plants = pd.read_csv(out / "plants.csv")
    assert len(plants) == len(demo["plants"]) and list(plants.columns) == TABLES["plants"].column_names
    dh = pd.read_csv(out / "demand_history.csv")
    assert dh["week"].iloc[0] == str(demo["demand_history"]["week"].iloc[0].date())


def test_cli_sample_command_writes_the_folder(tmp_path, capsys):
    from co2plan.cli import main

    assert main(["sample", "--out", str(tmp_path / "cli"), "--format", "csv", "--seed", "3"]) == 0
    assert "written to" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "cli").glob("*.csv")) == sorted(f"{n}.csv" for n in TABLE_ORDER)


def test_sample_folder_from_another_generator_is_regenerated(tmp_path, monkeypatch):
    """The embedded sample is stamped with a digest of the generator: a folder written by an older generator
    (tables missing that the code now expects) is regenerated on use instead of silently reused."""
    import json

    from co2plan.pipeline import resolve_source
    from features.sample import generator_version, sample_is_current

    folder = tmp_path / "demo"
    monkeypatch.setenv("CO2PLAN_SAMPLE_DIR", str(folder))
    assert not sample_is_current(folder, "demo", 7)
    assert resolve_source("sample:demo") == str(folder)
    stamp = json.loads((folder / "_generator.json").read_text())
    assert stamp == {"generator": generator_version(), "size": "demo", "seed": 7}
    assert sample_is_current(folder, "demo", 7) and not sample_is_current(folder, "demo", 8)
    # an old generator's folder: one table the new code expects is missing and the stamp differs
    (folder / "heat_options.parquet").unlink()
    (folder / "_generator.json").write_text(json.dumps({**stamp, "generator": "0ld"}))
    resolve_source("sample:demo")
    assert (folder / "heat_options.parquet").exists() and sample_is_current(folder, "demo", 7)
    # a current folder is reused as it is (not rewritten)
    mtime = (folder / "plants.parquet").stat().st_mtime_ns
    resolve_source("sample:demo")
    assert (folder / "plants.parquet").stat().st_mtime_ns == mtime
