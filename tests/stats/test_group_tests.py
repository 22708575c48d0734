"""Weighted log-rank family and trend test against R and hand arithmetic.

R numbers: tests/fixtures/r/km_tests.json from reference/r/survival_km_tests.R.
logrank / peto-peto come from survdiff(rho = 0 / 1); gehan, tarone-ware and
Fleming-Harrington from the weighted log-rank formula written out in that
script (checked there against survdiff for rho = 0 and 1).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rwestudy.stats.conventions import get_conventions
from rwestudy.stats.group_tests import compare_survival, trend_test

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "r"
RTOL = 1e-6
FIX = json.loads((FIXTURES / "km_tests.json").read_text())

# R fixture test name -> our (test, rho, gamma)
R_TESTS = {
    "logrank": ("logrank", None, None),
    "peto-peto": ("peto-peto", None, None),
    "gehan": ("gehan", None, None),
    "tarone-ware": ("tarone-ware", None, None),
    "fh_0_1": ("fleming-harrington", 0.0, 1.0),
    "fh_1_1": ("fleming-harrington", 1.0, 1.0),
    "fh_0.5_2": ("fleming-harrington", 0.5, 2.0),
}


def _data(case: dict) -> pd.DataFrame:
    df = pd.read_csv(FIXTURES / FIX["datasets"][case["dataset"]])
    df = df[df[case["by"]].notna()].copy()  # R drops NA groups in the formula
    if df[case["by"]].dtype.kind == "f":
        df[case["by"]] = df[case["by"]].astype("int64")
    return df


def _case_id(c: dict) -> str:
    return f"{c['dataset']}-{c['by']}-{c['strata'] or 'nostrata'}-{c['test']}"


# Whole-number times take a counting-sort path, others an argsort path; the
# tests depend on times only through their order, so times / 7 must give R's numbers.
@pytest.mark.parametrize("div", [1.0, 7.0], ids=["whole-days", "fractional"])
@pytest.mark.parametrize("case", FIX["group_tests"], ids=_case_id)
def test_weighted_logrank_matches_r(case, div):
    test, rho, gamma = R_TESTS[case["test"]]
    df = _data(case)
    df["time"] = df["time"] / div
    res = compare_survival(df, "time", "event", case["by"], test=test,
                           strata=case["strata"], rho=rho, gamma=gamma)
    assert res.table["group"].astype(str).tolist() == list(np.atleast_1d(case["groups"]))
    assert res.df == case["df"]
    np.testing.assert_allclose(res.statistic, case["statistic"], rtol=RTOL)
    np.testing.assert_allclose(res.p, case["p"], rtol=RTOL)
    np.testing.assert_allclose(res.table["weighted_o_minus_e"], case["U"], rtol=RTOL)
    np.testing.assert_allclose(res.variance, np.array(case["V"]), rtol=RTOL)
    np.testing.assert_array_equal(res.table["observed"], case["observed"])
    np.testing.assert_allclose(res.table["expected"], case["expected"], rtol=RTOL)


@pytest.mark.parametrize("case", [c for c in FIX["group_tests"] if "trend" in c], ids=_case_id)
def test_trend_matches_r(case):
    test, rho, gamma = R_TESTS[case["test"]]
    res = trend_test(_data(case), "time", "event", case["by"], test=test, strata=case["strata"],
                     rho=rho, gamma=gamma)
    np.testing.assert_array_equal(res.scores, case["trend"]["scores"])
    np.testing.assert_allclose(res.statistic, case["trend"]["statistic"], rtol=RTOL)
    np.testing.assert_allclose(res.p, case["trend"]["p"], rtol=RTOL)
    assert res.df == 1


@pytest.mark.parametrize("profile", ["r", "stata", "sas", "spss", "rwestudy"])
def test_wilcoxon_follows_the_profile(profile):
    conv = get_conventions(profile)
    ref = next(c for c in FIX["group_tests"] if c["dataset"] == "lung" and c["by"] == "sex"
               and c["test"] == conv.wilcoxon)
    res = compare_survival(_data(ref), "time", "event", "sex", test="wilcoxon", conventions=conv)
    assert res.test == conv.wilcoxon
    np.testing.assert_allclose(res.statistic, ref["statistic"], rtol=RTOL)


def test_fixture_has_k_gt_2_strata_and_ties():
    keys = {(c["dataset"], c["strata"], len(c["U"])) for c in FIX["group_tests"]}
    assert ("ties", "site", 3) in keys and ("veteran", None, 4) in keys and ("veteran", "celltype", 2) in keys


# ------------------------------------------------------------ hand oracles
# Group a: deaths at 1 and 3.  Group b: death at 2, censored at 4.
TINY = pd.DataFrame({"t": [1, 3, 2, 4], "d": [1, 1, 1, 0], "arm": ["a", "a", "b", "b"]})
# t=1: n=4 (a 2, b 2), d=1 in a:  E_a = 1*2/4 = 1/2;  V = 1*(4-1)/(4-1) * 1/2 * 1/2 = 1/4
# t=2: n=3 (a 1, b 2), d=1 in b:  E_a = 1/3;          V = 1*2/2 * 1/3 * 2/3 = 2/9
# t=3: n=2 (a 1, b 1), d=1 in a:  E_a = 1/2;          V = 1*1/1 * 1/2 * 1/2 = 1/4
# O_a = 2, E_a = 4/3, U_a = 2/3, V = 1/4 + 2/9 + 1/4 = 13/18


def test_two_group_logrank_by_hand():
    res = compare_survival(TINY, "t", "d", "arm")
    np.testing.assert_allclose(res.table["observed"], [2, 1])
    np.testing.assert_allclose(res.table["expected"], [4 / 3, 3 - 4 / 3], rtol=1e-12)
    np.testing.assert_allclose(res.table["weighted_o_minus_e"], [2 / 3, -2 / 3], rtol=1e-12)
    np.testing.assert_allclose(res.variance, [[13 / 18, -13 / 18], [-13 / 18, 13 / 18]], rtol=1e-12)
    # chi2 = (2/3)^2 / (13/18) = 8/13
    assert res.statistic == pytest.approx(8 / 13, rel=1e-12)
    assert res.p == pytest.approx(stats.chi2.sf(8 / 13, 1), rel=1e-12)
    assert res.df == 1


def test_two_group_gehan_and_peto_by_hand():
    # Gehan, w = n: U = 4*(1/2) + 3*(-1/3) + 2*(1/2) = 2; V = 16/4 + 9*2/9 + 4/4 = 7 -> 4/7
    assert compare_survival(TINY, "t", "d", "arm", test="gehan").statistic == pytest.approx(4 / 7, rel=1e-12)
    # Peto-Peto, w = pooled S(t-): 1, 3/4, 1/2
    # U = 1/2 - 3/4*1/3 + 1/2*1/2 = 1/2;  V = 1/4 + 9/16*2/9 + 1/4*1/4 = 7/16 -> (1/4)/(7/16) = 4/7
    res = compare_survival(TINY, "t", "d", "arm", test="peto-peto")
    assert res.table["weighted_o_minus_e"].iloc[0] == pytest.approx(0.5, rel=1e-12)
    assert res.variance[0, 0] == pytest.approx(7 / 16, rel=1e-12)
    # Tarone-Ware, w = sqrt(n): U = 2*(1/2) - sqrt(3)/3 + sqrt(2)/2; V = 4/4 + 3*2/9 + 2/4 = 13/6
    u = 1 - np.sqrt(3) / 3 + np.sqrt(2) / 2
    assert compare_survival(TINY, "t", "d", "arm", test="tarone-ware").statistic == pytest.approx(u * u / (13 / 6), rel=1e-12)


def test_stratified_is_sum_of_strata_by_hand():
    # two copies of TINY as strata: U and V double, chi2 = (4/3)^2 / (13/9) = 16/13
    two = pd.concat([TINY.assign(s=1), TINY.assign(s=2)], ignore_index=True)
    res = compare_survival(two, "t", "d", "arm", strata="s")
    assert res.statistic == pytest.approx(16 / 13, rel=1e-12)
    # unstratified pooling differs: a single risk set of 8
    assert compare_survival(two, "t", "d", "arm").statistic != pytest.approx(16 / 13)


def test_million_tied_rows_do_not_overflow():
    # everyone at t=1: n = 1e6, a: 500k with 300k deaths, b: 500k with 200k deaths
    # U_a = 300000 - 500000*500000/1e6 = 50000
    # V = d(n-d)/(n-1) * 1/2 * 1/2 = 500000*500000/999999/4; chi2 = 50000^2 * 4 * 999999 / 500000^2 = 39999.96
    n = 1_000_000
    df = pd.DataFrame({"t": np.ones(n), "d": np.r_[np.ones(300_000), np.zeros(200_000), np.ones(200_000), np.zeros(300_000)],
                       "arm": np.repeat(["a", "b"], n // 2)})
    for test in ("logrank", "gehan"):  # a single time: the weight cancels
        assert compare_survival(df, "t", "d", "arm", test=test).statistic == pytest.approx(39999.96, rel=1e-12)


def test_k_groups_df_and_trend_by_hand():
    # t=1: 2 per dose, deaths dose 1 -> 2, dose 2 -> 1, dose 3 -> 0; one per dose censored at t=2
    # so at t=1: n_k = 3 each, n = 9, d = 3, E_k = 3*3/9 = 1, U = (1, 0, -1)
    # V = d(n-d)/(n-1) * (diag(1/3) - 1/9) = 9/4 * [[2/9,-1/9,-1/9], ...] = [[1/2,-1/4,-1/4], ...]
    # rank 2; on groups 1,2: (1/4)[[2,-1],[-1,2]], inverse (4/3)[[2,1],[1,2]] -> U'V^-U = 4/3 * 2 = 8/3
    # trend a = (1,2,3): a'U = -2, a'Va = 9/4 * (14/3 - 36/9) = 3/2 -> 4 / (3/2) = 8/3
    # scores (1,2,4): a'U = -3, a'Va = 9/4 * (21/3 - 49/9) = 7/2 -> 9 / (7/2) = 18/7
    df = pd.DataFrame({"t": [1, 1, 1, 1, 1, 1, 2, 2, 2], "d": [1, 1, 1, 0, 0, 0, 0, 0, 0],
                       "dose": [1, 1, 2, 2, 3, 3, 1, 2, 3]})
    res = compare_survival(df, "t", "d", "dose")
    assert res.df == 2 and res.statistic == pytest.approx(8 / 3, rel=1e-12)
    tr = trend_test(df, "t", "d", "dose")
    assert tr.statistic == pytest.approx(8 / 3, rel=1e-12) and tr.df == 1
    assert trend_test(df, "t", "d", "dose", scores=[1, 2, 4]).statistic == pytest.approx(18 / 7, rel=1e-12)


# ------------------------------------------------------------- input checks
def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="rho/gamma"):
        compare_survival(TINY, "t", "d", "arm", test="logrank", rho=1)
    with pytest.raises(ValueError, match="test must be"):
        compare_survival(TINY, "t", "d", "arm", test="breslow-day")
    with pytest.raises(ValueError, match="at least 2"):
        compare_survival(TINY.assign(arm="a"), "t", "d", "arm")
    with pytest.raises(ValueError, match="1 row.*'s'"):
        compare_survival(TINY.assign(s=[1, 2, None, 1]), "t", "d", "arm", strata="s")
