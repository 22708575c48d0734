"""Proportional-hazards test of R's ``cox.zph(fit, transform="km", terms=TRUE)``.

Since survival 3.0, cox.zph computes the exact score test for adding the
time-varying terms x * g(t) to the fitted model, evaluated at the fitted
beta with the new coefficients at 0 (Grambsch & Therneau 1994 give the
earlier one-step approximation). With g the Kaplan-Meier transform
g(t) = 1 - S_KM(t-) of the pooled data (the KM just before t).

The extended model's score and information are weighted versions of the
ordinary ones (weight g(t_j) or g(t_j)^2 per event time), so one kernel pass
per weight gives every block. A term's test is the score test for its
columns' x * g(t) alone (nuisance beta held at the fit, Schur complement).
"""
from __future__ import annotations

import numpy as np

from . import _cox_kernel as kernel


def km_transform(stop: np.ndarray, event: np.ndarray, start: np.ndarray | None,
                 times: np.ndarray) -> np.ndarray:
    """1 - S(t-), the left-continuous Kaplan-Meier of all rows (strata pooled), at ``times``."""
    uniq = np.unique(stop[event])
    stop_sorted = np.sort(stop)
    at_risk = len(stop) - np.searchsorted(stop_sorted, uniq, side="left")
    if start is not None:   # rows that have not entered yet (start >= t)
        at_risk = at_risk - (len(start) - np.searchsorted(np.sort(start), uniq, side="left"))
    deaths = np.bincount(np.searchsorted(uniq, stop[event]), minlength=len(uniq))
    surv = np.cumprod(1 - deaths / at_risk)
    # R uses the left-continuous KM: S(t-) at each event time
    surv_before = np.concatenate([[1.0], surv[:-1]])
    return 1 - surv_before[np.searchsorted(uniq, times)]


def zph_test(rs: kernel.RiskSets, beta: np.ndarray, term_slices: dict[str, slice],
             g: np.ndarray) -> list[tuple[str, float, int]]:
    """(name, chi-square, df) for each term and then "GLOBAL"; ``g`` one value per event time."""
    g = g - (rs.d @ g) / rs.d.sum()       # centring: the test is invariant, numerics are better
    m0 = kernel.moments(rs, beta)
    m1 = kernel.moments(rs, beta, h=g)
    m2 = kernel.moments(rs, beta, h=g * g)
    u = m1.score
    i_bb, i_bg, i_gg = m0.information, m1.information, m2.information
    out = []
    for name, sl in [*term_slices.items(), ("GLOBAL", slice(0, len(beta)))]:
        idx = np.arange(len(beta))[sl]
        # information of gamma_S after adjusting for all of beta (Schur complement)
        a = i_gg[np.ix_(idx, idx)] - i_bg[:, idx].T @ np.linalg.solve(i_bb, i_bg[:, idx])
        stat = float(u[idx] @ np.linalg.solve(a, u[idx]))
        out.append((name, stat, len(idx)))
    return out
