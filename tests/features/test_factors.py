"""The reference factor library: contract, naming, sources, and the published values it must carry."""

from __future__ import annotations

import pytest

from core.tables import GASES, TABLES
from features.accounting import UREG, split_unit, unit_multiplier
from features.factors import FACTOR_VERSION, fuel_properties, reference_factors


@pytest.fixture(scope="module")
def factors():
    return reference_factors()


def _one(f, activity, region, gas, basis=None, year=None):
    sel = f[(f.activity == activity) & (f.region == region) & (f.gas == gas)]
    if basis is not None:
        sel = sel[sel.basis == basis]
    if year is not None:
        sel = sel[sel.year == year]
    assert len(sel) == 1, (activity, region, gas, basis, year, sel)
    return sel.iloc[0]


def test_contract_columns_dtypes_and_keys(factors):
    spec = TABLES["emission_factors"]
    assert list(factors.columns) == spec.column_names
    assert factors["factor_id"].is_unique
    assert set(factors["gas"]) <= set(GASES)
    assert (factors["value"] >= 0).all()
    assert factors["year"].between(1990, 2100).all()
    assert (factors["version"] == FACTOR_VERSION).all()
    for col in spec.required:
        assert factors[col].notna().all(), col
    assert factors["source"].str.len().gt(20).all(), "every factor names its source"


def test_every_unit_is_numerator_over_a_pint_unit(factors):
    for unit in factors["unit"].unique():
        num, den = split_unit(unit)
        assert UREG.parse_units(num).dimensionality == UREG.parse_units("kg").dimensionality
        UREG.parse_units(den)  # raises if the registry cannot read it


def test_naming_per_interfaces(factors):
    grid = set(factors.loc[factors.activity == "electricity_grid", "region"])
    assert {"DE", "FR", "ES", "PL", "CZ", "GB", "US", "MX", "CN", "HU", "SK", "SRSO", "RFCW"} <= grid
    residual = set(factors.loc[factors.activity == "electricity_residual_mix", "region"])
    assert {"DE", "FR", "ES", "PL", "CZ", "HU", "SK"} <= residual
    for mode in ("road", "rail", "sea", "air"):
        rows = factors[factors.activity == f"freight_{mode}"]
        assert set(rows["basis"]) == {"TTW", "WTW"}
        assert (rows["unit"] == "kg/tonne_km").all() and (rows["gas"] == "CO2e").all()
    assert factors.loc[~factors.activity.str.startswith("freight_"), "basis"].isna().all()


def test_published_values(factors):
    # US EPA GHG Emission Factors Hub: natural gas per mmBtu, diesel per US gallon
    assert _one(factors, "natural_gas", "US", "CO2").value == 53.06
    assert _one(factors, "natural_gas", "US", "CH4_fossil").value == pytest.approx(1.0e-3, rel=1e-12)
    assert _one(factors, "natural_gas", "US", "N2O").value == pytest.approx(1.0e-4, rel=1e-12)
    assert _one(factors, "diesel", "US", "CO2").value == 10.21
    # eGRID2021 US average 852.3 lb CO2/MWh -> kg/kWh
    assert _one(factors, "electricity_grid", "US", "CO2").value == pytest.approx(852.3 * 0.45359237 / 1000,
                                                                                   rel=1e-12)
    assert _one(factors, "electricity_grid", "CN", "CO2", year=2023).value == 0.5306
    # UK DESNZ 2025 freight, tank-to-wheel
    assert _one(factors, "freight_road", "GLOBAL", "CO2e", "TTW").value == 0.10163
    assert _one(factors, "freight_rail", "GLOBAL", "CO2e", "TTW").value == 0.02779
    assert _one(factors, "freight_sea", "GLOBAL", "CO2e", "TTW").value == 0.01612
    assert _one(factors, "freight_air", "GLOBAL", "CO2e", "TTW").value == 0.5313


def test_wtw_exceeds_ttw_and_approximations_are_labelled(factors):
    for mode in ("road", "rail", "sea", "air"):
        ttw = _one(factors, f"freight_{mode}", "GLOBAL", "CO2e", "TTW").value
        wtw_row = _one(factors, f"freight_{mode}", "GLOBAL", "CO2e", "WTW")
        assert wtw_row.value > ttw
        assert "approximation" in wtw_row.source
    assert factors["source"].str.contains("approximation").any()


def test_fuel_properties_bridge_units():
    fp = fuel_properties()
    assert fp["property_id"].is_unique
    hv = fp[(fp.fuel == "natural_gas") & (fp.property == "heating_value") & (fp.region == "US")].iloc[0]
    assert hv.value == 1.026e-3 and hv.unit == "mmBtu/scf" and hv.basis == "HHV"
    cc = fp[(fp.fuel == "diesel") & (fp.property == "carbon_content") & (fp.region == "US")].iloc[0]
    # EPA: 73.96 kg CO2/mmBtu for distillate No. 2, i.e. 20.17 kg C/mmBtu within rounding
    assert cc.value * 44 / 12 == pytest.approx(73.96, rel=1e-3)
    for unit in fp["unit"]:
        num, den = split_unit(unit)
        unit_multiplier(den, den)  # parses


def test_factor_table_is_deterministic():
    a, b = reference_factors(), reference_factors()
    assert a.equals(b)
    assert (reference_factors("test-v").version == "test-v").all()
