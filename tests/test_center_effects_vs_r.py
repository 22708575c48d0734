"""The center-effects section of the standard analysis on the demo study, against R.

reference/r/export_center_effects.py writes the demo's multivariate Cox frames;
reference/r/center_effects.R fits them with coxph (model-based, + strata(center),
cluster = center, + frailty(center)) into tests/fixtures/r/center_effects.json.
The first test proves the analysis still fits exactly those frames.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rwestudy
from rwestudy.analysis.plan import load_plan
from rwestudy.analysis.run import analyze
from tests.conftest import write_csvs

FIX = Path(__file__).parent / "fixtures" / "r"
R = json.loads((FIX / "center_effects.json").read_text())


@pytest.fixture(scope="module")
def results(demo_tables, tmp_path_factory):
    study = rwestudy.load_study(write_csvs(demo_tables, tmp_path_factory.mktemp("ce") / "csv"))
    return analyze(study)


@pytest.mark.parametrize("endpoint", ["OS", "PFS"])
def test_the_frames_r_fitted_are_the_analysis_frames(results, endpoint):
    fixture = pd.read_csv(FIX / "data" / f"center_effects_{endpoint}.csv")
    d = results.endpoints.endpoint(endpoint)
    assert np.allclose(d["time"].to_numpy(), fixture["time"].to_numpy(), rtol=1e-14)
    assert (d["event"].to_numpy() == fixture["event"].to_numpy()).all()
    centers = results.endpoints.patients.set_index("patient_id")["center"]
    assert (d["patient_id"].map(centers).to_numpy() == fixture["center"].to_numpy()).all()
    ce = results.table("center_effects")
    terms = set(ce.loc[ce["endpoint"] == endpoint, "variable"])
    assert terms == set(fixture.columns) - {"time", "event", "center"}


@pytest.mark.parametrize("endpoint", ["OS", "PFS"])
@pytest.mark.parametrize("method", ["model-based", "stratified by center", "cluster-robust (center)",
                                    "shared gamma frailty (center)"])
def test_center_effects_match_r(results, endpoint, method):
    ce = results.table("center_effects")
    got = ce[(ce["endpoint"] == endpoint) & (ce["method"] == method)].set_index("variable")
    ref = R[endpoint][method]
    # R's frailty search stops at its own tolerance (1e-5 relative on the I-likelihood): same path, so
    # the numbers agree closely, but not to the tight fits' 1e-9.
    tol = 1e-6 if method.startswith("shared") else 1e-9
    for term, hr, se in zip(ref["term"], ref["hr"], ref["se"]):
        assert got.loc[term, "hr"] == pytest.approx(hr, rel=tol), term
        assert got.loc[term, "se"] == pytest.approx(se, rel=tol), term
    if method.startswith("shared"):
        assert got["theta"].iloc[0] == pytest.approx(ref["theta"], rel=1e-6)


def test_plan_chooses_the_methods(demo_tables, tmp_path):
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text('[center_effects]\nmethods = ["cluster"]\n[competing_risks]\nanalyse = false\n'
                         '[rmst]\nhorizon = 12\n')
    study = rwestudy.load_study(write_csvs(demo_tables, tmp_path / "csv"))
    r = analyze(study, load_plan(plan_file))
    assert set(r.table("center_effects")["method"]) == {"model-based", "cluster-robust (center)"}
    assert r.table("cif").empty and r.table("gray_tests").empty
    assert set(r.table("rmst")["horizon_requested"]) == {12.0} and r.table("rmst")["tau"].max() == 12.0


@pytest.mark.parametrize("text, message", [
    ('[center_effects]\nmethods = ["gee"]\n', 'unknown method; expected one of "stratified", "cluster", "frailty"'),
    ('[competing_risks]\nregression = "yes"\n', "expected true or false"),
    ("[rmst]\nhorizon = -3\n", "[rmst] horizon = -3"),
])
def test_bad_reviewer_plan_values_are_one_sentence(tmp_path, text, message):
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(text)
    with pytest.raises(rwestudy.analysis.plan.PlanError) as exc:
        load_plan(plan_file)
    assert message in str(exc.value)
