"""Restricted mean survival time (RMST): the area under the Kaplan-Meier curve up to a horizon.

Where a median is not reached (a subgroup with few events), the RMST at a
horizon tau still is: "on average, patients lived X of the first tau months".

    RMST(tau) = integral_0^tau S(t) dt
    Var       = sum over event times t_j <= tau of A_j^2 d_j / (n_j (n_j - d_j)),
                A_j = integral_{t_j}^tau S(t) dt

which is what R's ``print(survfit(...), rmean = tau)`` prints ("rmean",
"se(rmean)"); ``tests/stats/test_rmst.py`` checks it against
``reference/r/competing_risks_rmst.R``. Two groups are compared by the
difference (normal CI and p) and the ratio (CI and p on the log scale, delta
method), as ``survRM2::rmst2`` reports them.

A horizon beyond a group's last follow-up is not extrapolated: that group's
RMST is NaN with a note (R's survival would carry the last value forward;
survRM2 refuses).

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({"t": [1, 2, 3, 4], "d": [1, 1, 1, 1]})
>>> float(rmst(df, "t", "d", tau=4).table["rmst"].iloc[0])  # 1 + .75 + .5 + .25
2.5
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rwestudy.stats import _km_kernel as kern
from rwestudy.stats._dist import norm_ppf, norm_sf


@dataclass(frozen=True, eq=False)
class RMSTResult:
    """RMST per group and the contrasts of each group with the first.

    table : group, tau, n, events, rmst, std_err, ci_low, ci_high, note.
    contrasts : group, reference, difference, diff_ci_low, diff_ci_high, diff_p,
        ratio, ratio_ci_low, ratio_ci_high, ratio_p.
    """

    table: pd.DataFrame
    contrasts: pd.DataFrame
    tau: float
    conf_level: float


def rmst(df: pd.DataFrame, time: str, event: str, tau: float, by: str | None = None,
         conf_level: float = 0.95) -> RMSTResult:
    """RMST up to ``tau`` per group of ``by``, with CI; contrasts with the first group."""
    tau = float(tau)
    if not np.isfinite(tau) or tau <= 0:
        raise ValueError(f"the RMST horizon tau must be a positive number, got {tau!r}")
    # The Kaplan-Meier steps only (the kernel of stats.survival, without its CIs and quantiles).
    enc = kern.encode(df, time, event, by)
    labels = enc.levels[by] if by is not None else ["all"]
    cells = kern.risk_cells(enc.time, enc.event, enc.codes.get(by) if by is not None else None)
    n_risk, n_event = cells.n_risk[:, 0], cells.n_event[:, 0]
    surv, _ = kern.km_within_blocks(n_risk, n_event, cells.starts)
    z = norm_ppf(1 - (1 - conf_level) / 2)
    rows = []
    for b, sl in enumerate(kern.block_slices(cells.starts)):
        tab = pd.DataFrame({"time": cells.time[sl], "surv": surv[sl], "n_event": n_event[sl], "n_risk": n_risk[sl]})
        group, last = labels[b], float(cells.time[sl][-1])
        est, var = _area(tab, tau)
        note = ""
        if tau > last:
            est, var = np.nan, np.nan
            note = f"horizon {tau:g} beyond last follow-up ({last:g})"
        se = float(np.sqrt(var))
        rows.append({"group": group, "tau": tau, "n": float(n_risk[sl][0]),
                     "events": float(n_event[sl].sum()), "rmst": est, "std_err": se,
                     "ci_low": est - z * se, "ci_high": est + z * se, "note": note})
    table = pd.DataFrame(rows)
    contrasts = []
    if len(table) > 1:
        ref = table.iloc[0]
        for _, r in table.iloc[1:].iterrows():
            diff = r["rmst"] - ref["rmst"]
            se_d = np.hypot(r["std_err"], ref["std_err"])
            log_ratio = np.log(r["rmst"] / ref["rmst"])
            se_l = np.hypot(r["std_err"] / r["rmst"], ref["std_err"] / ref["rmst"])
            contrasts.append({
                "group": r["group"], "reference": ref["group"], "difference": diff,
                "diff_ci_low": diff - z * se_d, "diff_ci_high": diff + z * se_d,
                "diff_p": 2 * norm_sf(abs(diff / se_d)), "ratio": np.exp(log_ratio),
                "ratio_ci_low": np.exp(log_ratio - z * se_l), "ratio_ci_high": np.exp(log_ratio + z * se_l),
                "ratio_p": 2 * norm_sf(abs(log_ratio / se_l))})
    cols = ["group", "reference", "difference", "diff_ci_low", "diff_ci_high", "diff_p",
            "ratio", "ratio_ci_low", "ratio_ci_high", "ratio_p"]
    return RMSTResult(table, pd.DataFrame(contrasts, columns=cols), tau, conf_level)


def _area(tab: pd.DataFrame, tau: float) -> tuple[float, float]:
    """Area under one group's KM step function on [0, tau] and its Greenwood-type variance."""
    t = tab["time"].to_numpy()
    keep = t <= tau
    t, s = t[keep], tab["surv"].to_numpy()[keep]
    d, n = tab["n_event"].to_numpy()[keep], tab["n_risk"].to_numpy()[keep]
    edges = np.concatenate(([0.0], t, [tau]))
    level = np.concatenate(([1.0], s))            # S on [edge_i, edge_i+1)
    pieces = np.diff(edges) * level
    # A_j: area from t_j to tau = the pieces after t_j
    after = pieces[::-1].cumsum()[::-1][1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(n - d > 0, d / (n * (n - d)), 0.0)
    return float(pieces.sum()), float(np.sum(after ** 2 * h))
