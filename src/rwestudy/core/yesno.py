"""Yes/no answers: the spellings accepted everywhere (the readers, the endpoints, the AE tables).

>>> import pandas as pd
>>> yes_no(pd.Series(["Yes", " n ", "TRUE", "0", None, "maybe"])).tolist()
[True, False, True, False, <NA>, <NA>]
"""
from __future__ import annotations

import pandas as pd

__all__ = ["YES", "NO", "yes_no", "unknown_yes_no"]

YES = frozenset({"yes", "y", "1", "1.0", "true", "t"})
NO = frozenset({"no", "n", "0", "0.0", "false", "f"})


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.lower()


def yes_no(values: pd.Series) -> pd.Series:
    """A nullable boolean Series: True / False for the spellings above, NA for blank or anything else.

    Anything else is the validator's finding (`unknown_yes_no`), not a guess here.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    text = _text(values)
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    return out.mask(text.isin(YES).fillna(False), True).mask(text.isin(NO).fillna(False), False)


def unknown_yes_no(values: pd.Series) -> pd.Series:
    """True where a value is given but is none of the yes/no spellings."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return pd.Series(False, index=values.index)
    text = _text(values)
    return (text.notna() & ~text.isin(YES | NO)).fillna(False).astype(bool)
