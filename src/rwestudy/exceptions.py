"""rwestudy's own errors and warnings, so a caller can catch or silence exactly what it means.

Errors are problems the user can fix (a plan value, a mapping, a registry file, a run's
options); each says in one sentence what is wrong. They subclass `ValueError`, as they did
before this module existed. Warnings subclass `RwestudyWarning` (a `UserWarning`), so
``warnings.simplefilter("ignore", ExcludedRowsWarning)`` silences the one thing it names and
never a library's warning.
"""
from __future__ import annotations

__all__ = ["RwestudyError", "RwestudyWarning", "ExcludedRowsWarning", "DigitisedCurveWarning"]


class RwestudyError(ValueError):
    """Base of the errors a user can fix: `PlanError`, `MappingError`, `RegistryError`,
    `ExportError`, `PipelineError`."""


class RwestudyWarning(UserWarning):
    """Base of rwestudy's warnings."""


class ExcludedRowsWarning(RwestudyWarning):
    """Rows left out of a model (Cox, Fine-Gray, MAIC) for a missing value; the fit counts them."""


class DigitisedCurveWarning(RwestudyWarning):
    """A digitised published curve needed repair (points out of order, numbers at risk past its end)."""
