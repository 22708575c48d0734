"""The Lugano 2014 classification in the analysis: agreement with the recorded responses, and the
plan's ``[response] source = "lugano"`` (responses and progression dates from the time points).

Two hand-worked patients (tests/endpoints/test_lugano.py ``_two_patients``):
A: PET-CT Deauville 5 -> 4 decreased (PMR, Feb) -> 1 at end of treatment (CMR, Mar): best CR, final CR.
B: CT SPD 1800 -> 910 at end of treatment (-49%: SD, Feb) -> new lesion (PD, 2022-03-01): best SD,
   final SD (the PD comes after the end-of-treatment scan), progression 2022-03-01.
"""
import dataclasses

import pandas as pd
import pytest

from rwestudy.analysis.lugano_agreement import cohen_kappa
from rwestudy.analysis.plan import Plan
from rwestudy.analysis.run import analyze
from tests.endpoints.test_lugano import _study, _two_patients

PLAN = Plan(factors=[], post_baseline=[], baseline=[], response_outcomes=[],
            center_methods=[])


def test_kappa_by_hand():
    # 50 pairs: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no. p_o = 35/50 = 0.7;
    # p_e = (25*30 + 25*20) / 50^2 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4.
    t = pd.DataFrame([[20, 5], [10, 15]], index=["yes", "no"], columns=["yes", "no"])
    assert cohen_kappa(t) == pytest.approx(0.4, rel=1e-12)


@pytest.fixture
def study(tmp_path):
    patients, a = _two_patients()
    patients.loc[0, "best_response"] = "PR"                            # A reached CMR in March
    patients.loc[1, "progression_date"] = pd.Timestamp("2022-04-01")  # imaging: 2022-03-01
    return _study(tmp_path, patients, a)


def test_agreement_table_counts_the_patients(study):
    r = analyze(study, PLAN)
    s = r.table("lugano_summary").set_index("measure")
    # best: A PR vs CR (disagree), B SD vs SD: 1/2; rows PR, SD; columns CR, SD.
    # p_o = 1/2, p_e = (PR 1 x 0 + SD 1 x 1 + CR 0 x 1) / 4 = 1/4, kappa = (1/2 - 1/4) / (3/4) = 1/3.
    assert (s.loc["best_response", "n"], s.loc["best_response", "agree"]) == (2, 1)
    assert s.loc["best_response", "kappa"] == pytest.approx(1 / 3, rel=1e-12)
    # final: CR/CR and SD/SD: p_o = 1, p_e = 2/4, kappa = 1.
    assert s.loc["final_response", "agreement"] == 1.0 and s.loc["final_response", "kappa"] == pytest.approx(1.0)
    a = r.table("lugano_agreement")
    best = a[a["measure"] == "best_response"]
    assert set(zip(best["recorded"], best["lugano"], best["n"])) == {("PR", "CR", 1), ("SD", "SD", 1)}
    assert "patient_id" not in a.columns


def test_recorded_is_the_default_source(study):
    ep = analyze(study, PLAN).endpoints
    assert ep.patients.set_index("patient_id").loc["A", "best_response"] == "PR"
    pfs = ep.endpoint("PFS").set_index("patient_id")
    assert pfs.loc["B", "time"] == pytest.approx(81 / 30.4375, rel=1e-12)   # 2022-01-10 -> 2022-04-01


def test_lugano_source_takes_the_time_points(study):
    r = analyze(study, dataclasses.replace(PLAN, response_source="lugano"))
    p = r.endpoints.patients.set_index("patient_id")
    assert p.loc["A", "best_response"] == "CR" and p.loc["A", "best_response_source"] == "lugano"
    assert bool(p.loc["A", "cr_best"]) and p.loc["A", "cr_date"] == pd.Timestamp("2022-03-01")
    assert p.loc["A", "first_response_date"] == pd.Timestamp("2022-02-01")   # the PMR
    pfs = r.endpoints.endpoint("PFS").set_index("patient_id")
    assert pfs.loc["B", "time"] == pytest.approx(50 / 30.4375, rel=1e-12)   # 2022-01-10 -> 2022-03-01
    assert pfs.loc["B", "event"] == 1
    notes = " ".join(r.table("notes")["note"])
    assert "Lugano 2014 classification" in notes and "2 patients changed" in notes


def test_demo_agrees_fully(demo_tables, tmp_path):
    # The demo's assessments are generated to reproduce its recorded responses
    # (tests/endpoints/test_lugano.py checks that patient by patient): agreement 1, kappa 1.
    import rwestudy
    from tests.conftest import write_csvs

    r = analyze(rwestudy.load_study(write_csvs(demo_tables, tmp_path / "csv")), PLAN)
    s = r.table("lugano_summary")
    assert len(s) == 2 and (s["agreement"] == 1.0).all(), s
    assert s["kappa"].tolist() == pytest.approx([1.0, 1.0], rel=1e-12)
