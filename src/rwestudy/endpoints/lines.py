"""Prior lines of therapy: counts, ASCT/CAR-T, refractoriness, time since last line.

Refractory to a line (spec): no CR/PR to the line, or progression/relapse
within 6 months of the end of the line. Choices where the spec is silent:

* best response NE or SD or PD to the line counts as "no CR/PR";
* "within 6 months" means relapse_date - end_date <= 6 x days_per_month days
  (a relapse before the end of the line is within 6 months);
* the rule uses three-valued logic: a CR/PR line with no relapse_date, or no
  end_date, is NA (unknown), not "not refractory";
* the last line is the highest-numbered line that did not start on/after the
  study treatment start (lines with no start date are kept);
* n_prior_lines is the highest line number among those lines (line numbers are
  the clinician's count; a missing middle row does not lower it); NA when the
  patient has no row in prior_lines.

>>> import pandas as pd
>>> roster = pd.DataFrame({"patient_id": ["A"], "treatment_start_date": pd.to_datetime(["2022-01-01"])})
>>> lines = pd.DataFrame({"patient_id": ["A"], "line": [1], "best_response": ["PD"],
...                       "end_date": pd.to_datetime(["2021-06-01"]), "relapse_date": pd.NaT})
>>> bool(prior_line_features(roster, lines)["primary_refractory"].iloc[0])
True
"""
from __future__ import annotations

import pandas as pd

from rwestudy.endpoints.common import any_by_patient, column_or_na as _col, days_between
from rwestudy.core.defaults import DAYS_PER_MONTH

REFRACTORY_MONTHS = 6.0
FEATURES = ["n_prior_lines", "prior_asct", "prior_car_t", "primary_refractory", "primary_refractory_source",
            "refractory_last_line", "months_from_last_therapy"]


def line_refractory(lines: pd.DataFrame, days_per_month: float) -> pd.Series:
    """Refractory flag per prior-line row (boolean with NA = unknown)."""
    response = _col(lines, "best_response").astype("string")
    no_response = (~response.isin(["CR", "PR"])).astype("boolean").mask(response.isna(), pd.NA)
    gap_months = days_between(_col(lines, "end_date"), _col(lines, "relapse_date")) / days_per_month
    early = (gap_months <= REFRACTORY_MONTHS).astype("boolean").mask(gap_months.isna(), pd.NA)
    return no_response | early  # Kleene: True wins over NA


def prior_line_features(roster: pd.DataFrame, prior_lines: pd.DataFrame | None,
                        days_per_month: float = DAYS_PER_MONTH) -> pd.DataFrame:
    """Per-patient prior-line features aligned to ``roster``'s rows."""
    ids = roster["patient_id"]
    out = pd.DataFrame(index=roster.index)
    given_asct, given_cart = (_col(roster, c).astype("boolean") for c in ("prior_asct", "prior_car_t"))
    fallback = _first_line_outcome(roster)
    if prior_lines is None:
        out["n_prior_lines"] = pd.Series(pd.NA, index=roster.index, dtype="Int64")
        out["prior_asct"], out["prior_car_t"] = given_asct, given_cart
        out["primary_refractory"] = fallback
        out["primary_refractory_source"] = _source(fallback, "first_line_outcome")
        out["refractory_last_line"] = pd.Series(pd.NA, index=roster.index, dtype="boolean")
        out["months_from_last_therapy"] = pd.Series(float("nan"), index=roster.index)
        return out
    lines = _prior_to_study(prior_lines, roster)
    lines = lines.assign(refractory=line_refractory(lines, days_per_month))
    numbered = lines.loc[lines["line"].notna()].sort_values(["patient_id", "line"], kind="stable")
    first = numbered.loc[numbered["line"] == 1].drop_duplicates("patient_id").set_index("patient_id")
    last = numbered.drop_duplicates("patient_id", keep="last").set_index("patient_id")

    out["n_prior_lines"] = ids.map(numbered.groupby("patient_id")["line"].max()).astype("Int64")
    out["prior_asct"] = given_asct.fillna(ids.map(any_by_patient(_col(lines, "asct"), lines["patient_id"])))
    out["prior_car_t"] = given_cart.fillna(ids.map(any_by_patient(_col(lines, "car_t"), lines["patient_id"])))
    from_lines = ids.map(first["refractory"]).astype("boolean")
    out["primary_refractory"] = from_lines.fillna(fallback)
    out["primary_refractory_source"] = _source(from_lines, "prior_lines").fillna(
        _source(fallback, "first_line_outcome"))
    out["refractory_last_line"] = ids.map(last["refractory"]).astype("boolean")
    last_end = ids.map(last["end_date"]).astype("datetime64[ns]")
    out["months_from_last_therapy"] = days_between(last_end, roster["treatment_start_date"]) / days_per_month
    return out


def _prior_to_study(prior_lines: pd.DataFrame, roster: pd.DataFrame) -> pd.DataFrame:
    """Rows of lines that did not start on/after the study treatment start."""
    lines = prior_lines.copy()
    lines["line"] = _col(lines, "line").astype("Int64")
    start = lines["patient_id"].map(roster.set_index("patient_id")["treatment_start_date"])
    line_start = pd.to_datetime(_col(lines, "start_date"))
    before = (line_start < start) | line_start.isna() | start.isna()
    return lines.loc[before.to_numpy()]


def _first_line_outcome(roster: pd.DataFrame) -> pd.Series:
    outcome = _col(roster, "first_line_outcome").astype("string").str.lower()
    return outcome.map({"refractory": True, "relapsed": False}).astype("boolean")


def _source(flag: pd.Series, name: str) -> pd.Series:
    return pd.Series(name, index=flag.index, dtype="string").where(flag.notna(), pd.NA)

