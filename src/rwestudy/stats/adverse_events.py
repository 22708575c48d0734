"""Adverse-event tables: by term, by category, by drug attribution, SAE, fatal.

Published studies mix per-event and per-patient percentages, so every table
carries both counts with their denominators as columns:

* ``events`` counts AE rows; ``pct_events`` is over all AE rows kept
  (``denominator_events``).
* ``patients`` counts distinct patients; ``pct_patients`` is over every
  patient in ``patients`` (``denominator_patients``): the safety population,
  i.e. all treated patients whether or not they had an AE.
* Grade bands: any, 1-2, >=3, 3, 4, 5 and "grade NA". An event sits in the
  band of its own grade. A patient counts once per row, at the worst known
  grade: grade 2 and grade 4 neutropenia count in "4", ">=3" and "any", not in
  "1-2". A patient counts in "grade NA" only when none of their events in that
  row has a grade, so per patient 1-2 + >=3 + grade NA = any.
* Attribution (``related_to`` = "none" or drug names joined by "+"): a drug's
  row counts events related to it alone or in combination; "<drug> only",
  "+"-joined (all drugs together), "any drug", "none" and "attribution NA"
  rows follow. These rows overlap on purpose (a combination event counts for
  each of its drugs); ``attribution_rule`` says what each row counts.
* Treatment-emergent window: by default, when ``patients`` has
  ``treatment_start_date`` and ``treatment_end_date``, events with onset from
  the start date to 30 days after the end date are kept. Excluded events are
  listed in ``.excluded`` with the reason; events whose onset or window
  dates are missing are kept and counted in ``.notes``.

Example
-------
>>> import pandas as pd
>>> patients = pd.DataFrame({"patient_id": ["P1", "P2", "P3"]})
>>> ae = pd.DataFrame({"patient_id": ["P1", "P1", "P2"],
...     "term": ["Neutrophil count decreased"] * 3, "category": ["hematologic"] * 3,
...     "grade": [2, 4, 3], "related_to": ["lenalidomide", "tafasitamab+lenalidomide", "none"]})
>>> t = ae_tables(ae, patients, window=False)
>>> row = t.by_term.set_index("grade_band").loc[">=3"]
>>> int(row.events), int(row.patients), int(row.denominator_patients)
(2, 2, 3)
>>> int(t.by_term.set_index("grade_band").loc["1-2", "patients"])  # P1 counts at grade 4
0
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rwestudy.core.yesno import unknown_yes_no, yes_no
from rwestudy.stats.conventions import Conventions
from rwestudy.core.defaults import AE_WINDOW_DAYS

BANDS = ("any", "1-2", ">=3", "3", "4", "5", "grade NA")
ANY_AE = "any AE"
CATEGORY_ORDER = ("hematologic", "extra-hematologic")
CATEGORY_NA, TERM_NA, ATTRIBUTION_NA, SERIOUS_NA = "category NA", "term NA", "attribution NA", "serious NA"
DEFAULT_WINDOW_DAYS = AE_WINDOW_DAYS
_COUNT_COLUMNS = ["events", "denominator_events", "pct_events",
                  "patients", "denominator_patients", "pct_patients"]


@dataclass(frozen=True, eq=False)
class AETables:
    """Tidy AE tables; see the module docstring for the counting rules."""

    by_term: pd.DataFrame
    by_category: pd.DataFrame
    by_drug: pd.DataFrame
    serious: pd.DataFrame
    fatal: pd.DataFrame
    excluded: pd.DataFrame
    drugs: tuple[str, ...]
    n_patients: int
    n_events: int
    window: str
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """A few sentences for a Results paragraph, denominators stated."""
        n = self.n_patients
        cat = self.by_category.set_index(["category", "grade_band"])
        lines = [f"Safety population: {n} patients (percentages of patients use all {n} as denominator; "
                 f"percentages of events use all {self.n_events} AE events)."]
        if self.n_events:
            any_ae = cat.loc[(ANY_AE, "any")]
            g3 = cat.loc[(ANY_AE, ">=3")]
            lines.append(f"{int(any_ae.patients)} patients ({any_ae.pct_patients:.1f}%) had {self.n_events} AEs; "
                         f"{int(g3.patients)} ({g3.pct_patients:.1f}%) had a grade >=3 AE.")
            any_band = self.by_term[self.by_term.grade_band == "any"]
            top = any_band.sort_values("patients", ascending=False, kind="stable").iloc[0]
            lines.append(f"Most common: {top.term}, {int(top.patients)} patients ({top.pct_patients:.1f}%).")
            overall = self.by_drug[(self.by_drug.term == ANY_AE) & (self.by_drug.grade_band == "any")]
            lines.append("Events by attribution: " + "; ".join(
                f"{r.attribution} {int(r.events)} ({r.pct_events:.1f}% of events)"
                for r in overall.itertuples()) + ".")
        sae = self.serious[(self.serious.term == ANY_AE) & (self.serious.serious == "yes")].iloc[0]
        fatal = self.fatal[self.fatal.term == ANY_AE].iloc[0]
        lines.append(f"Serious AEs: {int(sae.events)} events in {int(sae.patients)} patients "
                     f"({sae.pct_patients:.1f}%); grade 5: {int(fatal.events)} events "
                     f"in {int(fatal.patients)} patients.")
        lines.append(f"Window: {self.window}.")
        if len(self.excluded):
            reasons = self.excluded["reason"].value_counts()
            lines.append("Excluded: " + "; ".join(f"{k} events: {r}" for r, k in reasons.items()) + ".")
        return "\n".join(lines + list(self.notes))


# ------------------------------------------------------------------ input prep
def _prepare(ae: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    missing = {"patient_id", "term", "grade"} - set(ae.columns)
    if missing:
        raise ValueError(f"adverse_events lacks column(s) {sorted(missing)}")
    if patients["patient_id"].duplicated().any():
        raise ValueError("patients has duplicated patient_id values: the safety population would be miscounted")
    unknown = sorted(set(ae["patient_id"].dropna()) - set(patients["patient_id"]))
    if unknown or ae["patient_id"].isna().any():
        raise ValueError(f"adverse_events rows whose patient_id is missing or not in patients: {unknown[:5]}")
    ev = ae.reset_index(drop=True).copy()
    grade = pd.to_numeric(ev["grade"], errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    bad = (ev["grade"].notna().to_numpy() & np.isnan(grade)) | ~(np.isnan(grade) | np.isin(grade, [1, 2, 3, 4, 5]))
    if bad.any():
        raise ValueError(f"grade must be 1..5 or empty; got {sorted(map(str, set(ev.loc[bad, 'grade'])))}")
    ev["grade"] = grade
    ev["term"] = ev["term"].fillna(TERM_NA).astype(str)
    category = ev["category"] if "category" in ev else pd.Series(pd.NA, index=ev.index)
    ev["category"] = category.fillna(CATEGORY_NA).astype(str)
    related = ev["related_to"] if "related_to" in ev else pd.Series(pd.NA, index=ev.index)
    # normalise each distinct text once (few distinct values, many events)
    codes, uniq = pd.factorize(related.astype("string"))
    norm = pd.Series(uniq, dtype="string").str.lower().str.replace(r"\s*\+\s*", "+", regex=True).str.strip()
    norm = norm.mask(norm == "").astype(object).to_numpy()
    ev["related"] = pd.Series(np.append(norm, None)[codes], index=ev.index, dtype="string")  # code -1 = NA
    ev["is_serious"] = _yes_no(ev["serious"] if "serious" in ev else pd.Series(pd.NA, index=ev.index))
    return ev


def _yes_no(s: pd.Series) -> pd.Series:
    bad = unknown_yes_no(s)
    if bad.any():
        raise ValueError(f"serious must be yes/no; got {sorted(set(s[bad].astype(str)))}")
    return yes_no(s)


def _apply_window(ev, patients, window) -> tuple[pd.DataFrame, pd.DataFrame, str, list[str]]:
    cols = ("treatment_start_date", "treatment_end_date")
    if window is None:  # the spec's default, only when the dates exist
        if not set(cols) <= set(patients.columns) or "onset_date" not in ev:
            return ev, ev.iloc[:0].assign(reason=""), "none (no treatment dates or onset dates: all events kept)", []
        window = (*cols, DEFAULT_WINDOW_DAYS)
    if window is False:
        return ev, ev.iloc[:0].assign(reason=""), "none (all events kept)", []
    start_col, end_col, days = window
    if "onset_date" not in ev or start_col not in patients or (end_col is not None and end_col not in patients):
        raise ValueError(f"window {window} needs adverse_events.onset_date and patients.{start_col}/{end_col}")
    dates = patients.set_index("patient_id")
    onset = pd.to_datetime(ev["onset_date"])
    start = pd.to_datetime(ev["patient_id"].map(dates[start_col]))
    end = (pd.to_datetime(ev["patient_id"].map(dates[end_col])) if end_col is not None
           else pd.Series(pd.NaT, index=ev.index, dtype="datetime64[ns]"))
    # NaT compares False, so missing dates keep the event (reported in notes)
    before = (onset < start).to_numpy()
    after = (onset > end + pd.Timedelta(days=int(days))).to_numpy()
    reason = np.select([before, after], [f"onset before {start_col}",
                                         f"onset more than {days} days after {end_col}"], default="")
    out = reason != ""
    notes = [f"{k} events kept although {what} is missing, so that bound of the window could not be checked."
             for k, what in ((int(onset.isna().sum()), "the onset date"),
                             (int((onset.notna() & start.isna()).sum()), start_col),
                             (int((onset.notna() & end.isna()).sum()) if end_col else 0, end_col)) if k]
    desc = f"{start_col} to {end_col} + {days} days" if end_col else f"from {start_col}"
    excluded = ev.loc[out].assign(reason=reason[out])
    return ev.loc[~out], excluded, desc, notes


# ---------------------------------------------------------------- counting
def _band(grade: pd.Series) -> np.ndarray:
    g = grade.to_numpy(dtype=float)
    return np.select([g <= 2, g == 3, g == 4, g == 5], ["1-2", "3", "4", "5"], default="grade NA")


def _with_derived(units: pd.DataFrame) -> pd.DataFrame:
    """Repeat each unit in "any" and, for grades 3-5, in ">=3" (overlapping bands)."""
    high = units[units["band"].isin(["3", "4", "5"])]
    return pd.concat([units, units.assign(band="any"), high.assign(band=">=3")], ignore_index=True)


def _tally(ev_units, pt_units, keys, grid, n_events, n_patients) -> pd.DataFrame:
    """Events and distinct patients per keys x band, on every row of ``grid``."""
    by = keys + ["band"]
    events = ev_units.groupby(by).size().rename("events").reset_index()
    pats = pt_units.groupby(by).size().rename("patients").reset_index()
    out = grid.merge(events, on=by, how="left").merge(pats, on=by, how="left")
    out[["events", "patients"]] = out[["events", "patients"]].fillna(0).astype("int64")
    out["denominator_events"], out["denominator_patients"] = n_events, n_patients
    out["pct_events"] = 100.0 * out["events"] / n_events if n_events else np.nan
    out["pct_patients"] = 100.0 * out["patients"] / n_patients if n_patients else np.nan
    return out[list(grid.columns) + _COUNT_COLUMNS]


def _grade_table(ev, keys, key_grid, n_events, n_patients) -> pd.DataFrame:
    ev_units = _with_derived(ev[keys].assign(band=_band(ev["grade"])))
    # worst known grade per patient (max skips NA; all-NA stays NA)
    worst = ev.groupby(keys + ["patient_id"])["grade"].max().reset_index()
    pt_units = _with_derived(worst[keys].assign(band=_band(worst["grade"])))
    grid = key_grid.merge(pd.DataFrame({"band": BANDS}), how="cross")
    return _tally(ev_units, pt_units, keys, grid, n_events, n_patients).rename(columns={"band": "grade_band"})


def _category_rank(c: str) -> int:
    return CATEGORY_ORDER.index(c) if c in CATEGORY_ORDER else len(CATEGORY_ORDER) + (c == CATEGORY_NA)


def _term_grid(ev) -> pd.DataFrame:
    """(category, term) pairs: category order, then most patients first, then term."""
    n = ev.groupby(["category", "term"])["patient_id"].nunique().rename("n").reset_index()
    n["rank"] = n["category"].map(_category_rank)
    return n.sort_values(["rank", "n", "term"], ascending=[True, False, True])[["category", "term"]]


def _overall(ev) -> pd.DataFrame:
    return ev.assign(category=ANY_AE, term=ANY_AE)


_OVERALL_GRID = pd.DataFrame({"category": [ANY_AE], "term": [ANY_AE]})


def _distinct_related(ev) -> tuple[np.ndarray, list[str], list[frozenset]]:
    """Codes of each event's related_to, the distinct texts and their drug sets."""
    codes, uniq = pd.factorize(ev["related"])
    texts = [str(u) for u in uniq]
    return codes, texts, [frozenset(t.split("+")) - {"none"} for t in texts]


