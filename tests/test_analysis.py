"""The analysis pipeline end to end: results.json valid against its schema, the
patient flow balanced, the conventions written, post-baseline factors flagged."""
import json
import subprocess
import sys

import jsonschema
import numpy as np
import pandas as pd
import pytest

from rwestudy.analysis.plan import PlanError, Plan, default_plan_toml, load_plan
from rwestudy.analysis.results import results_schema, write_results
from rwestudy.analysis.run import analyze


@pytest.fixture(scope="module")
def results(demo_tables):
    return analyze(demo_tables)


def test_results_json_matches_schema(results, tmp_path):
    path = write_results(results, tmp_path)
    data = json.loads(path.read_text())
    jsonschema.validate(data, results_schema())
    assert data["conventions"][0]["profile"] == "rwestudy"
    assert data["conventions"][0]["ties"] == "efron"


def test_flow_balances_and_matches_survival(results, demo_tables):
    flow = results.table("patient_flow")
    for scope, grp in flow.groupby("scope"):
        n_in = grp.loc[grp["step"] == "in", "n"].sum()
        assert n_in == grp.loc[grp["step"] == "excluded", "n"].sum() + grp.loc[grp["step"] == "analysed", "n"].sum()
    surv = results.table("survival")
    overall = surv[surv["group"] == "all"].set_index("endpoint")
    analysed = flow[flow["step"] == "analysed"].set_index("scope")["n"]
    for e in ("OS", "PFS", "DoR", "DFS", "TTNT"):
        assert overall.loc[e, "n"] == analysed[e]
    # DoR population = best CR/PR, counted independently from the raw table
    p = demo_tables["patients"]
    assert overall.loc["DoR", "n"] == p["best_response"].isin(["CR", "PR"]).sum()
    assert overall.loc["OS", "events"] == p["death_date"].notna().sum()


def test_response_denominator_is_all_patients(results, demo_tables):
    r = results.table("response")
    n = len(demo_tables["patients"])
    assert (r["denominator"] == n).all()
    best = r[(r["assessment"] == "best")].set_index("category")
    assert best.loc["ORR (CR+PR)", "n"] == demo_tables["patients"]["best_response"].isin(["CR", "PR"]).sum()


def test_every_factor_is_tested_and_post_baseline_flagged(results):
    g = results.table("group_tests")
    assert set(g["test"]) == {"logrank", "gehan"}
    assert g.loc[g["variable"].isin(["toxicity", "dose_reduced"]), "post_baseline"].all()
    pb = results.table("post_baseline")
    assert {"landmark at 3 months", "time-dependent Cox (counting process)"} <= set(pb["analysis"])
    assert any("Immortal-time" in n for n in results.notes)
    c = results.table("cox")
    assert {"univariate", "multivariate", "stepwise"} <= set(c["model"])


def test_monotone_factor_is_not_a_huge_hr(demo_tables):
    tables = {k: v.copy() for k, v in demo_tables.items()}
    p = tables["patients"]
    dead = p["death_date"].notna()
    # double-hit only among patients alive at the cut-off: no death in that level
    p["double_hit"] = np.where(~dead & (np.arange(len(p)) % 2 == 0), "yes", "no")
    res = analyze(tables, Plan(factor_endpoints=["OS"], factors=["double_hit", "bulky"], post_baseline=[]))
    c = res.table("cox")
    uni = c[(c["model"] == "univariate") & (c["variable"] == "double_hit")].iloc[0]
    assert bool(uni["monotone"]) and (uni["hr"] == 0 or not np.isfinite(uni["hr"]) or pd.isna(uni["hr"]))
    firth = c[(c["model"] == "univariate (Firth)") & (c["variable"] == "double_hit")]
    assert len(firth) == 1 and 0 < firth["hr"].iloc[0] < 1
    assert any("monotone likelihood" in n for n in res.notes)


@pytest.mark.parametrize("profile, ties, transform", [("stata", "breslow", "log-log"), ("r", "efron", "log"),
                                                      ("spss", "breslow", "plain")])
