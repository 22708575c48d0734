"""Lugano 2014 time-point response: hand-worked cases from the published criteria.

Expected categories are written from Cheson et al., J Clin Oncol 2014;32:3059, Table 3
(PET-CT 5-point scale; CT: SPD of up to 6 targets, LDi <= 1.5 cm for CR, per-lesion PD
from the PPD nadir), worked by hand in each test's comment, not read off the code.
"""
import pandas as pd
import pytest

import rwestudy
from rwestudy.endpoints.lugano import patient_responses, timepoint_responses
from tests.conftest import write_csvs

START = pd.Timestamp("2022-01-10")


def scans(*rows, patient="P1"):
    """Assessment rows for one patient: a baseline on 2022-01-01, then one scan a month."""
    out = []
    for k, row in enumerate(rows):
        row = dict(row)  # the module's baseline dicts are shared between tests
        r = {"patient_id": patient, "date": pd.Timestamp("2022-01-01") + pd.DateOffset(months=k),
             "timepoint": "baseline" if k == 0 else "interim"}
        for j, lesion in enumerate(row.pop("lesions", []), start=1):
            r[f"target{j}_ldi_mm"], r[f"target{j}_sdi_mm"] = lesion
        r.update(row)
        out.append(r)
    frame = pd.DataFrame(out)
    for c in ("new_lesions", "extranodal_disease"):
        if c in frame:
            frame[c] = frame[c].astype("boolean")
    return frame


def categories(*rows):
    return timepoint_responses(scans(*rows))["category"].tolist()[1:]


PET_BASE = {"modality": "PET-CT", "deauville": "5", "lesions": [(40, 30)]}
CT_BASE = {"modality": "CT", "lesions": [(40, 30), (30, 20)]}  # SPD 1200 + 600 = 1800


# ---- PET-CT, five-point scale ---------------------------------------------------------

def test_deauville_3_with_residual_mass_is_cmr():
    # Score 1-3 "with or without a residual mass" is CMR; the 30 mm mass does not matter.
    assert categories(PET_BASE, {"modality": "PET-CT", "deauville": "3", "lesions": [(30, 25)]}) == ["CMR"]


def test_deauville_4_reduced_with_residual_mass_is_pmr_not_cmr():
    # Score 4 with reduced uptake and a residual mass: PMR (residual disease at end of treatment).
    assert categories(PET_BASE, {"modality": "PET-CT", "deauville": "4", "uptake_vs_baseline": "decreased",
                                 "lesions": [(22, 15)]}) == ["PMR"]


def test_deauville_5_unchanged_is_nmr_and_increased_is_pmd():
    assert categories(PET_BASE, {"modality": "PET-CT", "deauville": "5", "uptake_vs_baseline": "unchanged"}) \
        == ["NMR"]
    assert categories(PET_BASE, {"modality": "PET-CT", "deauville": "4", "uptake_vs_baseline": "increased"}) \
        == ["PMD"]


def test_new_lesion_with_deauville_5_is_pmd_even_with_reduced_uptake():
    # Reduced uptake at the known sites alone would be PMR; a new FDG-avid focus makes it PMD.
    assert categories(PET_BASE, {"modality": "PET-CT", "deauville": "5", "uptake_vs_baseline": "decreased",
                                 "new_lesions": True}) == ["PMD"]


def test_new_marrow_foci_is_pmd_and_residual_marrow_uptake_caps_at_pmr():
    assert categories(PET_BASE, {"modality": "PET-CT", "deauville": "2", "bone_marrow": "new"}) == ["PMD"]
    # Nodal CMR, marrow uptake above normal but reduced from baseline (the PMR marrow row).
    assert categories(PET_BASE, {"modality": "PET-CT", "deauville": "2", "bone_marrow": "reduced"}) == ["PMR"]


def test_deauville_x_or_4_without_uptake_comparison_is_not_evaluable():
    assert categories(PET_BASE, {"modality": "PET-CT", "deauville": "X"},
                      {"modality": "PET-CT", "deauville": "4"}) == ["NE", "NE"]


# ---- CT: SPD, LDi and the nadir --------------------------------------------------------

def test_ct_cr_needs_every_ldi_at_most_15_mm():
    # 15 x 10 and 12 x 8: every LDi <= 15 mm -> CR. 16 x 10 and 12 x 8: SPD 256 <= 900 -> PR.
    assert categories(CT_BASE, {"modality": "CT", "lesions": [(15, 10), (12, 8)]}) == ["CR"]
    assert categories(CT_BASE, {"modality": "CT", "lesions": [(16, 10), (12, 8)]}) == ["PR"]


