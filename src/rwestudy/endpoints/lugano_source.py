"""The Lugano 2014 response as the analysis' response: ``[response] source = "lugano"``.

By default the analysis uses the recorded responses (the investigator's, as the
seeds' papers do) and the Lugano classification of the ``assessments`` table
only checks them (findings, and the agreement table of the report). With
``source = "lugano"`` the patients who have evaluable time points take the
derived values instead:

* best response, final response (``endpoints.lugano.patient_responses``);
* first response date = the first CR/PR (CMR/PMR) time point, CR date = the
  first CR/CMR time point;
* progression date = the first PD/PMD time point (none if imaging never showed
  progression, whatever was recorded: that is what "from the time points"
  means; a clinical progression without a scan is then not a PFS event, and the
  note says how many patients changed).

Patients without assessments keep their recorded values.

>>> import pandas as pd
>>> work = pd.DataFrame({"patient_id": ["A", "B"], "best_response": ["PR", "SD"],
...                      "final_response": ["PR", "SD"], "progression_date": pd.to_datetime([None, None]),
...                      "treatment_start_date": pd.to_datetime(["2022-01-01", "2022-01-01"]),
...                      "first_response_date": pd.to_datetime([None, None]), "cr_date": pd.to_datetime([None, None])})
>>> a = pd.DataFrame({"patient_id": ["A", "A"], "modality": ["PET-CT"] * 2,
...                   "date": pd.to_datetime(["2021-12-20", "2022-04-01"]), "timepoint": ["baseline", "end-of-treatment"],
...                   "deauville": ["5", "2"], "uptake_vs_baseline": [None, None]})
>>> out, changed = lugano_responses(work, a)
>>> out.loc[0, "best_response"], out.loc[0, "cr_date"].date().isoformat(), out.loc[1, "best_response"], changed
('CR', '2022-04-01', 'SD', 1)
"""
from __future__ import annotations

import pandas as pd

from rwestudy.endpoints.lugano import patient_responses, timepoint_responses

SOURCES = ("recorded", "lugano")


def lugano_responses(work: pd.DataFrame, assessments: pd.DataFrame | None) -> tuple[pd.DataFrame, int]:
    """``work`` with the response columns of patients with evaluable time points replaced; and
    how many patients had a best response, final response or progression date changed."""
    if assessments is None or len(assessments) == 0 or not {"patient_id", "date", "modality"} <= set(assessments):
        return work, 0
    tp = timepoint_responses(assessments, work)
    derived = patient_responses(tp, work).set_index("patient_id")
    derived = derived.loc[derived["best_response"].ne("NE")]
    if derived.empty:
        return work, 0
    ev = tp.loc[tp["evaluated"] & tp["response"].notna()]
    first = {k: ev.loc[ev["response"].isin(codes)].groupby("patient_id")["date"].min()
             for k, codes in (("first_response_date", ["CR", "PR"]), ("cr_date", ["CR"]))}
    out = work.copy()
    hit = out["patient_id"].isin(derived.index)
    ids = out.loc[hit, "patient_id"]
    before = out.loc[hit, ["best_response", "final_response", "progression_date"]].copy() \
        if {"best_response", "final_response", "progression_date"} <= set(out.columns) else None
    for col in ("best_response", "final_response"):
        out[col] = out[col].astype("string") if col in out else pd.Series(pd.NA, index=out.index, dtype="string")
        out.loc[hit, col] = ids.map(derived[col]).astype("string")
    for col, values in (("progression_date", derived["progression_date"]), *first.items()):
        if col not in out:
            out[col] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
        out.loc[hit, col] = pd.to_datetime(ids.map(values))
    if "best_response_source" in out:
        out["best_response_source"] = out["best_response_source"].astype("string")
        out.loc[hit, "best_response_source"] = "lugano"
    for flag, col, codes in (("orr_best", "best_response", ["CR", "PR"]), ("cr_best", "best_response", ["CR"]),
                             ("orr_final", "final_response", ["CR", "PR"]), ("cr_final", "final_response", ["CR"])):
        if flag in out:
            out[flag] = out[col].isin(codes).fillna(False).astype("boolean")
    if before is None:
        return out, int(hit.sum())
    after = out.loc[hit, before.columns]
    same = pd.DataFrame({c: (before[c].astype("string").fillna("<NA>") == after[c].astype("string").fillna("<NA>"))
                         for c in before.columns})
    return out, int((~same.all(axis=1)).sum())