def _attributions(ev, drugs) -> list[tuple[str, str, np.ndarray]]:
    codes, texts, sets = _distinct_related(ev)

    def per_event(flags) -> np.ndarray:
        # decided once per distinct related_to text; code -1 (NA) picks the appended False
        return np.append(np.asarray(flags, dtype=bool), False)[codes]

    wanted = set(drugs)
    rows = []
    for d in drugs:
        rows.append((d, f"related to {d}, alone or in combination", per_event([d in s for s in sets])))
        rows.append((f"{d} only", f"related to {d} and no other drug", per_event([s == {d} for s in sets])))
    if len(drugs) > 1:
        rows.append(("+".join(drugs), f"related to all of {', '.join(drugs)} together",
                     per_event([wanted <= s for s in sets])))
    rows.append(("any drug", f"related to at least one of {', '.join(drugs) or 'no named drug'}",
                 per_event([bool(wanted & s) for s in sets])))
    rows.append(("none", "related_to is 'none' (not related)", per_event([t == "none" for t in texts])))
    rows.append((ATTRIBUTION_NA, "related_to not recorded", codes == -1))
    return rows


def _default_drugs(ev) -> tuple[str, ...]:
    return tuple(sorted(frozenset().union(*_distinct_related(ev)[2])))


def _by_drug(ev, drugs, terms, n_events, n_patients) -> pd.DataFrame:
    # All attributions stacked and tallied at once (one grade table per attribution was 18 pandas passes).
    attrs = _attributions(ev, drugs)
    stacked = pd.concat([ev[mask].assign(attribution=label) for label, _, mask in attrs], ignore_index=True)
    labels = pd.DataFrame({"attribution": [a[0] for a in attrs]})
    keys = ["attribution", "category", "term"]
    out = pd.concat([_grade_table(stacked, keys, labels.merge(terms, how="cross"), n_events, n_patients),
                     _grade_table(_overall(stacked), keys, labels.merge(_OVERALL_GRID, how="cross"),
                                  n_events, n_patients)], ignore_index=True)
    order = {label: i for i, (label, _, _) in enumerate(attrs)}
    out = out.iloc[np.argsort(out["attribution"].map(order).to_numpy(), kind="stable")].reset_index(drop=True)
    out["attribution_rule"] = out["attribution"].map({label: rule for label, rule, _ in attrs})
    return out[["attribution", "attribution_rule", *[c for c in out.columns if not c.startswith("attribution")]]]


