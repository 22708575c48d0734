"""Cross-field and cross-table rules, as tables of data.

Three rule tables drive validation:

* ``DATE_ORDER``: "early must not be after late" pairs, within a table or
  against a patient-level date (``patients.<column>``), with an optional
  allowance in days (AE onset up to 30 days after the last dose);
* ``CONSISTENCY``: vectorised predicates on one table (``True`` = problem);
* plus integrity checks (unique ids, known patients, duplicates) that every
  table gets from its schema.

Each rule is one line; adding a check means adding a row, not an ``if``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from rwestudy.io.schema import TABLES
from rwestudy.validation.findings import empty_findings, finding, from_mask
from rwestudy.core.defaults import AE_WINDOW_DAYS

RESPONSE_RANK = {"CR": 0, "PR": 1, "SD": 2, "PD": 3}


@dataclass(frozen=True)
class DateOrder:
    table: str
    early: str
    late: str
    severity: str = "error"
    allowance_days: int = 0
    why: str = ""

    @property
    def rule(self) -> str:
        return "date-order"


_P = "patients"
_PATIENT_DATE_CHAIN = [
    ("birth_date", "diagnosis_date", "error", "birth must precede diagnosis"),
    ("diagnosis_date", "treatment_start_date", "error", "diagnosis must precede the study treatment"),
    ("treatment_start_date", "treatment_end_date", "error", "treatment cannot end before it starts"),
    ("treatment_start_date", "first_response_date", "error", "a response is assessed after treatment start"),
    ("first_response_date", "cr_date", "error", "the first CR cannot precede the first response (CR or PR)"),
    ("treatment_start_date", "progression_date", "error", "progression is counted after the index date"),
    ("first_response_date", "progression_date", "error", "progression follows the response"),
    ("cr_date", "progression_date", "error", "relapse follows the CR"),
    ("treatment_start_date", "next_treatment_date", "error", "the next line starts after the study treatment"),
    ("treatment_start_date", "death_date", "error", "death after the index date"),
    ("progression_date", "death_date", "error", "progression is documented before death"),
    ("next_treatment_date", "death_date", "error", "a line cannot start after death"),
    ("treatment_end_date", "death_date", "error", "no treatment after death"),
    ("last_contact_date", "death_date", "error", "no contact after death; last contact = death date"),
] + [
    (c, "last_contact_date", "error", "the last contact is the latest date known")
    for c in ("treatment_start_date", "treatment_end_date", "first_response_date", "cr_date",
              "progression_date", "next_treatment_date")
]

DATE_ORDER: list[DateOrder] = [DateOrder(_P, e, l, s, 0, w) for e, l, s, w in _PATIENT_DATE_CHAIN] + [
    DateOrder("prior_lines", "start_date", "end_date", "error", 0, "a line cannot end before it starts"),
    DateOrder("prior_lines", "start_date", "relapse_date", "error", 0, "relapse follows the start of the line"),
    DateOrder("prior_lines", "patients.diagnosis_date", "start_date", "warning", 0,
              "a line of therapy normally starts after diagnosis"),
    DateOrder("prior_lines", "start_date", "patients.treatment_start_date", "error", 0,
              "a prior line starts before the study treatment"),
    DateOrder("responses", "patients.treatment_start_date", "date", "warning", 0,
              "an assessment before treatment start is a baseline, not a response"),
    DateOrder("responses", "date", "patients.last_contact_date", "error", 0,
              "the last contact is the latest date known"),
    DateOrder("treatment", "patients.treatment_start_date", "reduction_date", "error", 0,
              "a dose is reduced after treatment starts"),
    DateOrder("treatment", "reduction_date", "patients.last_contact_date", "error", 0,
              "the last contact is the latest date known"),
    DateOrder("adverse_events", "patients.treatment_start_date", "onset_date", "warning", 0,
              "an event before treatment start is not treatment-emergent"),
    DateOrder("adverse_events", "onset_date", "patients.treatment_end_date", "warning", AE_WINDOW_DAYS,
              f"events count from treatment start to {AE_WINDOW_DAYS} days after the last dose"),
    DateOrder("adverse_events", "onset_date", "patients.last_contact_date", "error", 0,
              "the last contact is the latest date known"),
    DateOrder("subsequent_therapies", "patients.treatment_start_date", "start_date", "error", 0,
              "a subsequent line starts after the study treatment"),
    DateOrder("subsequent_therapies", "start_date", "patients.last_contact_date", "error", 0,
              "the last contact is the latest date known"),
]


@dataclass(frozen=True)
class Check:
    rule: str
    table: str
    column: str
    severity: str
    needs: tuple[str, ...]
    problem: Callable[[pd.DataFrame], pd.Series]
    message: str


def _rank(s: pd.Series) -> pd.Series:
    return s.map(RESPONSE_RANK).astype("float64")


def _has(s: pd.Series) -> pd.Series:
    return s.notna()


CONSISTENCY: list[Check] = [
    Check("response-order", _P, "best_response", "error", ("best_response", "final_response"),
          lambda d: _rank(d["best_response"]) > _rank(d["final_response"]),
          "best response is worse than the final response; the best response can never be worse"),
    Check("cr-date-without-cr", _P, "cr_date", "error", ("cr_date", "best_response"),
          lambda d: _has(d["cr_date"]) & d["best_response"].ne("CR").fillna(True),
          "a CR date is given but the best response is not CR"),
    Check("response-date-without-response", _P, "first_response_date", "error",
          ("first_response_date", "best_response"),
          lambda d: _has(d["first_response_date"]) & ~d["best_response"].isin(["CR", "PR"]).fillna(False),
          "a response date is given but the best response is not CR or PR"),
    Check("responder-without-date", _P, "first_response_date", "warning",
          ("first_response_date", "best_response"),
          lambda d: d["best_response"].isin(["CR", "PR"]).fillna(False) & ~_has(d["first_response_date"]),
          "best response is CR/PR but first_response_date is missing: duration of response cannot be computed"),
    Check("cr-without-date", _P, "cr_date", "warning", ("cr_date", "best_response"),
          lambda d: d["best_response"].eq("CR").fillna(False) & ~_has(d["cr_date"]),
          "best response is CR but cr_date is missing: disease-free survival cannot be computed"),
    Check("death-cause-without-death", _P, "death_cause", "error", ("death_cause", "death_date"),
          lambda d: _has(d["death_cause"]) & ~_has(d["death_date"]),
          "a cause of death is given but no death date; an alive patient has no cause of death"),
    Check("last-contact-before-death", _P, "last_contact_date", "warning", ("last_contact_date", "death_date"),
          lambda d: d["last_contact_date"] < d["death_date"],
          "last contact precedes the death date; it should equal the death date (OS uses the death date)"),
    Check("ecog5-alive", _P, "ecog", "warning", ("ecog", "death_date"),
          lambda d: d["ecog"].eq(5).fillna(False) & ~_has(d["death_date"]),
          "ECOG 5 means dead, but there is no death date"),
    Check("missing-index-date", _P, "treatment_start_date", "warning", ("treatment_start_date",),
          lambda d: ~_has(d["treatment_start_date"]),
          "treatment_start_date is missing: the patient is excluded from time-to-event analyses"),
    Check("missing-last-contact", _P, "last_contact_date", "warning", ("last_contact_date", "death_date"),
          lambda d: ~_has(d["last_contact_date"]) & ~_has(d["death_date"]),
          "last_contact_date is missing: the patient is excluded from time-to-event analyses"),
    Check("final-pd-without-progression", _P, "progression_date", "warning",
          ("final_response", "progression_date", "death_date"),
          lambda d: d["final_response"].eq("PD").fillna(False) & ~_has(d["progression_date"]),
          "final response is PD but progression_date is missing: PFS would miss this event"),
    Check("age-implausible", _P, "birth_date", "warning", ("birth_date", "diagnosis_date"),
          lambda d: ((d["diagnosis_date"] - d["birth_date"]).dt.days / 365.25 > 100)
          | ((d["diagnosis_date"] - d["birth_date"]).dt.days / 365.25 < 18),
          "age at diagnosis from birth_date is below 18 or above 100 years; please check"),
    Check("ldh-disagrees", _P, "ldh_increased", "warning", ("ldh_increased", "ldh", "ldh_uln"),
          lambda d: d["ldh_increased"].notna() & (d["ldh"] > d["ldh_uln"]).ne(d["ldh_increased"])
          & d["ldh"].notna() & d["ldh_uln"].notna(),
          "ldh_increased disagrees with ldh > ldh_uln"),
    Check("reduction-date-without-reduction", "treatment", "reduction_date", "error",
          ("reduction_date", "dose_reduced"),
          lambda d: _has(d["reduction_date"]) & d["dose_reduced"].eq(False).fillna(False),
          "a reduction date is given but dose_reduced is no"),
    Check("discontinued-without-reason", "treatment", "discontinuation_reason", "warning",
          ("discontinued", "discontinuation_reason"),
          lambda d: d["discontinued"].eq("permanent").fillna(False) & ~_has(d["discontinuation_reason"]),
          "permanent discontinuation without a reason"),
    Check("grade5-not-fatal", "adverse_events", "outcome", "warning", ("grade", "outcome"),
          lambda d: (d["grade"].eq(5) & d["outcome"].notna() & d["outcome"].ne("fatal")).fillna(False)
          | (d["outcome"].eq("fatal") & d["grade"].notna() & d["grade"].ne(5)).fillna(False),
          "grade 5 and outcome 'fatal' must go together"),
]


def _patient_lookup(patients: pd.DataFrame) -> pd.DataFrame:
    first = patients.loc[patients["patient_id"].notna()].drop_duplicates("patient_id")
    return first.set_index("patient_id")


def _resolve(frame: pd.DataFrame, ref: str, lookup: pd.DataFrame | None) -> pd.Series | None:
    if ref.startswith("patients."):
        col = ref.split(".", 1)[1]
        if lookup is None or col not in lookup.columns or "patient_id" not in frame.columns:
            return None
        return frame["patient_id"].map(lookup[col])
    return frame[ref] if ref in frame.columns else None


def check_date_order(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    lookup = _patient_lookup(tables[_P]) if _P in tables else None
    out = []
    for r in DATE_ORDER:
        frame = tables.get(r.table)
        if frame is None:
            continue
        early, late = _resolve(frame, r.early, lookup), _resolve(frame, r.late, lookup)
        if early is None or late is None:
            continue
        bad = early > late + pd.Timedelta(days=r.allowance_days)
        # Report on the column that lives in this table (the one the center must fix).
        column = r.late if not r.late.startswith("patients.") else r.early
        days = (early - late).dt.days
        allowance = f" + {r.allowance_days} days" if r.allowance_days else ""
        show = frame.assign(_early=early, _late=late, _days=days)

        def message(sel, r=r, allowance=allowance):
            return (r.early + " (" + sel["_early"].dt.strftime("%Y-%m-%d") + ") is after "
                    + r.late + allowance + " (" + sel["_late"].dt.strftime("%Y-%m-%d") + "): " + r.why)

        out.append(from_mask(show, bad, severity=r.severity, rule="date-order", table=r.table,
                             column=column, message=message))
    return out


def check_consistency(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    out = []
    for c in CONSISTENCY:
        frame = tables.get(c.table)
        if frame is None or not all(n in frame.columns for n in c.needs):
            continue
        out.append(from_mask(frame, c.problem(frame), severity=c.severity, rule=c.rule, table=c.table,
                             column=c.column, message=c.message))
    return out


def check_future_dates(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp) -> list[pd.DataFrame]:
    """Dates in the future are errors; dates after an earlier data cut-off are warnings.

    One cut-off concept: the analysis censors follow-up at the cut-off, so an
    event dated after it is real data the analysis leaves out (said, not an
    error); a date after today cannot be true.
    """
    today = pd.Timestamp.today().normalize()
    out = []
    for name, frame in tables.items():
        spec = TABLES.get(name)
        if spec is None:
            continue
        for col in spec.columns:
            if col.kind == "date" and col.name in frame.columns:
                d = frame[col.name]
                out.append(from_mask(frame, d > today, severity="error", rule="date-future", table=name,
                                     column=col.name, message=f"date is in the future (today is {today:%Y-%m-%d})"))
                if cutoff < today:
                    out.append(from_mask(frame, (d > cutoff) & (d <= today), severity="warning",
                                         rule="date-future", table=name, column=col.name,
                                         message=f"date is after the data cut-off {cutoff:%Y-%m-%d}: the "
                                         "analysis censors follow-up at the cut-off, so this is not counted"))
    return out


def check_integrity(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """At least one patient; unique patient ids, required values, known patients, duplicate rows."""
    out = []
    if _P in tables and len(tables[_P]) == 0:
        # A header-only sheet reads cleanly, but an analysis of nobody is not a result.
        out.append(finding("error", "no-patients", _P, "the patients table has its header but no rows: "
                           "a study needs at least one patient (one row per patient from row 2)"))
    known = set(tables[_P]["patient_id"].dropna()) if _P in tables and "patient_id" in tables[_P] else set()
    for name, frame in tables.items():
        spec = TABLES.get(name)
        if spec is None:
            continue
        for col in spec.columns:
            # An entirely empty required column is one table-level finding (column-missing/-empty).
            if col.required and col.name in frame.columns and frame[col.name].notna().any():
                out.append(from_mask(frame, frame[col.name].isna(), severity="error", rule="required-value",
                                     table=name, column=col.name,
                                     message=f"'{col.name}' is required and missing (or not readable)"))
        pid = frame.get("patient_id")
        if pid is None:
            continue
        if name == _P:
            dup = pid.notna() & pid.duplicated(keep=False)
            first_row = pd.Series(frame.index, index=frame.index).groupby(pid).transform("min")
            out.append(from_mask(frame.assign(_first=first_row), dup, severity="error",
                                 rule="duplicate-id", table=name, column="patient_id",
                                 message=lambda s: "patient_id appears more than once (first at row "
                                 + s["_first"].astype(str) + "); each patient must have one row"))
        else:
            unknown = pid.notna() & ~pid.isin(known)
            out.append(from_mask(frame, unknown, severity="error", rule="unknown-patient", table=name,
                                 column="patient_id",
                                 message="patient_id is not in the patients table"))
            keys = [k for k in spec.key if k in frame.columns]
            if keys and len(keys) == len(spec.key):
                dup = frame.duplicated(keys, keep="first") & frame[keys].notna().all(axis=1)
                out.append(from_mask(frame, dup, severity="warning", rule="duplicate-row", table=name,
                                     column=keys[-1],
                                     message=f"same {' and '.join(keys)} as an earlier row"))
    ae = tables.get("adverse_events")
    if ae is not None:
        cols = [c for c in ("patient_id", "term", "grade", "onset_date") if c in ae.columns]
        dup = ae.duplicated(cols, keep="first") & ae[cols].notna().all(axis=1)
        out.append(from_mask(ae, dup, severity="warning", rule="duplicate-row", table="adverse_events",
                             column="term", message=f"same {', '.join(cols)} as an earlier row: "
                             "counted twice in per-event tables; delete it if it is a copy"))
    return out


def check_adverse_events(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """Grade 5 needs a death; attributed drugs must be study drugs; grade defined for the term."""
    from rwestudy.validation.ctcae import ctcae_terms

    ae = tables.get("adverse_events")
    if ae is None:
        return []
    out = []
    patients = tables.get(_P)
    if patients is not None and {"grade", "patient_id"} <= set(ae.columns) and "death_date" in patients:
        dead = patients.loc[patients["death_date"].notna(), "patient_id"]
        out.append(from_mask(ae, ae["grade"].eq(5).fillna(False) & ~ae["patient_id"].isin(dead),
                             severity="error", rule="grade5-alive", table="adverse_events", column="grade",
                             message="grade 5 (fatal) event but the patient has no death date"))
    treat = tables.get("treatment")
    if treat is not None and "related_to" in ae.columns and "drug" in treat.columns:
        drugs = set(treat["drug"].dropna().str.lower()) | {"none"}
        # Few distinct attributions even in millions of rows: judge each once.
        distinct = ae["related_to"].dropna().unique()
        unknown = [v for v in distinct if any(part not in drugs for part in str(v).split("+"))]
        bad = ae["related_to"].isin(unknown)
        out.append(from_mask(ae, bad, severity="warning", rule="unknown-drug", table="adverse_events",
                             column="related_to",
                             message=f"names a drug that is not in the treatment table ({', '.join(sorted(drugs))})"))
    if {"term", "grade"} <= set(ae.columns):
        terms = ctcae_terms().set_index("term")
        g = ae["grade"].astype("float64")
        defined = pd.Series(True, index=ae.index)
        known = ae["term"].isin(terms.index) & g.notna()
        for grade in range(1, 6):
            sel = known & g.eq(grade)
            if sel.any():
                defined.loc[sel] = ae.loc[sel, "term"].map(terms[f"grade_{grade}"]).to_numpy(dtype=bool)
        out.append(from_mask(ae, ~defined, severity="warning", rule="grade-undefined", table="adverse_events",
                             column="grade", message=lambda s: "CTCAE v5.0 defines no grade "
                             + s["grade"].astype(str) + " for '" + s["term"].astype(str) + "'"))
    return out


def check_best_response(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """The patient-level best response must agree with the responses table."""
    resp, patients = tables.get("responses"), tables.get(_P)
    if resp is None or patients is None or "best_response" not in patients or "response" not in resp:
        return []
    start = resp["patient_id"].map(_patient_lookup(patients).get("treatment_start_date", pd.Series(dtype="datetime64[ns]")))
    on_treatment = resp.loc[(resp["date"] >= start).fillna(True) & resp["response"].isin(list(RESPONSE_RANK))]
    best_rank = _rank(on_treatment["response"]).groupby(on_treatment["patient_id"]).min()
    derived = patients["patient_id"].map(best_rank).map({v: k for k, v in RESPONSE_RANK.items()})
    frame = patients.assign(_derived=derived)
    bad = frame["best_response"].notna() & frame["_derived"].notna() & frame["best_response"].ne(frame["_derived"])
    return [from_mask(frame, bad, severity="warning", rule="best-response-mismatch", table=_P,
                      column="best_response",
                      message=lambda s: "best_response disagrees with the responses table (best there: "
                      + s["_derived"].astype(str) + "); the responses table is used")]



def _center_key(name: str) -> str:
    """What makes two spellings one center: case, runs of spaces and Unicode form do not count."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def _rows_text(rows: list[int], show: int = 5) -> str:
    head = ", ".join(str(r) for r in rows[:show])
    return f"row {head}" if len(rows) == 1 else (
        f"rows {head}" + (f" and {len(rows) - show} more" if len(rows) > show else ""))


