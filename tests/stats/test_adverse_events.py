"""ae_tables on small AE tables counted by hand (expected values in comments)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwestudy.stats.adverse_events import ANY_AE, BANDS, ae_tables

NEUT, ANEM, FATIG, LUNG = "Neutrophil count decreased", "Anemia", "Fatigue", "Lung infection"
H, X = "hematologic", "extra-hematologic"
LEN, TAF, BOTH = "lenalidomide", "tafasitamab", "tafasitamab+lenalidomide"

# 5 patients (safety population); P5 has no AE. 8 events:
#  #  patient term    category grade related            serious
#  1  P1      NEUT    H        2     lenalidomide        no
#  2  P1      NEUT    H        4     tafa+lena           yes
#  3  P2      NEUT    H        3     lenalidomide        no
#  4  P2      ANEM    H        NA    none                NA
#  5  P3      FATIG   X        1     tafasitamab         no
#  6  P3      FATIG   X        2     tafasitamab         no
#  7  P4      LUNG    X        5     none                yes   (fatal)
#  8  P4      ANEM    H        2     lenalidomide        no
AE = pd.DataFrame({
    "patient_id": ["P1", "P1", "P2", "P2", "P3", "P3", "P4", "P4"],
    "term": [NEUT, NEUT, NEUT, ANEM, FATIG, FATIG, LUNG, ANEM],
    "category": [H, H, H, H, X, X, X, H],
    "grade": pd.array([2, 4, 3, None, 1, 2, 5, 2], dtype="Int64"),
    "related_to": pd.array([LEN, BOTH, LEN, "none", TAF, TAF, "none", LEN], dtype="string"),
    "serious": pd.array([False, True, False, None, False, False, True, False], dtype="boolean"),
    "outcome": ["resolved", "resolved", "resolved", "ongoing", "resolved", "resolved", "fatal", "resolved"],
})
PATIENTS = pd.DataFrame({"patient_id": ["P1", "P2", "P3", "P4", "P5"]})


@pytest.fixture(scope="module")
def tables():
    return ae_tables(AE, PATIENTS, window=False)


def _counts(table, keys, value):
    """{band: value} for the rows matching keys (dict of column -> value)."""
    sel = table
    for col, v in keys.items():
        sel = sel[sel[col] == v]
    return dict(zip(sel["grade_band"], sel[value]))


def test_worst_grade_per_patient(tables):
    # NEUT events: grades 2, 4 (P1) and 3 (P2) -> events 1-2: 1, 3: 1, 4: 1, >=3: 2, any 3.
    # Patients at worst grade: P1 -> 4, P2 -> 3: 1-2: 0, 3: 1, 4: 1, >=3: 2, any 2.
    key = {"term": NEUT}
    assert _counts(tables.by_term, key, "events") == {"any": 3, "1-2": 1, ">=3": 2, "3": 1, "4": 1, "5": 0,
                                                      "grade NA": 0}
    assert _counts(tables.by_term, key, "patients") == {"any": 2, "1-2": 0, ">=3": 2, "3": 1, "4": 1, "5": 0,
                                                        "grade NA": 0}


def test_two_events_same_term_once_per_patient_twice_per_event(tables):
    # P3 has Fatigue grade 1 and grade 2: 2 events (25% of 8), 1 patient (20% of 5) at grade 2.
    row = tables.by_term[(tables.by_term.term == FATIG) & (tables.by_term.grade_band == "any")].iloc[0]
    assert (row.events, row.patients) == (2, 1)
    assert (row.denominator_events, row.denominator_patients) == (8, 5)
    assert row.pct_events == pytest.approx(25.0) and row.pct_patients == pytest.approx(20.0)
    assert _counts(tables.by_term, {"term": FATIG}, "patients")["1-2"] == 1


def test_na_grade_is_its_own_band(tables):
    # Anemia: P2 grade NA (only event), P4 grade 2 -> events NA 1, 1-2 1; patients NA 1, 1-2 1, any 2.
    assert _counts(tables.by_term, {"term": ANEM}, "events")["grade NA"] == 1
    pts = _counts(tables.by_term, {"term": ANEM}, "patients")
    assert (pts["grade NA"], pts["1-2"], pts["any"]) == (1, 1, 2)


def test_by_term_shape_and_order(tables):
    assert set(tables.by_term.term) == {NEUT, ANEM, FATIG, LUNG}
    assert len(tables.by_term) == 4 * len(BANDS)
    # hematologic first, then most patients: NEUT (2) and ANEM (2) by name, then FATIG (1), LUNG (1)
    assert list(tables.by_term.term.drop_duplicates()) == [ANEM, NEUT, FATIG, LUNG]
    assert tables.by_term.attrs["denominator"].startswith("events: all 8")


def test_by_category(tables):
    t = tables.by_category
    # hematologic: events 1,2,3,4,8 = 5; patients P1 (worst 4), P2 (worst known 3; Anemia NA does not
    # count when a graded event exists), P4 (2) -> any 3, 1-2 1, >=3 2, 3 1, 4 1, NA 0
    assert _counts(t, {"category": H}, "events") == {"any": 5, "1-2": 2, ">=3": 2, "3": 1, "4": 1, "5": 0,
                                                     "grade NA": 1}
    assert _counts(t, {"category": H}, "patients") == {"any": 3, "1-2": 1, ">=3": 2, "3": 1, "4": 1, "5": 0,
                                                       "grade NA": 0}
    # extra-hematologic: P3 (worst 2), P4 (5)
    assert _counts(t, {"category": X}, "patients") == {"any": 2, "1-2": 1, ">=3": 1, "3": 0, "4": 0, "5": 1,
                                                       "grade NA": 0}
    # any AE: P1 4, P2 3, P3 2, P4 5 -> 4 of 5 patients (80%), P5 counted in the denominator only
    assert _counts(t, {"category": ANY_AE}, "patients") == {"any": 4, "1-2": 1, ">=3": 3, "3": 1, "4": 1, "5": 1,
                                                            "grade NA": 0}
    assert _counts(t, {"category": ANY_AE}, "pct_patients")["any"] == pytest.approx(80.0)
    assert _counts(t, {"category": ANY_AE}, "events")["any"] == 8
    assert list(t.category.drop_duplicates()) == [H, X, ANY_AE]


def test_attribution_overall(tables):
    d = tables.by_drug
    assert tables.drugs == (LEN, TAF)  # default: names found in related_to, alphabetical
    overall = d[(d.term == ANY_AE) & (d.grade_band == "any")].set_index("attribution")
    # events: lenalidomide 1,2,3,8; lena only 1,3,8; tafasitamab 2,5,6; tafa only 5,6; both 2;
    # any drug 1,2,3,5,6,8; none 4,7; not recorded none.
    # patients: lena P1,P2,P4; lena only P1,P2,P4; tafa P1,P3; tafa only P3; both P1;
    # any drug P1-P4; none P2,P4.
    expected = {LEN: (4, 3), f"{LEN} only": (3, 3), TAF: (3, 2), f"{TAF} only": (2, 1),
                f"{LEN}+{TAF}": (1, 1), "any drug": (6, 4), "none": (2, 2), "attribution NA": (0, 0)}
    got = {a: (int(r.events), int(r.patients)) for a, r in overall.iterrows()}
    assert got == expected
    assert (overall.denominator_events == 8).all() and (overall.denominator_patients == 5).all()


def test_attribution_per_term_and_grade(tables):
    d = tables.by_drug
    # NEUT related to lenalidomide (alone or combo): events 1,2,3 -> 3; patients P1 (worst 4), P2 (3)
    assert _counts(d, {"attribution": LEN, "term": NEUT}, "events")["any"] == 3
    assert _counts(d, {"attribution": LEN, "term": NEUT}, "patients")[">=3"] == 2
    # NEUT lenalidomide only: events 1 (grade 2, P1) and 3 (grade 3, P2): P1 now counts at grade 2
    pts = _counts(d, {"attribution": f"{LEN} only", "term": NEUT}, "patients")
    assert (pts["1-2"], pts[">=3"], pts["any"]) == (1, 1, 2)
    # every term appears under every attribution (zeros included): FATIG has no lenalidomide events
    assert _counts(d, {"attribution": LEN, "term": FATIG}, "events")["any"] == 0
    assert d.attribution_rule.str.len().gt(0).all()


def test_explicit_drug_order_names_combination():
    t = ae_tables(AE, PATIENTS, drugs=["Tafasitamab", "lenalidomide"], window=False)
    assert t.drugs == (TAF, LEN)
    both = t.by_drug[(t.by_drug.attribution == f"{TAF}+{LEN}") & (t.by_drug.term == ANY_AE)
                     & (t.by_drug.grade_band == "any")]
    assert int(both.events.iloc[0]) == 1


def test_serious_and_fatal(tables):
    s = tables.serious.set_index(["term", "serious"])
    # SAEs: event 2 (NEUT, P1), event 7 (LUNG, P4); event 4 (ANEM) has seriousness not recorded
    assert (s.loc[(NEUT, "yes"), "events"], s.loc[(LUNG, "yes"), "patients"]) == (1, 1)
    assert s.loc[(ANEM, "serious NA"), "events"] == 1
    assert (s.loc[(ANY_AE, "yes"), "events"], s.loc[(ANY_AE, "yes"), "patients"]) == (2, 2)
    assert s.loc[(ANY_AE, "yes"), "pct_patients"] == pytest.approx(40.0)
    assert FATIG not in s.index.get_level_values("term")  # no SAE, no NA: not listed
    f = tables.fatal.set_index("term")
    assert (f.loc[LUNG, "events"], f.loc[LUNG, "patients"], f.loc[LUNG, "related_to"]) == (1, 1, "none")
    assert f.loc[ANY_AE, "events"] == 1 and f.loc[ANY_AE, "denominator_patients"] == 5


def test_summary_states_denominators(tables):
    text = tables.summary()
    assert "5 patients" in text and "8 AE events" in text
    assert "4 patients (80.0%) had 8 AEs" in text


def test_yes_no_strings_and_float_grades_accepted():
    raw = AE.assign(serious=["no", "yes", "no", None, "no", "NO", "Yes", "n"],
                    grade=[2.0, 4.0, 3.0, np.nan, 1.0, 2.0, 5.0, 2.0], related_to=AE.related_to.astype(object))
    t = ae_tables(raw, PATIENTS, window=False)
    pd.testing.assert_frame_equal(t.by_term, ae_tables(AE, PATIENTS, window=False).by_term)
    assert t.serious.set_index(["term", "serious"]).loc[(ANY_AE, "yes"), "events"] == 2


# ------------------------------------------------------------------- window
def _window_data():
    patients = pd.DataFrame({
        "patient_id": ["P1", "P2", "P3"],
        "treatment_start_date": pd.to_datetime(["2023-01-10", "2023-02-01", "2023-03-01"]),
        "treatment_end_date": pd.to_datetime(["2023-03-01", None, "2023-04-01"]),
    })
    ae = pd.DataFrame({
        "patient_id": ["P1", "P1", "P1", "P1", "P2", "P3", "P3"],
        "term": [NEUT, NEUT, ANEM, FATIG, FATIG, FATIG, LUNG],
        "category": [H, H, H, X, X, X, X],
        "grade": [3, 2, 1, 2, 1, 2, 3],
        # P1: day before start (out), end + 30 = 2023-03-31 (in), end + 31 (out), no date (kept)
        # P2: no end date (ongoing) -> only the lower bound applies (kept)
        # P3: start day (in), 2023-05-02 = end + 31 (out)
        "onset_date": pd.to_datetime(["2023-01-09", "2023-03-31", "2023-04-01", None, "2024-06-01",
                                      "2023-03-01", "2023-05-02"]),
        "related_to": ["lenalidomide"] * 7,
        "serious": ["no"] * 7,
    })
    return ae, patients


def test_default_window_excludes_with_reason():
    ae, patients = _window_data()
    t = ae_tables(ae, patients)  # default: start to end + 30 days, since the columns exist
    assert t.window == "treatment_start_date to treatment_end_date + 30 days"
    assert t.n_events == 4 and len(t.excluded) == 3  # nothing lost: 4 kept + 3 excluded = 7
    reasons = dict(zip(zip(t.excluded.patient_id, t.excluded.term), t.excluded.reason))
    assert reasons == {("P1", NEUT): "onset before treatment_start_date",
                       ("P1", ANEM): "onset more than 30 days after treatment_end_date",
                       ("P3", LUNG): "onset more than 30 days after treatment_end_date"}
    # kept NEUT event is the grade 2 one (P1, on end + 30 days)
    assert _counts(t.by_term, {"term": NEUT}, "events") == {"any": 1, "1-2": 1, ">=3": 0, "3": 0, "4": 0,
                                                            "5": 0, "grade NA": 0}
    assert LUNG not in set(t.by_term.term)
    assert any("onset date" in n for n in t.notes) and any("treatment_end_date" in n for n in t.notes)
    assert "Excluded" in t.summary()
    assert set(t.by_term.denominator_patients) == {3}


def test_explicit_window_days_and_off():
    ae, patients = _window_data()
    wide = ae_tables(ae, patients, window=("treatment_start_date", "treatment_end_date", 31))
    assert len(wide.excluded) == 1  # only the pre-start event; end + 31 days is inside
    off = ae_tables(ae, patients, window=False)
    assert off.n_events == 7 and off.excluded.empty
    with pytest.raises(ValueError, match="window"):
        ae_tables(ae, patients, window=("start", "treatment_end_date", 30))


# --------------------------------------------------------------- validation
def test_unknown_patient_and_bad_grade_raise():
    with pytest.raises(ValueError, match="not in patients"):
        ae_tables(AE, PATIENTS[PATIENTS.patient_id != "P4"], window=False)
    with pytest.raises(ValueError, match="grade"):
        ae_tables(AE.assign(grade=[2, 4, 3, 6, 1, 2, 5, 2]), PATIENTS, window=False)


def test_no_events_still_gives_zero_rows():
    t = ae_tables(AE.iloc[:0], PATIENTS, window=False)
    anyae = t.by_category[t.by_category.category == ANY_AE]
    assert list(anyae.grade_band) == list(BANDS) and (anyae.patients == 0).all()
    assert t.by_term.empty
    assert "Serious AEs: 0 events" in t.summary()


def test_demo_study_invariants(demo_tables):
    t = ae_tables(demo_tables["adverse_events"], demo_tables["patients"])
    n_kept = len(demo_tables["adverse_events"]) - len(t.excluded)
    assert t.n_events == n_kept
    wide = t.by_term.pivot_table(index=["category", "term"], columns="grade_band", values="patients")
    # per patient, worst-grade bands partition "any"; events sum over terms to the total
    assert (wide["1-2"] + wide[">=3"] + wide["grade NA"] == wide["any"]).all()
    assert (wide[">=3"] == wide["3"] + wide["4"] + wide["5"]).all()
    assert t.by_term.query("grade_band == 'any'").events.sum() == n_kept
    assert (t.by_term.denominator_patients == len(demo_tables["patients"])).all()


def test_fatal_outcome_without_grade_5_is_noted_not_reclassified():
    # event 1 (P1, NEUT grade 2) marked fatal: .fatal still counts grade 5 only (1 event), a note says so
    t = ae_tables(AE.assign(outcome=["fatal"] + list(AE.outcome[1:])), PATIENTS, window=False)
    assert t.fatal.set_index("term").loc[ANY_AE, "events"] == 1
    assert any("outcome 'fatal' but a grade other than 5" in n for n in t.notes)