def test_ct_cr_blocked_by_marrow_extranodal_or_nontarget_disease():
    small = {"modality": "CT", "lesions": [(10, 8), (9, 7)]}
    assert categories(CT_BASE, {**small, "bone_marrow": "positive"}) == ["PR"]
    assert categories(CT_BASE, {**small, "lesions": [(10, 8), (9, 7)], "extranodal_disease": True}) == ["PR"]
    assert categories(CT_BASE, {**small, "lesions": [(10, 8), (9, 7)], "nontarget": "present"}) == ["PR"]


def test_ct_pr_at_50_percent_and_sd_just_short():
    # Baseline SPD 1800. 30 x 20 + 15 x 20 = 900 (-50%) -> PR; 30 x 20 + 31 x 10 = 910 (-49.4%) -> SD.
    assert categories(CT_BASE, {"modality": "CT", "lesions": [(30, 20), (20, 15)]}) == ["PR"]
    assert categories(CT_BASE, {"modality": "CT", "lesions": [(30, 20), (31, 10)]}) == ["SD"]


def test_progression_is_measured_from_the_nadir_not_baseline():
    # Lesion 1: 40x30 -> nadir 20x15 (PPD 300) -> 26x18 = 468 >= 450, LDi 26 > 15, LDi +6 >= 5
    # (nadir LDi 20 <= 20 mm). Against baseline SPD 1800 the scan is still -70% (would be PR).
    assert categories(CT_BASE, {"modality": "CT", "lesions": [(20, 15), (15, 10)]},
                      {"modality": "CT", "lesions": [(26, 18), (15, 10)]}) == ["PR", "PD"]


def test_ppd_growth_without_the_absolute_diameter_increase_is_not_pd():
    # 20x15 -> 24x19: PPD 456 >= 450 but LDi +4 and SDi +4 < 5 mm -> not PD; SPD 606 <= 900 -> PR.
    assert categories(CT_BASE, {"modality": "CT", "lesions": [(20, 15), (15, 10)]},
                      {"modality": "CT", "lesions": [(24, 19), (15, 10)]}) == ["PR", "PR"]


def test_lesion_over_20_mm_needs_10_mm_growth():
    base = {"modality": "CT", "lesions": [(60, 40), (30, 20)]}  # SPD 3000
    nadir = {"modality": "CT", "lesions": [(30, 20), (15, 10)]}  # SPD 750
    # 38 x 24 = 912 >= 900 (1.5 x 600) but LDi +8, SDi +4 < 10 mm: not PD; SPD 1062 <= 1500: PR.
    assert categories(base, nadir, {"modality": "CT", "lesions": [(38, 24), (15, 10)]}) == ["PR", "PR"]
    # 40 x 23 = 920, LDi +10: PD.
    assert categories(base, nadir, {"modality": "CT", "lesions": [(40, 23), (15, 10)]}) == ["PR", "PD"]


def test_spd_up_50_percent_from_nadir_is_not_pd_when_no_single_lesion_qualifies():
    # Two lesions 16x10 at nadir (SPD 320) -> 19x13 each (SPD 494, +54%). Each PPD +54% and LDi > 15,
    # but LDi +3 and SDi +3 < 5 mm: Lugano's PD is per lesion, so no PD; 494 <= 1200 (half of 2400): PR.
    base = {"modality": "CT", "lesions": [(40, 30), (40, 30)]}
    nadir = {"modality": "CT", "lesions": [(16, 10), (16, 10)]}
    assert categories(base, nadir, {"modality": "CT", "lesions": [(19, 13), (19, 13)]}) == ["PR", "PR"]
    # With only the SPD recorded the 2007 rule applies (>= 50% from nadir): PD (documented fallback).
    assert categories({"modality": "CT", "spd_mm2": 2400}, {"modality": "CT", "spd_mm2": 320},
                      {"modality": "CT", "spd_mm2": 494}) == ["PR", "PD"]


def test_regrowth_of_a_resolved_lesion_new_lesion_nontarget_and_marrow_are_pd():
    gone = {"modality": "CT", "lesions": [(0, 0), (12, 8)]}
    assert categories(CT_BASE, gone, {"modality": "CT", "lesions": [(8, 6), (12, 8)]}) == ["CR", "PD"]
    small = {"modality": "CT", "lesions": [(10, 8), (9, 7)]}
    assert categories(CT_BASE, {**small, "new_lesions": True}) == ["PD"]
    assert categories(CT_BASE, {**small, "lesions": [(10, 8), (9, 7)], "nontarget": "progression"}) == ["PD"]
    assert categories(CT_BASE, {**small, "lesions": [(10, 8), (9, 7)], "bone_marrow": "new"}) == ["PD"]