def _serious(ev, n_events, n_patients) -> pd.DataFrame:
    flag = ev["is_serious"]
    label = np.where(flag.isna(), SERIOUS_NA, np.where(flag.fillna(False), "yes", "no"))
    sae = pd.concat([ev, _overall(ev)], ignore_index=True).assign(band=np.tile(label, 2))
    sae = sae[sae["band"] != "no"]  # non-serious events are simply not SAEs
    keys = ["category", "term"]
    terms = _term_grid(sae[sae["term"] != ANY_AE]) if len(sae) else _OVERALL_GRID.iloc[:0]
    grid = pd.concat([terms, _OVERALL_GRID], ignore_index=True).merge(
        pd.DataFrame({"band": ["yes", SERIOUS_NA]}), how="cross")
    pt_units = sae.drop_duplicates(keys + ["patient_id", "band"])
    out = _tally(sae[keys + ["band"]], pt_units, keys, grid, n_events, n_patients)
    return out.rename(columns={"band": "serious"})


def _fatal(ev, n_events, n_patients) -> pd.DataFrame:
    g5 = ev[ev["grade"] == 5]
    both = pd.concat([g5, _overall(g5)], ignore_index=True).assign(band="5")
    keys = ["category", "term"]
    grid = pd.concat([_term_grid(g5), _OVERALL_GRID], ignore_index=True).assign(band="5")
    out = _tally(both, both.drop_duplicates(keys + ["patient_id"]), keys, grid, n_events, n_patients)
    related = both.groupby(keys)["related"].agg(lambda s: "; ".join(sorted(s.fillna(ATTRIBUTION_NA).unique())))
    out = out.drop(columns="band").merge(related.rename("related_to").reset_index(), on=keys, how="left")
    return out.assign(related_to=out["related_to"].fillna(""))


