"""Cluster-robust Cox variance and score residuals against R.

R numbers: tests/fixtures/r/cox_robust.json, written by reference/r/cox_robust.R
(coxph(..., cluster =) "robust se", residuals(type = "score")) on the CSVs in
tests/fixtures/r/data.
"""
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwestudy.stats._cox_residuals import score_residuals
from rwestudy.stats.cox import cox

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "r"
R = json.loads((FIXTURES / "cox_robust.json").read_text())


def _data(name):
    if name.startswith("lung"):
        d = pd.read_csv(FIXTURES / "data" / "cox_lung.csv")
        return d.dropna(subset=["inst", "ph.ecog"]).reset_index(drop=True)
    return pd.read_csv(FIXTURES / "data" / "km_ties.csv")


def _fit(case):
    rhs = case["formula"].split("~")[1]
    strata = re.findall(r"strata\((\w+)\)", rhs)
    covs = [v.strip() for v in rhs.split("+") if "strata(" not in v]
    return cox(_data(case["name"]), "time", "event", covs, ties=case["ties"], strata=strata or None,
               cluster=case["cluster"])


@pytest.mark.parametrize("case", R["cases"], ids=lambda c: c["name"])
def test_robust_se_matches_coxph_cluster(case):
    fit = _fit(case)
    assert len(_data(case["name"])) == case["n_rows"]
    t = fit.table
    np.testing.assert_allclose(t["coef"], case["coef"], rtol=1e-9)
    np.testing.assert_allclose(t["naive_se"], case["se"], rtol=1e-9)
    np.testing.assert_allclose(t["se"], case["robust_se"], rtol=1e-8)
    np.testing.assert_allclose(t["z"], case["z"], rtol=1e-8)
    np.testing.assert_allclose(t["p_wald"], case["p"], rtol=1e-7)
    assert fit.wald_test.statistic == pytest.approx(case["wald"], rel=1e-8)
    assert fit.n_clusters == _data(case["name"])[case["cluster"]].nunique()
    assert any("Cluster-robust" in m for m in fit.messages)


@pytest.mark.parametrize("case", R["cases"], ids=lambda c: c["name"])
def test_score_residuals_match_r(case):
    fit = _fit(case)
    stop, ev, st = fit._outcome
    strata = None
    if fit.strata:
        strata = _data(case["name"]).groupby(list(fit.strata)).ngroup().to_numpy()
    got = score_residuals(fit.design.matrix, stop, ev, fit._beta, start=st, strata=strata, ties=fit.ties)
    want = np.asarray(case["score_resid"], dtype=float).reshape(got.shape[0], -1)
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)
    # the score residuals sum to the score, which is 0 at the maximum
    np.testing.assert_allclose(got.sum(axis=0), 0, atol=1e-6)


def test_one_cluster_per_patient_is_the_plain_sandwich():
    # with every row its own cluster the robust variance is D'D over rows (Lin & Wei 1989)
    d = _data("lung")
    d["row"] = np.arange(len(d))
    fit = cox(d, "time", "event", ["age", "sex"], ties="breslow", cluster="row")
    plain = cox(d, "time", "event", ["age", "sex"], ties="breslow")
    stop, ev, st = plain._outcome
    dfb = score_residuals(plain.design.matrix, stop, ev, plain._beta, ties="breslow") @ plain.vcov.to_numpy()
    np.testing.assert_allclose(fit.table["se"], np.sqrt(np.diag(dfb.T @ dfb)), rtol=1e-12)
