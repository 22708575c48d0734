"""Study-drug exposure flags and the toxicity factor.

From `treatment` (one row per patient and drug): ``dose_reduced`` (any drug,
or any reduction date), ``reduction_date`` (earliest), ``discontinued_permanent``
(any drug stopped for good), ``cycles`` (max over drugs). Three-valued: NA
when nothing is recorded.

Toxicity (the TALOs-style factor): any grade >= 3 adverse event with onset
in the AE window = treatment_start_date .. treatment_end_date +
``ae_window_days`` (both ends included). When treatment_end_date is missing
(treatment ongoing) the window has no upper end. False needs the AE table
and no grade >= 3 event in the window (a patient without AE rows is False);
NA when an event that could count cannot be placed: grade >= 3 with no onset
date or no treatment start, or an event in the window with no grade.

>>> import pandas as pd
>>> roster = pd.DataFrame({"patient_id": ["A"], "treatment_start_date": pd.to_datetime(["2022-01-01"]),
...                        "treatment_end_date": pd.to_datetime(["2022-03-01"])})
>>> ae = pd.DataFrame({"patient_id": ["A"], "grade": [3], "onset_date": pd.to_datetime(["2022-03-31"])})
>>> bool(toxicity_features(roster, ae)["toxicity"].iloc[0])  # 30 days after the end: inside
True
"""
from __future__ import annotations

import pandas as pd

from rwestudy.endpoints.common import any_by_patient, column_or_na
from rwestudy.core.defaults import AE_WINDOW_DAYS


def treatment_features(roster: pd.DataFrame, treatment: pd.DataFrame | None) -> pd.DataFrame:
    """dose_reduced, reduction_date, discontinued_permanent, cycles per patient."""
    ids = roster["patient_id"]
    out = pd.DataFrame(index=roster.index)
    if treatment is None:
        out["dose_reduced"] = pd.Series(pd.NA, index=roster.index, dtype="boolean")
        out["reduction_date"] = pd.Series(pd.NaT, index=roster.index, dtype="datetime64[ns]")
        out["discontinued_permanent"] = pd.Series(pd.NA, index=roster.index, dtype="boolean")
        out["cycles"] = pd.Series(pd.NA, index=roster.index, dtype="Int64")
        return out
    tid = treatment["patient_id"]
    red_date = pd.to_datetime(column_or_na(treatment, "reduction_date"))
    # A reduction date is proof of a reduction even when the yes/no cell is empty.
    reduced = column_or_na(treatment, "dose_reduced").astype("boolean").mask(red_date.notna(), True)
    disc = column_or_na(treatment, "discontinued").astype("string").str.lower()
    permanent = disc.eq("permanent").astype("boolean")
    out["dose_reduced"] = ids.map(any_by_patient(reduced, tid)).astype("boolean")
    out["reduction_date"] = ids.map(red_date.groupby(tid.to_numpy()).min()).astype("datetime64[ns]")
    out["discontinued_permanent"] = ids.map(any_by_patient(permanent, tid)).astype("boolean")
    cycles = pd.to_numeric(column_or_na(treatment, "cycles"), errors="coerce")
    out["cycles"] = ids.map(cycles.groupby(tid.to_numpy()).max()).round().astype("Int64")
    return out


def toxicity_features(roster: pd.DataFrame, adverse_events: pd.DataFrame | None,
                      ae_window_days: int = AE_WINDOW_DAYS) -> pd.DataFrame:
    """toxicity (grade >= 3 AE in the window) and first_grade3_ae_date per patient."""
    ids = roster["patient_id"]
    out = pd.DataFrame(index=roster.index)
    if adverse_events is None:
        out["toxicity"] = pd.Series(pd.NA, index=roster.index, dtype="boolean")
        out["first_grade3_ae_date"] = pd.Series(pd.NaT, index=roster.index, dtype="datetime64[ns]")
        return out
    by_id = roster.set_index("patient_id")
    aid = adverse_events["patient_id"]
    onset = pd.to_datetime(column_or_na(adverse_events, "onset_date"))
    grade = pd.to_numeric(column_or_na(adverse_events, "grade"), errors="coerce")
    start = pd.to_datetime(aid.map(by_id["treatment_start_date"]))
    end = pd.to_datetime(aid.map(column_or_na(by_id, "treatment_end_date")))
    upper = end + pd.Timedelta(days=int(ae_window_days))
    in_window = (onset >= start) & (upper.isna() | (onset <= upper))
    window_known = onset.notna() & start.notna()
    in_window = in_window.astype("boolean").mask(~window_known, pd.NA)
    severe = (grade >= 3).astype("boolean").mask(grade.isna(), pd.NA)
    counted = in_window & severe  # Kleene: NA only when it could still be True
    flag = ids.map(any_by_patient(counted, aid)).astype("boolean")
    # A patient with no AE row at all had no grade >= 3 event: a known "no".
    out["toxicity"] = flag.mask(~ids.isin(set(aid.dropna())), False)
    first = onset.where(counted.fillna(False).to_numpy()).groupby(aid.to_numpy()).min()
    out["first_grade3_ae_date"] = ids.map(first).astype("datetime64[ns]")
    return out
