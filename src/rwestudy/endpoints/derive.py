"""`derive_endpoints`: patient-level factors, time-to-event table, patient flow.

>>> from rwestudy.demo.generator import make_study
>>> ep = derive_endpoints(make_study(n_patients=30, seed=3))
>>> sorted(ep.time_to_event["endpoint"].unique())
['DFS', 'DoR', 'OS', 'PFS', 'TTNT']
>>> bool(ep.flow_summary()["balanced"].all())
True
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from rwestudy.endpoints.baseline import baseline_features
from rwestudy.endpoints.common import column_or_na
from rwestudy.endpoints.flow import flow_summary, patient_flow
from rwestudy.endpoints.inputs import typed_tables
from rwestudy.endpoints.lines import prior_line_features
from rwestudy.endpoints.lugano_source import SOURCES, lugano_responses
from rwestudy.endpoints.response import response_features
from rwestudy.endpoints.roster import empty_exclusions, patient_roster, rows_of_known_patients
from rwestudy.endpoints.time_to_event import ENDPOINTS, time_to_event
from rwestudy.endpoints.treatment import toxicity_features, treatment_features
from rwestudy.io.schema import PATIENTS
from rwestudy.core.defaults import AE_WINDOW_DAYS, DAYS_PER_MONTH

CHILD_TABLES = ("prior_lines", "responses", "treatment", "adverse_events", "subsequent_therapies", "mutations")
# Which derived columns each optional table feeds (for the "missing table" notes).
NEEDS = {
    "prior_lines": "n_prior_lines, refractory_last_line, months_from_last_therapy (NA); prior_asct, "
                   "prior_car_t and primary_refractory from the patient columns only",
    "responses": "best_response, first_response_date and cr_date from the patient columns only",
    "treatment": "dose_reduced, reduction_date, discontinued_permanent, cycles (NA)",
    "adverse_events": "toxicity, first_grade3_ae_date (NA)",
    "subsequent_therapies": "next_treatment_date from the patient column only",
}


@dataclass
class Endpoints:
    """Everything derived from a study, ready for tables, survival curves and the report."""

    patients: pd.DataFrame
    time_to_event: pd.DataFrame
    flow: pd.DataFrame
    exclusions: pd.DataFrame
    censoring: list[str]
    notes: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    # Typed child tables restricted to analysed patients (treatment, adverse_events, ...).
    tables: dict = field(default_factory=dict)

    def endpoint(self, name: str) -> pd.DataFrame:
        """The analysed rows of one endpoint (OS, PFS, DoR, DFS, TTNT)."""
        if name not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {name!r}; choose one of {', '.join(ENDPOINTS)}")
        return self.time_to_event.loc[self.time_to_event["endpoint"] == name].reset_index(drop=True)

    def flow_summary(self) -> pd.DataFrame:
        """One row per scope: n_in, n_excluded, n_analysed, balanced."""
        return flow_summary(self.flow)


def derive_endpoints(study_or_tables, *, days_per_month: float = DAYS_PER_MONTH, cutoff=None,
                     ae_window_days: int = AE_WINDOW_DAYS, response_source: str = "recorded") -> Endpoints:
    """Derive every patient-level factor and time-to-event endpoint of a study.

    ``study_or_tables``: a `Study` or a dict of canonical tables. ``cutoff``:
    a data cut-off date (default: the study's declared ``cutoff_date``, if
    any); later events are censored at it. ``ae_window_days``: days after the
    treatment end during which an AE still counts for ``toxicity``.
    ``response_source``: "recorded" (the investigator's responses) or "lugano"
    (responses and progression dates from the Lugano 2014 classification of
    the ``assessments`` time points, see ``endpoints.lugano_source``).
    """
    if response_source not in SOURCES:
        raise ValueError(f"response_source must be one of {', '.join(SOURCES)}; got {response_source!r}")
    tables, study_cutoff, notes = typed_tables(study_or_tables)
    cutoff = pd.Timestamp(cutoff).normalize() if cutoff is not None else study_cutoff
    source = tables["patients"]
    roster, study_excl = patient_roster(source)
    excluded, children, scopes = [empty_exclusions(), study_excl], {}, [("study", len(source), len(roster))]
    for name in CHILD_TABLES:
        if name not in tables:
            if name in NEEDS:
                notes.append(f"table '{name}' is missing: {NEEDS[name]}")
            continue
        children[name], excl = rows_of_known_patients(tables[name], name, roster["patient_id"])
        excluded.append(excl)
        scopes.append((name, len(tables[name]), len(children[name])))
    for col in ("treatment_start_date", "last_contact_date"):
        if col not in roster.columns:
            notes.append(f"patients has no '{col}' column: no time-to-event endpoint can be computed")

    work = _with_contract_columns(roster)
    work["next_treatment_date"] = _next_treatment(work, children.get("subsequent_therapies"))
    derived = [baseline_features(work),
               prior_line_features(work, children.get("prior_lines"), days_per_month),
               response_features(work, children.get("responses"), cutoff, work["next_treatment_date"])]
    work = _replace(work, derived)
    if response_source == "lugano":
        a = tables.get("assessments")
        if a is None:
            notes.append("response source 'lugano' asked, but there is no assessments table: recorded responses used")
        else:
            work, changed = lugano_responses(work, a.loc[a["patient_id"].isin(roster["patient_id"])])
            notes.append(f"Responses and progression dates from the Lugano 2014 classification of the imaging "
                         f"time points (assessments) where a patient has them; {changed} patient"
                         f"{'s' if changed != 1 else ''} changed from the recorded values.")
    work = _replace(work, [treatment_features(work, children.get("treatment")),
                           toxicity_features(work, children.get("adverse_events"), ae_window_days)])
    tte, tte_excl = time_to_event(work, days_per_month=days_per_month, cutoff=cutoff)
    excluded.append(tte_excl)
    counts = tte.groupby("endpoint").size()
    scopes[1:1] = [(name, len(roster), int(counts.get(name, 0))) for name in ENDPOINTS]
    exclusions = pd.concat([e for e in excluded if len(e)] or [empty_exclusions()], ignore_index=True)
    return Endpoints(
        patients=work, time_to_event=tte, flow=patient_flow(scopes, exclusions), exclusions=exclusions,
        censoring=censoring_rules(days_per_month, cutoff, ae_window_days), notes=notes,
        settings={"days_per_month": days_per_month, "cutoff": cutoff, "ae_window_days": ae_window_days,
                  "response_source": response_source},
        tables=children,
    )


def censoring_rules(days_per_month: float, cutoff, ae_window_days: int) -> list[str]:
    """The rules applied, as sentences for the report."""
    rules = [
        f"Time in months = days / {days_per_month:g}; time 0 is kept, a negative time excludes the patient.",
        "OS: treatment start to death from any cause; alive patients censored at last contact.",
        "PFS: treatment start to progression/relapse or death, whichever first; censored at last contact.",
        "DoR: patients with best response CR/PR, first response date to progression or death; "
        "censored at last contact.",
        "DFS: patients with best response CR, CR date to relapse (progression date) or death; "
        "censored at last contact.",
        "TTNT: treatment start to the start of the next line or death; censored at last contact.",
        "Best response: best of CR > PR > SD > PD from the response assessments on/after treatment start "
        "and before the next line (NE only when nothing else); the reported best response when a patient "
        "has no assessment.",
        "ORR and CR rate: NE and missing responses count as non-responders (all treated in the denominator).",
        f"Toxicity: any grade >= 3 adverse event with onset from treatment start to {ae_window_days} days "
        "after treatment end (no upper limit while treatment is ongoing).",
        "First response / CR dates and the next-line date: the patient columns, filled from the response "
        "assessments / subsequent_therapies when empty.",
        "Refractory to a line: no CR/PR (SD, PD or NE) to it, or relapse/progression within 6 months "
        "(6 x days per month) of its end; unknown when a responding line has no relapse date. Last line = the "
        "highest-numbered line started before the study treatment.",
        "Patients: rows without patient_id and repeated patient_id rows (after the first) are excluded from "
        "the study; each excluded patient has one reason per endpoint in the patient flow.",
    ]
    if cutoff is not None:
        rules.append(f"Data cut-off {cutoff:%Y-%m-%d}: events and last contacts after it are censored at "
                     "the cut-off; patients starting after it are excluded.")
    return rules


def _next_treatment(work: pd.DataFrame, subsequent: pd.DataFrame | None) -> pd.Series:
    """The reported next_treatment_date, else the first later line starting after treatment start."""
    given = pd.to_datetime(column_or_na(work, "next_treatment_date")).astype("datetime64[ns]")
    if subsequent is None or "start_date" not in subsequent.columns:
        return given
    start = subsequent["patient_id"].map(work.set_index("patient_id")["treatment_start_date"])
    later = subsequent.loc[(subsequent["start_date"] > start).fillna(False).to_numpy()]
    first = later.groupby("patient_id")["start_date"].min()
    return given.fillna(work["patient_id"].map(first).astype("datetime64[ns]"))


def _with_contract_columns(roster: pd.DataFrame) -> pd.DataFrame:
    """Add every absent `patients` column of the contract as typed NA, so that
    downstream code (and the output's columns) never depend on what a center sent."""
    work = roster.copy()
    dtypes = {"date": "datetime64[ns]", "yesno": "boolean", "int": "Int64", "float": "float64"}
    for col in PATIENTS.columns:
        if col.name not in work.columns:
            dtype = dtypes.get(col.kind, "string")
            work[col.name] = pd.Series(None, index=work.index, dtype=object).astype(dtype)
    return work


def _replace(work: pd.DataFrame, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Add derived columns, overwriting same-named patient columns (their source is recorded)."""
    for part in parts:
        work = work.drop(columns=[c for c in part.columns if c in work.columns]).join(part)
    return work