def test_missing_target_or_no_baseline_is_not_evaluable():
    # Lesion 2 was measured at baseline and is missing: SPD would be understated.
    assert categories(CT_BASE, {"modality": "CT", "lesions": [(20, 10)]}) == ["NE"]
    no_base = scans({"modality": "CT", "lesions": [(30, 20)]}, {"modality": "CT", "lesions": [(25, 20)]})
    no_base["timepoint"] = "interim"
    # No baseline (none marked, no patients table): first scan is evaluated too, and neither has
    # a baseline SPD to compare with -> NE; LDi 25/30 > 15 rules out CR.
    assert timepoint_responses(no_base)["category"].tolist() == ["NE", "NE"]


def test_baseline_from_treatment_start_and_earlier_scans_unused():
    a = scans({"modality": "CT", "lesions": [(50, 40)]}, {"modality": "CT", "lesions": [(40, 30)]},
              {"modality": "CT", "lesions": [(20, 15)]})
    a["timepoint"] = pd.NA
    a["date"] = pd.to_datetime(["2021-10-01", "2022-01-05", "2022-03-01"])
    patients = pd.DataFrame({"patient_id": ["P1"], "treatment_start_date": [START]})
    tp = timepoint_responses(a, patients)
    # Baseline = last scan on/before the start (40x30 = 1200); 20x15 = 300 <= 600: PR.
    assert tp["category"].tolist() == ["not-used", "baseline", "PR"]


# ---- patient level --------------------------------------------------------------------

def _patient(a, patients=None):
    return patient_responses(timepoint_responses(a, patients), patients).iloc[0]


def test_best_final_and_progression_date():
    a = scans(PET_BASE, {"modality": "PET-CT", "deauville": "4", "uptake_vs_baseline": "decreased"},
              {"modality": "PET-CT", "deauville": "2", "timepoint": "end-of-treatment"},
              {"modality": "PET-CT", "deauville": "5", "uptake_vs_baseline": "increased", "timepoint": "follow-up"})
    p = _patient(a)
    # PMR (Feb), CMR at end of treatment (Mar), PMD in follow-up (Apr).
    assert (p["best_response"], p["final_response"]) == ("CR", "CR")
    assert p["progression_date"] == pd.Timestamp("2022-04-01")
    assert p["best_date"] == pd.Timestamp("2022-03-01")


def test_progression_before_end_of_treatment_makes_final_pd():
    a = scans(PET_BASE, {"modality": "PET-CT", "deauville": "4", "uptake_vs_baseline": "decreased"},
              {"modality": "PET-CT", "deauville": "5", "new_lesions": True},
              {"modality": "PET-CT", "deauville": "3", "timepoint": "end-of-treatment"})
    p = _patient(a)
    assert (p["best_response"], p["final_response"]) == ("CR", "PD")
    assert p["progression_date"] == pd.Timestamp("2022-03-01")


def test_without_end_of_treatment_final_is_last_evaluable_and_next_line_ends_the_window():
    a = scans(PET_BASE, {"modality": "PET-CT", "deauville": "5", "uptake_vs_baseline": "unchanged"},
              {"modality": "PET-CT", "deauville": "4", "uptake_vs_baseline": "decreased"},
              {"modality": "PET-CT", "deauville": "X"},
              {"modality": "PET-CT", "deauville": "5", "uptake_vs_baseline": "increased"})
    # NMR, PMR, NE (X), PMD on 2022-05-01; the next line starts 2022-04-15, so the PMD is not this line's.
    patients = pd.DataFrame({"patient_id": ["P1"], "treatment_start_date": [START],
                             "next_treatment_date": [pd.Timestamp("2022-04-15")]})
    p = _patient(a, patients)
    assert (p["best_response"], p["final_response"]) == ("PR", "PR")
    assert pd.isna(p["progression_date"])


# ---- findings through load_study -------------------------------------------------------

def _study(tmp_path, patients, assessments, responses=None):
    tables = {"patients": patients, "assessments": assessments}
    if responses is not None:
        tables["responses"] = responses
    return rwestudy.load_study(write_csvs(tables, tmp_path / "csv"))


