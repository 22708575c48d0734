"""Small vectorised helpers shared by the endpoint modules.

>>> import pandas as pd
>>> days_between(pd.Series(pd.to_datetime(["2022-01-01"])), pd.Series(pd.to_datetime(["2022-07-02"]))).tolist()
[182.0]
"""
from __future__ import annotations

import pandas as pd

RESPONSE_RANK = {"CR": 0, "PR": 1, "SD": 2, "PD": 3, "NE": 4}
RANK_RESPONSE = {v: k for k, v in RESPONSE_RANK.items()}


def days_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """end - start in days (float; NaN when either date is NaT)."""
    return (pd.to_datetime(end) - pd.to_datetime(start)) / pd.Timedelta(days=1)


def any_by_patient(flags: pd.Series, ids: pd.Series) -> pd.Series:
    """Three-valued "any" per patient: True if any True, False if all known and False, else NA."""
    flags = flags.astype("boolean")
    frame = pd.DataFrame({"id": ids.to_numpy(), "true": flags.eq(True).fillna(False).to_numpy(),
                          "known": flags.notna().to_numpy()})
    grouped = frame.groupby("id", sort=False)
    has_true, all_known = grouped["true"].any(), grouped["known"].all()
    out = pd.Series(pd.NA, index=has_true.index, dtype="boolean")
    return out.mask(all_known, False).mask(has_true, True)


def column_or_na(frame: pd.DataFrame, name: str) -> pd.Series:
    """The column, or an all-NA one when the table lacks it (optional columns)."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="object")
