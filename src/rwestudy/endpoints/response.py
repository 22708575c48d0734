"""Best response, first response date and first CR date, from `responses` when it exists.

Best response = the best of CR > PR > SD > PD over assessments dated on/after
the treatment start (and before the next line's start and the data cut-off,
when known); NE only when no other response was recorded. A patient with no
usable assessment keeps the response reported in `patients`
(``best_response_source`` says which). First response / CR dates are the
patient columns when filled, else the first CR/PR (CR) assessment in that
window.

ORR flags follow the spec's denominator: NE and NA count as "not a
responder" (False), so ``orr_best.mean()`` is the ORR over all treated.

>>> import pandas as pd
>>> roster = pd.DataFrame({"patient_id": ["A"], "treatment_start_date": pd.to_datetime(["2022-01-01"]),
...                        "best_response": [pd.NA]})
>>> resp = pd.DataFrame({"patient_id": ["A"] * 3, "response": ["PR", "CR", "PD"],
...                      "date": pd.to_datetime(["2022-03-01", "2022-05-01", "2022-09-01"])})
>>> response_features(roster, resp)["best_response"].iloc[0]
'CR'
"""
from __future__ import annotations

import pandas as pd

from rwestudy.endpoints.common import RANK_RESPONSE, RESPONSE_RANK, column_or_na as _col

FEATURES = ["best_response", "best_response_source", "best_response_reported", "first_response_date",
            "cr_date", "final_response", "orr_best", "cr_best", "orr_final", "cr_final"]


def response_features(roster: pd.DataFrame, responses: pd.DataFrame | None,
                      cutoff: pd.Timestamp | None = None, next_line: pd.Series | None = None) -> pd.DataFrame:
    """Per-patient response columns aligned to ``roster``'s rows."""
    ids = roster["patient_id"]
    reported = _col(roster, "best_response").astype("string")
    first_given = pd.to_datetime(_col(roster, "first_response_date"))
    cr_given = pd.to_datetime(_col(roster, "cr_date"))
    out = pd.DataFrame(index=roster.index)
    best, first, cr = reported, first_given, cr_given
    source = pd.Series("patients", index=roster.index, dtype="string").where(reported.notna(), pd.NA)
    if responses is not None:
        usable = _in_window(roster, responses, cutoff, next_line)
        rank = usable["response"].map(RESPONSE_RANK)
        by_patient = usable.assign(rank=rank).groupby("patient_id")
        from_table = ids.map(by_patient["rank"].min().map(RANK_RESPONSE)).astype("string")
        best = from_table.fillna(reported)
        source = pd.Series("responses", index=roster.index, dtype="string").where(from_table.notna(), source)
        first = first_given.fillna(ids.map(_first_date(usable, ["CR", "PR"])).astype("datetime64[ns]"))
        cr = cr_given.fillna(ids.map(_first_date(usable, ["CR"])).astype("datetime64[ns]"))
    final = _col(roster, "final_response").astype("string")
    out["best_response"] = best
    out["best_response_source"] = source
    out["best_response_reported"] = reported
    out["first_response_date"] = first
    out["cr_date"] = cr
    out["final_response"] = final
    out["orr_best"] = best.isin(["CR", "PR"]).fillna(False).astype("boolean")
    out["cr_best"] = best.eq("CR").fillna(False).astype("boolean")
    out["orr_final"] = final.isin(["CR", "PR"]).fillna(False).astype("boolean")
    out["cr_final"] = final.eq("CR").fillna(False).astype("boolean")
    return out


def _in_window(roster, responses, cutoff, next_line) -> pd.DataFrame:
    """Assessments with a known code and date, on/after start, before next line/cut-off."""
    frame = responses.loc[:, [c for c in ("patient_id", "date", "response") if c in responses.columns]]
    if not {"date", "response"} <= set(frame.columns):
        return frame.iloc[0:0].assign(date=pd.NaT, response=pd.Series(dtype="string"))
    frame = frame.assign(response=frame["response"].astype("string").str.upper(),
                         date=pd.to_datetime(frame["date"]))
    by_id = roster.set_index("patient_id")
    start = frame["patient_id"].map(by_id["treatment_start_date"])
    keep = frame["response"].isin(list(RESPONSE_RANK)) & (frame["date"] >= start)
    if next_line is not None:
        nxt = frame["patient_id"].map(pd.Series(next_line.to_numpy(), index=roster["patient_id"]))
        keep &= nxt.isna() | (frame["date"] < nxt)
    if cutoff is not None:
        keep &= frame["date"] <= cutoff
    return frame.loc[keep.fillna(False).to_numpy()]


def _first_date(usable: pd.DataFrame, codes: list[str]) -> pd.Series:
    hits = usable.loc[usable["response"].isin(codes)]
    return hits.groupby("patient_id")["date"].min()