def _consistency_notes(ev) -> list[str]:
    if "outcome" not in ev:
        return []
    fatal_outcome = ev["outcome"].astype("string").str.lower().eq("fatal").fillna(False)
    k1, k2 = int((fatal_outcome & (ev["grade"] != 5)).sum()), int((~fatal_outcome & (ev["grade"] == 5)).sum())
    notes = [f"{k1} events have outcome 'fatal' but a grade other than 5; .fatal counts grade 5 only."] if k1 else []
    return notes + ([f"{k2} grade 5 events have an outcome other than 'fatal'."] if k2 else [])


# ---------------------------------------------------------------- public API
def ae_tables(
    ae: pd.DataFrame,
    patients: pd.DataFrame,
    *,
    drugs: list[str] | tuple[str, ...] | None = None,
    window: tuple[str, str | None, int] | bool | None = None,
    conventions: Conventions | None = None,
) -> AETables:
    """AE tables by term, category, attribution, seriousness and fatality.

    ``patients`` is the safety population (denominator of every patient
    percentage). ``drugs`` defaults to the drug names found in ``related_to``
    (alphabetical). ``window``: None applies the spec default (treatment start
    to end + 30 days) when the dates exist; ``False`` keeps every event;
    ``(start_col, end_col, days)`` sets it (``end_col=None``: no upper bound).
    ``conventions`` is accepted for a uniform signature; no CI is computed here.
    """
    ev = _prepare(ae, patients)
    ev, excluded, window_text, notes = _apply_window(ev, patients, window)
    # integer patient codes: the many groupbys below factorize them much faster than text
    ev = ev.assign(patient_id=pd.factorize(ev["patient_id"])[0])
    drugs = tuple(d.strip().lower() for d in drugs) if drugs is not None else _default_drugs(ev)
    n_events, n_patients = len(ev), int(len(patients))
    keys = ["category", "term"]
    terms = _term_grid(ev)
    by_term = _grade_table(ev, keys, terms, n_events, n_patients)
    cats = sorted(ev["category"].unique(), key=lambda c: (_category_rank(c), c))
    cat_grid = pd.DataFrame({"category": [*cats, ANY_AE]})
    by_category = _grade_table(pd.concat([ev, _overall(ev)], ignore_index=True), ["category"], cat_grid,
                               n_events, n_patients)
    tables = dict(
        by_term=by_term, by_category=by_category, by_drug=_by_drug(ev, drugs, terms, n_events, n_patients),
        serious=_serious(ev, n_events, n_patients), fatal=_fatal(ev, n_events, n_patients),
    )
    for name, t in tables.items():
        t.attrs["denominator"] = (f"events: all {n_events} AE events kept; patients: all {n_patients} patients "
                                  "in the safety population")
    # report excluded rows as the user gave them, not our normalised copy
    excluded = ae.reset_index(drop=True).loc[excluded.index].assign(reason=excluded["reason"])
    return AETables(**tables, excluded=excluded.reset_index(drop=True), drugs=drugs,
                    n_patients=n_patients, n_events=n_events, window=window_text,
                    notes=tuple(notes + _consistency_notes(ev)))


__all__ = ["AETables", "ANY_AE", "BANDS", "ae_tables"]
