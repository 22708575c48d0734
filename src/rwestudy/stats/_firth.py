"""Firth-penalised Cox regression (Heinze & Schemper 2001), Breslow ties.

Maximises  l*(beta) = l(beta) + 1/2 log det I(beta).  The penalised score is
U*_r = U_r + 1/2 tr(I^-1 dI/dbeta_r), where dI/dbeta_r is the sum over event
times of the third central moment of x in the risk set (weights exp(x beta)):

    dV/dbeta_r = S3_r/S0 - (S2/S0) m_r - V_r m' - m V_r'

Iterations use I as the Hessian (as Heinze & Schemper do); the estimate is
defined by U* = 0, so this only changes the path. Confidence limits and
p-values use the penalised profile likelihood, which (unlike Wald) behaves
well when the unpenalised estimate is infinite.

The per-event-time p x p moments are held in memory (G x p x p), fine for the
clinical data sets Firth is meant for.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from rwestudy.stats._dist import chi2_ppf, chi2_sf

from . import _cox_kernel as kernel


@dataclass(frozen=True)
class _State:
    penalised: float
    loglik: float
    score: np.ndarray        # penalised score
    information: np.ndarray  # unpenalised information


def _state(rs: kernel.RiskSets, beta: np.ndarray) -> _State:
    if rs.efron:
        raise ValueError("Firth Cox is implemented with Breslow ties")
    x = rs.x
    n, p = x.shape
    w = np.exp(x @ beta)
    wx = x * w[:, None]
    wxx = (wx[:, :, None] * x[:, None, :]).reshape(n, p * p)
    s0, s1 = kernel._risk_sums(rs, w, wx)
    _, s2 = kernel._risk_sums(rs, w, wxx)
    d = rs.d
    m = s1 / s0[:, None]
    e2 = s2.reshape(-1, p, p) / s0[:, None, None]
    v = e2 - m[:, :, None] * m[:, None, :]
    info = np.einsum("g,gab->ab", d, v)
    loglik = float((x[rs.dead] @ beta).sum() - (d * np.log(s0)).sum())
    score = rs.dead_x_sum - d @ m

    # sum_g d_g S3_r/S0 = X' diag(w c x_r) X, c_i = sum of d_g/S0_g over the times row i is at risk
    ca = np.concatenate([[0.0], np.cumsum(d / s0)])
    c = ca[rs.row_hi] - ca[rs.row_lo]
    wcx = x * (w * c)[:, None]
    third = np.stack([(wcx * x[:, [r]]).T @ x for r in range(p)])
    term2 = np.einsum("g,gab,gr->rab", d, e2, m)
    term3 = np.einsum("g,gar,gb->rab", d, v, m)
    d_info = third - term2 - term3 - term3.transpose(0, 2, 1)

    sign, logdet = np.linalg.slogdet(info)
    inv = np.linalg.inv(info)
    pen_score = score + 0.5 * np.einsum("ab,rba->r", inv, d_info)
    penalised = loglik + 0.5 * logdet if sign > 0 else -np.inf
    return _State(penalised, loglik, pen_score, info)


def _maximise(rs: kernel.RiskSets, beta0: np.ndarray, free: np.ndarray, *, max_iter: int = 100,
              tol: float = 1e-10) -> tuple[np.ndarray, _State, int, bool]:
    """Newton iterations on the free coordinates (others held fixed), step-halving."""
    beta = beta0.copy()
    cur = _state(rs, beta)
    for it in range(1, max_iter + 1):
        step = np.zeros_like(beta)
        if free.any():
            step[free] = np.linalg.solve(cur.information[np.ix_(free, free)], cur.score[free])
        big = np.max(np.abs(step)) if free.any() else 0.0
        if big > 5:          # keep early steps moderate: the penalised surface can be flat
            step *= 5 / big
        new = _state(rs, beta + step)
        halvings = 0
        while new.penalised < cur.penalised - 1e-12 * abs(cur.penalised) and halvings < 40:
            step /= 2
            new = _state(rs, beta + step)
            halvings += 1
        beta, prev, cur = beta + step, cur, new
        if np.max(np.abs(step), initial=0.0) < tol or (
                abs(cur.penalised - prev.penalised) < 1e-14 * max(1.0, abs(cur.penalised))
                and np.max(np.abs(cur.score[free]), initial=0.0) < 1e-8):
            return beta, cur, it, True
    return beta, cur, max_iter, False


@dataclass(frozen=True)
class FirthFit:
    beta: np.ndarray
    vcov: np.ndarray
    loglik_null: float      # penalised, beta = 0
    loglik: float           # penalised, at the estimate
    lr_stat: float          # 2 * (penalised loglik - penalised null)
    p_plr: np.ndarray       # penalised likelihood-ratio p per coefficient
    ci_low: np.ndarray      # hazard-ratio scale, profile penalised likelihood
    ci_high: np.ndarray
    iterations: int
    converged: bool


def fit(rs: kernel.RiskSets, p: int, *, conf_level: float = 0.95) -> FirthFit:
    all_free = np.ones(p, dtype=bool)
    beta, st, iters, ok = _maximise(rs, np.zeros(p), all_free)
    null = _state(rs, np.zeros(p))
    vcov = np.linalg.inv(st.information)
    q = chi2_ppf(conf_level, 1)
    p_plr = np.empty(p)
    lo, hi = np.empty(p), np.empty(p)
    for j in range(p):
        free = all_free.copy()
        free[j] = False

        def profile(value: float, _j=j, _free=free) -> float:
            start = beta.copy()
            start[_j] = value
            _, s, _, _ = _maximise(rs, start, _free)
            return 2 * (st.penalised - s.penalised)

        p_plr[j] = chi2_sf(max(profile(0.0), 0.0), 1)
        se = np.sqrt(vcov[j, j])
        lo[j] = _root(lambda v: profile(v) - q, beta[j], -se)
        hi[j] = _root(lambda v: profile(v) - q, beta[j], se)
    return FirthFit(beta, vcov, null.penalised, st.penalised, 2 * (st.penalised - null.penalised),
                    p_plr, np.exp(lo), np.exp(hi), iters, ok)


def _root(f, center: float, step: float) -> float:
    """Where the profile deviance crosses its critical value, searching outward."""
    a = center
    b = center + step
    for _ in range(60):
        fb = f(b)
        if fb > 0:
            return optimize.brentq(f, a, b, xtol=1e-10, rtol=1e-12)
        a = b
        b = center + (b - center) * 2
    return float(np.sign(step) * np.inf)
