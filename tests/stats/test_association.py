"""Association tests against R (chisq.test, fisher.test, t.test, wilcox.test,
kruskal.test, aov, oneway.test, shapiro.test) and hand arithmetic."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rwestudy.stats.association import (
    chisq_test, compare_categorical, compare_continuous, fisher_exact_2x2, fisher_exact_rxc,
    fisher_monte_carlo, mann_whitney,
)
from rwestudy.stats.conventions import get_conventions

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures/r/descriptive_tests.json").read_text())
RTOL = 1e-6


def _long(table) -> pd.DataFrame:
    """Patient-level data with the given crosstab (rows = var levels, cols = groups)."""
    rows = [(f"v{i}", f"g{j}") for i, row in enumerate(table) for j, k in enumerate(row) for _ in range(k)]
    return pd.DataFrame(rows, columns=["var", "grp"])


def _two_groups(x, y) -> pd.DataFrame:
    return pd.DataFrame({"x": list(x) + list(y), "g": ["a"] * len(x) + ["b"] * len(y)})


# -------------------------------------------------------------------- Fisher
@pytest.mark.parametrize("name", sorted(FIXTURE["fisher_2x2"]))
def test_fisher_2x2_matches_r(name):
    ref = FIXTURE["fisher_2x2"][name]
    assert fisher_exact_2x2(ref["table"]) == pytest.approx(ref["p"], rel=RTOL)
    assert fisher_exact_2x2(ref["table"], "less") == pytest.approx(ref["p_less"], rel=RTOL)
    assert fisher_exact_2x2(ref["table"], "greater") == pytest.approx(ref["p_greater"], rel=RTOL)


def test_fisher_2x2_by_hand():
    # [[3, 1], [1, 3]]: margins 4, 4 / 4, 4, n = 8. P(a) = C(4, a) C(4, 4 - a) / C(8, 4)
    #   = C(4, a)^2 / 70 -> a = 0..4: 1, 16, 36, 16, 1 (/70). Observed a = 3: 16/70.
    # two-sided: tables with P <= 16/70 -> a = 0, 1, 3, 4: (1 + 16 + 16 + 1) / 70 = 34/70
    # greater:   a >= 3 -> (16 + 1) / 70 = 17/70;  less: a <= 3 -> 69/70
    t = [[3, 1], [1, 3]]
    assert fisher_exact_2x2(t) == pytest.approx(34 / 70, rel=1e-12)
    assert fisher_exact_2x2(t, "greater") == pytest.approx(17 / 70, rel=1e-12)
    assert fisher_exact_2x2(t, "less") == pytest.approx(69 / 70, rel=1e-12)


def test_fisher_rxc_by_hand():
    # [[1, 0, 0], [0, 1, 0], [0, 0, 1]]: margins all 1, the 3! = 6 permutation tables
    # are equally likely (1/6 each), so every table is "as extreme": p = 1.
    # [[2, 0], [0, 2]] is 2x2: P(a) = C(2,a) C(2,2-a) / C(4,2) = 1/6, 4/6, 1/6; observed a = 2
    # -> p = 1/6 + 1/6 = 1/3 (and the R x C code must agree with the 2x2 code).
    assert fisher_exact_rxc([[1, 0, 0], [0, 1, 0], [0, 0, 1]]) == pytest.approx(1.0)
    assert fisher_exact_rxc([[2, 0], [0, 2]]) == pytest.approx(1 / 3, rel=1e-12)


@pytest.mark.parametrize("name", [k for k in sorted(FIXTURE["fisher_rxc"]) if k != "g"])
def test_fisher_rxc_exact_matches_r(name):
    ref = FIXTURE["fisher_rxc"][name]
    assert fisher_exact_rxc(ref["table"]) == pytest.approx(ref["p"], rel=RTOL)
    # and its transpose
    assert fisher_exact_rxc(np.asarray(ref["table"]).T) == pytest.approx(ref["p"], rel=RTOL)


def test_fisher_rxc_2x2_agrees_with_2x2_code():
    for ref in FIXTURE["fisher_2x2"].values():
        assert fisher_exact_rxc(ref["table"]) == pytest.approx(ref["p"], rel=RTOL)


def test_fisher_simulated_is_deterministic_and_close_to_exact():
    ref = FIXTURE["fisher_rxc"]["g"]  # 4x5, n = 78: too large to enumerate
    assert fisher_exact_rxc(ref["table"]) is None
    conv = get_conventions(monte_carlo_resamples=20_000)
    res = compare_categorical(_long(ref["table"]), "var", "grp", conv)
    assert res.test == "Fisher's exact test (simulated p)"
    assert f"seed {conv.monte_carlo_seed}" in res.rule and f"{conv.monte_carlo_resamples}" in res.rule
    again = compare_categorical(_long(ref["table"]), "var", "grp", conv)
    assert res.p == again.p
    B = conv.monte_carlo_resamples
    # p = (1 + hits) / (B + 1) -> p (B + 1) is an integer
    assert res.p * (B + 1) == pytest.approx(round(res.p * (B + 1)), abs=1e-6)
    # within 4 Monte-Carlo standard errors of R's exact p
    se = math.sqrt(ref["p"] * (1 - ref["p"]) / B)
    assert abs(res.p - ref["p"]) < 4 * se


def test_fisher_simulated_small_table_close_to_r_exact():
    ref = FIXTURE["fisher_rxc"]["a"]
    p = fisher_monte_carlo(ref["table"], resamples=20_000, seed=1)
    assert abs(p - ref["p"]) < 4 * math.sqrt(ref["p"] * (1 - ref["p"]) / 20_000)
    assert p == fisher_monte_carlo(ref["table"], resamples=20_000, seed=1)


# ---------------------------------------------------------------- chi-square
@pytest.mark.parametrize("name", sorted(FIXTURE["chisq"]))
def test_chisq_matches_r(name):
    ref = FIXTURE["chisq"][name]
    stat, df, p, expected = chisq_test(ref["table"], correction=False)
    assert (stat, p) == pytest.approx((ref["statistic"], ref["p"]), rel=RTOL)
    assert df == ref["df"]
    np.testing.assert_allclose(expected, ref["expected"], rtol=RTOL)
    stat, _, p, _ = chisq_test(ref["table"], correction=True)
    assert (stat, p) == pytest.approx((ref["statistic_correct"], ref["p_correct"]), rel=RTOL)


def test_chisq_by_hand():
    # [[20, 10], [10, 20]]: every expected count 15, |O - E| = 5
    # Pearson: 4 * 5^2 / 15 = 6.6667; Yates: 4 * 4.5^2 / 15 = 5.4; df = 1
    assert chisq_test([[20, 10], [10, 20]])[0] == pytest.approx(20 / 3, rel=1e-12)
    assert chisq_test([[20, 10], [10, 20]], correction=True)[0] == pytest.approx(5.4, rel=1e-12)


def test_compare_categorical_rule_chisq_and_yates():
    ref = FIXTURE["chisq"]["t2x2"]  # expected counts 8.3 .. 10.7, all >= 5
    df = _long(ref["table"])
    res = compare_categorical(df, "var", "grp")  # rwestudy: no correction
    assert res.test == "Pearson's chi-square test"
    assert res.p == pytest.approx(ref["p"], rel=RTOL) and res.df == 1
    assert "All 4 expected counts are >= 5" in res.rule
    res_r = compare_categorical(df, "var", "grp", get_conventions("r"))  # R: Yates for 2x2
    assert "Yates" in res_r.test
    assert res_r.statistic == pytest.approx(ref["statistic_correct"], rel=RTOL)
    assert res_r.p == pytest.approx(ref["p_correct"], rel=RTOL)
    # Yates never applies beyond 2x2 (R chisq.test), even with the R profile
    ref3 = FIXTURE["chisq"]["t3x3"]
    res3 = compare_categorical(_long(ref3["table"]), "var", "grp", get_conventions("r"))
    assert res3.test == "Pearson's chi-square test" and res3.p == pytest.approx(ref3["p"], rel=RTOL)


def test_compare_categorical_rule_fisher_with_missing():
    # [[7, 12], [0, 5]]: rows 19, 5; columns 7, 17; n = 24 -> expected
    # 19*7/24 = 5.54, 19*17/24 = 13.46, 5*7/24 = 1.46, 5*17/24 = 3.54: two are < 5
    ref = FIXTURE["fisher_2x2"]["f"]
    df = _long(ref["table"])
    df = pd.concat([df, pd.DataFrame({"var": [None, "v0"], "grp": ["g0", None]})], ignore_index=True)
    res = compare_categorical(df, "var", "grp")
    assert res.test == "Fisher's exact test"
    assert res.p == pytest.approx(ref["p"], rel=RTOL)
    assert "2 of 4 expected counts are < 5 (smallest 1.46)" in res.rule
    assert res.n_used == 24 and res.n_excluded == 2 and "2 patient(s)" in res.rule
    forced = compare_categorical(df, "var", "grp", method="chisq")
    assert forced.test.startswith("Pearson") and "explicitly" in forced.rule
    lower_bar = compare_categorical(df, "var", "grp", expected_min=1)
    assert lower_bar.test.startswith("Pearson")


def test_compare_categorical_rxc_exact_matches_r():
    ref = FIXTURE["fisher_rxc"]["f"]  # 3x4, n = 83
    res = compare_categorical(_long(ref["table"]), "var", "grp")
    assert res.test == "Fisher's exact test" and res.p_method == "exact"
    assert res.p == pytest.approx(ref["p"], rel=RTOL)


def test_compare_categorical_single_level_gives_no_test():
    res = compare_categorical(pd.DataFrame({"v": ["a"] * 4, "g": list("xyxy")}), "v", "g")
    assert res.test == "none" and math.isnan(res.p) and "fewer than two" in res.rule


# ---------------------------------------------------------------- continuous
@pytest.mark.parametrize("name", sorted(FIXTURE["two_group"]))
def test_two_group_primitives_match_r(name):
    ref = FIXTURE["two_group"][name]
    t = stats.ttest_ind(ref["x"], ref["y"], equal_var=False)
    res = compare_continuous(_two_groups(ref["x"], ref["y"]), "x", "g", method="parametric")
    assert res.test == "Welch's t-test"
    assert (res.statistic, res.df, res.p) == pytest.approx((ref["welch_t"], ref["welch_df"], ref["welch_p"]), rel=RTOL)
    assert t.pvalue == pytest.approx(res.p, rel=1e-12)
    W, p, how = mann_whitney(ref["x"], ref["y"])
    assert W == ref["wilcox_W"] and p == pytest.approx(ref["wilcox_p"], rel=RTOL)
    assert how.startswith("exact") == ref["wilcox_exact_used"]
    assert stats.shapiro(ref["x"]).pvalue == pytest.approx(ref["shapiro_x_p"], rel=RTOL)
    assert stats.shapiro(ref["y"]).pvalue == pytest.approx(ref["shapiro_y_p"], rel=RTOL)


def test_mann_whitney_exact_by_hand():
    # x = (1, 2), y = (3, 4, 5): W = #{(x_i, y_j): x_i > y_j} = 0.
    # All C(5, 2) = 10 rank sets are equally likely; W = 0 only for ranks {1, 2}:
    # P(W <= 0) = 1/10, two-sided p = 2/10 = 0.2 (R wilcox.test: 0.2).
    W, p, how = mann_whitney([1, 2], [3, 4, 5])
    assert W == 0 and p == pytest.approx(0.2, rel=1e-12) and how.startswith("exact")


def test_compare_continuous_rule_nonparametric_when_not_normal():
    ref = FIXTURE["two_group"]["normal83"]  # R shapiro.test p = 0.033 in group x
    res = compare_continuous(_two_groups(ref["x"], ref["y"]), "x", "g")
    assert res.test.startswith("Mann-Whitney")
    assert res.statistic == ref["wilcox_W"] and res.p == pytest.approx(ref["wilcox_p"], rel=RTOL)
    assert "Shapiro-Wilk p < 0.05 in group 'a'" in res.rule and "ties present" in res.rule


def test_compare_continuous_rule_welch_when_normal_and_missing_counted():
    ref = FIXTURE["two_group"]["tied"]  # R shapiro.test p = 0.78 and 0.88
    df = _two_groups(ref["x"], ref["y"])
    df.loc[len(df)] = [np.nan, "a"]
    df.loc[len(df)] = [4.0, None]
    res = compare_continuous(df, "x", "g")
    assert res.test == "Welch's t-test" and res.p == pytest.approx(ref["welch_p"], rel=RTOL)
    assert res.n_excluded == 2 and res.n_used == 25 and "2 patient(s)" in res.rule
    assert res.groups == (("a", 12), ("b", 13))


def test_compare_continuous_small_group_goes_nonparametric():
    res = compare_continuous(_two_groups([1.0, 2.0], [3.0, 4.0, 5.0]), "x", "g")
    assert res.test.startswith("Mann-Whitney") and "fewer than 3 values" in res.rule
    assert res.p == pytest.approx(0.2, rel=1e-12)  # the hand example above


def test_k_groups_match_r():
    ref = FIXTURE["k_group"]
    groups = ref["groups"]
    df = pd.DataFrame({"x": sum(groups.values(), []),
                       "g": sum(([k] * len(v) for k, v in groups.items()), [])})
    auto = compare_continuous(df, "x", "g")  # all three groups pass Shapiro-Wilk
    assert auto.test == "one-way ANOVA"
    assert (auto.statistic, auto.p) == pytest.approx((ref["aov_F"], ref["aov_p"]), rel=RTOL)
    assert (auto.df, auto.df2) == (ref["aov_df1"], ref["aov_df2"])
    assert auto.p == pytest.approx(ref["oneway_equal_p"], rel=RTOL)
    welch = compare_continuous(df, "x", "g", method="parametric", anova="welch")
    assert (welch.statistic, welch.p) == pytest.approx((ref["oneway_welch_F"], ref["oneway_welch_p"]), rel=RTOL)
    kw = compare_continuous(df, "x", "g", method="nonparametric")
    assert kw.test == "Kruskal-Wallis test"
    assert (kw.statistic, kw.df, kw.p) == pytest.approx(
        (ref["kruskal_statistic"], ref["kruskal_df"], ref["kruskal_p"]), rel=RTOL)


@pytest.mark.parametrize("name", sorted(FIXTURE["shapiro"]))
def test_shapiro_matches_r(name):
    # the normality rule relies on scipy's Shapiro-Wilk agreeing with R's
    ref = FIXTURE["shapiro"][name]
    res = stats.shapiro(ref["x"])
    assert (res.statistic, res.pvalue) == pytest.approx((ref["W"], ref["p"]), rel=RTOL)
