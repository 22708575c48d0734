"""Where figures get their numbers: the results records, the study tables.

Curves, bars and forest rows are drawn from ``results.records`` (the content of
results.json), so a figure can never disagree with the tables printed beside
it. Patient-level figures (swimmer, oncoprint) need dates and genes, which
only the study tables and the derived patients frame have.
"""
from __future__ import annotations

import pandas as pd


def records(results) -> dict:
    """The records dict of a `Results`, or a results.json dict as loaded."""
    return results.records if hasattr(results, "records") else dict(results)


def table(results, section: str) -> pd.DataFrame:
    return pd.DataFrame(records(results).get(section) or [])


def study_tables(study) -> dict[str, pd.DataFrame]:
    """Canonical tables of a `Study` or of a plain dict of tables."""
    if study is None:
        return {}
    return dict(study.tables) if hasattr(study, "tables") else dict(study)


def patients(results, study) -> pd.DataFrame:
    """Derived patient frame when the analysis kept it (typed, one row per analysed patient)."""
    ep = getattr(results, "endpoints", None)
    if ep is not None and getattr(ep, "patients", None) is not None:
        return ep.patients
    return study_tables(study).get("patients", pd.DataFrame())


def days_per_month(results) -> float:
    ep = getattr(results, "endpoints", None)
    settings = getattr(ep, "settings", None) or {}
    if "days_per_month" in settings:
        return float(settings["days_per_month"])
    plan = records(results).get("plan") or [{}]
    return float(plan[0].get("days_per_month") or 30.4375)
