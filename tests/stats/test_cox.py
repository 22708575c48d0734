"""Cox regression against R survival 3.5 (reference/r/cox.R) and hand arithmetic."""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from rwestudy.stats.conventions import get_conventions
from rwestudy.stats.cox import cox, cox_stepwise, cox_univariate, ph_test
from rwestudy.stats.design import build_design
from rwestudy.exceptions import ExcludedRowsWarning

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "r"
R = json.loads((FIX / "cox.json").read_text())
RTOL = 1e-8   # observed agreement is ~1e-12; the brief asks for <= 1e-6

# name -> (csv, time, event, covariates, start, strata); mirrors `specs` in reference/r/cox.R
SPECS = {
    "lung_basic": ("lung", "time", "event", ["age", "sex", "ph.ecog"], None, None),
    "lung_wtloss": ("lung", "time", "event", ["age", "sex", "ph.ecog", "wt.loss"], None, None),
    "lung_factor": ("lung", "time", "event", ["age", "sex", "ecog"], None, None),
    "lung_strata": ("lung", "time", "event", ["age", "ph.ecog"], None, "sex"),
    "veteran": ("veteran", "time", "status", ["trt", "celltype", "karno", "age", "prior"], None, None),
    "ovarian": ("ovarian", "futime", "fustat", ["age", "rx", "resid.ds", "ecog.ps"], None, None),
    "heart": ("heart", "stop", "event", ["age", "year", "surgery", "transplant"], "start", None),
}
CASES = [(name, ties) for name in SPECS for ties in ("breslow", "efron")]


def _data(name: str) -> pd.DataFrame:
    # ecog "0"/"1"/"2-3" must stay strings (categorical), as the R factor
    return pd.read_csv(FIX / "data" / f"cox_{name}.csv", dtype={"ecog": "string"})


def _fit(name: str, ties: str, **kw):
    csv, t, e, covs, start, strata = SPECS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # lung rows with NA are excluded, as in R
        return cox(_data(csv), t, e, covs, ties=ties, start=start, strata=strata, **kw)


def _r_term(term: str) -> str:
    # R names factor columns "ecog1", "celltypelarge"; ours "ecog[1]", "celltype[large]"
    return term.replace("[", "").replace("]", "")


@pytest.mark.parametrize("name,ties", CASES)
def test_matches_r_coxph(name, ties):
    ref = R["models"][f"{name}_{ties}"]
    fit = _fit(name, ties)
    t = fit.table
    assert [_r_term(x) for x in t["term"]] == ref["terms"]
    for ours, theirs in [("coef", "coef"), ("se", "se"), ("hr", "hr"), ("ci_low", "ci_low"),
                         ("ci_high", "ci_high"), ("z", "z"), ("p_wald", "p")]:
        np.testing.assert_allclose(t[ours].to_numpy(), ref[theirs], rtol=RTOL, err_msg=ours)
    np.testing.assert_allclose(fit.vcov.to_numpy(), np.array(ref["var"]), rtol=1e-7, atol=1e-14)
    np.testing.assert_allclose([fit.loglik_null, fit.loglik], ref["loglik"], rtol=1e-12)
    for test, key in [(fit.lr_test, "lr"), (fit.wald_test, "wald"), (fit.score_test, "score")]:
        assert test.df == ref[key]["df"]
        np.testing.assert_allclose([test.statistic, test.p], [ref[key]["stat"], ref[key]["p"]], rtol=RTOL)
    np.testing.assert_allclose([fit.concordance, fit.concordance_se],
                               [ref["concordance"], ref["concordance_se"]], rtol=1e-10)
    assert (fit.n, fit.events) == (ref["n"], ref["events"])
    assert fit.converged and not fit.any_monotone


@pytest.mark.parametrize("name,ties", CASES)
def test_ph_test_matches_r_cox_zph(name, ties):
    ref = R["zph"][f"{name}_{ties}"]
    res = ph_test(_fit(name, ties)).table
    assert res["term"].tolist() == ref["rows"]
    np.testing.assert_allclose(res["chisq"], ref["chisq"], rtol=1e-9)
    np.testing.assert_array_equal(res["df"], ref["df"])
    np.testing.assert_allclose(res["p"], ref["p"], rtol=1e-8)


def test_missing_rows_are_recorded_not_silent():
    # R drops the 14 patients with missing wt.loss (and 1 with missing ph.ecog): n = 213
    with pytest.warns(ExcludedRowsWarning, match="wt.loss: 14"):
        fit = cox(_data("lung"), "time", "event", ["age", "sex", "ph.ecog", "wt.loss"])
    assert fit.n == R["models"]["lung_wtloss_efron"]["n"]
    assert fit.n_excluded == 15
    assert fit.excluded_by == {"ph.ecog": 1, "wt.loss": 14}
    with pytest.raises(ValueError, match="wt.loss"):
        cox(_data("lung"), "time", "event", ["wt.loss"], missing="error")


