"""Shared gamma frailty Cox model against R, and properties that can be checked by hand.

R numbers: tests/fixtures/r/frailty.json, written by reference/r/frailty.R
(coxph(Surv(time, event) ~ x + frailty(center, distribution = "gamma")),
method "em" and "fixed") on cox_lung.csv (inst as cluster) and the synthetic
frailty_multicenter.csv (25 centers, one without events) / frailty_fewcenters.csv
(4 centers: R's non-sparse path) / frailty_strongcenters.csv (12 centers, large
center effects: the search doubles theta).
"""
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwestudy.stats._dist import chi2_sf
from rwestudy.stats.cox import cox
from rwestudy.stats.frailty import cox_frailty, gamma_correction
from rwestudy.exceptions import ExcludedRowsWarning

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "r"
R = json.loads((FIXTURES / "frailty.json").read_text())
CASES = {c["name"]: c for c in R["cases"]}


def _data(name):
    if name.startswith("lung"):
        return pd.read_csv(FIXTURES / "data" / "cox_lung.csv").dropna(subset=["inst"]).reset_index(drop=True)
    if name.startswith("few"):
        return pd.read_csv(FIXTURES / "data" / "frailty_fewcenters.csv")
    if name.startswith("strong"):
        return pd.read_csv(FIXTURES / "data" / "frailty_strongcenters.csv")
    return pd.read_csv(FIXTURES / "data" / "frailty_multicenter.csv")


def _covariates(case):
    return [v.strip() for v in case["formula"].split("~")[1].split("+") if "(" not in v]


def _strata(case):
    return re.findall(r"strata\((\w+)\)", case["formula"]) or None


