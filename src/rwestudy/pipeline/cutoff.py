"""The data cut-off: one date for validation (later dates warned, after today errors) and analysis.

Where it comes from, first found wins: the ``--cutoff`` option, the plan's
``[endpoints] cutoff``, the mapping's ``[study] cutoff_date``. Without any,
validation checks dates against today and the analysis censors nothing; the
cut-off reported is then the latest last contact in the data (as before).
results.json states the date and its source.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rwestudy.pipeline.errors import PipelineError

SOURCES = ("option", "plan", "mapping", "data")  # "data": none set; the latest last contact is reported
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_cutoff(value, where: str) -> dt.date | None:
    """A cut-off value (text YYYY-MM-DD, or a TOML date) as a date; None/"" = not set."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip() if isinstance(value, str) else None
    if text is not None and _ISO.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise PipelineError(f"{where} must be a date written YYYY-MM-DD (e.g. 2025-06-30), got {value!r}")


@dataclass(frozen=True)
class Cutoff:
    date: dt.date | None  # what validation and analysis use; None = not set (dates checked against today)
    source: str  # one of SOURCES

    @property
    def iso(self) -> str | None:
        return None if self.date is None else self.date.isoformat()


def resolve_cutoff(option=None, plan=None) -> Cutoff | None:
    """The cut-off set by the option or the plan (the option wins); None when neither sets one,
    so the mapping's (read with the study) or none applies."""
    chosen = parse_cutoff(option, "--cutoff")
    if chosen is not None:
        return Cutoff(chosen, "option")
    planned = parse_cutoff(getattr(plan, "cutoff", None),
                           f"{getattr(plan, 'source', None) or 'the plan'}: [endpoints] cutoff")
    return Cutoff(planned, "plan") if planned is not None else None


def study_cutoff(study) -> Cutoff:
    """The cut-off a loaded study was validated against, and where it came from."""
    declared = getattr(getattr(study, "config", None), "cutoff_date", None)
    return Cutoff(None, "data") if declared is None else Cutoff(declared.date(), "mapping")
