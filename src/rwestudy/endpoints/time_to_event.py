"""Time-to-event endpoints as one long tidy table, with an exclusion per dropped patient.

Definitions (spec defaults; time = days / days_per_month, time 0 allowed):

======  ====================  ===============================  ==================
name    population            start -> event (first of)        censored at
======  ====================  ===============================  ==================
OS      all patients          treatment start -> death         last contact
PFS     all patients          treatment start -> progression,  last contact
                                                death
DoR     best response CR/PR   first response -> progression,   last contact
                                                death
DFS     best response CR      CR date -> relapse (progression  last contact
                                                date), death
TTNT    all patients          treatment start -> next line,    last contact
                                                death
======  ====================  ===============================  ==================

With a data cut-off, an end (event or last contact) after the cut-off is
censored at the cut-off; a patient whose start is after the cut-off is
excluded. Each excluded patient gets exactly one reason, the first that
applies in this order: not in the population, start date missing, start
after the cut-off, no event and no last contact date, negative time.

>>> import pandas as pd
>>> p = pd.DataFrame({"patient_id": ["A"], "treatment_start_date": pd.to_datetime(["2022-01-01"]),
...                   "death_date": pd.to_datetime(["2022-07-02"]), "last_contact_date": pd.NaT})
>>> tte, excl = time_to_event(p, endpoints=("OS",))
>>> round(float(tte["time"].iloc[0]), 4), int(tte["event"].iloc[0]), tte["reason"].iloc[0]
(5.9795, 1, 'death')
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rwestudy.endpoints.common import column_or_na, days_between
from rwestudy.endpoints.roster import empty_exclusions, exclusion_records
from rwestudy.core.defaults import DAYS_PER_MONTH

TTE_COLUMNS = ["patient_id", "endpoint", "time", "event", "start_date", "end_date", "reason"]


@dataclass(frozen=True)
class EndpointRule:
    name: str
    start: str                              # column holding the start date
    events: tuple[tuple[str, str], ...]     # (column, label), ties go to the first listed
    population: tuple[str, ...] = ()        # best_response codes; () = everyone
    population_reason: str = ""


RULES = (
    EndpointRule("OS", "treatment_start_date", (("death_date", "death"),)),
    EndpointRule("PFS", "treatment_start_date", (("progression_date", "progression"), ("death_date", "death"))),
    EndpointRule("DoR", "first_response_date", (("progression_date", "progression"), ("death_date", "death")),
                 ("CR", "PR"), "not a responder"),
    EndpointRule("DFS", "cr_date", (("progression_date", "relapse"), ("death_date", "death")),
                 ("CR",), "no complete response"),
    EndpointRule("TTNT", "treatment_start_date", (("next_treatment_date", "next treatment"),
                                                  ("death_date", "death"))),
)
ENDPOINTS = tuple(r.name for r in RULES)


def time_to_event(patients: pd.DataFrame, *, days_per_month: float = DAYS_PER_MONTH,
                  cutoff: pd.Timestamp | None = None,
                  endpoints: tuple[str, ...] = ENDPOINTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(long time-to-event table, exclusions) for one row per patient in ``patients``."""
    tables, excluded = [], [empty_exclusions()]
    for rule in RULES:
        if rule.name in endpoints:
            table, excl = _one_endpoint(patients, rule, days_per_month, cutoff)
            tables.append(table)
            excluded.append(excl)
    tte = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=TTE_COLUMNS)
    return tte, pd.concat(excluded, ignore_index=True)


def _one_endpoint(patients, rule: EndpointRule, days_per_month, cutoff):
    start = _date(patients, rule.start)
    event_date, event_label = _first_event(patients, rule.events)
    last_contact = _date(patients, "last_contact_date")
    end = event_date.fillna(last_contact)
    event = event_date.notna()
    reason = event_label.where(event, "censored at last contact")
    if cutoff is not None:
        late = (end > cutoff).fillna(False)
        end = end.mask(late, cutoff)
        event = event & ~late
        reason = reason.mask(late, "censored at data cut-off")
    days = days_between(start, end)
    why = _exclusion_reason(patients, rule, start, end, days, event_label, cutoff)
    keep = why.isna()
    table = pd.DataFrame({
        "patient_id": patients["patient_id"].astype("string"), "endpoint": rule.name,
        "time": days / days_per_month, "event": event.astype("int64"),
        "start_date": start, "end_date": end, "reason": reason.astype("string"),
    }).loc[keep, TTE_COLUMNS].reset_index(drop=True)
    excl = exclusion_records(patients.loc[~keep, "patient_id"], rule.name, "patients", why[~keep])
    return table, excl


def _first_event(patients, events) -> tuple[pd.Series, pd.Series]:
    """Earliest event date per row and its label (ties: first listed)."""
    dates = np.column_stack([_date(patients, col).to_numpy("datetime64[ns]") for col, _ in events])
    missing = np.isnat(dates)
    as_int = np.where(missing, np.iinfo(np.int64).max, dates.astype("int64"))
    first = as_int.argmin(axis=1)
    any_event = ~missing.all(axis=1)
    rows = np.arange(len(patients))
    date = pd.Series(np.where(any_event, dates[rows, first], np.datetime64("NaT")),
                     index=patients.index, dtype="datetime64[ns]")
    labels = np.array([label for _, label in events], dtype=object)[first]
    label = pd.Series(labels, index=patients.index, dtype="string").where(any_event, pd.NA)
    return date, label


def _exclusion_reason(patients, rule, start, end, days, event_label, cutoff) -> pd.Series:
    reason = pd.Series(pd.NA, index=patients.index, dtype="string")
    end_name = event_label.fillna("last contact")
    negative = (days < 0).fillna(False)
    neg_text = ("negative time: " + end_name + " date before " + rule.start).astype("string")
    reason = reason.mask(negative, neg_text)
    no_end = end.isna()
    event_words = " or ".join(label for _, label in rule.events)
    reason = reason.mask(no_end, f"missing last_contact_date and no {event_words} date")
    if cutoff is not None:
        reason = reason.mask((start > cutoff).fillna(False), f"{rule.start} after the data cut-off")
    reason = reason.mask(start.isna(), f"missing {rule.start}")
    if rule.population:
        best = column_or_na(patients, "best_response").astype("string")
        outside = ~best.isin(list(rule.population)).fillna(False)
        shown = best.fillna("NA")
        reason = reason.mask(outside, (rule.population_reason + " (best response " + shown + ")").astype("string"))
    return reason


def _date(frame: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_datetime(column_or_na(frame, name)).astype("datetime64[ns]")
