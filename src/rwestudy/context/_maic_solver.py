"""Private: solve the MAIC method-of-moments problem (Signorovitch et al. 2010).

With z_i our centred covariates, the weights are w_i = exp(z_i' a) where a
minimises Q(a) = sum_i exp(z_i' a).  Q is convex; its gradient
sum_i z_i w_i is zero exactly when the weighted means equal the targets.

* :func:`fit` - one data set: scipy's ``trust-exact`` with the analytic
  gradient and Hessian of Q / n, then Newton steps on log Q until the
  weighted means sit on the targets to ``GRAD_TOL`` (trust-exact stops near
  1e-9; the brief's standard is 1e-10).
* :func:`newton_batch` - many bootstrap resamples at once.  A resample is a
  vector of multiplicities c_i, so its problem is min log sum_i c_i
  exp(z_i' a): one damped Newton iteration for all resamples is a handful of
  (B x n) array operations, no Python loop over resamples.

Newton runs on log Q: its gradient is the weighted mean of z and its Hessian
the weighted covariance, both free of the overall weight scale (Q itself can
span 1e-10 .. 1e10 across resamples).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

GRAD_TOL = 1e-10
MAX_NEWTON = 60
MAX_HALVINGS = 40
ARMIJO = 1e-4


def fit(zs: np.ndarray) -> tuple[np.ndarray, dict]:
    """Coefficients on the standardised design ``zs`` and convergence facts."""
    n, p = zs.shape

    def q(a):
        return float(np.exp(zs @ a).mean())

    def grad(a):
        return zs.T @ np.exp(zs @ a) / n

    def hess(a):
        return (zs.T * np.exp(zs @ a)) @ zs / n

    res = minimize(q, np.zeros(p), jac=grad, hess=hess, method="trust-exact",
                   options={"gtol": 1e-12, "maxiter": 500})
    a, ok, polish = newton_batch(zs, np.ones((1, n)), res.x)
    a = a[0]
    mean_z = _weighted_mean(zs, a)
    info = {
        "converged": bool(ok[0]),
        "iterations": int(res.nit + polish),
        "gradient_norm": float(np.linalg.norm(grad(a))),        # of Q / n, standardised units
        "max_mean_deviation": float(np.abs(mean_z).max()),     # weighted mean - target, in our SDs
        "optimizer_message": str(res.message),
    }
    return a, info


def _weighted_mean(zs: np.ndarray, a: np.ndarray) -> np.ndarray:
    eta = zs @ a
    w = np.exp(eta - eta.max())
    return w @ zs / w.sum()


def _log_q(eta: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """log sum_i c_i exp(eta_i) per row, shifted by the row maximum over the support."""
    support = counts > 0
    mx = np.where(support, eta, -np.inf).max(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        s = (counts * np.exp(np.minimum(eta - mx, 0.0))).sum(axis=1)
    return mx[:, 0] + np.log(s)


def newton_batch(zs: np.ndarray, counts: np.ndarray, a0: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Solve every row of ``counts`` (B x n multiplicities) from the start ``a0``.

    Returns (A: B x p, ok: B bools, iterations).  A row fails (ok False) when
    its support cannot reach the targets: a column that does not take both
    signs on the resampled patients (checked up front), or a joint failure
    that shows as no convergence within ``MAX_NEWTON`` iterations.
    """
    b, _ = counts.shape
    p = zs.shape[1]
    a = np.tile(np.asarray(a0, dtype=float), (b, 1))
    support = counts > 0
    # a target must lie strictly inside each column's range on the support
    zmin = np.where(support[:, :, None], zs[None, :, :], np.inf).min(axis=1)
    zmax = np.where(support[:, :, None], zs[None, :, :], -np.inf).max(axis=1)
    feasible = (zmin < 0).all(axis=1) & (zmax > 0).all(axis=1)
    done = ~feasible
    ok = np.zeros(b, dtype=bool)
    it = 0
    for it in range(1, MAX_NEWTON + 1):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        c, aa = counts[act], a[act]
        eta = aa @ zs.T
        mx = np.where(c > 0, eta, -np.inf).max(axis=1, keepdims=True)
        with np.errstate(under="ignore"):
            w = c * np.exp(np.minimum(eta - mx, 0.0))
        prob = w / w.sum(axis=1, keepdims=True)
        g = prob @ zs
        conv = np.abs(g).max(axis=1) < GRAD_TOL
        ok[act[conv]] = True
        done[act[conv]] = True
        keep = ~conv
        if not keep.any():
            break
        act, c, aa, prob, g = act[keep], c[keep], aa[keep], prob[keep], g[keep]
        h = np.einsum("bn,ni,nj->bij", prob, zs, zs) - g[:, :, None] * g[:, None, :]
        # a resample whose targets lie outside its patients' hull drives a to
        # infinity: once the numbers stop being finite it has failed
        finite = np.isfinite(h).all(axis=(1, 2)) & np.isfinite(g).all(axis=1) & np.isfinite(aa).all(axis=1)
        done[act[~finite]] = True
        if not finite.all():
            act, c, aa, g, h = act[finite], c[finite], aa[finite], g[finite], h[finite]
            if act.size == 0:
                continue
        # a whisker of ridge keeps solve() alive on a near-singular resample;
        # such a resample then fails by non-convergence, it is not hidden
        ridge = 1e-13 * np.trace(h, axis1=1, axis2=2)[:, None, None] * np.eye(p)
        try:
            step = -np.linalg.solve(h + ridge, g[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            step = -(np.linalg.pinv(h + ridge) @ g[:, :, None])[:, :, 0]
        slope = (g * step).sum(axis=1)
        f0 = _log_q(aa @ zs.T, c)
        # a predicted decrease below the rounding of log Q cannot be seen by
        # Armijo's test: there we are in Newton's quadratic region, take the full step
        unseen = -slope < 1e-13 * (1.0 + np.abs(f0))
        t = np.ones(len(act))
        pending = np.ones(len(act), dtype=bool)
        for _ in range(MAX_HALVINGS):
            trial = aa + t[:, None] * step
            f1 = _log_q(trial @ zs.T, c)
            good = pending & np.isfinite(f1) & ((f1 <= f0 + ARMIJO * t * slope) | (unseen & (t == 1.0)))
            a[act[good]] = trial[good]
            pending &= ~good
            if not pending.any():
                break
            t = np.where(pending, t / 2, t)
        # no decrease possible: we are at the floating-point minimum; judge by the gradient
        done[act[pending]] = True
    else:
        it = MAX_NEWTON
    # final check for rows that stopped in the line search or ran out of iterations
    rest = np.flatnonzero(feasible & ~ok)
    if rest.size:
        eta = a[rest] @ zs.T
        mx = np.where(counts[rest] > 0, eta, -np.inf).max(axis=1, keepdims=True)
        with np.errstate(under="ignore"):
            w = counts[rest] * np.exp(np.minimum(eta - mx, 0.0))
        g = (w @ zs) / w.sum(axis=1, keepdims=True)
        ok[rest] = np.abs(g).max(axis=1) < GRAD_TOL
    return a, ok, it


def batch_weights(zs: np.ndarray, counts: np.ndarray, a: np.ndarray) -> np.ndarray:
    """c_i exp(z_i' a) per resample, rescaled by the largest weight on its own support."""
    eta = a @ zs.T
    mx = np.where(counts > 0, eta, -np.inf).max(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        return counts * np.exp(np.minimum(eta - mx, 0.0))
