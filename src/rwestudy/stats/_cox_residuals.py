"""Score residuals of a fitted Cox model, for the cluster-robust (sandwich) variance.

For subject i (Breslow ties), with r = exp(x beta), S0/S1 the at-risk sums
of r and r x at event time t_g and xbar = S1 / S0:

    U_i = delta_i (x_i - xbar(t_i)) - sum_{g: i at risk} r_i (x_i - xbar(t_g)) d_g / S0(t_g)

Efron ties split each tied time's d deaths into d steps k = 0..d-1 with
S0_k = S0 - (k/d) S0_dead (likewise S1_k); a subject dying at t_g takes part
in step k with weight (1 - k/d) and its death is shared 1/d per step. These
are R's ``residuals(coxph, type = "score")`` (Therneau & Grambsch 2000, 4.6).

Written plainly (one pass per event time over the rows at risk: O(n x event
times)), apart from the tuned fitting kernel: it is run once per fit that asks
for robust standard errors, on study-size data.
"""
from __future__ import annotations

import numpy as np


def score_residuals(x: np.ndarray, stop: np.ndarray, event: np.ndarray, beta: np.ndarray, *,
                    start: np.ndarray | None = None, strata: np.ndarray | None = None,
                    ties: str = "efron") -> np.ndarray:
    """(n, p) score residuals in input row order."""
    n, p = x.shape
    x = x - x.mean(axis=0)   # residuals are invariant to centring; it keeps exp() in range
    r = np.exp(x @ beta)
    event = np.asarray(event, dtype=bool)
    strata = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata)
    entry = np.full(n, -np.inf) if start is None else np.asarray(start, dtype=np.float64)
    out = np.zeros((n, p))
    for s in np.unique(strata):
        in_s = strata == s
        for t in np.unique(stop[in_s & event]):
            risk = in_s & (stop >= t) & (entry < t)
            dead = risk & event & (stop == t)
            d = int(dead.sum())
            rr, xr = r[risk], x[risk]
            s0, s1 = rr.sum(), rr @ xr
            if ties == "breslow" or d == 1:
                xbar = s1 / s0
                out[dead] += x[dead] - xbar
                out[risk] -= (rr / s0)[:, None] * d * (xr - xbar)
                continue
            rd, xd = r[dead], x[dead]
            s0d, s1d = rd.sum(), rd @ xd
            frac = np.arange(d) / d
            s0k = s0 - frac * s0d                      # (d,)
            xbar_k = (s1[None, :] - frac[:, None] * s1d[None, :]) / s0k[:, None]   # (d, p)
            # deaths: x_i minus the mean of the d step means
            out[dead] += x[dead] - xbar_k.mean(axis=0)
            # everyone at risk: - r_i sum_k w_ik (x_i - xbar_k) / S0_k, w = 1 (alive) or 1 - k/d (dying)
            inv = 1.0 / s0k
            alive = risk & ~dead
            ra, xa = r[alive], x[alive]
            out[alive] -= ra[:, None] * (xa * inv.sum() - inv @ xbar_k)
            w = (1 - frac) * inv                       # (d,)
            out[dead] -= rd[:, None] * (xd * w.sum() - w @ xbar_k)
    return out
