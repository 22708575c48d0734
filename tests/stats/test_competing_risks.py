"""Cumulative incidence, Gray's test and RMST against R.

R numbers: tests/fixtures/r/competing_risks_rmst.json, written by
reference/r/competing_risks_rmst.R (cmprsk::cuminc / timepoints; survival's
print.survfit rmean) on the CSVs in tests/fixtures/r/data.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwestudy.stats.competing_risks import cumulative_incidence
from rwestudy.stats.rmst import rmst

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "r"
R = json.loads((FIXTURES / "competing_risks_rmst.json").read_text())
RTOL = 1e-10


def _data(name):
    return pd.read_csv(FIXTURES / "data" / f"cr_{name}.csv", keep_default_na=False, dtype={"sex": str})


def _fit(case):
    return cumulative_incidence(_data(case["dataset"]), "time", "cause", by=case["by"],
                                strata=case["strata"], rho=case["rho"])


@pytest.mark.parametrize("case", R["cif"], ids=lambda c: f"{c['dataset']}-{c['by']}-{c['strata']}-rho{c['rho']}")
def test_cif_curves_match_cuminc(case):
    fit = _fit(case)
    for curve in case["curves"]:
        group, cause = curve["name"].rsplit(" ", 1)
        group = "all" if case["by"] is None else group
        ours = fit.table[(fit.table["group"].astype(str) == group) & (fit.table["cause"] == int(cause))]
        # cuminc's step corners: origin, then (before, after) pairs per event time, then the last follow-up
        t, est, var = (np.asarray(curve[k], dtype=float) for k in ("time", "est", "var"))
        jumps = slice(2, len(t) - 1, 2)
        np.testing.assert_allclose(ours["time"], t[jumps], rtol=0)
        np.testing.assert_allclose(ours["cif"], est[jumps], rtol=RTOL)
        np.testing.assert_allclose(ours["variance"], var[jumps], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("case", R["cif"], ids=lambda c: f"{c['dataset']}-{c['by']}-{c['strata']}-rho{c['rho']}")
def test_cif_at_times_matches_timepoints(case):
    at = _fit(case).at(case["at"]["times"])
    for name, est, var in zip(case["at"]["names"], case["at"]["est"], case["at"]["var"]):
        group, cause = name.rsplit(" ", 1)
        group = "all" if case["by"] is None else group
        ours = at[(at["group"].astype(str) == group) & (at["cause"] == int(cause))]
        np.testing.assert_allclose(ours["cif"], np.asarray(est, dtype=float), rtol=RTOL, equal_nan=True)
        np.testing.assert_allclose(ours["std_err"] ** 2, np.asarray(var, dtype=float), rtol=1e-9,
                                   atol=1e-15, equal_nan=True)


@pytest.mark.parametrize("case", [c for c in R["cif"] if c["tests"]],
                         ids=lambda c: f"{c['dataset']}-{c['by']}-{c['strata']}-rho{c['rho']}")
def test_gray_test_matches_cuminc(case):
    tests = _fit(case).tests
    np.testing.assert_allclose(tests["statistic"], case["tests"]["stat"], rtol=1e-9)
    # R prints 1 - pchisq(), which is 0 below ~1e-16; ours is the upper tail itself
    np.testing.assert_allclose(tests["p"], case["tests"]["p"], rtol=1e-8, atol=1e-15)
    assert tests["df"].tolist() == case["tests"]["df"]


def test_cif_hand_count():
    # 6 patients: cause 1 at t=1, 3, 5; cause 2 at 2, 6; censored at 4.
    # S(t-) at 1, 2, 3, 5: 1, 5/6, 4/6, 2/6 * ... by hand:
    # F1(1) = 1/6; S(1) = 5/6; F2(2) = 5/6 * 1/5 = 1/6; S(2) = 4/6;
    # F1(3) = 1/6 + 4/6 * 1/4 = 2/6; S(3) = 3/6; censored at 4; at 5: n = 2,
    # F1(5) = 2/6 + 3/6 * 1/2 = 7/12.
    df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "cause": [1, 2, 1, 0, 1, 2]})
    cif = cumulative_incidence(df, "t", "cause").table
    c1 = cif[cif["cause"] == 1]
    np.testing.assert_allclose(c1["cif"], [1 / 6, 2 / 6, 7 / 12])
    assert ((c1["ci_low"] < c1["cif"]) & (c1["cif"] < c1["ci_high"])).all()


def test_cif_missing_values_named():
    df = pd.DataFrame({"t": [1, 2, None], "cause": [1, 0, 1]})
    with pytest.raises(ValueError, match="1 row"):
        cumulative_incidence(df, "t", "cause")


@pytest.mark.parametrize("case", R["rmst"], ids=lambda c: f"{c['dataset']}-{c['by']}-{c['tau']}")
def test_rmst_matches_survival(case):
    d = _data(case["dataset"])
    d["event"] = (d["cause"] != 0).astype(int)
    d[case["by"]] = pd.Categorical(d[case["by"]], categories=case["groups"])  # R's level order
    res = rmst(d, "time", "event", case["tau"], by=case["by"])
    assert res.table["group"].astype(str).tolist() == case["groups"]
    np.testing.assert_allclose(res.table["rmst"], case["rmean"], rtol=RTOL)
    np.testing.assert_allclose(res.table["std_err"], case["se"], rtol=1e-9)
    c = res.contrasts.iloc[0]
    for ours, theirs in (("difference", "diff"), ("diff_ci_low", "diff_low"), ("diff_ci_high", "diff_high"),
                         ("diff_p", "diff_p"), ("ratio", "ratio"), ("ratio_ci_low", "ratio_low"),
                         ("ratio_ci_high", "ratio_high"), ("ratio_p", "ratio_p")):
        np.testing.assert_allclose(c[ours], case[theirs], rtol=1e-9, err_msg=ours)


def test_rmst_hand_calculation_and_horizon_beyond_data():
    df = pd.DataFrame({"t": [1, 2, 3, 4, 2, 6], "d": [1, 1, 1, 1, 0, 1], "g": list("aaaabb")})
    res = rmst(df, "t", "d", tau=4, by="g")
    a = res.table.set_index("group").loc["a"]
    assert a["rmst"] == pytest.approx(1 + 0.75 + 0.5 + 0.25)
    # var by hand: A_j for t=1,2,3 = 1.5, .75, .25; d/(n(n-d)) = 1/12, 1/6, 1/2; t=4 has n = d
    assert a["std_err"] ** 2 == pytest.approx(1.5 ** 2 / 12 + 0.75 ** 2 / 6 + 0.25 ** 2 / 2)
    late = rmst(df, "t", "d", tau=5, by="g").table.set_index("group").loc["a"]
    assert np.isnan(late["rmst"]) and "beyond last follow-up" in late["note"]
