"""MAIC weights and outcomes against independent oracles.

* closed forms: one binary covariate (w = q/p for ones, (1-q)/(1-p) for zeros),
  two binary covariates whose 2x2 table is the product of its margins (the
  weights factorise), ESS by hand;
* R (base optim BFGS + survival's survfit(weights=)): reference/r/maic_reference.R
  -> tests/fixtures/r/maic_reference.json;
* the worked example printed in the vignette of Roche's R MAIC package
  (data and printed numbers in tests/fixtures/r/maic_roche_example.json).
"""
import doctest
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwestudy import stats
from rwestudy.context import _maic_solver, _weighted_km, maic
from rwestudy.context.maic import maic_outcomes, maic_weights
from rwestudy.exceptions import ExcludedRowsWarning

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "r"


@pytest.fixture(scope="module")
def r_ref():
    return json.loads((FIX / "maic_reference.json").read_text())


@pytest.fixture(scope="module")
def roche():
    return json.loads((FIX / "maic_roche_example.json").read_text())


def roche_weights(ex):
    ag = ex["aggregate"]
    return maic_weights(pd.DataFrame(ex["data"]),
                        {"AGE": ag["age.mean"], "SEX": ag["prop.male"], "SMOKE": ag["prop.smoke"],
                         "ECOG0": ag["prop.ecog0"]}, {"AGE": ag["age.sd"] ** 2})


# ---- closed forms -----------------------------------------------------------------------

def test_one_binary_covariate_closed_form_and_ess():
    x = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])        # p = 0.3
    mw = maic_weights(pd.DataFrame({"x": x}), {"x": 0.6})
    expected = np.where(x == 1, 0.6 / 0.3, 0.4 / 0.7)   # already sums to n = 10
    np.testing.assert_allclose(mw.weights.to_numpy(), expected, rtol=1e-10)
    # ESS by hand: 10^2 / (3 * 2^2 + 7 * (4/7)^2) = 100 / (100/7) = 7
    assert mw.ess == pytest.approx(7.0, abs=1e-9)
    assert abs(np.average(x, weights=mw.weights) - 0.6) < 1e-12
    assert mw.gradient_norm < 1e-10 and mw.converged
    # distribution: 3 patients carry 6 of 10; the top 10% (1 patient) carries 2/10
    assert mw.distribution["max"] == pytest.approx(2.0) and mw.distribution["min"] == pytest.approx(4 / 7)
    assert mw.distribution["top10_share"] == pytest.approx(0.2)
    assert mw.distribution["median"] == pytest.approx(4 / 7)


def test_two_binary_covariates_product_table_factorises():
    # 100 patients, x1 ~ 0.6, x2 ~ 0.3, cells exactly 18/42/12/28 (independent)
    cells = {(1, 1): 18, (1, 0): 42, (0, 1): 12, (0, 0): 28}
    rows = [k for k, m in cells.items() for _ in range(m)]
    df = pd.DataFrame(rows, columns=["x1", "x2"])
    q1, q2 = 0.35, 0.55
    mw = maic_weights(df, {"x1": q1, "x2": q2})

    def f(x, p, q):
        return np.where(x == 1, q / p, (1 - q) / (1 - p))

    expected = f(df["x1"], 0.6, q1) * f(df["x2"], 0.3, q2)
    expected = expected / expected.sum() * len(df)
    np.testing.assert_allclose(mw.weights.to_numpy(), expected, rtol=1e-8)
    w = mw.weights.to_numpy()
    assert abs(np.average(df["x1"], weights=w) - q1) < 1e-10
    assert abs(np.average(df["x2"], weights=w) - q2) < 1e-10
    assert np.abs(mw.balance["smd_after"]).max() < 1e-9
    # raw weights exp(x'a): their ratio within x1 is q2/p2 : (1-q2)/(1-p2)
    raw = mw.raw.to_numpy()
    assert raw[0] / raw[18] == pytest.approx((q2 / 0.3) / ((1 - q2) / 0.7), rel=1e-9)


