"""The patient-level variables a plan may name, what kind each is, and how a
continuous one becomes groups.

A plan names variables for factors (Kaplan-Meier, log-rank, Cox), Table 1 and
the response associations. They are the columns of the ``patients`` table
(the input contract, ``rwestudy.io.schema``) plus the columns derived from the
study (``rwestudy.endpoints``). A continuous variable (age, LDH, months since
the last therapy) is not a grouping factor: a log-rank test on it would
compare one group per distinct value. It is used as a factor only with cut
points stated in the plan (``[factors] cuts``), and the rule is written beside
every result.

>>> import pandas as pd
>>> groups, rule = categorise(pd.Series([55.0, 70.0, 81.0, None]), [70], "age_at_start")
>>> list(groups.astype(object)), rule
(['< 70', '>= 70', '>= 70', nan], 'age_at_start grouped at 70: < 70, >= 70')
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rwestudy.io.schema import PATIENTS

# Columns rwestudy.endpoints adds to the patients table, with their kind (schema kinds).
# tests/test_semantics.py checks this list against what derive_endpoints produces.
DERIVED: dict[str, str] = {
    "age_ge70_diagnosis": "yesno", "age_ge70_start": "yesno", "stage_3_4": "yesno", "ecog_2_3": "yesno",
    "n_prior_lines": "int", "primary_refractory": "yesno", "primary_refractory_source": "text",
    "refractory_last_line": "yesno", "months_from_last_therapy": "float", "best_response_source": "text",
    "best_response_reported": "code", "orr_best": "yesno", "cr_best": "yesno", "orr_final": "yesno",
    "cr_final": "yesno", "dose_reduced": "yesno", "reduction_date": "date",
    "discontinued_permanent": "yesno", "cycles": "count", "toxicity": "yesno", "first_grade3_ae_date": "date",
}
# A whole number with more possible values than this is a measurement, not a grouping.
MAX_INT_LEVELS = 10


def variable_kinds() -> dict[str, str]:
    """Every variable a plan may name -> its kind (id, text, code, yesno, date, int, float, count)."""
    kinds = {c.name: c.kind for c in PATIENTS.columns}
    for c in PATIENTS.columns:
        if c.kind == "int" and c.lo is not None and c.hi is not None and c.hi - c.lo + 1 > MAX_INT_LEVELS:
            kinds[c.name] = "count"
    return kinds | DERIVED


def is_continuous(name: str, values: pd.Series | None = None) -> bool:
    """True for a measured number (schema kind float, or a wide-range count).

    A column the schema does not know (a plan built in code) is judged on its
    values: numbers with more than MAX_INT_LEVELS distinct values."""
    kind = variable_kinds().get(name)
    if kind is not None:
        return kind in ("float", "count")
    if values is None or pd.api.types.is_bool_dtype(values.dtype) or str(values.dtype) == "boolean":
        return False
    return pd.api.types.is_numeric_dtype(values.dtype) and values.nunique() > MAX_INT_LEVELS


def _g(x: float) -> str:
    return f"{x:g}"


def categorise(values: pd.Series, cuts, name: str) -> tuple[pd.Series, str]:
    """Groups of a number by left-closed intervals at ``cuts`` (a list, or "median").

    ``[60, 70]`` gives "< 60", "60 to < 70", ">= 70"; "median" cuts at the median
    of the non-missing values (">= median" holds the median itself). Missing stays
    missing. Returns the ordered categorical (lowest group first: the Cox
    reference) and the rule as a sentence."""
    x = pd.to_numeric(values, errors="coerce").astype("float64")
    if isinstance(cuts, str):  # "median", checked by the plan
        known = x.dropna()
        if known.empty:
            return pd.Series(pd.Categorical([None] * len(x)), index=x.index), f"{name}: no value to split"
        points = [float(np.median(known))]
        how = f"{name} split at its median ({_g(points[0])}, over {len(known)} patients with a value)"
    else:
        points = [float(c) for c in cuts]
        how = f"{name} grouped at {', '.join(_g(c) for c in points)}"
    labels = [f"< {_g(points[0])}"]
    labels += [f"{_g(a)} to < {_g(b)}" for a, b in zip(points, points[1:])]
    labels.append(f">= {_g(points[-1])}")
    codes = np.searchsorted(np.asarray(points), x.to_numpy(), side="right")
    cat = pd.Categorical.from_codes(np.where(x.isna(), -1, codes), categories=labels, ordered=True)
    return pd.Series(cat, index=values.index, name=values.name), f"{how}: {', '.join(labels)}"


__all__ = ["DERIVED", "categorise", "is_continuous", "variable_kinds"]