@pytest.mark.parametrize("test", ["wald", "lr"])
def test_stepwise_matches_r_backward_elimination(test):
    ref = R["stepwise"]
    res = cox_stepwise(_data("lung"), "time", "event", ref["candidates"], test=test, ties="efron")
    assert res.n == ref["n_complete"]
    assert res.history["removed"].tolist() == ref[test]["removed"]
    np.testing.assert_allclose(res.history["p"], ref[test]["removed_p"], rtol=1e-7)
    assert list(res.kept) == ref[test]["final_terms"]
    np.testing.assert_allclose(res.final.table["coef"], ref[test]["final_coef"], rtol=RTOL)
    assert (res.final.n, res.final.events) == (ref[test]["n"], ref[test]["events"])


# --------------------------------------------------------------------------- hand-derived oracles
#
# Six patients, x = 1 for group B, no ties:
#   t : 1(A, event) 2(B, event) 3(A, event) 4(B, censored) 5(A, event) 6(B, event)
# Risk sets (nA, nB) at the event times: 1:(3,3) 2:(2,3) 3:(2,2) 5:(1,1) 6:(0,1).
# Log-rank for B: O = 2, E = 3/6 + 3/5 + 2/4 + 1/2 + 1/1 = 3.1,
#   V = 9/36 + 6/25 + 4/16 + 1/4 + 0 = 0.99  ->  chi2 = (2 - 3.1)^2 / 0.99 = 1.2222...
# Partial likelihood (e = exp(beta)):
#   l = -log(3+3e) + (beta - log(2+3e)) - log(2+2e) - log(1+e) + (beta - log(e))
#   l(0) = -log(6*5*4*2) = -log(240)
#   U(beta) = 1 - 3e/(1+e) - 3e/(2+3e)
#   I(beta) = 3e/(1+e)^2 + 6e/(2+3e)^2
TWO_GROUP = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 1, 0, 1, 1], "x": [0, 1, 0, 1, 0, 1]})


@pytest.mark.parametrize("ties", ["breslow", "efron"])   # identical without ties
def test_two_group_score_test_is_logrank(ties):
    fit = cox(TWO_GROUP, "t", "e", ["x"], ties=ties)
    assert fit.score_test.statistic == pytest.approx(1.21 / 0.99, rel=1e-12)
    assert fit.loglik_null == pytest.approx(-math.log(240), rel=1e-12)

    def score(b):
        e = math.exp(b)
        return 1 - 3 * e / (1 + e) - 3 * e / (2 + 3 * e)

    beta = optimize.brentq(score, -5, 5, xtol=1e-14)
    e = math.exp(beta)
    info = 3 * e / (1 + e) ** 2 + 6 * e / (2 + 3 * e) ** 2
    loglik = -math.log(3 + 3 * e) + beta - math.log(2 + 3 * e) - math.log(2 + 2 * e) - math.log(1 + e)
    assert fit.table.loc[0, "coef"] == pytest.approx(beta, rel=1e-9)
    assert fit.table.loc[0, "se"] == pytest.approx(1 / math.sqrt(info), rel=1e-9)
    assert fit.loglik == pytest.approx(loglik, rel=1e-12)
    assert fit.lr_test.statistic == pytest.approx(2 * (loglik + math.log(240)), rel=1e-9)


# Efron with one tie: deaths of rows x=1 and x=0 both at t=1, one censored x=1 at t=2.
# Risk set at t=1: all three; S0 = 2e + 1, dead sum = e + 1.
#   Breslow: l = beta - 2 log(2e + 1)
#   Efron:   l = beta - log(2e + 1) - log(2e + 1 - (e + 1)/2)
TIED = pd.DataFrame({"t": [1, 1, 2], "e": [1, 1, 0], "x": [1, 0, 1]})


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_tied_partial_likelihood_by_hand(ties):
    def loglik(b):
        e = math.exp(b)
        if ties == "breslow":
            return b - 2 * math.log(2 * e + 1)
        return b - math.log(2 * e + 1) - math.log(2 * e + 1 - (e + 1) / 2)

    res = optimize.minimize_scalar(lambda b: -loglik(b), bracket=(-3, 0, 3), tol=1e-12)
    fit = cox(TIED, "t", "e", ["x"], ties=ties)
    assert fit.loglik == pytest.approx(loglik(res.x), rel=1e-12)
    assert fit.loglik_null == pytest.approx(loglik(0.0), rel=1e-12)
    assert fit.table.loc[0, "coef"] == pytest.approx(res.x, abs=1e-6)


# Monotone likelihood: no patient with g = 1 has an event, so the MLE of beta is -infinity.
SEPARATED = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                          "e": [1, 1, 0, 1, 1, 0, 1, 0, 1, 1],
                          "g": [0, 0, 1, 0, 0, 1, 0, 1, 0, 0]})