def test_batch_newton_matches_closed_form_in_each_resample():
    rng = np.random.default_rng(5)
    x = (rng.random(60) < 0.4).astype(float)
    q = 0.55
    mw = maic_weights(pd.DataFrame({"x": x}), {"x": q})
    zs = mw._design.zs
    counts = rng.multinomial(60, np.full(60, 1 / 60), size=200).astype(float)
    a, ok, _ = _maic_solver.newton_batch(zs, counts, mw._a)
    w = _maic_solver.batch_weights(zs, counts, a)
    for c, wr, good in zip(counts, w, ok):
        p = (c * x).sum() / c.sum()
        if not 0 < p < 1:
            assert not good          # a resample without both values cannot be matched
            continue
        assert good
        per_patient = np.where(x == 1, q / p, (1 - q) / (1 - p))
        np.testing.assert_allclose(wr[c > 0] / wr[c > 0].sum(), (c * per_patient)[c > 0] / c.sum(), rtol=1e-8)


# ---- R oracle ---------------------------------------------------------------------------

def test_weights_match_r_optim_with_variance_matching(r_ref):
    sim = r_ref["simulated"]
    d = pd.DataFrame(sim["data"])
    t = sim["targets"]
    mw = maic_weights(d, t, {"age": sim["age_sd"] ** 2})
    ref = sim["with_variance"]
    np.testing.assert_allclose(mw.weights.to_numpy(), ref["weights"], rtol=1e-8)
    np.testing.assert_allclose(mw.raw.to_numpy(), ref["raw"], rtol=1e-8)
    assert mw.ess == pytest.approx(ref["ess"], rel=1e-9)
    w = mw.weights.to_numpy()
    for col, target in t.items():
        assert abs(np.average(d[col], weights=w) - target) < 1e-10
    assert np.sqrt(np.average((d["age"] - t["age"]) ** 2, weights=w)) == pytest.approx(sim["age_sd"], abs=1e-10)
    sd_row = mw.balance.query("statistic == 'sd'").iloc[0]
    assert sd_row["after"] == pytest.approx(ref["weighted_age_sd"], abs=1e-9)
    # mean-only matching: a different, larger ESS
    mo = maic_weights(d, t)
    np.testing.assert_allclose(mo.weights.to_numpy(), sim["mean_only"]["weights"], rtol=1e-8)
    assert mo.ess == pytest.approx(sim["mean_only"]["ess"], rel=1e-9)