def test_profile_is_applied_and_recorded(demo_tables, profile, ties, transform):
    res = analyze(demo_tables, load_plan(None, profile=profile, factors=["bulky"], factor_endpoints=["OS"]))
    conv = res.table("conventions").iloc[0]
    assert conv["profile"] == profile and conv["km_ci_transform"] == transform
    assert set(res.table("cox")["ties"]) == {ties}


def test_default_plan_round_trips(tmp_path):
    p = tmp_path / "plan.toml"
    p.write_text(default_plan_toml())
    assert load_plan(p) == Plan(source=str(p))


@pytest.mark.parametrize("text, words", [
    ("[survival]\ntests = ['magic']\n", "unknown test"),
    ("[conventions]\nprofile = 'excel'\n", "unknown conventions profile"),
    ("[conventions]\nties = 'random'\n", "ties"),
    ("[factors]\nendpoints = ['EFS']\n", "unknown endpoint"),
    ("[colors]\n", "unknown section"),
])
def test_bad_plan_is_a_clear_error(tmp_path, text, words):
    p = tmp_path / "plan.toml"
    p.write_text(text)
    with pytest.raises(PlanError, match=words):
        load_plan(p)


def run(*args):
    return subprocess.run([sys.executable, "-m", "rwestudy.cli", *map(str, args)], capture_output=True, text=True)


def test_cli_analyze_and_plan(tmp_path):
    assert run("demo", "--out", tmp_path / "d").returncode == 0
    assert (tmp_path / "d" / "results.json").exists()
    r = run("analyze", tmp_path / "d" / "study.xlsx", "--out", tmp_path / "res", "--profile", "stata")
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "res" / "results.json").read_text())
    assert data["conventions"][0]["profile"] == "stata"
    assert run("plan", "--init", "--out", tmp_path / "plan.toml").returncode == 0
    r = run("plan", "--init", "--out", tmp_path / "plan.toml")
    assert r.returncode == 2 and "exists" in r.stderr
    bad = run("demo", "--out", tmp_path / "bad", "--with-errors")
    assert bad.returncode == 1
    r = run("analyze", tmp_path / "bad" / "study.xlsx", "--out", tmp_path / "r2")
    assert r.returncode == 2 and "--allow-errors" in r.stderr
    r = run("analyze", tmp_path / "bad" / "study.xlsx", "--out", tmp_path / "r2", "--allow-errors")
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "r2" / "results.json").read_text())
    flow = pd.DataFrame(data["patient_flow"])
    assert "duplicate" in " ".join(flow["reason"].astype(str)).lower()


@pytest.mark.parametrize("case", ["patients_only_minimal", "no_patient_id", "ae_without_dates", "no_events"])
def test_analysis_of_degenerate_studies_does_not_crash(tmp_path, case):
    import rwestudy

    folder = tmp_path / case
    folder.mkdir()
    patients = ("patient_id,center,treatment_start_date,last_contact_date,death_date\n"
                "A,X,2021-01-01,2022-01-01,\nB,X,2021-02-01,2021-06-01,2021-06-01\nC,Y,2021-03-01,2021-09-01,\n")
    if case == "no_patient_id":
        patients = patients.replace("patient_id", "id")
    if case == "no_events":
        patients = patients.replace("2021-06-01,2021-06-01", "2021-06-01,")
    (folder / "patients.csv").write_text(patients)
    if case == "ae_without_dates":
        (folder / "adverse_events.csv").write_text("patient_id,term,grade\nA,Anemia,2\nB,neutropenia,3\n")
    study = rwestudy.load_study(folder)
    res = analyze(study)
    data = json.loads(write_results(res, tmp_path / "out").read_text())
    jsonschema.validate(data, results_schema())
    flow = pd.DataFrame(data["patient_flow"])
    assert flow.loc[(flow["scope"] == "study") & (flow["step"] == "in"), "n"].iloc[0] == 3