def test_monotone_likelihood_is_flagged_not_a_huge_hr():
    fit = cox(SEPARATED, "t", "e", ["g"], ties="breslow")
    row = fit.table.iloc[0]
    assert bool(row["monotone"])
    assert row["hr"] == 0.0 and row["coef"] == -np.inf
    assert np.isnan(row["se"]) and np.isnan(row["p"]) and np.isnan(row["ci_high"])
    assert any("firth=True" in m for m in fit.messages)


def test_monotone_categorical_level_without_events():
    df = SEPARATED.assign(grp=np.where(SEPARATED["g"] == 1, "rare", "common"),
                          age=[50, 61, 47, 70, 66, 58, 73, 49, 62, 55])
    fit = cox(df, "t", "e", ["grp", "age"], ties="efron")
    flags = dict(zip(fit.table["term"], fit.table["monotone"]))
    assert flags == {"grp[rare]": True, "age": False}
    assert np.isfinite(fit.table.set_index("term").loc["age", "hr"])


def _firth_hand_estimate(df: pd.DataFrame) -> float:
    # One binary covariate, Breslow, no ties. With p_j the share exp(b)-weighted of x=1 rows
    # in the risk set at event j:  U = sum(x_j - p_j),  I = sum p_j (1 - p_j),
    # dI/db = sum p_j (1 - p_j)(1 - 2 p_j).  Firth's score: U + dI/db / (2 I) = 0.
    t, e, x = df["t"].to_numpy(), df["e"].to_numpy(), df["g"].to_numpy()

    def pen_score(b):
        u = i = di = 0.0
        for j in np.flatnonzero(e == 1):
            risk = t >= t[j]
            n1, n0 = x[risk].sum(), (1 - x[risk]).sum()
            p = n1 * math.exp(b) / (n0 + n1 * math.exp(b))
            u += x[j] - p
            i += p * (1 - p)
            di += p * (1 - p) * (1 - 2 * p)
        return u + di / (2 * i)

    return optimize.brentq(pen_score, -20, 20, xtol=1e-14)


def test_firth_finite_under_separation_and_matches_hand_derivation():
    fit = cox(SEPARATED, "t", "e", ["g"], firth=True)
    coef = fit.table.loc[0, "coef"]
    assert np.isfinite(coef) and fit.firth and not fit.any_monotone
    assert coef == pytest.approx(_firth_hand_estimate(SEPARATED), rel=1e-8)
    assert 0 < fit.table.loc[0, "ci_low"] < fit.table.loc[0, "hr"] < fit.table.loc[0, "ci_high"]


def test_firth_close_to_but_not_equal_to_coxph_without_separation():
    ref = R["models"]["lung_basic_breslow"]
    fit = _fit("lung_basic", "breslow", firth=True)
    coef = fit.table["coef"].to_numpy()
    se = np.array(ref["se"])
    # bias reduction is O(1/n): well inside one SE of the MLE, but not zero
    assert np.all(np.abs(coef - ref["coef"]) < 0.1 * se)
    assert np.all(np.abs(coef - ref["coef"]) > 1e-6)


# --------------------------------------------------------------------------- API behaviour

def test_conventions_and_overrides():
    stata = get_conventions("stata")
    fit = cox(TWO_GROUP, "t", "e", ["x"], conventions=stata)
    assert fit.ties == "breslow"
    assert cox(TWO_GROUP, "t", "e", ["x"], conventions=stata, ties="efron").ties == "efron"
    assert cox(TWO_GROUP, "t", "e", ["x"]).ties == get_conventions().ties


def test_reference_level_and_term_names():
    df = _data("veteran")
    fit = cox(df, "time", "status", ["celltype"], reference={"celltype": "squamous"})
    assert fit.table["term"].tolist() == ["celltype[adeno]", "celltype[large]", "celltype[smallcell]"]
    # changing the reference only re-parameterises: same likelihood as R's fit with adeno reference
    base = cox(df, "time", "status", ["celltype"])
    assert fit.loglik == pytest.approx(base.loglik, rel=1e-12)


def test_design_bool_and_category_columns():
    df = pd.DataFrame({"flag": [True, False, True, None], "grade": pd.Categorical(["hi", "lo", "lo", "hi"],
                                                                                   categories=["lo", "hi"])})
    d = build_design(df, ["flag", "grade"])
    assert d.columns == ("flag[True]", "grade[hi]")
    assert d.n_excluded == 1 and d.missing_by_column == {"flag": 1}
    np.testing.assert_array_equal(d.matrix, [[1, 1], [0, 0], [1, 0]])


def test_univariate_uses_each_covariates_own_complete_cases():
    df = _data("lung")
    res = cox_univariate(df, "time", "event", ["age", "wt.loss"])
    by_term = res.table.set_index("term")
    assert by_term.loc["age", "n"] == df["age"].notna().sum() == 228
    assert by_term.loc["wt.loss", "n"] == df["wt.loss"].notna().sum()
    assert by_term.loc["wt.loss", "events"] == df.loc[df["wt.loss"].notna(), "event"].sum()


def test_summary_mentions_key_numbers():
    text = _fit("lung_basic", "efron").summary()
    assert "n = 227, events = 164" in text and "Concordance" in text
