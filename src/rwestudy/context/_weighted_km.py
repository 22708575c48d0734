"""Private: the weighted Kaplan-Meier curve and its median, single and batched.

At each distinct event time t: S(t) = S(t-) (1 - d_w(t) / n_w(t)), d_w the
summed weights of the patients with an event at t, n_w the summed weights
of those still at risk (time >= t; a patient censored at t is at risk at t,
as in every Kaplan-Meier).  With all weights 1 this is the ordinary
Kaplan-Meier; with integer weights it equals the curve of the data with each
row repeated that many times; R's ``survfit(..., weights = w)`` gives the same
estimate.  The median follows R's ``quantile.survfit`` rule (shared with
:mod:`rwestudy.stats.survival`): the first time S <= 0.5, or the midpoint of a
flat stretch sitting exactly at 0.5.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rwestudy.stats import _km_kernel as kern


def _validate(time, event, weight) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    w = np.asarray(weight, dtype=float)
    if not (t.shape == e.shape == w.shape) or t.ndim != 1:
        raise ValueError("time, event and weight must be 1-d arrays of the same length")
    if np.isnan(t).any() or np.isnan(e).any() or np.isnan(w).any():
        raise ValueError("missing time, event or weight: drop those patients explicitly first")
    if (t < 0).any() or (w < 0).any() or not np.isin(e, (0.0, 1.0)).all():
        raise ValueError("need time >= 0, weight >= 0 and event coded 0/1")
    return t, e, w


def weighted_km(time, event, weight) -> pd.DataFrame:
    """Weighted Kaplan-Meier at every distinct time: time, n_risk, n_event, n_censor, surv (weighted counts)."""
    t, e, w = _validate(time, event, weight)
    u, inv = np.unique(t, return_inverse=True)
    at_time = np.bincount(inv, weights=w, minlength=len(u))
    d = np.bincount(inv, weights=w * e, minlength=len(u))
    risk = at_time[::-1].cumsum()[::-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(risk > 0, 1.0 - d / risk, 1.0)
    surv = np.cumprod(factor)
    return pd.DataFrame({"time": u, "n_risk": risk, "n_event": d, "n_censor": at_time - d, "surv": surv})


def km_median(table: pd.DataFrame) -> float:
    """Median of a :func:`weighted_km` table (NaN when S never reaches 0.5)."""
    keep = table["n_risk"].to_numpy() > 0
    return float(kern.survival_quantile(table["time"].to_numpy()[keep], table["surv"].to_numpy()[keep], 0.5))


def batch_km_median(time, event, weights: np.ndarray) -> np.ndarray:
    """Medians of B weighted Kaplan-Meier curves on the same patients (``weights``: B x n).

    One sort, then B x (distinct times) cumulative sums and products; NaN
    where a curve never reaches 0.5.  Zero weights drop a patient (a
    bootstrap resample that did not draw them).
    """
    t, e, _ = _validate(time, event, np.ones(len(np.asarray(time))))
    w = np.asarray(weights, dtype=float)
    order = np.argsort(t, kind="stable")
    ts = t[order]
    starts = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]])
    u = ts[starts]
    k = len(u)
    at_time = np.add.reduceat(w[:, order], starts, axis=1)
    ev = np.add.reduceat(w[:, order] * e[order], starts, axis=1)
    risk = at_time[:, ::-1].cumsum(axis=1)[:, ::-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        surv = np.cumprod(np.where(risk > 0, 1.0 - ev / risk, 1.0), axis=1)
    tol = kern.QUANTILE_TOL
    below = surv <= 0.5 + tol
    reached = below.any(axis=1)
    first = below.argmax(axis=1)
    rows = np.arange(w.shape[0])
    med = u[first].astype(float)
    # flat stretch exactly at 0.5: midpoint to the next drop, or to the last follow-up
    at_half = reached & (np.abs(surv[rows, first] - 0.5) <= tol)
    if at_half.any():
        last_idx = k - 1 - (at_time[:, ::-1] > 0).argmax(axis=1)
        for r in np.flatnonzero(at_half):
            later = np.flatnonzero(surv[r, first[r] + 1:] < surv[r, first[r]] - tol)
            end = u[first[r] + 1 + later[0]] if later.size else u[last_idx[r]]
            med[r] = (u[first[r]] + end) / 2
    med[~reached] = np.nan
    return med
