"""Where figures get their numbers: the results records, the study tables.

Curves, bars and forest rows are drawn from ``results.records`` (the content of
results.json), so a figure can never disagree with the tables printed beside
it. Patient-level figures (swimmer, oncoprint) need dates and genes, which
only the study tables and the derived patients frame have.
"""
from __future__ import annotations
from rwestudy.core.defaults import DAYS_PER_MONTH

import pandas as pd


def records(results) -> dict:
    """The records dict of a `Results`, or a results.json dict as loaded."""
    return results.records if hasattr(results, "records") else dict(results)


def table(results, section: str) -> pd.DataFrame:
    """One results section as a frame (a copy: callers may add columns)."""
    cache = getattr(results, "__dict__", None)
    if cache is None or not hasattr(results, "records"):  # a plain dict from results.json
        return pd.DataFrame(records(results).get(section) or [])
    # Built once per Results: each figure reads the same sections (54 builds for the demo's set).
    # Keyed by the list itself and its length, so records replaced or extended are read again.
    rows = records(results).get(section) or []
    frames = cache.setdefault("_figure_frames", {})
    hit = frames.get(section)
    if hit is None or hit[0] is not rows or hit[1] != len(rows):
        hit = frames[section] = (rows, len(rows), pd.DataFrame(rows))
    return hit[2].copy()


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
    return float(plan[0].get("days_per_month") or DAYS_PER_MONTH)
