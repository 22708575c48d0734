"""Kaplan-Meier, quantiles, landmarks and reverse-KM follow-up against R and hand arithmetic.

R numbers: tests/fixtures/r/km_tests.json, written by reference/r/survival_km_tests.R
(survfit / summary.survfit / quantile.survfit) on the CSVs in tests/fixtures/r/data.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwestudy.stats.conventions import get_conventions
from rwestudy.stats.survival import kaplan_meier, reverse_km_followup

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "r"
RTOL = 1e-6
Z95 = 1.959963984540054  # qnorm(0.975)


def _fixture() -> dict:
    return json.loads((FIXTURES / "km_tests.json").read_text())


FIX = _fixture()


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / FIX["datasets"][name])


def _arr(x) -> np.ndarray:
    """R vectors of length 1 arrive unboxed, NA as null."""
    return np.array(np.atleast_1d(x), dtype=float)


def _case_id(c: dict) -> str:
    return f"{c['dataset']}-{c['by'] or 'all'}-{c['conf_type']}-{c['conf_level']}"


def _complete(df: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """R drops rows with NA in the formula; a float column read with NAs goes back to int."""
    if by is None:
        return df
    df = df[df[by].notna()].copy()
    if df[by].dtype.kind == "f" and (df[by] % 1 == 0).all():
        df[by] = df[by].astype("int64")
    return df


# Whole-number times take a counting-sort path, others an argsort path: run
# every R comparison both ways (times / 7 keeps ties and order; R's times and
# quantiles are divided by 7 the same way, survival probabilities do not change).
DIVISORS = pytest.mark.parametrize("div", [1.0, 7.0], ids=["whole-days", "fractional"])


def _fit(case: dict, div: float = 1.0, **kw):
    df = _complete(_data(case["dataset"]), case["by"])
    df["time"] = df["time"] / div
    return kaplan_meier(df, "time", "event", by=case["by"], conf_type=case["conf_type"],
                        conf_level=case["conf_level"], median_ci="brookmeyer-crowley", **kw)


def _group_rows(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    return frame[frame["group"].astype(str) == group]


# ----------------------------------------------------------------- R oracles
@DIVISORS
@pytest.mark.parametrize("case", FIX["kaplan_meier"], ids=_case_id)
def test_km_table_matches_r(case, div):
    km = _fit(case, div)
    if case["by"] is not None:
        assert sorted(km.table["group"].astype(str).unique()) == sorted(t["group"] for t in case["tables"])
    for r in case["tables"]:
        ours = _group_rows(km.table, r["group"]) if case["by"] is not None else km.table
        np.testing.assert_array_equal(ours["time"], _arr(r["time"]) / div)
        np.testing.assert_array_equal(ours["n_risk"], _arr(r["n_risk"]))
        np.testing.assert_array_equal(ours["n_event"], _arr(r["n_event"]))
        np.testing.assert_array_equal(ours["n_censor"], _arr(r["n_censor"]))
        for ours_col, r_col in [("surv", "surv"), ("std_err", "std_err"), ("ci_low", "lower"), ("ci_high", "upper")]:
            np.testing.assert_allclose(ours[ours_col], _arr(r[r_col]), rtol=RTOL, atol=0, equal_nan=True,
                                       err_msg=f"{r['group']} {ours_col}")


@DIVISORS
@pytest.mark.parametrize("case", FIX["kaplan_meier"], ids=_case_id)
def test_km_quantiles_match_r(case, div):
    km = _fit(case, div)
    for r in case["quantiles"]:
        ours = _group_rows(km.medians, r["group"]) if case["by"] is not None else km.medians
        assert len(ours) == 1
        row = ours.iloc[0]
        for i, name in enumerate(["q25", "median", "q75"]):
            want = np.array([_arr(r["quantile"])[i], _arr(r["lower"])[i], _arr(r["upper"])[i]]) / div
            got = row[name], row[f"{name}_ci_low"], row[f"{name}_ci_high"]
            np.testing.assert_allclose(got, want, rtol=RTOL, equal_nan=True, err_msg=f"{r['group']} {name}")
        assert bool(row["reached"]) == (not np.isnan(_arr(r["quantile"])[1]))


@DIVISORS
@pytest.mark.parametrize("case", FIX["kaplan_meier"], ids=_case_id)
def test_km_landmarks_match_r(case, div):
    km = _fit(case, div)
    for r in case["landmarks"]:
        requested = _arr(r["requested"]) / div
        at = km.at(requested)
        ours = _group_rows(at, r["group"]) if case["by"] is not None else at
        r_times = _arr(r["time"]) / div
        kept = np.isin(requested, r_times)  # R drops times past the last follow-up
        got = ours[kept]
        np.testing.assert_array_equal(got["time"], r_times)
        np.testing.assert_array_equal(got["n_risk"], _arr(r["n_risk"]))
        for ours_col, r_col in [("surv", "surv"), ("std_err", "std_err"), ("ci_low", "lower"), ("ci_high", "upper")]:
            np.testing.assert_allclose(got[ours_col], _arr(r[r_col]), rtol=RTOL, equal_nan=True)
        dropped = ours[~kept]
        assert dropped["surv"].isna().all() and dropped["ci_low"].isna().all()
        assert dropped["note"].str.startswith("beyond last follow-up").all()


def test_fixture_covers_ties_and_unreached_median():
    cases = {(c["dataset"], c["by"]) for c in FIX["kaplan_meier"]}
    assert ("ties", "arm") in cases and ("cure", "arm") in cases
    cure = next(c for c in FIX["kaplan_meier"] if c["dataset"] == "cure")
    medians = {q["group"]: _arr(q["quantile"])[1] for q in cure["quantiles"]}
    assert np.isnan(medians["good"]) and not np.isnan(medians["poor"])


@pytest.mark.parametrize("profile", ["r", "stata", "sas", "spss", "rwestudy"])
def test_profiles_pick_the_r_transform(profile):
    conv = get_conventions(profile)
    case = next(c for c in FIX["kaplan_meier"] if c["dataset"] == "lung" and c["by"] == "sex"
                and c["conf_type"] == conv.km_ci_transform and c["conf_level"] == 0.95)
    km = kaplan_meier(_data("lung"), "time", "event", by="sex", conventions=conv)
    assert km.conf_type == conv.km_ci_transform and km.median_ci == conv.median_ci
    for r in case["tables"]:
        ours = _group_rows(km.table, r["group"])
        np.testing.assert_allclose(ours["ci_low"], _arr(r["lower"]), rtol=RTOL, equal_nan=True)
        np.testing.assert_allclose(ours["ci_high"], _arr(r["upper"]), rtol=RTOL, equal_nan=True)
    for r in case["quantiles"]:
        row = _group_rows(km.medians, r["group"]).iloc[0]
        np.testing.assert_allclose(row["median"], _arr(r["quantile"])[1], rtol=RTOL)
        if conv.median_ci == "brookmeyer-crowley":
            np.testing.assert_allclose([row["median_ci_low"], row["median_ci_high"]],
                                       [_arr(r["lower"])[1], _arr(r["upper"])[1]], rtol=RTOL)


def test_explicit_override_beats_profile():
    case = next(c for c in FIX["kaplan_meier"] if c["dataset"] == "lung" and c["by"] is None
                and c["conf_type"] == "log")
    km = kaplan_meier(_data("lung"), "time", "event", conventions=get_conventions("stata"), conf_type="log")
    np.testing.assert_allclose(km.table["ci_low"], _arr(case["tables"][0]["lower"]), rtol=RTOL, equal_nan=True)


@pytest.mark.parametrize("case", FIX["reverse_km"], ids=lambda c: f"{c['dataset']}-{c['by']}-{c['conf_type']}")
def test_reverse_km_followup_matches_r(case):
    fu = reverse_km_followup(_data(case["dataset"]), "time", "event", by=case["by"], conf_type=case["conf_type"])
    for r in case["groups"]:
        row = _group_rows(fu.table, r["group"]).iloc[0] if case["by"] else fu.table.iloc[0]
        np.testing.assert_allclose([row["median_followup"], row["ci_low"], row["ci_high"]],
                                   [_arr(r["median"])[0], _arr(r["lower"])[0], _arr(r["upper"])[0]],
                                   rtol=RTOL, equal_nan=True)


# ------------------------------------------------------------ hand oracles
FIVE = pd.DataFrame({"t": [1, 2, 3, 4, 5], "d": [1, 0, 1, 1, 0]})


def test_five_patient_km_by_hand():
    # t=1: n=5 d=1 -> S = 4/5 = 0.8;           Greenwood sum 1/(5*4) = 0.05
    # t=2: censored -> S = 0.8, n=4
    # t=3: n=3 d=1 -> S = 0.8*2/3 = 0.5333..;  sum 0.05 + 1/(3*2) = 0.216666..
    # t=4: n=2 d=1 -> S = 0.5333*1/2 = 0.2666.; sum 0.216666 + 1/(2*1) = 0.716666..
    # t=5: censored, n=1
    # std_err = S * sqrt(sum): 0.8*sqrt(0.05) = 0.178885, 0.53333*sqrt(0.216667) = 0.248253,
    #                          0.26667*sqrt(0.716667) = 0.225751
    km = kaplan_meier(FIVE, "t", "d", conf_type="log")
    tab = km.table
    np.testing.assert_array_equal(tab["n_risk"], [5, 4, 3, 2, 1])
    np.testing.assert_array_equal(tab["n_event"], [1, 0, 1, 1, 0])
    np.testing.assert_array_equal(tab["n_censor"], [0, 1, 0, 0, 1])
    np.testing.assert_allclose(tab["surv"], [0.8, 0.8, 0.8 * 2 / 3, 0.8 / 3, 0.8 / 3], rtol=1e-12)
    green = np.array([0.05, 0.05, 0.05 + 1 / 6, 0.05 + 1 / 6 + 0.5, 0.05 + 1 / 6 + 0.5])
    np.testing.assert_allclose(tab["std_err"], tab["surv"] * np.sqrt(green), rtol=1e-12)
    np.testing.assert_allclose(tab["std_err"][:1], [0.8 * math.sqrt(0.05)], rtol=1e-12)
    # log CI at t=1: 0.8 * exp(-1.959964 * sqrt(0.05)) = 0.516109; upper 0.8*exp(+..) = 1.24 -> capped at 1
    assert tab["ci_low"].iloc[0] == pytest.approx(0.8 * math.exp(-Z95 * math.sqrt(0.05)), rel=1e-12)
    assert tab["ci_high"].iloc[0] == 1.0
    # median: S = 0.533 > 0.5 at t=3, 0.267 < 0.5 at t=4 -> 4
    assert km.medians["median"].iloc[0] == 4.0 and bool(km.medians["reached"].iloc[0])


def test_log_log_ci_by_hand():
    # t=1: S=0.8, se(-log S) = sqrt(0.05); log(-log 0.8) = log(0.223144) = -1.499940
    # shift = z*sqrt(0.05)/log(0.8) = 0.438262/-0.223144 = -1.964033
    # lower = exp(-exp(-1.499940 + 1.964033)) = exp(-exp(0.464093)) = exp(-1.590571) = 0.203809
    km = kaplan_meier(FIVE, "t", "d", conf_type="log-log")
    shift = Z95 * math.sqrt(0.05) / math.log(0.8)
    assert km.table["ci_low"].iloc[0] == pytest.approx(math.exp(-math.exp(math.log(-math.log(0.8)) - shift)), rel=1e-12)
    assert km.table["ci_low"].iloc[0] == pytest.approx(0.203809, abs=5e-6)


def test_median_on_plateau_at_exactly_half_is_midpoint():
    # 6 deaths at 1..6: S = 5/6, 4/6, 3/6 on [3, 4), ... -> median (3 + 4) / 2 = 3.5
    # q25: S first <= 0.75 at t=2 (4/6); q75: S first <= 0.25 at t=5 (1/6)
    df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "d": [1] * 6})
    m = kaplan_meier(df, "t", "d").medians.iloc[0]
    assert (m["median"], m["q25"], m["q75"]) == (3.5, 2.0, 5.0)


def test_median_plateau_running_to_last_followup():
    # deaths at 1, 2 then censored at 3, 4: S = 0.75, 0.5, 0.5, 0.5;
    # R takes the midpoint of the flat stretch and the last follow-up: (2 + 4) / 2 = 3
    df = pd.DataFrame({"t": [1, 2, 3, 4], "d": [1, 1, 0, 0]})
    assert kaplan_meier(df, "t", "d").medians["median"].iloc[0] == 3.0


def test_median_not_reached_is_nan_not_extrapolated():
    # 1 death in 6, at t=2 with 5 at risk: S = 0.8 to the end -> no median, no q75,
    # no q25 either (S never <= 0.75)
    df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "d": [0, 1, 0, 0, 0, 0]})
    m = kaplan_meier(df, "t", "d").medians.iloc[0]
    assert np.isnan(m["median"]) and not bool(m["reached"])
    assert np.isnan(m["q25"]) and np.isnan(m["q75"]) and np.isnan(m["median_ci_high"])
    assert "not reached" in kaplan_meier(df, "t", "d").summary()


def test_spss_symmetric_median_ci_by_hand():
    # 10 uncensored deaths at 1..10: S(k) = (10-k)/10; S = 0.5 on [5, 6) -> median 5.5
    # Greenwood var S(5) = 0.25 * sum_{n=6..10} 1/(n(n-1)) = 0.25 * (1/5 - 1/10) = 0.025
    # density: u = last death with S >= 0.55 -> t=4 (S 0.6); l = first with S <= 0.45 -> t=6 (S 0.4)
    # f = (0.6 - 0.4) / (6 - 4) = 0.1;  SE = sqrt(0.025) / 0.1 = 1.581139
    # CI = 5.5 -/+ 1.959964 * 1.581139 = (2.401020, 8.598980)
    df = pd.DataFrame({"t": np.arange(1, 11), "d": np.ones(10)})
    m = kaplan_meier(df, "t", "d", conventions=get_conventions("spss")).medians.iloc[0]
    se = math.sqrt(0.025) / 0.1
    assert m["median"] == 5.5
    assert m["median_se"] == pytest.approx(se, rel=1e-12)
    assert m["median_ci_low"] == pytest.approx(5.5 - Z95 * se, rel=1e-12)
    assert m["median_ci_high"] == pytest.approx(8.598980, abs=5e-6)


def test_landmark_beyond_follow_up_is_nan_with_note():
    # last follow-up 5: S(4.5) = S(4) = 0.8/3; S(0.5) = 1 before any event; 6 is unobserved
    at = kaplan_meier(FIVE, "t", "d", conf_type="log").at([0.5, 4.5, 5, 6])
    np.testing.assert_allclose(at["surv"][:3], [1.0, 0.8 / 3, 0.8 / 3], rtol=1e-12)
    np.testing.assert_array_equal(at["n_risk"], [5, 1, 1, 0])
    assert np.isnan(at["surv"].iloc[3]) and at["note"].iloc[3] == "beyond last follow-up (5)"


def test_reverse_km_flips_the_event_flag_by_hand():
    # times 2(d) 4(c) 6(d) 8(c) 10(c); reverse: "events" at 4, 8, 10, censored at 2, 6
    # t=4: n=4 -> S = 3/4; t=8: n=2 -> S = 3/8 <= 0.5 -> median follow-up 8
    df = pd.DataFrame({"t": [2, 4, 6, 8, 10], "d": [1, 0, 1, 0, 0]})
    fu = reverse_km_followup(df, "t", "d", conf_type="log")
    assert fu.table["median_followup"].iloc[0] == 8.0
    np.testing.assert_allclose(fu.km.table["surv"], [1, 0.75, 0.75, 0.375, 0.0])


# ------------------------------------------------------------- input checks
def test_missing_values_raise_with_count():
    df = pd.DataFrame({"t": [1.0, np.nan, 3.0, np.nan], "d": [1, 0, 1, 1]})
    with pytest.raises(ValueError, match="2 row"):
        kaplan_meier(df, "t", "d")
    df = pd.DataFrame({"t": [1.0, 2.0], "d": [1, None], "g": ["a", "b"]})
    with pytest.raises(ValueError, match="1 row.*'d'"):
        kaplan_meier(df, "t", "d", by="g")


def test_negative_time_and_bad_event_codes_raise():
    with pytest.raises(ValueError, match="negative"):
        kaplan_meier(pd.DataFrame({"t": [1, -2], "d": [1, 1]}), "t", "d")
    with pytest.raises(ValueError, match="0/1"):
        kaplan_meier(pd.DataFrame({"t": [1, 2], "d": [1, 2]}), "t", "d")
    with pytest.raises(ValueError, match="conf_type"):
        kaplan_meier(FIVE, "t", "d", conf_type="logit")


def test_boolean_event_and_categorical_group_order():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "d": [True, False, True, True],
                       "g": pd.Categorical(["z", "z", "a", "a"], categories=["z", "a"])})
    km = kaplan_meier(df, "t", "d", by="g")
    assert km.medians["group"].tolist() == ["z", "a"]
    # group z: death at 1 of 2 -> S = 0.5, censored at 2 -> plateau to last follow-up: (1+2)/2
    # group a: deaths at 3 and 4 -> S = 0.5 on [3, 4) -> midpoint 3.5
    assert km.medians["median"].tolist() == [1.5, 3.5]
