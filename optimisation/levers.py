"""Abatement levers as priced decisions, the marginal abatement cost (MAC) curve of a plan, and which lever
sets the CO2 shadow price.

Lever columns (one per plant x lever x week, activity in MWh):
- ``eac`` / ``ppa`` (table renewable_supply): MWh of renewable electricity; abates rho_p - f per MWh of
  market-based scope 2 (rho_p = the plant's residual-mix factor, else its grid factor; f = the instrument's).
- ``electric_boiler`` / ``heat_pump`` / ``biomethane`` (table heat_options): MWh of natural gas replaced;
  scope 1 falls by eps_gas - residual, market-based scope 2 rises by ratio x rho_p. Options with no net
  abatement on a plant's grid are left out (listed in the MAC curve as non-abating).
Removals/offsets (table removal_offers) are not scope 1-3 levers: they only enter a net target row.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from optimisation.inputs import PlanInputs, _pick_factor_kg_per_kwh

log = logging.getLogger(__name__)

LEVER_COLUMNS = ["lever", "plant_id", "market", "t", "year", "price_eur_per_mwh", "d_scope1", "d_scope2_market",
                 "elec_ratio", "kind"]
LABEL = {"eac": "EACs", "ppa": "PPA power", "electric_boiler": "electric boilers", "heat_pump": "heat pumps",
         "biomethane": "biomethane"}


def plant_factors(inputs: PlanInputs, plant_ids) -> pd.DataFrame:
    """rho (market-based t CO2e/MWh of uncovered electricity: residual mix, else grid) and eps_gas (t/MWh of
    natural gas) per plant, from the emission-factor library (kg/kWh = t/MWh)."""
    ef = inputs.emission_factors
    plants = inputs.plants.set_index("plant_id")
    rows = []
    for p in plant_ids:
        country = plants.loc[p, "country"]
        region = plants.loc[p, "grid_region"] if "grid_region" in plants else None
        rho = _pick_factor_kg_per_kwh(ef, "electricity_residual_mix", [country])
        if rho is None:
            rho = _pick_factor_kg_per_kwh(ef, "electricity_grid",
                                          [r for r in (region, country, "GLOBAL") if isinstance(r, str) and r])
        gas = _pick_factor_kg_per_kwh(ef, "natural_gas", [country, "GLOBAL"])
        rows.append((p, country, np.nan if rho is None else rho, np.nan if gas is None else gas))
    return pd.DataFrame(rows, columns=["plant_id", "market", "rho", "eps_gas"]).set_index("plant_id")


def lever_frame(inputs: PlanInputs, params, weeks: pd.DatetimeIndex, plant_ids) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                                        pd.DataFrame]:
    """(levers: one row per plant x lever x week with its per-MWh scope changes, availability: one row per
    lever x market x year with the MWh the horizon may use, non_abating: options left out)."""
    enabled = set(params.levers_enabled)
    fac = plant_factors(inputs, plant_ids)
    wk = pd.DataFrame({"t": np.arange(len(weeks)), "year": weeks.year.to_numpy()})
    frames, avail, dropped = [], [], []
    price_k, avail_k = params.lever_price_pct / 100.0, params.lever_availability_pct / 100.0
    weeks_in_year = wk.groupby("year")["t"].count()
    rs = inputs.renewable_supply
    if rs is not None and len(rs) and enabled & {"eac", "ppa"}:
        rs = rs.assign(lever=rs["instrument"].str.lower())
        rs = rs[rs["lever"].isin(enabled) & rs["year"].isin(weeks_in_year.index)]
        pl = fac.reset_index().dropna(subset=["rho"])
        m = pl.merge(rs, on="market").merge(wk, on="year")
        m["d_scope2_market"] = -(m["rho"] - m["factor_kg_per_kwh"])
        m = m[m["d_scope2_market"] < 0]
        m = m.assign(d_scope1=0.0, elec_ratio=0.0, kind="renewable", price_eur_per_mwh=m["price_eur_per_mwh"] * price_k)
        frames.append(m[LEVER_COLUMNS])
        a = rs.assign(avail_mwh=rs["available_mwh"] * avail_k * rs["year"].map(weeks_in_year) / 52.0)
        avail.append(a[["lever", "market", "year", "avail_mwh"]])
    ho = inputs.heat_options
    if ho is not None and len(ho) and enabled & {"electric_boiler", "heat_pump", "biomethane"}:
        ho = ho.assign(lever=ho["option"])
        ho = ho[ho["lever"].isin(enabled) & ho["year"].isin(weeks_in_year.index)]
        pl = fac.reset_index().dropna(subset=["rho", "eps_gas"])
        m = pl.merge(ho, on="market").merge(wk, on="year")
        m["d_scope1"] = -(m["eps_gas"] - m["residual_tco2e_per_mwh"])
        m["d_scope2_market"] = m["efficiency_ratio"] * m["rho"]
        net = m["d_scope1"] + m["d_scope2_market"]
        bad = m[net >= 0].drop_duplicates(["lever", "plant_id"])
        dropped += [(r.lever, r.plant_id, r.market, float(-(r.d_scope1 + r.d_scope2_market))) for r in bad.itertuples()]
        m = m[net < 0]
        m = m.assign(kind="heat", elec_ratio=m["efficiency_ratio"],
                     price_eur_per_mwh=m["cost_eur_per_mwh_gas_replaced"] * price_k)
        frames.append(m[LEVER_COLUMNS + ["max_share_of_gas"]])
        a = ho.assign(avail_mwh=ho["available_mwh"] * avail_k * ho["year"].map(weeks_in_year) / 52.0)
        avail.append(a[["lever", "market", "year", "avail_mwh"]])
    levers = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LEVER_COLUMNS)
    if "max_share_of_gas" not in levers:
        levers["max_share_of_gas"] = np.nan
    levers = levers.sort_values(["kind", "plant_id", "lever", "t"], ignore_index=True)
    availability = pd.concat(avail, ignore_index=True) if avail else pd.DataFrame(
        columns=["lever", "market", "year", "avail_mwh"])
    non_abating = pd.DataFrame(dropped, columns=["lever", "plant_id", "market", "abatement_t_per_mwh"])
    return levers, availability, non_abating
