"""The Cox kernel's per-cell moments (issue 17) against the partial likelihood written out.

The oracle loops over strata and event times and sums the definitions
(Breslow: each tied death sees the full risk set; Efron: the k-th of d tied
deaths sees the risk set minus k/d of the dying), on uncentred covariates.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwestudy.stats import _cox_kernel as kernel
from rwestudy.stats.cox import cox


def _by_definition(x, time, event, strata, beta, ties):
    p = x.shape[1]
    eta = x @ beta
    w = np.exp(eta)
    ll, score, info = 0.0, np.zeros(p), np.zeros((p, p))
    for s in np.unique(strata):
        for t in np.unique(time[(strata == s) & event]):
            risk = (strata == s) & (time >= t)
            dead = risk & event & (time == t)
            d = int(dead.sum())
            ll += eta[dead].sum()
            score += x[dead].sum(axis=0)
            for k in range(d):
                f = k / d if ties == "efron" else 0.0
                wk = w * (risk - f * dead)
                s0, s1, s2 = wk.sum(), wk @ x, (x * wk[:, None]).T @ x
                ll -= np.log(s0)
                score -= s1 / s0
                info += s2 / s0 - np.outer(s1, s1) / s0**2
    return ll, score, info


def _data(n, seed, n_strata=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    time = rng.integers(1, 9, n) / 3.0            # heavy ties
    event = rng.random(n) < 0.7
    strata = rng.integers(0, n_strata, n)
    return x, time, event, strata


@pytest.mark.parametrize("ties", ["breslow", "efron"])
@pytest.mark.parametrize("n_strata", [1, 3])
def test_moments_match_the_partial_likelihood_written_out(ties, n_strata):
    x, time, event, strata = _data(120, seed=n_strata, n_strata=n_strata)
    rs = kernel.prepare(x, time, event, strata=strata if n_strata > 1 else None, ties=ties)
    assert rs.cells is not None                     # right-censored data take the per-cell path
    for beta in (np.zeros(3), np.array([0.4, -0.7, 0.2])):
        m = kernel.moments(rs, beta)
        ll, score, info = _by_definition(x, time, event, strata, beta, ties)
        assert m.loglik == pytest.approx(ll, rel=1e-12)
        np.testing.assert_allclose(m.score, score, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(m.information, info, rtol=1e-10, atol=1e-10)


def test_scratch_array_is_reused_without_aliasing_results():
    x, time, event, strata = _data(80, seed=5)
    rs = kernel.prepare(x, time, event, ties="efron")
    work = np.empty(rs.x.T.shape)
    first = kernel.moments(rs, np.array([0.1, 0.2, 0.3]), work=work)
    kept = first.information.copy(), first.score.copy()
    second = kernel.moments(rs, np.array([-1.0, 0.5, 0.0]), work=work)
    np.testing.assert_array_equal(first.information, kept[0])   # not a view of the scratch
    np.testing.assert_array_equal(first.score, kept[1])
    fresh = kernel.moments(rs, np.array([-1.0, 0.5, 0.0]))
    np.testing.assert_array_equal(second.information, fresh.information)


def test_no_events_gives_a_flat_likelihood():
    x, time, _, _ = _data(30, seed=2)
    m = kernel.moments(kernel.prepare(x, time, np.zeros(30, bool), ties="efron"), np.array([0.3, 0.1, -0.2]))
    assert m.loglik == 0.0
    np.testing.assert_array_equal(m.score, np.zeros(3))
    np.testing.assert_allclose(m.information, np.zeros((3, 3)), atol=1e-12)


def test_sorted_covariates_cross_chunk_boundaries():
    rng = np.random.default_rng(0)
    n = 2 * kernel._CHUNK + 5
    x = rng.normal(size=(n, 4))
    order = rng.permutation(n)
    xs = kernel._sorted_covariates(x, order)
    assert xs.flags.f_contiguous
    np.testing.assert_allclose(xs, x[order] - x.mean(axis=0), atol=1e-13)


def test_equal_rows_get_bit_equal_linear_predictors():
    # concordance counts exact ties in eta: rows with the same covariates must tie exactly
    rng = np.random.default_rng(1)
    levels = rng.normal(size=(4, 6))
    x = np.asfortranarray(levels[rng.integers(0, 4, 1001)])
    beta = rng.normal(size=6)
    eta = kernel.linear_predictor(x, beta)
    assert len(np.unique(eta)) == len(np.unique(x, axis=0))
    np.testing.assert_allclose(eta, x @ beta, rtol=1e-13, atol=1e-13)


def test_fit_on_fractional_tied_months_agrees_with_whole_days():
    # the same data in days (integers) and months (fractions): identical risk sets, identical fit
    x, time, event, _ = _data(200, seed=9)
    days = np.round(time * 3) * 10
    df = pd.DataFrame(x, columns=["a", "b", "c"]).assign(days=days, months=days / 30.4375, d=event.astype(int))
    for ties in ("breslow", "efron"):
        f_days = cox(df, "days", "d", ["a", "b", "c"], ties=ties)
        f_months = cox(df, "months", "d", ["a", "b", "c"], ties=ties)
        np.testing.assert_allclose(f_months.table["coef"], f_days.table["coef"], rtol=1e-12)
        assert f_months.concordance == f_days.concordance