def test_weighted_outcomes_match_r_survfit(r_ref):
    sim = r_ref["simulated"]
    d = pd.DataFrame(sim["data"])
    mw = maic_weights(d, sim["targets"], {"age": sim["age_sd"] ** 2})
    out = maic_outcomes(mw, d, binary=["orr"], survival={"OS": ("os_time", "os_event")}, n_boot=300, seed=1)
    ref = sim["with_variance"]
    assert out.binary["rate_weighted"].iloc[0] == pytest.approx(ref["orr_weighted"], abs=1e-10)
    km = out.survival["OS"]
    np.testing.assert_allclose(km["time"], ref["km_time"], rtol=1e-12)
    np.testing.assert_allclose(km["surv"], ref["km_surv"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(km["n_risk"], ref["km_n_risk"], rtol=1e-9)
    np.testing.assert_allclose(km["n_event"], ref["km_n_event"], rtol=1e-9, atol=1e-12)
    med = out.medians.iloc[0]
    assert med["median_weighted"] == pytest.approx(ref["median_weighted"], rel=1e-12)
    assert med["median"] == pytest.approx(ref["median_unweighted"], rel=1e-12)
    b = out.binary.iloc[0]
    assert b["ci_low"] < b["rate_weighted"] < b["ci_high"]
    assert med["ci_low"] <= med["median_weighted"] <= med["ci_high"]


# ---- Roche MAIC package worked example ---------------------------------------------------

def test_roche_example_matches_r_and_published_vignette(roche, r_ref):
    mw = roche_weights(roche)
    ref = r_ref["roche"]
    # against R (optim BFGS + Newton finish, same data): to 1e-8
    np.testing.assert_allclose(mw.raw.to_numpy(), ref["raw"], rtol=1e-7, atol=1e-15)
    assert mw.ess == pytest.approx(ref["ess"], rel=1e-9)
    # against the printed vignette (MAIC 0.4: optim BFGS at its default tolerance,
    # printed to 7 digits): ESS 157.0715 vs our 157.0712; weights agree to ~1e-4 relative
    pub = roche["published"]
    assert mw.ess == pytest.approx(pub["ess"], abs=5e-4)
    np.testing.assert_allclose(mw.raw.to_numpy()[:6], pub["wt_first6"], rtol=1e-4)
    np.testing.assert_allclose(mw.weights.to_numpy()[:6], pub["wt_rs_first6"], rtol=1e-4)
    s = pub["wt_summary"]
    raw = mw.raw.to_numpy()
    assert raw.mean() == pytest.approx(s["mean"], rel=1e-6)
    assert raw.std(ddof=1) == pytest.approx(s["sd"], rel=1e-5)
    assert np.median(raw) == pytest.approx(s["median"], rel=2e-5)
    assert raw.max() == pytest.approx(s["max"], rel=1e-5)
    assert raw.min() == pytest.approx(s["min"], rel=2e-4)
    assert mw.weights.max() == pytest.approx(pub["wt_rs_summary"]["max"], rel=1e-5)


# ---- weighted Kaplan-Meier against the ordinary one ----------------------------------------

def test_weighted_km_integer_weights_equal_replicated_rows():
    rng = np.random.default_rng(3)
    t = np.round(rng.exponential(10, 40), 0) + 1      # ties
    e = (rng.random(40) < 0.7).astype(int)
    w = rng.integers(1, 4, 40)
    km_w = _weighted_km.weighted_km(t, e, w)
    rep = pd.DataFrame({"t": np.repeat(t, w), "e": np.repeat(e, w)})
    km = stats.kaplan_meier(rep, "t", "e")
    np.testing.assert_allclose(km_w["surv"], km.table["surv"], rtol=1e-12)
    np.testing.assert_allclose(km_w["n_risk"], km.table["n_risk"])
    assert _weighted_km.km_median(km_w) == km.medians["median"].iloc[0]
    batch = _weighted_km.batch_km_median(t, e, np.vstack([w, np.ones(40)]))
    assert batch[0] == km.medians["median"].iloc[0]
    assert batch[1] == stats.kaplan_meier(pd.DataFrame({"t": t, "e": e}), "t", "e").medians["median"].iloc[0]


def test_batch_median_midpoint_rule():
    t, e = np.array([1.0, 2, 4, 5]), np.array([0, 1, 1, 0])
    # S: 1, 2/3, 1/3 -> first S <= 0.5 at t = 4
    assert _weighted_km.batch_km_median(t, e, np.ones((1, 4)))[0] == 4.0
    t2, e2 = np.array([1.0, 2, 3, 4]), np.array([1, 1, 0, 1])
    # S = 0.5 exactly on [2, 4): R's rule gives the midpoint 3, as stats.kaplan_meier
    assert _weighted_km.batch_km_median(t2, e2, np.ones((1, 4)))[0] == 3.0
    assert stats.kaplan_meier(pd.DataFrame({"t": t2, "e": e2}), "t", "e").medians["median"].iloc[0] == 3.0


# ---- errors -----------------------------------------------------------------------------

def test_no_solution_errors_name_the_variable():
    df = pd.DataFrame({"asct": [0] * 8, "male": [1, 0] * 4, "age": [50, 55, 60, 65, 70, 75, 52, 58],
                       "a": [0, 0, 0, 0, 1, 1, 1, 1], "b": [0, 0, 0, 0, 1, 1, 1, 1]})
    with pytest.raises(ValueError, match=r"'asct' is constant.*all 8 patients have asct = 0.*0\.9"):
        maic_weights(df, {"asct": 0.9})
    with pytest.raises(ValueError, match=r"target 80 for 'age' lies outside our data \(our patients range from 50 to 75\)"):
        maic_weights(df, {"age": 80})
    with pytest.raises(ValueError, match="'male'.*edge of our data"):
        maic_weights(df, {"male": 1.0})
    with pytest.raises(ValueError, match="percentages"):
        maic_weights(df, {"male": 45})
    with pytest.raises(ValueError, match=r"together.*a and b already cannot be matched together"):
        maic_weights(df, {"male": 0.5, "a": 0.3, "b": 0.6})
    with pytest.raises(ValueError, match="variance of 'age'"):
        maic_weights(df, {"age": 60}, {"age": 40.0 ** 2})
    with pytest.raises(ValueError, match="names no column"):
        maic_weights(df, {"ecog": 0.3})
    with pytest.raises(ValueError, match="variance given without a mean"):
        maic_weights(df, {"male": 0.5}, {"age": 25})


def test_missing_values_complete_case_reported_and_text_columns():
    df = pd.DataFrame({"age": [50, np.nan, 60, 70, 65, np.nan], "sex": ["M", "F", "F", "M", None, "F"]})
    with pytest.warns(ExcludedRowsWarning, match="3 patient"):
        mw = maic_weights(df, {"age": 62, "sex=M": 0.5})
    assert mw.n == 3 and mw.n_excluded == 3 and mw.excluded_by == {"age": 2, "sex=M": 1}
    assert list(mw.weights.index) == [0, 2, 3]
    with pytest.raises(ValueError, match="is text"):
        maic_weights(df.dropna(), {"sex": 0.5})


# ---- outcomes, bootstrap, statement -------------------------------------------------------

def test_outcomes_closed_form_rates_bootstrap_and_timing():
    rng = np.random.default_rng(11)
    n = 100
    x = (rng.random(n) < 0.4).astype(int)
    y = (rng.random(n) < np.where(x == 1, 0.7, 0.3)).astype(int)
    df = pd.DataFrame({"x": x, "orr": y, "t": rng.exponential(12, n), "d": (rng.random(n) < 0.8).astype(int)})
    mw = maic_weights(df, {"x": 0.6})
    start = time.perf_counter()
    out = maic_outcomes(mw, df, binary=["orr"], survival={"PFS": ("t", "d")}, n_boot=1000, seed=7)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0
    # closed form: weighted rate = 0.6 * rate among x=1 + 0.4 * rate among x=0
    expected = 0.6 * y[x == 1].mean() + 0.4 * y[x == 0].mean()
    row = out.binary.iloc[0]
    assert row["rate_weighted"] == pytest.approx(expected, abs=1e-12)
    assert row["rate"] == pytest.approx(y.mean())
    assert row["ci_low"] < expected < row["ci_high"] and row["ci_high"] - row["ci_low"] < 0.4
    assert out.n_boot == 1000 and out.n_boot_failed == 0
    again = maic_outcomes(mw, df, binary=["orr"], survival={"PFS": ("t", "d")}, n_boot=1000, seed=7)
    pd.testing.assert_frame_equal(out.binary, again.binary)
    assert "UNANCHORED" in out.statement and f"about {mw.ess:.0f}" in out.statement
    assert "residual confounding" in out.statement and "effect modifier" in out.statement


def test_outcomes_on_the_demo_study_with_endpoint_tables(small_tables):
    from rwestudy.endpoints import derive_endpoints

    ep = derive_endpoints(small_tables)
    pts = ep.patients
    mw = maic_weights(pts, {"age_at_start": 64.0, "ecog_2_3": 0.25, "primary_refractory": 0.35})
    out = maic_outcomes(mw, pts, survival={"OS": ep.endpoint("OS"), "PFS": ep.endpoint("PFS")}, n_boot=200)
    assert list(out.binary["outcome"]) == ["orr_best", "cr_best"]
    assert set(out.survival) == {"OS", "PFS"}
    os_ = ep.endpoint("OS")
    km = stats.kaplan_meier(os_, "time", "event")
    assert out.medians.set_index("endpoint").loc["OS", "median"] == km.medians["median"].iloc[0]
    with pytest.raises(ValueError, match="not rows of ipd"):
        maic_outcomes(mw, pts.iloc[:10], binary=[], n_boot=10)


def test_docstring_examples_run():
    for mod in (maic,):
        assert doctest.testmod(mod).failed == 0
