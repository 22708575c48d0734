"""proportion_ci / proportion_table against R (binom.test, prop.test, formulas
in reference/r/descriptive_tests.R) and against hand arithmetic."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwestudy.stats.conventions import get_conventions
from rwestudy.stats.proportions import NA_LABEL, proportion_ci, proportion_table

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures/r/descriptive_tests.json").read_text())
CASES = FIXTURE["proportions"]
RTOL, ATOL = 1e-6, 1e-12  # atol only for bounds that are exactly 0

# rwestudy method name -> key in the fixture
R_KEYS = {
    "exact": "exact", "wilson": "wilson", "wilson-cc": "wilson_cc", "jeffreys": "jeffreys",
    "agresti-coull": "agresti_coull", "wald": "wald", "wald-cc": "wald_cc",
}


def _case_id(c):
    return f"x{c['x']}_n{c['n']}_conf{c['conf_level']}"


@pytest.mark.parametrize("method", sorted(R_KEYS))
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_r(case, method):
    low, high = proportion_ci(case["x"], case["n"], method=method, conf_level=case["conf_level"])
    np.testing.assert_allclose([low, high], case[R_KEYS[method]], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_wilson_cc_is_prop_test_except_at_half(case):
    # R prop.test(correct=TRUE) shrinks the correction to |x - n/2|, i.e. to 0
    # when x == n/2; Newcombe's interval (ours) always corrects by 1/(2n).
    ci = proportion_ci(case["x"], case["n"], method="wilson-cc", conf_level=case["conf_level"])
    if 2 * case["x"] == case["n"]:
        assert ci.low < case["wilson_cc_prop_test"][0]
        np.testing.assert_allclose(case["wilson_cc_prop_test"], case["wilson"], rtol=RTOL)
    else:
        np.testing.assert_allclose([ci.low, ci.high], case["wilson_cc_prop_test"], rtol=RTOL, atol=ATOL)


def test_clopper_pearson_zero_successes_by_hand():
    # x = 0: P(X = 0) = (1 - p)^n = alpha/2  =>  upper = 1 - (alpha/2)^(1/n)
    # n = 10, 95%: 1 - 0.025**0.1 = 1 - 0.691502892... = 0.308497107...
    low, high = proportion_ci(0, 10, method="exact", conf_level=0.95)
    assert low == 0.0
    assert high == pytest.approx(1 - 0.025 ** 0.1, rel=1e-12)
    assert high == pytest.approx(0.3084971078187608, rel=1e-12)


def test_clopper_pearson_all_successes_by_hand():
    # x = n: P(X = n) = p^n = alpha/2  =>  lower = (alpha/2)^(1/n); n = 83
    low, high = proportion_ci(83, 83, method="exact")
    assert high == 1.0
    assert low == pytest.approx(0.025 ** (1 / 83), rel=1e-12)


def test_wald_by_hand():
    # 5/10: 0.5 +/- 1.959964 * sqrt(0.5 * 0.5 / 10) = 0.5 +/- 1.959964 * 0.1581139 = 0.5 +/- 0.3098975
    low, high = proportion_ci(5, 10, method="wald")
    assert low == pytest.approx(0.5 - 1.959963984540054 * math.sqrt(0.025), rel=1e-12)
    assert high == pytest.approx(0.8098975161522810, rel=1e-9)


def test_n_zero_is_nan_with_reason():
    ci = proportion_ci(0, 0)
    assert math.isnan(ci.low) and math.isnan(ci.high) and math.isnan(ci.estimate)
    assert "n = 0" in ci.note


def test_wald_degenerate_is_flagged():
    ci = proportion_ci(0, 12, method="wald")
    assert (ci.low, ci.high) == (0.0, 0.0)
    assert "prefer" in ci.note


@pytest.mark.parametrize("x,n", [(-1, 5), (6, 5), (1.5, 5)])
def test_invalid_counts_raise(x, n):
    with pytest.raises(ValueError):
        proportion_ci(x, n)


def test_conventions_choose_method_and_keywords_win():
    spss = get_conventions("spss")  # Wald interval
    assert proportion_ci(3, 10, conventions=spss).method == "wald"
    assert proportion_ci(3, 10, conventions=spss, method="exact").method == "exact"
    conv90 = get_conventions(conf_level=0.90)
    case = next(c for c in CASES if (c["x"], c["n"], c["conf_level"]) == (17, 40, 0.9))
    np.testing.assert_allclose(list(proportion_ci(17, 40, conventions=conv90)), case["exact"], rtol=RTOL)
    with pytest.raises(ValueError, match="unknown binomial CI"):
        proportion_ci(1, 2, method="logit")


def test_proportion_table_counts_everyone():
    s = pd.Series(["CR", "PR", "CR", None, "SD", "CR", np.nan, "PR"])
    t = proportion_table(s, categories=["CR", "PR", "SD", "PD"], method="exact")
    assert t["category"].tolist() == ["CR", "PR", "SD", "PD", NA_LABEL]
    assert t["n"].tolist() == [3, 2, 1, 0, 2]
    assert (t["denominator"] == 8).all() and t["n"].sum() == 8
    np.testing.assert_allclose(t["pct"], [37.5, 25.0, 12.5, 0.0, 25.0])
    low, high = proportion_ci(3, 8, method="exact")
    assert t.loc[0, "ci_low"] == pytest.approx(100 * low) and t.loc[0, "ci_high"] == pytest.approx(100 * high)
    assert "missing values included" in t.attrs["denominator"]


def test_proportion_table_na_row_present_without_missing():
    t = proportion_table(pd.Series(pd.Categorical(["a", "b", "a"], categories=["b", "a", "c"])))
    assert t["category"].tolist() == ["b", "a", "c", NA_LABEL]
    assert t["n"].tolist() == [1, 2, 0, 0]


def test_proportion_table_rejects_unlisted_values():
    with pytest.raises(ValueError, match="not in categories"):
        proportion_table(pd.Series(["CR", "NE"]), categories=["CR", "PR"])
