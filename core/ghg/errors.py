"""Errors of the GHG reference layer and the accounting engine (one hierarchy, all ``ValueError``)."""

from __future__ import annotations


class GHGError(ValueError):
    """Bad input to GHG accounting; the message names the table, row and reason."""


class MissingFactorError(GHGError, LookupError):
    """No emission factor (or a gas row a formula needs) matches an activity, region and year."""


class UnitConversionError(GHGError):
    """A quantity's unit cannot be converted to the unit of its factor."""


class FactorConflictError(GHGError):
    """Two factor rows would both count for the same activity, region, year and gas (e.g. CO2 beside CO2e)."""
