"""Kaplan-Meier estimation, survival quantiles and median follow-up, as R prints them.

* :func:`kaplan_meier` - the product-limit curve with Greenwood standard errors,
  pointwise CIs on the ``log``, ``log-log`` or ``plain`` scale, the median and
  quartiles with CIs, and landmark survival (``.at``).
* :func:`reverse_km_followup` - median follow-up by reverse Kaplan-Meier.

Numbers match R's ``survfit`` / ``summary.survfit`` / ``quantile.survfit``
(survival 3.x) to ~1e-12; ``tests/stats/test_survival_km.py`` checks this on
lung, veteran, ovarian and tied data against ``reference/r/survival_km_tests.R``.

Missing values: rows with a missing time, event or ``by`` value raise
``ValueError`` naming the count; nothing is dropped silently.

Example
-------
>>> import pandas as pd
>>> from rwestudy.stats.survival import kaplan_meier
>>> df = pd.DataFrame({"months": [1, 2, 3, 4, 5, 6], "died": [1, 1, 1, 1, 1, 1]})
>>> km = kaplan_meier(df, "months", "died", conf_type="log")
>>> km.table["surv"].round(4).tolist()
[0.8333, 0.6667, 0.5, 0.3333, 0.1667, 0.0]
>>> float(km.medians["median"].iloc[0])  # S = 0.5 on [3, 4): midpoint
3.5
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rwestudy.stats import _km_kernel as kern
from rwestudy.stats.conventions import Conventions, get_conventions

MEDIAN_CI_METHODS = ("brookmeyer-crowley", "spss-symmetric")
# K&M's crude density estimate uses the curve 0.05 either side of 1 - p
SPSS_DENSITY_HALFWIDTH = 0.05


@dataclass(frozen=True, eq=False)
class KaplanMeierResult:
    """Kaplan-Meier curves for one or more groups; every number is computed once, at fit.

    Attributes
    ----------
    table : one row per group and distinct time (events and censorings):
        group, time, n_risk, n_event, n_censor, surv, std_err (Greenwood SE of
        S, R's ``summary.survfit`` ``std.err``; NaN once S hits 0), ci_low, ci_high.
    medians : one row per group: n, events, median with CI, ``reached``
        (False -> median is NaN, never extrapolated), q25/q75 with CIs, and
        ``median_se`` when the SPSS symmetric CI is used.
    """

    table: pd.DataFrame
    medians: pd.DataFrame
    by: str | None
    conf_type: str
    conf_level: float
    median_ci: str
    conventions: Conventions
    last_followup: dict = field(repr=False)

    def at(self, times) -> pd.DataFrame:
        """Survival at landmark times, with CI, as R's ``summary(fit, times=)``.

        A time beyond a group's last follow-up gives NaN and a ``note`` (R drops
        it; carrying the last value forward would report an unobserved number).
        ``n_risk`` is the number still at risk at that time.
        """
        times = np.atleast_1d(np.asarray(times, dtype=np.float64))
        if np.any(times < 0) or np.any(np.isnan(times)):
            raise ValueError("landmark times must be non-negative numbers")
        out = []
        for group, tab in self.table.groupby("group", sort=False):
            t = tab["time"].to_numpy()
            row = np.searchsorted(t, times, side="right") - 1   # last time <= landmark
            risk_row = np.searchsorted(t, times, side="left")   # first time >= landmark
            before = row < 0
            beyond = times > self.last_followup[group]
            rows = np.clip(row, 0, None)
            surv = np.where(before, 1.0, tab["surv"].to_numpy()[rows])
            se = np.where(before, 0.0, tab["std_err"].to_numpy()[rows])
            # before the first observed time R reports the degenerate CI (1, 1)
            # on every scale (later S = 1 rows keep the table's NaN for log-log)
            lo = np.where(before, 1.0, tab["ci_low"].to_numpy()[rows])
            hi = np.where(before, 1.0, tab["ci_high"].to_numpy()[rows])
            n_risk = tab["n_risk"].to_numpy()[np.clip(risk_row, 0, len(t) - 1)]
            nan = np.where(beyond, np.nan, 1.0)
            out.append(pd.DataFrame({
                "group": group, "time": times, "surv": surv * nan, "std_err": se * nan,
                "ci_low": lo * nan, "ci_high": hi * nan, "n_risk": np.where(beyond, 0.0, n_risk),
                "note": np.where(beyond, f"beyond last follow-up ({self.last_followup[group]:g})", ""),
            }))
        return pd.concat(out, ignore_index=True)

    def summary(self) -> str:
        """Plain-text table of n, events and median (CI) per group."""
        pct = f"{self.conf_level * 100:g}%"
        lines = [f"Kaplan-Meier ({self.conf_type} CI, median CI: {self.median_ci}, {pct})",
                 f"{'group':<16}{'n':>7}{'events':>8}  median ({pct} CI)"]
        for r in self.medians.itertuples(index=False):
            med = "not reached" if not r.reached else f"{r.median:.4g}"
            lines.append(f"{str(r.group):<16}{r.n:>7.0f}{r.events:>8.0f}  {med} "
                         f"({_fmt(r.median_ci_low)}, {_fmt(r.median_ci_high)})")
        return "\n".join(lines)


def _fmt(x: float) -> str:
    return "NR" if np.isnan(x) else f"{x:.4g}"


def _resolve(conventions, conf_type, conf_level, median_ci) -> tuple[Conventions, str, float, str]:
    conv = conventions if conventions is not None else get_conventions()
    ct = conf_type if conf_type is not None else conv.km_ci_transform
    if ct not in kern.CONF_TYPES:
        raise ValueError(f"conf_type must be one of {kern.CONF_TYPES}, got {ct!r}")
    cl = float(conf_level if conf_level is not None else conv.conf_level)
    if not 0 < cl < 1:
        raise ValueError(f"conf_level must be in (0, 1), got {cl}")
    mc = median_ci if median_ci is not None else conv.median_ci
    if mc not in MEDIAN_CI_METHODS:
        raise ValueError(f"median_ci must be one of {MEDIAN_CI_METHODS}, got {mc!r}")
    return conv, ct, cl, mc


def kaplan_meier(df: pd.DataFrame, time: str, event: str, by: str | None = None,
                 conventions: Conventions | None = None, conf_type: str | None = None,
                 conf_level: float | None = None, median_ci: str | None = None) -> KaplanMeierResult:
    """Kaplan-Meier curves, medians and quartiles, per group of ``by``.

    Parameters
    ----------
    df : one row per patient.
    time : follow-up time column (>= 0).
    event : 1/True = event, 0/False = censored.
    by : optional grouping column (categorical order kept, else sorted values).
    conventions : a :class:`Conventions` profile (None = rwestudy default).
    conf_type, conf_level, median_ci : override the profile's
        ``km_ci_transform``, ``conf_level`` and ``median_ci``.

    Medians/quartiles follow R's ``quantile.survfit``: first time S <= 1 - p,
    or the midpoint of a flat stretch at exactly 1 - p.  CI:
    ``brookmeyer-crowley`` = where the pointwise bands cross 1 - p on the
    chosen transform (what R, SAS and Stata print); ``spss-symmetric`` = q +/- z SE,
    SE = Greenwood SE of S(q) / f, f = (S(u) - S(l)) / (l - u), u = last event
    time with S >= 1 - p + 0.05 (the origin if none), l = first event time with
    S <= 1 - p - 0.05.  That is the uniform-kernel density estimate of Klein &
    Moeschberger (Practical Note 3, sec. 4.5) which SPSS's algorithm notes cite
    (its 45th/55th percentiles for the median); we could not obtain SPSS output
    to confirm the exact step-function conventions, so treat it as unverified.

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5], "d": [1, 1, 1, 0, 0], "arm": list("aabbb")})
    >>> kaplan_meier(df, "t", "d", by="arm", conf_type="log").medians[["group", "median", "reached"]]
      group  median  reached
    0     a     1.5     True
    1     b     NaN    False
    """
    conv, ct, cl, mc = _resolve(conventions, conf_type, conf_level, median_ci)
    enc = kern.encode(df, time, event, by, timefix=conv.timefix)
    block = enc.codes.get(by) if by is not None else None
    labels = enc.levels[by] if by is not None else ["all"]
    cells = kern.risk_cells(enc.time, enc.event, block)
    n_risk, n_event, n_at = cells.n_risk[:, 0], cells.n_event[:, 0], cells.n_at[:, 0]
    surv, green = kern.km_within_blocks(n_risk, n_event, cells.starts)
    se_log = np.sqrt(green)
    with np.errstate(invalid="ignore"):
        std_err = surv * se_log  # 0 * inf = NaN once S reaches 0, as R
    lower, upper = kern.conf_band(surv, se_log, ct, cl)
    group_of_cell = np.asarray(labels, dtype=object)[cells.block]
    table = pd.DataFrame({
        "group": group_of_cell, "time": cells.time, "n_risk": n_risk, "n_event": n_event,
        "n_censor": n_at - n_event, "surv": surv, "std_err": std_err, "ci_low": lower, "ci_high": upper,
    })
    z = kern.z_value(cl)
    rows, last = [], {}
    for b, sl in enumerate(kern.block_slices(cells.starts)):
        t = cells.time[sl]
        last[labels[b]] = float(t[-1])
        row = {"group": labels[b], "n": float(n_at[sl].sum()), "events": float(n_event[sl].sum())}
        for p, name in ((0.5, "median"), (0.25, "q25"), (0.75, "q75")):
            q = kern.survival_quantile(t, surv[sl], p)
            if mc == "brookmeyer-crowley":
                # the lower band reaches 1 - p first: it gives the lower limit
                lo = kern.survival_quantile(t, lower[sl], p)
                hi = kern.survival_quantile(t, upper[sl], p)
            else:
                se_q = _spss_quantile_se(t, surv[sl], std_err[sl], n_event[sl], q, p)
                lo, hi = q - z * se_q, q + z * se_q
                if name == "median":
                    row["median_se"] = se_q
            row.update({name: q, f"{name}_ci_low": lo, f"{name}_ci_high": hi})
            if name == "median":
                row["reached"] = not np.isnan(q)
        rows.append(row)
    cols = ["group", "n", "events", "median", "median_ci_low", "median_ci_high", "reached",
            *(["median_se"] if mc == "spss-symmetric" else []),
            "q25", "q25_ci_low", "q25_ci_high", "q75", "q75_ci_low", "q75_ci_high"]
    medians = pd.DataFrame(rows, columns=cols)
    return KaplanMeierResult(table, medians, by, ct, cl, mc, conv, last)


def _spss_quantile_se(t, surv, std_err, n_event, q, p) -> float:
    """SE of a KM quantile by the uniform-kernel density estimate (see kaplan_meier)."""
    if np.isnan(q):
        return np.nan
    level = 1.0 - p
    at_q = np.searchsorted(t, q, side="right") - 1
    se_s = std_err[at_q] if at_q >= 0 else 0.0
    ev_t, ev_s = t[n_event > 0], surv[n_event > 0]
    upper_pts = ev_s >= level + SPSS_DENSITY_HALFWIDTH
    lower_pts = ev_s <= level - SPSS_DENSITY_HALFWIDTH
    if not lower_pts.any():
        return np.nan
    u_t, u_s = (ev_t[upper_pts][-1], ev_s[upper_pts][-1]) if upper_pts.any() else (0.0, 1.0)
    l_t, l_s = ev_t[lower_pts][0], ev_s[lower_pts][0]
    density = (u_s - l_s) / (l_t - u_t)
    return float(se_s / density)


@dataclass(frozen=True, eq=False)
class FollowupResult:
    """Median follow-up by reverse Kaplan-Meier.

    ``table``: group, n, median_followup, ci_low, ci_high, reached.  ``km`` is
    the reverse Kaplan-Meier fit itself (censoring treated as the event).
    """

    table: pd.DataFrame
    km: KaplanMeierResult

    def summary(self) -> str:
        pct = f"{self.km.conf_level * 100:g}%"
        lines = [f"Median follow-up, reverse Kaplan-Meier ({self.km.conf_type} CI, {pct})"]
        for r in self.table.itertuples(index=False):
            lines.append(f"{str(r.group):<16}{_fmt(r.median_followup)} ({_fmt(r.ci_low)}, {_fmt(r.ci_high)})")
        return "\n".join(lines)


def reverse_km_followup(df: pd.DataFrame, time: str, event: str, by: str | None = None,
                        conventions: Conventions | None = None, conf_type: str | None = None,
                        conf_level: float | None = None) -> FollowupResult:
    """Median follow-up: the Kaplan-Meier median with the event flag flipped.

    Identical to R ``survfit(Surv(time, 1 - event) ~ by)`` and to Stata after
    ``stset time, failure(flipped)``: censorings become the "event" and
    deaths are censored at their time.  Tie convention: as in any
    Kaplan-Meier, a patient censored (here: who died) at t is still at risk at
    t, so a death and a censoring on the same day count the dead patient in
    the risk set of that day's "censoring event".  The CI uses the same
    transform and Brookmeyer-Crowley crossing as :func:`kaplan_meier`.

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [2, 4, 6, 8, 10], "d": [1, 0, 1, 0, 0]})
    >>> float(reverse_km_followup(df, "t", "d").table["median_followup"].iloc[0])
    8.0
    """
    enc = kern.encode(df, time, event, by)  # validates before flipping
    flipped = pd.DataFrame({"time": enc.time, "event": 1.0 - enc.event})
    if by is not None:
        flipped["by"] = df[by].reset_index(drop=True)  # keeps a categorical order
    km = kaplan_meier(flipped, "time", "event", "by" if by is not None else None,
                      conventions=conventions, conf_type=conf_type, conf_level=conf_level,
                      median_ci="brookmeyer-crowley")
    m = km.medians
    table = pd.DataFrame({"group": m["group"], "n": m["n"], "median_followup": m["median"],
                          "ci_low": m["median_ci_low"], "ci_high": m["median_ci_high"],
                          "reached": m["reached"]})
    return FollowupResult(table, km)
