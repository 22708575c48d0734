"""Who is a study patient: one row per patient_id, every dropped row recorded.

Rows of `patients` without a patient_id, and every repeat of a patient_id
after its first row, are excluded from the whole study (first row kept: the
order of the source is the only tie-breaker that needs no judgement). Rows of
child tables whose patient_id is missing or not a study patient are ignored,
each with an exclusion record.

>>> import pandas as pd
>>> p = pd.DataFrame({"patient_id": ["A", "A", None], "center": ["C1"] * 3})
>>> roster, excl = patient_roster(p)
>>> list(roster["patient_id"]), list(excl["reason"])
(['A'], ['duplicate patient_id (first row kept, this later row excluded)', 'patient_id missing'])
"""
from __future__ import annotations

import pandas as pd

EXCLUSION_COLUMNS = ["endpoint", "patient_id", "table", "source_row", "reason"]


def exclusion_records(ids: pd.Series, endpoint: str, table: str, reason: pd.Series | str) -> pd.DataFrame:
    """Exclusion rows for the entries of ``ids`` (its index is the source row)."""
    reasons = reason if isinstance(reason, pd.Series) else pd.Series(reason, index=ids.index)
    return pd.DataFrame({
        "endpoint": endpoint,
        "patient_id": ids.astype("string").to_numpy(),
        "table": table,
        "source_row": ids.index.to_numpy(),
        "reason": reasons.astype("string").to_numpy(),
    }, columns=EXCLUSION_COLUMNS)


def empty_exclusions() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string" if c != "source_row" else "int64")
                         for c in EXCLUSION_COLUMNS})


def patient_roster(patients: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per patient, study-level exclusions)."""
    if "patient_id" not in patients.columns:
        raise ValueError("the 'patients' table has no patient_id column")
    ids = patients["patient_id"].astype("string")
    missing = ids.isna()
    duplicate = ~missing & ids.duplicated(keep="first")
    reason = pd.Series(pd.NA, index=patients.index, dtype="string")
    reason = reason.mask(duplicate, "duplicate patient_id (first row kept, this later row excluded)")
    reason = reason.mask(missing, "patient_id missing")
    dropped = reason.notna()
    excl = exclusion_records(ids[dropped], "study", "patients", reason[dropped])
    return patients.loc[~dropped].copy(), excl


def rows_of_known_patients(frame: pd.DataFrame, table: str, known: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the rows of a child table that belong to a study patient."""
    if "patient_id" not in frame.columns:
        ids = pd.Series(pd.NA, index=frame.index, dtype="string")
    else:
        ids = frame["patient_id"].astype("string")
    missing = ids.isna()
    # object arrays hash faster than the "string" extension array for large tables
    unknown = ~missing & ~pd.Series(ids.to_numpy(object), index=ids.index).isin(known.dropna().to_numpy(object))
    reason = pd.Series(pd.NA, index=frame.index, dtype="string")
    reason = reason.mask(unknown, "patient_id not in the patients table")
    reason = reason.mask(missing, "patient_id missing")
    dropped = reason.notna()
    return frame.loc[~dropped], exclusion_records(ids[dropped], table, table, reason[dropped])
