"""summarize_continuous / summarize_categorical / table_one against R
(quantile types 2, 6, 7; mean; sd) and hand arithmetic."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwestudy.stats.conventions import get_conventions
from rwestudy.stats.descriptive import (
    NA_LABEL, OVERALL, summarize_categorical, summarize_continuous, table_one,
)

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures/r/descriptive_tests.json").read_text())
RTOL = 1e-6


@pytest.mark.parametrize("qtype", [2, 6, 7])
@pytest.mark.parametrize("name", sorted(FIXTURE["quantiles"]))
def test_summary_matches_r_quantile(name, qtype):
    ref = FIXTURE["quantiles"][name]
    x = np.atleast_1d(ref["x"]).astype(float)
    r_q = dict(zip(np.atleast_1d(ref["probs"]), np.atleast_1d(ref[f"type{qtype}"])))
    s = summarize_continuous(pd.Series(x), get_conventions(quantile_type=qtype))
    np.testing.assert_allclose([s.min, s.q1, s.median, s.q3, s.max],
                               [r_q[0], r_q[0.25], r_q[0.5], r_q[0.75], r_q[1]], rtol=RTOL)
    assert s.mean == pytest.approx(ref["mean"], rel=RTOL)
    if ref["sd"] is None:  # R: sd of one value is NA
        assert np.isnan(s.sd)
    else:
        assert s.sd == pytest.approx(ref["sd"], rel=RTOL)


@pytest.mark.parametrize("qtype", [2, 6, 7])
@pytest.mark.parametrize("name", sorted(FIXTURE["quantiles"]))
def test_conventions_quantile_method_matches_r_at_all_probs(name, qtype):
    ref = FIXTURE["quantiles"][name]
    method = get_conventions(quantile_type=qtype).quantile_method
    got = np.quantile(np.atleast_1d(ref["x"]).astype(float), np.atleast_1d(ref["probs"]), method=method)
    np.testing.assert_allclose(got, np.atleast_1d(ref[f"type{qtype}"]), rtol=RTOL)


@pytest.mark.parametrize(
    "qtype,expected",
    [
        # x = 1, 2, 3, 4 (n = 4)
        # type 7: position 1 + (n - 1) p -> 1.75, 2.5, 3.25 -> values 1.75, 2.5, 3.25
        (7, (1.75, 2.5, 3.25)),
        # type 6: position (n + 1) p -> 1.25, 2.5, 3.75 -> values 1.25, 2.5, 3.75
        (6, (1.25, 2.5, 3.75)),
        # type 2: n p = 1, 2, 3 are integers -> average x[np] and x[np + 1]
        #   -> (1 + 2)/2, (2 + 3)/2, (3 + 4)/2
        (2, (1.5, 2.5, 3.5)),
    ],
)
def test_quartiles_of_four_values_by_hand(qtype, expected):
    s = summarize_continuous(pd.Series([4.0, 1.0, 3.0, 2.0]), quantile_type=qtype)
    assert (s.q1, s.median, s.q3) == pytest.approx(expected, rel=1e-12)


def test_missing_values_counted_not_used():
    # mean of 1, 2, 6 = 3; sd = sqrt(((1-3)^2 + (2-3)^2 + (6-3)^2) / 2) = sqrt(7)
    s = summarize_continuous(pd.Series([1.0, None, 2.0, np.nan, 6.0]))
    assert (s.n, s.n_missing, s.mean, s.min, s.max) == (3, 2, 3.0, 1.0, 6.0)
    assert s.sd == pytest.approx(np.sqrt(7.0), rel=1e-12)


def test_all_missing_gives_nan_summary():
    s = summarize_continuous(pd.Series([None, None], dtype=float))
    assert (s.n, s.n_missing) == (0, 2) and np.isnan(s.mean) and np.isnan(s.median)


def test_summarize_continuous_rejects_text():
    with pytest.raises((ValueError, TypeError)):
        summarize_continuous(pd.Series(["1", "two"]))


def test_summarize_categorical_denominator_is_all_patients():
    # 5 patients: a, a, b, missing, missing -> 2/5 = 40 %, 1/5 = 20 %, 2/5 = 40 %
    t = summarize_categorical(pd.Series(["a", "a", "b", None, np.nan]), levels=["a", "b", "c"])
    assert t["level"].tolist() == ["a", "b", "c", NA_LABEL]
    assert t["n"].tolist() == [2, 1, 0, 2]
    np.testing.assert_allclose(t["pct"], [40.0, 20.0, 0.0, 40.0])
    assert (t["denominator"] == 5).all()
    assert "missing values included" in t.attrs["denominator"]
    assert summarize_categorical(pd.Series([1, 2]))["level"].tolist()[-1] == NA_LABEL
    with pytest.raises(ValueError, match="not in levels"):
        summarize_categorical(pd.Series(["a", "z"]), levels=["a"])


@pytest.fixture()
def cohort() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 83
    df = pd.DataFrame({
        "age": rng.normal(60, 12, n).round(),
        "ldh": np.exp(rng.normal(5.5, 0.5, n)).round(),
        "ecog": rng.integers(0, 3, n),
        "sex": rng.choice(["F", "M"], n),
        "bulky": rng.choice([True, False], n),
        "arm": rng.choice(["R-CHOP", "other"], n),
    })
    df.loc[[3, 10], "age"] = np.nan
    df.loc[[5], "sex"] = None
    df.loc[[7], "arm"] = None
    return df


def test_table_one_types_counts_and_tests(cohort):
    t1 = table_one(cohort, ["age", "ldh", "ecog", "sex", "bulky"], by="arm")
    rec = t1.records
    kinds = rec.drop_duplicates("variable").set_index("variable")["kind"].to_dict()
    assert kinds == {"age": "continuous", "ldh": "continuous", "ecog": "categorical",
                     "sex": "categorical", "bulky": "categorical"}
    assert set(rec["group"]) == {OVERALL, "R-CHOP", "other", NA_LABEL}
    # categorical counts add up to the group size, missing row included
    sizes = {OVERALL: len(cohort), NA_LABEL: 1, **cohort["arm"].value_counts().to_dict()}
    for (var, grp), block in rec[rec["kind"] == "categorical"].groupby(["variable", "group"]):
        assert block["n"].sum() == sizes[grp], (var, grp)
        assert NA_LABEL in block["level_or_statistic"].tolist()
    sex_na = rec.query("variable == 'sex' and group == @OVERALL and level_or_statistic == @NA_LABEL")
    assert sex_na["n"].item() == 1 and sex_na["text"].item() == "1 (1.2%)"  # 1/83 = 1.20 %
    age_missing = rec.query("variable == 'age' and group == @OVERALL and level_or_statistic == @NA_LABEL")
    assert age_missing["n"].item() == 2
    tests = t1.tests.set_index("variable")
    assert list(tests.index) == ["age", "ldh", "ecog", "sex", "bulky"]
    assert tests["rule"].str.len().gt(20).all()
    assert tests.loc["age", "n_excluded"] == 3  # two missing ages + one missing arm
    assert tests.loc["sex", "n_excluded"] == 2
    assert tests.loc["ldh", "test"].startswith("Mann-Whitney")  # log-normal LDH fails Shapiro-Wilk
    display = t1.display()
    assert list(display.columns[:3]) == ["variable", "level_or_statistic", OVERALL]


def test_table_one_declared_types_and_no_tests(cohort):
    t1 = table_one(cohort, ["ecog", "age"], categorical=["age"], continuous=["ecog"], tests=False)
    kinds = t1.records.drop_duplicates("variable").set_index("variable")["kind"].to_dict()
    assert kinds == {"ecog": "continuous", "age": "categorical"}
    assert t1.tests.empty and set(t1.records["group"]) == {OVERALL}
    with pytest.raises(ValueError):
        table_one(cohort, ["age"], categorical=["age"], continuous=["age"])
    with pytest.raises(KeyError):
        table_one(cohort, ["nope"])


def test_table_one_test_matches_r_welch(cohort):
    # "tied" groups pass Shapiro-Wilk in R (p 0.78, 0.88) -> Welch t; R t.test p in the fixture
    ref = FIXTURE["two_group"]["tied"]
    df = pd.DataFrame({"x": ref["x"] + ref["y"], "g": ["a"] * len(ref["x"]) + ["b"] * len(ref["y"])})
    t1 = table_one(df, ["x"], by="g", continuous=["x"])
    row = t1.tests.iloc[0]
    assert row["test"] == "Welch's t-test"
    assert row["p"] == pytest.approx(ref["welch_p"], rel=RTOL)
    # mean (SD) text of group a: R mean/sd of the same vector
    text = t1.records.query("variable == 'x' and group == 'a' and level_or_statistic == 'mean (SD)'")
    assert text["text"].item() == f"{np.mean(ref['x']):.1f} ({np.std(ref['x'], ddof=1):.1f})"
