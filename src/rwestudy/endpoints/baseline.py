"""Baseline factors derived from the patient row: ages and the usual cut points.

Ages are in years = days / 365.25, computed from birth_date only when the
age is not given. ``age_ge70_*``, ``stage_3_4`` (Ann Arbor 3-4) and
``ecog_2_3`` (ECOG >= 2, i.e. 2 or more; the name follows the usual 0-1 vs
2-3 split of these cohorts) are nullable booleans: NA stays NA.

>>> import pandas as pd
>>> p = pd.DataFrame({"birth_date": pd.to_datetime(["1952-01-01"]), "diagnosis_date": pd.NaT,
...                   "treatment_start_date": pd.to_datetime(["2022-01-01"])})
>>> round(float(baseline_features(p)["age_at_start"].iloc[0]), 3)  # 25568 days / 365.25
70.001
"""
from __future__ import annotations

import pandas as pd

from rwestudy.endpoints.common import column_or_na, days_between

DAYS_PER_YEAR = 365.25


def baseline_features(patients: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=patients.index)
    birth = pd.to_datetime(column_or_na(patients, "birth_date"))
    for age, date in (("age_at_diagnosis", "diagnosis_date"), ("age_at_start", "treatment_start_date")):
        given = pd.to_numeric(column_or_na(patients, age), errors="coerce").astype("float64")
        computed = days_between(birth, pd.to_datetime(column_or_na(patients, date))) / DAYS_PER_YEAR
        out[age] = given.fillna(computed)
    out["age_ge70_diagnosis"] = _at_least(out["age_at_diagnosis"], 70)
    out["age_ge70_start"] = _at_least(out["age_at_start"], 70)
    out["stage_3_4"] = _at_least(column_or_na(patients, "ann_arbor_stage"), 3)
    out["ecog_2_3"] = _at_least(column_or_na(patients, "ecog"), 2)
    return out


def _at_least(values: pd.Series, threshold: float) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce").astype("float64")
    return (num >= threshold).astype("boolean").mask(num.isna(), pd.NA)