def _two_patients():
    a = pd.concat([
        scans(PET_BASE, {"modality": "PET-CT", "deauville": "4", "uptake_vs_baseline": "decreased"},
              {"modality": "PET-CT", "deauville": "1", "timepoint": "end-of-treatment"}, patient="A"),
        scans(CT_BASE, {"modality": "CT", "lesions": [(30, 20), (31, 10)], "timepoint": "end-of-treatment"},
              {"modality": "CT", "lesions": [(30, 20), (31, 10)], "new_lesions": True}, patient="B"),
    ], ignore_index=True)
    for c in ("new_lesions",):
        a[c] = a[c].map({True: "yes", False: "no"})
    patients = pd.DataFrame({"patient_id": ["A", "B"], "center": ["C1", "C1"],
                             "treatment_start_date": [START, START],
                             "best_response": ["CR", "SD"], "final_response": ["CR", "SD"],
                             "progression_date": [pd.NaT, pd.Timestamp("2022-03-01")],
                             "last_contact_date": [pd.Timestamp("2022-06-01")] * 2})
    return patients, a


def _lugano(study):
    f = study.findings
    return f.loc[f["rule"].str.startswith("lugano")]


def test_agreeing_study_has_no_lugano_finding(tmp_path):
    patients, a = _two_patients()
    assert _lugano(_study(tmp_path, patients, a)).empty


def test_every_disagreement_is_a_finding_on_the_right_row(tmp_path):
    patients, a = _two_patients()
    patients.loc[0, "best_response"] = "PR"            # A reached CMR (Mar)
    patients.loc[1, "progression_date"] = pd.Timestamp("2022-04-01")  # B's new lesion is 2022-03-01
    responses = pd.DataFrame({"patient_id": ["B"], "date": [pd.Timestamp("2022-02-01")], "response": ["PR"]})
    f = _lugano(_study(tmp_path, patients, a, responses))
    got = set(zip(f["rule"], f["table"], f["row"], f["column"]))
    assert got == {
        ("lugano-best-response-mismatch", "patients", 2, "best_response"),
        ("lugano-progression-date-mismatch", "patients", 3, "progression_date"),
        ("lugano-response-mismatch", "responses", 2, "response"),   # B on 2022-02-01 is SD by CT
    }
    best = f.loc[f["rule"] == "lugano-best-response-mismatch"].iloc[0]
    assert best["value"] == "PR" and "give CR" in best["message"] and "2022-03-01" in best["message"]
    assert (f["severity"] == "warning").all()


def test_final_response_mismatch_and_not_evaluable_time_point(tmp_path):
    patients, a = _two_patients()
    patients.loc[0, "final_response"] = "PR"
    a.loc[1, "uptake_vs_baseline"] = None  # A's Deauville 4 without the comparison with baseline
    f = _lugano(_study(tmp_path, patients, a))
    assert set(zip(f["rule"], f["row"])) == {("lugano-final-response-mismatch", 2),
                                             ("lugano-not-evaluable", 3)}
    ne = f.loc[f["rule"] == "lugano-not-evaluable"].iloc[0]
    assert ne["table"] == "assessments" and ne["column"] == "uptake_vs_baseline"


def test_bad_assessment_codes_are_findings_not_crashes(tmp_path):
    patients, a = _two_patients()
    a.loc[1, "deauville"] = "6"
    a.loc[2, "modality"] = "MRI"
    study = _study(tmp_path, patients, a)
    f = study.findings
    unknown = f.loc[f["rule"] == "code-unknown"]
    assert set(zip(unknown["row"], unknown["column"])) == {(3, "deauville"), (4, "modality")}


@pytest.mark.parametrize("seed", [1, 2])
def test_demo_assessments_reproduce_the_recorded_responses(seed):
    from rwestudy.demo.generator import make_study

    t = make_study(n_patients=120, seed=seed)
    a = t["assessments"].assign(new_lesions=lambda d: d["new_lesions"].eq("yes").astype("boolean"),
                                extranodal_disease=lambda d: d["extranodal_disease"].eq("yes").astype("boolean"))
    derived = patient_responses(timepoint_responses(a, t["patients"]), t["patients"]).set_index("patient_id")
    p = t["patients"].set_index("patient_id").loc[derived.index]
    assert len(derived) > 100
    assert (derived["best_response"] == p["best_response"]).all()
    assert (derived["final_response"] == p["final_response"]).all()
    same = (derived["progression_date"] == p["progression_date"]) | (derived["progression_date"].isna()
                                                                     & p["progression_date"].isna())
    assert same.all()
    # every category is reached somewhere, on both modalities
    cats = set(timepoint_responses(a, t["patients"])["category"])
    assert {"CMR", "PMR", "NMR", "PMD", "CR", "PR", "SD", "PD"} <= cats
