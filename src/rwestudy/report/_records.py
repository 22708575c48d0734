"""Access to results.json records for the table and text builders."""
from __future__ import annotations

import pandas as pd


def frame(records: dict, section: str) -> pd.DataFrame:
    """One section as a DataFrame (empty when the analysis did not produce it)."""
    return pd.DataFrame(records.get(section) or [])


def first(records: dict, section: str) -> dict:
    """The single record of a one-row section (study, conventions, plan)."""
    return (records.get(section) or [{}])[0]