def _fit(case, data=None):
    fixed = re.search(r"theta = ([\d.]+)", case["formula"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # lung: one row without ph.ecog
        return cox_frailty(_data(case["name"]) if data is None else data, "time", "event",
                           _covariates(case), cluster=case["cluster"], ties=case["ties"], strata=_strata(case),
                           theta=float(fixed.group(1)) if fixed else None, outer_max=case["outer_max"])


def _matrix(values, p):
    return np.asarray(values, dtype=float).reshape(p, p)


@pytest.mark.parametrize("case", R["cases"], ids=lambda c: c["name"])
def test_matches_coxph_frailty(case):
    fit = _fit(case)
    t = fit.table
    p = len(case["coef"])
    assert t["term"].tolist() == case["terms"]
    assert (fit.n, fit.events, fit.n_clusters, fit.sparse) == (case["n"], case["events"], case["n_clusters"],
                                                               case["sparse"])
    # same search, same number of steps: the algorithm, not only the optimum, is R's
    assert [fit.outer_iterations, fit.newton_iterations] == case["iter"]
    assert fit.converged == case["converged"]
    assert fit.theta == pytest.approx(case["theta"], rel=1e-8)
    np.testing.assert_allclose(t["coef"], case["coef"], rtol=1e-9)
    np.testing.assert_allclose(t["se"], case["se"], rtol=1e-9)
    np.testing.assert_allclose(t["se2"], case["se2"], rtol=1e-9)
    np.testing.assert_allclose(fit.vcov.to_numpy(), _matrix(case["var"], p), rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(fit.vcov2.to_numpy(), _matrix(case["var2"], p), rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(t["p"], chi2_sf(np.asarray(case["coef"]) ** 2 / np.asarray(case["se"]) ** 2, 1),
                               rtol=1e-8)
    labels = fit.frailties["cluster"].tolist()
    if case["cluster"] == "inst":   # numeric codes, sorted as numbers like R's factor()
        assert labels == [float(v) for v in case["levels"]]
    else:
        assert labels == case["levels"]
    np.testing.assert_allclose(fit.frailties["frailty"], case["frail"], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(fit.frailties["se"] ** 2, case["fvar"], rtol=1e-8)
    np.testing.assert_allclose([fit.loglik_null, fit.loglik], case["loglik"], rtol=1e-12)
    assert fit.i_loglik == pytest.approx(case["c_loglik"], rel=1e-12)
    assert fit.penalty == pytest.approx(case["penalty"][1], rel=1e-8)
    np.testing.assert_allclose([*t["df"], fit.frailty_df], case["df"], rtol=1e-8)
    assert fit.frailty_test.statistic == pytest.approx(case["frailty_chisq"], rel=1e-8)
    assert fit.frailty_test.p == pytest.approx(case["frailty_p"], rel=1e-8)
    # R's printed likelihood-ratio test: 2 (loglik - loglik_null) on round(sum(df), 2) df
    lr = 2 * (case["loglik"][1] - case["loglik"][0])
    assert fit.lr_test.statistic == pytest.approx(lr, rel=1e-10)
    assert fit.lr_test.p == pytest.approx(float(chi2_sf(lr, round(sum(case["df"]), 2))), rel=1e-8)
    if not case["history"]:   # fixed theta: no search (R's NULL, written as {})
        assert fit.history.empty and fit.theta_test is None
    else:
        np.testing.assert_allclose(fit.history.to_numpy(), np.asarray(case["history"], dtype=float), rtol=1e-8)
        # theta = 0 test: the first row of the history is the plain Cox fit
        stat = 2 * (case["c_loglik"] - case["history"][0][2])
        assert fit.theta_test.statistic == pytest.approx(stat, rel=1e-8)
        assert fit.theta_test.p == pytest.approx(0.5 * float(chi2_sf(stat, 1)), rel=1e-8)


def test_default_search_stops_at_outer_max_and_says_so():
    case = CASES["multicenter_efron"]
    fit = _fit(case)
    assert not fit.converged and fit.outer_iterations == 10
    assert any("stopped after 10 outer iterations" in m for m in fit.messages)
    # searching on reaches R's own converged value, which differs from the default's
    longer = _fit(CASES["multicenter_outer30"])
    assert longer.converged and not any("stopped" in m for m in longer.messages)
    assert abs(longer.theta / fit.theta - 1) > 0.05


def test_missing_cluster_rows_are_excluded_and_reported():
    lung = pd.read_csv(FIXTURES / "data" / "cox_lung.csv")
    assert lung["inst"].isna().sum() == 1 and lung["ph.ecog"].isna().sum() == 1
    case = CASES["lung_efron"]
    with pytest.warns(ExcludedRowsWarning, match="inst: 1"):
        fit = cox_frailty(lung, "time", "event", _covariates(case), cluster="inst", ties="efron")
    assert fit.n_excluded == 2 and fit.excluded_by == {"inst": 1, "ph.ecog": 1}
    np.testing.assert_allclose(fit.table["coef"], case["coef"], rtol=1e-9)


def test_theta_zero_is_the_plain_cox_fit():
    d = _data("multicenter")
    plain = cox(d, "time", "event", ["x1", "x2"], ties="efron")
    fit = cox_frailty(d, "time", "event", ["x1", "x2"], cluster="center", ties="efron", theta=0)
    np.testing.assert_allclose(fit.table["coef"], plain.table["coef"], rtol=1e-8)
    np.testing.assert_allclose(fit.table["se"], plain.table["se"], rtol=1e-8)
    assert fit.loglik == pytest.approx(plain.loglik, rel=1e-12)
    assert fit.i_loglik == pytest.approx(plain.loglik, rel=1e-12)   # no correction at theta = 0
    assert (fit.frailties["frailty"] == 0).all()


@pytest.mark.parametrize("sparse", [False, True])
def test_huge_theta_is_cox_with_center_as_fixed_effect(sparse):
    # with theta -> infinity the penalty vanishes: the frailties become free center effects
    d = _data("multicenter")
    d = d[d["center"] != "C25"]    # a center without events has an infinite fixed effect
    fe = cox(d, "time", "event", ["x1", "x2", "center"], ties="breslow")
    fit = cox_frailty(d, "time", "event", ["x1", "x2"], cluster="center", ties="breslow", theta=1e7,
                      sparse=sparse)
    np.testing.assert_allclose(fit.table["coef"], fe.table["coef"][:2], rtol=1e-5)
    # center contrasts against the reference center C01
    w = fit.frailties["frailty"].to_numpy()
    np.testing.assert_allclose(w[1:] - w[0], fe.table["coef"][2:], rtol=1e-4, atol=1e-5)


def test_frailty_score_equation_for_a_center_without_events():
    # at the fit, for every center: exp(w_g) = 1 + theta (d_g - E_g), with E_g the expected
    # events of the center (Breslow: sum over event times of d(t) * its share of the risk set)
    # Converged tightly: R's default inner tolerance leaves ~1e-4 relative in this equation; the
    # stopping rule is on the log-likelihood, so eps = 1e-14 still leaves ~1e-7.
    d = _data("multicenter")
    fit = cox_frailty(d, "time", "event", ["x1", "x2"], cluster="center", ties="breslow", eps=1e-14,
                      iter_max=500)
    w = dict(zip(fit.frailties["cluster"], fit.frailties["frailty"]))
    beta = fit.table["coef"].to_numpy()
    risk = np.exp(d[["x1", "x2"]].to_numpy() @ beta + d["center"].map(w).to_numpy())
    expected = dict.fromkeys(w, 0.0)
    for t in np.unique(d.loc[d["event"] == 1, "time"]):
        at_risk = d["time"].to_numpy() >= t
        deaths = int(((d["time"] == t) & (d["event"] == 1)).sum())
        share = pd.Series(risk[at_risk]).groupby(d["center"].to_numpy()[at_risk]).sum() / risk[at_risk].sum()
        for g, s in share.items():
            expected[g] += deaths * s
    observed = d.groupby("center")["event"].sum()
    for g in w:
        assert np.exp(w[g]) == pytest.approx(1 + fit.theta * (observed[g] - expected[g]), rel=1e-6)
    silent = fit.frailties.set_index("cluster").loc["C25"]
    assert silent["events"] == 0 and silent["frailty"] == fit.frailties["frailty"].min() < 0


def test_gamma_correction_by_hand():
    # nu = 1/theta = 2; d = (1, 3, 0):
    # sum d + nu log(nu/(nu+d)) = 4 + 2 log(2/3) + 2 log(2/5);
    # sum lgamma(nu+d) - lgamma(nu) - d log(nu+d) = log 2 - log 3 + log(2*3*4) - 3 log 5
    want = 4 + 2 * np.log(2 / 3) + 2 * np.log(2 / 5) + np.log(2) - np.log(3) + np.log(24) - 3 * np.log(5)
    assert gamma_correction(np.array([1.0, 3.0, 0.0]), 0.5) == pytest.approx(want, rel=1e-13)
    assert gamma_correction(np.array([1.0, 3.0]), 0.0) == 0.0


def test_one_cluster_is_refused_as_in_r():
    assert "contrasts" in R["one_center_error"]   # R's coxph stops too
    d = _data("multicenter").assign(center="all")
    with pytest.raises(ValueError, match="at least 2 clusters"):
        cox_frailty(d, "time", "event", ["x1"], cluster="center")


@pytest.mark.parametrize("kwargs, match", [
    ({"theta": -1.0}, "theta must be"),
    ({"theta": float("nan")}, "theta must be"),
    ({"ties": "exact"}, "ties must be"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cox_frailty(_data("multicenter"), "time", "event", ["x1"], cluster="center", **kwargs)


def test_no_events_is_refused():
    d = _data("multicenter").assign(event=0)
    with pytest.raises(ValueError, match="at least one event"):
        cox_frailty(d, "time", "event", ["x1"], cluster="center")


def test_summary_states_model_theta_and_tests():
    fit = _fit(CASES["lung_efron"])
    s = fit.summary()
    for text in ("shared gamma frailty for inst", "Variance of random effect = 0.008519",
                 "Iterations: 9 outer, 34 Newton-Raphson", "frailty(inst)", "se2", "Test of theta = 0"):
        assert text in s


def test_docstring_examples_run():
    import doctest

    from rwestudy.stats import frailty
    assert doctest.testmod(frailty).failed == 0