def unify_center_spellings(patients: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One center spelled two ways ("Bologna", "bologna", "Bologna  Sud" vs "Bologna Sud") is
    counted as one, under its most frequent spelling; every other spelling is a warning naming
    the spellings and their rows, so per-center counts never split a center silently."""
    if "center" not in patients.columns or patients["center"].notna().sum() == 0:
        return patients, empty_findings()
    center = patients["center"]
    present = center.dropna().astype(str)
    rows = present.groupby(present, sort=False).groups  # spelling -> source rows (few distinct values)
    by_key: dict[str, list[str]] = {}
    for spelling in rows:
        by_key.setdefault(_center_key(spelling), []).append(spelling)
    canon: dict[str, str] = {}
    described: dict[str, str] = {}
    for spellings in by_key.values():
        if len(spellings) < 2:
            continue
        # most rows first, then the spelling met first in the sheet
        spellings.sort(key=lambda v: (-len(rows[v]), min(rows[v])))
        text = "; ".join(f"'{v}' {_rows_text(sorted(rows[v]))}" for v in spellings)
        for v in spellings:
            canon[v], described[v] = spellings[0], text
    if not canon:
        return patients, empty_findings()
    raw = center.astype("string")
    unified = raw.map(lambda v: canon.get(v, v) if isinstance(v, str) else v).astype(center.dtype)
    variant = (raw.ne(unified)).fillna(False)
    frame = patients.assign(_raw=raw, center=unified, _canon=unified, _spellings=raw.map(described))
    f = from_mask(frame, variant, severity="warning", rule="center-spelling", table=_P, column="center",
                  value="_raw", message=lambda sel: "center '" + sel["_raw"] + "' is spelled differently "
                  "elsewhere (" + sel["_spellings"] + "); counted as one center, '" + sel["_canon"]
                  + "'. Use one spelling in the source")
    return patients.assign(center=unified), f


# C0 controls except tab, newline and carriage return, plus DEL: invisible in a
# spreadsheet, they break exports and terminals (and make "resolved" unreadable).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _escaped(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def strip_control_characters(frame: pd.DataFrame, table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove control characters from text cells, one warning per cell (value shown escaped).

    Run on the raw cells, before typing, so that a code such as "resol\\x01ved" reads as
    "resolved" and the finding says what was removed."""
    parts, out = [], frame
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind not in "OSU" and not pd.api.types.is_string_dtype(values.dtype):
            continue
        # judged once per distinct value: columns repeat a few values many times
        bad = [v for v in pd.unique(values.dropna()) if isinstance(v, str) and _CONTROL.search(v)]
        if not bad:
            continue
        mask = values.isin(bad)
        if out is frame:
            out = frame.copy()
        shown = values.where(mask).map(lambda v: _escaped(v) if isinstance(v, str) else v)
        out.loc[mask, column] = values[mask].map(lambda v: _CONTROL.sub("", v))
        parts.append(from_mask(frame.assign(_shown=shown), mask, severity="warning", rule="control-character",
                               table=table, column=column, value="_shown",
                               message="contains invisible control characters (shown as \\xNN); they were "
                               "removed and the rest of the cell is read. Delete them in the source"))
    return out, (pd.concat(parts, ignore_index=True) if parts else empty_findings())
