"""Endpoint derivation: hand-checked oracles on tiny tables, and the patient flow.

Every expected number below is computed by hand in the comment next to it
(months = days / 30.4375, years = days / 365.25); none comes from running
rwestudy.
"""
from __future__ import annotations

import pandas as pd
import pytest

from rwestudy.endpoints import ENDPOINTS, derive_endpoints

D = pd.Timestamp
NAT = pd.NaT


def patients(*rows: dict) -> pd.DataFrame:
    """A patients table; the index plays the source row number (header = row 1)."""
    frame = pd.DataFrame(list(rows))
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="row")
    if "center" not in frame.columns:
        frame["center"] = "C01"
    for col in frame.columns:
        if col.endswith("_date"):
            frame[col] = pd.to_datetime(frame[col])
    return frame


def table(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for col in frame.columns:
        if col.endswith("date") or col == "date":
            frame[col] = pd.to_datetime(frame[col])
    return frame


def row(ep, endpoint: str, pid: str) -> pd.Series:
    sel = ep.time_to_event.query("endpoint == @endpoint and patient_id == @pid")
    assert len(sel) == 1, f"{endpoint}/{pid}: {len(sel)} rows"
    return sel.iloc[0]


def patient(ep, pid: str) -> pd.Series:
    return ep.patients.set_index("patient_id").loc[pid]


def reasons(ep, endpoint: str) -> dict[str, str]:
    ex = ep.exclusions.loc[ep.exclusions["endpoint"] == endpoint]
    return dict(zip(ex["patient_id"], ex["reason"]))


START = "2022-01-01"


@pytest.fixture
def basic():
    pts = patients(
        # A: progression day 90, death day 182.
        dict(patient_id="A", treatment_start_date=START, progression_date="2022-04-01",
             death_date="2022-07-02", last_contact_date="2022-07-02", best_response="PR",
             first_response_date="2022-02-01", next_treatment_date="2022-05-01"),
        # B: alive, no progression, last contact 2023-01-01 (365 days).
        dict(patient_id="B", treatment_start_date=START, last_contact_date="2023-01-01",
             best_response="CR", first_response_date="2022-02-01", cr_date="2022-03-01"),
        # C: dies on day 60 without progression; best SD.
        dict(patient_id="C", treatment_start_date=START, death_date="2022-03-02",
             last_contact_date="2022-03-02", best_response="SD"),
        # E: CR on 2022-03-01, relapse 2022-09-01, alive at 2023-06-01.
        dict(patient_id="E", treatment_start_date=START, best_response="CR", first_response_date="2022-03-01",
             cr_date="2022-03-01", progression_date="2022-09-01", last_contact_date="2023-06-01"),
        # F: dies on the day of the first dose: time 0 is allowed.
        dict(patient_id="F", treatment_start_date=START, death_date=START, last_contact_date=START,
             best_response="NE"),
    )
    return {"patients": pts}


def test_os(basic):
    ep = derive_endpoints(basic)
    a = row(ep, "OS", "A")
    # 2022-01-01 -> 2022-07-02 = 182 days / 30.4375 = 5.97947 months, death
    assert a["time"] == pytest.approx(182 / 30.4375) and a["time"] == pytest.approx(5.97947, abs=1e-5)
    assert a["event"] == 1 and a["reason"] == "death"
    b = row(ep, "OS", "B")
    # 2022-01-01 -> 2023-01-01 = 365 days = 11.99179 months, censored
    assert b["time"] == pytest.approx(11.99179, abs=1e-5)
    assert b["event"] == 0 and b["reason"] == "censored at last contact"
    assert b["end_date"] == D("2023-01-01")
    f = row(ep, "OS", "F")
    assert f["time"] == 0 and f["event"] == 1  # time 0 kept


def test_pfs_first_of_progression_or_death(basic):
    ep = derive_endpoints(basic)
    a = row(ep, "PFS", "A")
    # progression 2022-04-01 = day 90 (31 + 28 + 31) -> 90 / 30.4375 = 2.95688
    assert a["time"] == pytest.approx(2.95688, abs=1e-5)
    assert (a["event"], a["reason"]) == (1, "progression")
    c = row(ep, "PFS", "C")
    # death 2022-03-02 = day 60 (31 + 28 + 1) -> 1.97125, no progression
    assert c["time"] == pytest.approx(1.97125, abs=1e-5)
    assert (c["event"], c["reason"]) == (1, "death")
    b = row(ep, "PFS", "B")
    assert (b["event"], b["reason"]) == (0, "censored at last contact")


def test_dor_population_and_time(basic):
    ep = derive_endpoints(basic)
    dor = ep.endpoint("DoR")
    assert set(dor["patient_id"]) == {"A", "B", "E"}  # best CR/PR only
    a = row(ep, "DoR", "A")
    # first response 2022-02-01 -> progression 2022-04-01 = 28 + 31 = 59 days = 1.93840
    assert a["time"] == pytest.approx(1.93840, abs=1e-5) and a["event"] == 1
    why = reasons(ep, "DoR")
    assert why["C"] == "not a responder (best response SD)"
    assert why["F"] == "not a responder (best response NE)"


def test_dfs_population_and_time(basic):
    ep = derive_endpoints(basic)
    assert set(ep.endpoint("DFS")["patient_id"]) == {"B", "E"}  # best CR only
    e = row(ep, "DFS", "E")
    # CR 2022-03-01 -> relapse 2022-09-01 = 184 days = 6.04517 months
    assert e["time"] == pytest.approx(6.04517, abs=1e-5)
    assert (e["event"], e["reason"]) == (1, "relapse")
    assert reasons(ep, "DFS")["A"] == "no complete response (best response PR)"


def test_ttnt_from_column_and_from_subsequent_therapies(basic):
    ep = derive_endpoints(basic)
    a = row(ep, "TTNT", "A")
    # next line 2022-05-01 = day 120 -> 3.94251 months, before death on day 182
    assert a["time"] == pytest.approx(3.94251, abs=1e-5)
    assert (a["event"], a["reason"]) == (1, "next treatment")
    c = row(ep, "TTNT", "C")
    assert (c["event"], c["reason"]) == (1, "death")
    # E has no next_treatment_date: the subsequent_therapies row (2022-05-01) is used.
    tables = dict(basic, subsequent_therapies=table([{"patient_id": "E", "start_date": "2022-05-01"}]))
    e = row(derive_endpoints(tables), "TTNT", "E")
    assert e["time"] == pytest.approx(3.94251, abs=1e-5) and e["event"] == 1


def test_cutoff_censors_later_events(basic):
    ep = derive_endpoints(basic, cutoff="2022-06-30")
    a = row(ep, "OS", "A")
    # death 2022-07-02 is after the cut-off: censored at 2022-06-30 = day 180 = 5.91376
    assert a["time"] == pytest.approx(5.91376, abs=1e-5)
    assert (a["event"], a["reason"]) == (0, "censored at data cut-off")
    # progression on day 90 is before the cut-off: unchanged
    assert row(ep, "PFS", "A")["event"] == 1
    assert any("cut-off 2022-06-30" in rule for rule in ep.censoring)


def test_days_per_month_is_a_parameter(basic):
    ep = derive_endpoints(basic, days_per_month=30.0)
    # 182 days / 30 = 6.06667
    assert row(ep, "OS", "A")["time"] == pytest.approx(6.06667, abs=1e-5)


# --- refractoriness ---------------------------------------------------------

def refractory_study():
    pts = patients(*[dict(patient_id=p, treatment_start_date=START, last_contact_date="2023-01-01")
                     for p in ("PD1", "EARLY", "LATE", "NOREL", "TWO")])
    lines = table([
        # PD to line 1 -> primary refractory
        dict(patient_id="PD1", line=1, best_response="PD", start_date="2020-01-01", end_date="2020-06-30"),
        # CR, end 2020-06-30, relapse 2020-11-30 = 153 days = 5.03 months (<= 6) -> refractory
        dict(patient_id="EARLY", line=1, best_response="CR", start_date="2020-01-01", end_date="2020-06-30",
             relapse_date="2020-11-30"),
        # CR, relapse 2021-02-28 = 243 days = 7.98 months (> 6) -> not refractory
        dict(patient_id="LATE", line=1, best_response="CR", start_date="2020-01-01", end_date="2020-06-30",
             relapse_date="2021-02-28"),
        # CR with no relapse date: cannot tell -> NA
        dict(patient_id="NOREL", line=1, best_response="CR", start_date="2020-01-01", end_date="2020-06-30"),
        # line 1 not refractory (7.98 months), line 2 PD ended 2021-12-01; a "line 3" that
        # starts after the study start is not a prior line.
        dict(patient_id="TWO", line=1, best_response="CR", start_date="2020-01-01", end_date="2020-06-30",
             relapse_date="2021-02-28", asct=False),
        dict(patient_id="TWO", line=2, best_response="PD", start_date="2021-09-01", end_date="2021-12-01",
             asct=True),
        dict(patient_id="TWO", line=3, best_response="CR", start_date="2022-02-01", end_date="2022-03-01"),
    ])
    lines["asct"] = lines["asct"].astype("boolean")
    return {"patients": pts, "prior_lines": lines}


def test_refractoriness_rules():
    ep = derive_endpoints(refractory_study())
    assert patient(ep, "PD1")["primary_refractory"] == True  # noqa: E712 (nullable boolean)
    assert patient(ep, "EARLY")["primary_refractory"] == True  # noqa: E712
    assert patient(ep, "LATE")["primary_refractory"] == False  # noqa: E712
    assert pd.isna(patient(ep, "NOREL")["primary_refractory"])
    two = patient(ep, "TWO")
    assert two["primary_refractory"] == False  # noqa: E712
    assert two["refractory_last_line"] == True  # noqa: E712 (line 2 = PD; line 3 is after the start)
    assert two["n_prior_lines"] == 2
    # end of line 2 2021-12-01 -> start 2022-01-01 = 31 days = 1.01848 months
    assert two["months_from_last_therapy"] == pytest.approx(1.01848, abs=1e-5)
    assert two["prior_asct"] == True  # noqa: E712 (from prior_lines, patient column empty)
    # one line: the last line is the first line
    assert patient(ep, "EARLY")["refractory_last_line"] == True  # noqa: E712


def test_patient_columns_win_and_first_line_outcome_fallback():
    tables = refractory_study()
    tables["patients"]["prior_asct"] = pd.array([pd.NA, pd.NA, pd.NA, pd.NA, False], dtype="boolean")
    tables["patients"]["first_line_outcome"] = ["relapsed", "relapsed", "refractory", "refractory", "relapsed"]
    ep = derive_endpoints(tables)
    assert patient(ep, "TWO")["prior_asct"] == False  # noqa: E712 (patient column given)
    # NOREL: line 1 gives NA, so first_line_outcome decides
    assert patient(ep, "NOREL")["primary_refractory"] == True  # noqa: E712
    assert patient(ep, "NOREL")["primary_refractory_source"] == "first_line_outcome"
    assert patient(ep, "LATE")["primary_refractory_source"] == "prior_lines"
    # without prior_lines: first_line_outcome only, line-based columns NA, a note says why
    ep = derive_endpoints({"patients": tables["patients"]})
    assert patient(ep, "LATE")["primary_refractory"] == True  # noqa: E712
    assert ep.patients["refractory_last_line"].isna().all()
    assert ep.patients["n_prior_lines"].isna().all()
    assert any("prior_lines" in n for n in ep.notes)


# --- best response ----------------------------------------------------------

def test_best_response_from_responses_table():
    pts = patients(
        dict(patient_id="P", treatment_start_date=START, last_contact_date="2023-01-01", best_response="PR"),
        dict(patient_id="Q", treatment_start_date=START, last_contact_date="2023-01-01"),
        dict(patient_id="R", treatment_start_date=START, last_contact_date="2023-01-01"),
        dict(patient_id="S", treatment_start_date=START, last_contact_date="2023-01-01", best_response="SD"),
        dict(patient_id="T", treatment_start_date=START, last_contact_date="2023-01-01",
             next_treatment_date="2022-06-01"),
    )
    resp = table([
        dict(patient_id="P", date="2022-02-01", response="PR"),
        dict(patient_id="P", date="2022-04-01", response="CR"),
        dict(patient_id="P", date="2022-08-01", response="PD"),   # PR, CR, PD -> CR
        dict(patient_id="Q", date="2022-02-01", response="NE"),
        dict(patient_id="Q", date="2022-04-01", response="SD"),   # NE only when nothing else -> SD
        dict(patient_id="R", date="2021-12-01", response="CR"),   # before the start: not on treatment
        dict(patient_id="R", date="2022-02-01", response="NE"),   # -> NE
        dict(patient_id="T", date="2022-03-01", response="SD"),
        dict(patient_id="T", date="2022-07-01", response="CR"),   # after the next line: not this regimen's
    ])
    ep = derive_endpoints({"patients": pts, "responses": resp})
    p = patient(ep, "P")
    assert p["best_response"] == "CR" and p["best_response_source"] == "responses"
    assert p["best_response_reported"] == "PR"
    assert p["first_response_date"] == D("2022-02-01") and p["cr_date"] == D("2022-04-01")
    assert patient(ep, "Q")["best_response"] == "SD"
    assert patient(ep, "R")["best_response"] == "NE"
    s = patient(ep, "S")  # no assessment: the reported value is kept
    assert s["best_response"] == "SD" and s["best_response_source"] == "patients"
    assert patient(ep, "T")["best_response"] == "SD"
    # ORR: CR + PR over all; NE / NA count as non-responders
    assert list(ep.patients["orr_best"]) == [True, False, False, False, False]
    assert list(ep.patients["cr_best"]) == [True, False, False, False, False]
    # DoR for P starts at the first PR from the table, 2022-02-01 -> PD? no progression_date: censored
    dor = row(ep, "DoR", "P")
    # 2022-02-01 -> last contact 2023-01-01 = 334 days = 10.97331 months
    assert dor["time"] == pytest.approx(334 / 30.4375) and dor["event"] == 0


def test_final_response_flags():
    pts = patients(*[dict(patient_id=p, treatment_start_date=START, last_contact_date="2023-01-01",
                          final_response=r) for p, r in (("a", "CR"), ("b", "PR"), ("c", "PD"), ("d", None))])
    ep = derive_endpoints({"patients": pts})
    assert list(ep.patients["orr_final"]) == [True, True, False, False]
    assert list(ep.patients["cr_final"]) == [True, False, False, False]


# --- treatment and toxicity --------------------------------------------------

def toxicity_study():
    # treatment 2022-01-01 .. 2022-03-01; AE window ends 2022-03-01 + 30 days = 2022-03-31
    pts = patients(*[dict(patient_id=p, treatment_start_date=START, treatment_end_date="2022-03-01",
                          last_contact_date="2023-01-01") for p in ("IN", "OUT", "LOW", "PRE", "NOONSET", "NONE")])
    ae = table([
        dict(patient_id="IN", grade=3, onset_date="2022-03-31"),       # last day of the window -> counts
        dict(patient_id="IN", grade=4, onset_date="2022-02-10"),       # earliest grade >= 3 in window
        dict(patient_id="OUT", grade=3, onset_date="2022-04-01"),      # day 31 after the end -> outside
        dict(patient_id="LOW", grade=2, onset_date="2022-02-01"),      # grade 2 -> does not count
        dict(patient_id="PRE", grade=4, onset_date="2021-12-31"),      # before the start -> outside
        dict(patient_id="NOONSET", grade=3, onset_date=None),           # cannot place it -> NA
    ])
    treat = table([
        dict(patient_id="IN", drug="tafasitamab", cycles=12, dose_reduced="no", discontinued="no"),
        dict(patient_id="IN", drug="lenalidomide", cycles=6, dose_reduced="yes", reduction_date="2022-02-15",
             discontinued="permanent"),
        dict(patient_id="OUT", drug="lenalidomide", cycles=3, dose_reduced="no", discontinued="temporary"),
    ])
    return {"patients": pts, "adverse_events": ae, "treatment": treat}


def test_toxicity_window():
    ep = derive_endpoints(toxicity_study())
    tox = ep.patients.set_index("patient_id")["toxicity"]
    assert tox["IN"] == True and tox["OUT"] == False and tox["LOW"] == False  # noqa: E712
    assert tox["PRE"] == False and tox["NONE"] == False  # noqa: E712
    assert pd.isna(tox["NOONSET"])
    assert patient(ep, "IN")["first_grade3_ae_date"] == D("2022-02-10")
    assert any("30 days after treatment end" in rule for rule in ep.censoring)
    # a 31-day window takes in 2022-04-01
    wider = derive_endpoints(toxicity_study(), ae_window_days=31)
    assert patient(wider, "OUT")["toxicity"] == True  # noqa: E712


def test_treatment_flags():
    ep = derive_endpoints(toxicity_study())
    a = patient(ep, "IN")
    assert a["dose_reduced"] == True and a["discontinued_permanent"] == True  # noqa: E712
    assert a["reduction_date"] == D("2022-02-15") and a["cycles"] == 12  # max over drugs
    b = patient(ep, "OUT")
    assert b["dose_reduced"] == False and b["discontinued_permanent"] == False  # noqa: E712
    assert b["cycles"] == 3
    assert pd.isna(patient(ep, "LOW")["dose_reduced"])  # no treatment row: unknown


def test_ages():
    pts = patients(dict(patient_id="A", birth_date="1950-01-01", diagnosis_date="2020-01-01",
                        treatment_start_date=START, last_contact_date="2023-01-01", ann_arbor_stage=3, ecog=1),
                   dict(patient_id="B", age_at_start=65.0, treatment_start_date=START,
                        last_contact_date="2023-01-01", ann_arbor_stage=2, ecog=2))
    ep = derive_endpoints({"patients": pts})
    a, b = patient(ep, "A"), patient(ep, "B")
    # 1950-01-01 -> 2020-01-01 = 70 x 365 + 17 leap days = 25567 days / 365.25 = 69.99863
    assert a["age_at_diagnosis"] == pytest.approx(69.99863, abs=1e-5) and a["age_ge70_diagnosis"] == False  # noqa: E712
    # 1950-01-01 -> 2022-01-01 = 72 x 365 + 18 = 26298 days / 365.25 = 72.0
    assert a["age_at_start"] == pytest.approx(72.0) and a["age_ge70_start"] == True  # noqa: E712
    assert b["age_at_start"] == 65.0 and pd.isna(b["age_at_diagnosis"]) and pd.isna(b["age_ge70_diagnosis"])
    assert a["stage_3_4"] == True and b["stage_3_4"] == False  # noqa: E712
    assert a["ecog_2_3"] == False and b["ecog_2_3"] == True  # noqa: E712


# --- patient flow -------------------------------------------------------------

def broken_study():
    pts = patients(
        dict(patient_id="A", treatment_start_date=START, death_date="2022-07-02", last_contact_date="2022-07-02",
             best_response="CR", cr_date="2022-03-01", first_response_date="2022-03-01"),
        dict(patient_id="A", treatment_start_date="2022-02-01", last_contact_date="2022-09-01"),  # duplicate
        dict(patient_id="B", treatment_start_date=None, last_contact_date="2022-09-01"),   # no start date
        dict(patient_id="C", treatment_start_date=START, death_date="2021-12-01",          # death before start
             last_contact_date="2021-12-01"),
        dict(patient_id=None, treatment_start_date=START, last_contact_date="2022-09-01"),  # no id
        dict(patient_id="E", treatment_start_date=START, last_contact_date=None),          # no follow-up date
    )
    resp = table([dict(patient_id="A", date="2022-03-01", response="CR"),
                  dict(patient_id="Z", date="2022-03-01", response="PR"),       # unknown patient
                  dict(patient_id=None, date="2022-03-01", response="PR")])     # no id
    return {"patients": pts, "responses": resp}


def test_broken_study_flow_and_reasons():
    ep = derive_endpoints(broken_study())
    summary = ep.flow_summary().set_index("scope")
    # 6 rows: duplicate A (row 3) and the id-less row (row 6) leave the study -> 4 patients
    assert summary.loc["study", ["n_in", "n_excluded", "n_analysed"]].tolist() == [6, 2, 4]
    assert list(ep.patients["patient_id"]) == ["A", "B", "C", "E"]
    assert ep.patients.loc[2, "treatment_start_date"] == D(START)  # the first A row is the one kept
    study = ep.exclusions.query("endpoint == 'study'").set_index("source_row")["reason"]
    assert study[3].startswith("duplicate patient_id (first row kept")
    assert study[6] == "patient_id missing"
    # OS: B no start, C negative time, E no last contact and no death -> only A analysed
    assert summary.loc["OS", ["n_in", "n_excluded", "n_analysed"]].tolist() == [4, 3, 1]
    why = reasons(ep, "OS")
    assert why["B"] == "missing treatment_start_date"
    assert why["C"] == "negative time: death date before treatment_start_date"
    assert why["E"] == "missing last_contact_date and no death date"
    # child table rows: Z and the id-less row ignored, each recorded
    assert summary.loc["responses", ["n_in", "n_excluded", "n_analysed"]].tolist() == [3, 2, 1]
    assert set(reasons(ep, "responses").values()) == {"patient_id not in the patients table",
                                                      "patient_id missing"}
    assert summary["balanced"].all()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_flow_balances_on_broken_study(endpoint):
    ep = derive_endpoints(broken_study())
    n_in = len(ep.patients)
    analysed = (ep.time_to_event["endpoint"] == endpoint).sum()
    excluded = ep.exclusions.query("endpoint == @endpoint")
    assert excluded["patient_id"].is_unique  # one reason per patient
    assert n_in == analysed + len(excluded)
    assert set(excluded["patient_id"]).isdisjoint(ep.endpoint(endpoint)["patient_id"])


def test_demo_flow_balances(demo_tables):
    ep = derive_endpoints(demo_tables)
    s = ep.flow_summary()
    assert s["balanced"].all()
    assert s.set_index("scope").loc["study", "n_analysed"] == len(demo_tables["patients"])
    tte = ep.time_to_event
    assert (tte["time"] >= 0).all() and tte["event"].isin([0, 1]).all()
    assert not tte.duplicated(["patient_id", "endpoint"]).any()
    # DoR only for best CR/PR, DFS only for best CR
    best = ep.patients.set_index("patient_id")["best_response"]
    assert best[ep.endpoint("DoR")["patient_id"]].isin(["CR", "PR"]).all()
    assert best[ep.endpoint("DFS")["patient_id"]].eq("CR").all()


def test_works_on_a_loaded_study(tmp_path, small_tables):
    from rwestudy.io.writers import write_csv_folder
    from rwestudy.study import load_study

    study = load_study(write_csv_folder(small_tables, tmp_path / "study"))
    ep = derive_endpoints(study)
    assert ep.flow_summary()["balanced"].all()
    assert len(ep.patients) == len(small_tables["patients"])
    assert set(ep.time_to_event["endpoint"]) == set(ENDPOINTS)


def test_only_patients_table(basic):
    ep = derive_endpoints(basic)
    for col in ("toxicity", "dose_reduced", "cycles", "n_prior_lines"):
        assert ep.patients[col].isna().all(), col
    for name in ("prior_lines", "responses", "treatment", "adverse_events", "subsequent_therapies"):
        assert any(f"'{name}' is missing" in n for n in ep.notes), name
    assert ep.flow_summary()["balanced"].all()


def test_raw_text_tables_and_absent_columns():
    """A dict of untyped tables (ISO text dates, yes/no text) without optional columns."""
    pts = pd.DataFrame({"patient_id": ["A", "B"], "center": ["C1", "C2"],
                        "treatment_start_date": ["2022-01-01", "2022-01-01"],
                        "death_date": ["2022-07-02", None]})
    treat = pd.DataFrame({"patient_id": ["A", "B"], "drug": ["lenalidomide"] * 2, "dose_reduced": ["Yes", "n"]})
    ep = derive_endpoints({"patients": pts, "treatment": treat})
    # A: 182 days = 5.97947 months, death; B: no last_contact_date column and no death -> excluded
    assert row(ep, "OS", "A")["time"] == pytest.approx(5.97947, abs=1e-5)
    assert reasons(ep, "OS")["B"] == "missing last_contact_date and no death date"
    assert list(ep.patients["dose_reduced"]) == [True, False]
    assert "last_contact_date" in ep.patients.columns  # absent contract columns come back as NA
    assert ep.flow_summary()["balanced"].all()


def test_nat_everywhere_does_not_crash():
    pts = patients(*[dict(patient_id=p, treatment_start_date=None, last_contact_date=None,
                          best_response="CR") for p in ("A", "B")])
    ae = table([dict(patient_id="A", grade=None, onset_date=None)])
    lines = table([dict(patient_id="A", line=None, best_response=None, start_date=None, end_date=None)])
    ep = derive_endpoints({"patients": pts, "adverse_events": ae, "prior_lines": lines})
    assert ep.time_to_event.empty
    assert ep.flow_summary()["balanced"].all()
    assert set(reasons(ep, "DFS").values()) == {"missing cr_date"}


def test_rejects_unusable_input():
    with pytest.raises(ValueError, match="patients"):
        derive_endpoints({"responses": pd.DataFrame()})
    with pytest.raises(TypeError):
        derive_endpoints([1, 2])
