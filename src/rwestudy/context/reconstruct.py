"""Pseudo-patient data from a published Kaplan-Meier curve, to compare with our cohort.

Guyot et al. (2012, BMC Med Res Methodol 12:9): from the digitised curve and
the numbers at risk printed under it (and, if published, the total number of
events) rebuild (time, event) rows whose Kaplan-Meier curve reproduces the
published one.  Then our cohort can be set beside it "like a second arm".

* :func:`read_digitised` - read and clean the two CSVs (what a digitiser exports).
* :func:`reconstruct_ipd` - the pseudo-patients and a fit check.
* :func:`compare_with_reconstructed` - log-rank test and Cox HR, ours vs theirs.

Accuracy, measured by round trips on simulated cohorts (tests/context/test_reconstruct.py):
with every step of the curve digitised, the rebuilt curve stays within about
0.02 of the true one and the HR against a second arm within a few percent of
the HR on the true data; with ~40 noisy points, within about 0.05.

Example
-------
>>> import pandas as pd
>>> curve = pd.DataFrame({"time": [0, 2, 2, 5, 5, 9], "survival": [1, 1, .8, .8, .6, .6]})
>>> risk = pd.DataFrame({"time": [0, 4], "n_risk": [10, 8]})
>>> rec = reconstruct_ipd(curve, risk)
>>> rec.ipd.groupby("event").size().to_dict()    # 2 + 2 deaths, 6 censored at 9
{0: 6, 1: 4}
>>> rec.max_abs_diff < 0.05
True
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rwestudy import stats
from rwestudy.context import _guyot
from rwestudy.stats.conventions import Conventions
from rwestudy.exceptions import DigitisedCurveWarning

__all__ = ["DigitisedCurve", "Reconstruction", "ReconstructedComparison", "read_digitised",
           "reconstruct_ipd", "compare_with_reconstructed", "CAVEATS"]

SURV_NAMES = ("survival", "surv", "s", "probability", "y")
TIME_NAMES = ("time", "t", "months", "x")
RISK_NAMES = ("n_risk", "nrisk", "n_at_risk", "at_risk", "n")
# survival digitised a hair above 1 or below 0 is noise; farther off is a wrong file
SURV_SLACK = 0.02

CAVEATS = ("The comparison arm is reconstructed from a published Kaplan-Meier curve (Guyot et al. 2012): its "
           "pseudo-patients reproduce the curve, the numbers at risk and the events only approximately "
           "(reconstruction error, see the fit check) and inherit the digitising error of the figure. There is no "
           "covariate adjustment: the two populations differ in selection, baseline characteristics, line of "
           "therapy, follow-up and endpoint definitions, so the hazard ratio and log-rank p describe two different "
           "populations, not a treatment effect.")


@dataclass(frozen=True)
class DigitisedCurve:
    """A cleaned digitised curve: ``curve`` (time, surv), ``risk`` (time, n_risk), and what was cleaned."""

    curve: pd.DataFrame
    risk: pd.DataFrame
    notes: tuple[str, ...]


def _read(path_or_frame, names: dict[str, tuple[str, ...]], what: str) -> pd.DataFrame:
    if isinstance(path_or_frame, pd.DataFrame):
        raw, src = path_or_frame.copy(), what
    else:
        src = f"{what} file {Path(path_or_frame).name}"
        raw = pd.read_csv(path_or_frame)
        # a digitiser's headerless export: the "header" is the first data row
        if all(_is_number(c) for c in raw.columns) and raw.shape[1] == len(names):
            raw = pd.read_csv(path_or_frame, header=None, names=list(names))
    found = {}
    lower = {str(c).strip().lower(): c for c in raw.columns}
    for canon, aliases in names.items():
        hit = next((lower[a] for a in aliases if a in lower), None)
        if hit is None:
            raise ValueError(f"{src} has no {canon!r} column (columns: {', '.join(map(str, raw.columns))}); "
                             f"name it one of {', '.join(aliases)}")
        found[canon] = hit
    out = raw[list(found.values())].set_axis(list(found), axis=1)
    for c in out.columns:
        vals = pd.to_numeric(out[c], errors="coerce")
        bad = vals.isna() & out[c].notna()
        if bad.any():
            raise ValueError(f"{src}: {int(bad.sum())} non-numeric {c!r} value(s), first {out[c][bad].iloc[0]!r} "
                             f"(row {int(np.flatnonzero(bad)[0]) + 2})")
        out[c] = vals
    n_na = int(out.isna().any(axis=1).sum())
    if n_na:
        raise ValueError(f"{src}: {n_na} row(s) with an empty cell; delete or complete them")
    if len(out) == 0:
        raise ValueError(f"{src} has no rows")
    return out


def _is_number(x) -> bool:
    try:
        float(x)
        return True
    except (TypeError, ValueError):
        return False


def read_digitised(curve_csv, risk_csv) -> DigitisedCurve:
    """Read a digitised curve (time, survival) and the numbers at risk (time, n_risk).

    Either argument may be a CSV path or a DataFrame.  Headerless two-column
    files (a digitiser's export) are read as time, survival / time, n_risk.
    Survival in percent (values up to 100) is converted to proportions.
    Cleaning, each step reported in ``notes`` and as a warning (Guyot's
    preprocessing): negative times set to 0, survival clipped to [0, 1] within
    a small digitising slack, points sorted by time, survival made
    non-increasing (a point above its predecessor is lowered to it), and the
    origin (0, 1) added.  The numbers at risk must start at time 0, have
    increasing times and non-increasing whole counts.

    Example
    -------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"time": [0, 1, 3, 2], "survival": [100, 90, 70, 80]})
    >>> r = pd.DataFrame({"time": [0, 2], "n_risk": [20, 15]})
    >>> import warnings; warnings.simplefilter("ignore")
    >>> d = read_digitised(c, r)
    >>> d.curve["surv"].tolist()
    [1.0, 0.9, 0.8, 0.7]
    """
    curve = _read(curve_csv, {"time": TIME_NAMES, "survival": SURV_NAMES}, "curve")
    risk = _read(risk_csv, {"time": TIME_NAMES, "n_risk": RISK_NAMES}, "numbers-at-risk")
    notes = []
    t, s = curve["time"].to_numpy(float), curve["survival"].to_numpy(float)
    if s.max() > 1 + SURV_SLACK:
        if s.max() > 100 * (1 + SURV_SLACK):
            raise ValueError(f"survival goes up to {s.max():g}: neither a proportion nor a percentage")
        s = s / 100.0
        notes.append("survival read as percentages and divided by 100")
    if s.min() < -SURV_SLACK:
        raise ValueError(f"survival goes down to {s.min():g}: below 0 beyond digitising noise")
    if (t < 0).any():
        notes.append(f"{int((t < 0).sum())} negative time(s) set to 0 (digitising noise)")
        t = np.maximum(t, 0.0)
    if (s > 1).any() or (s < 0).any():
        notes.append(f"{int(((s > 1) | (s < 0)).sum())} survival value(s) clipped to [0, 1]")
        s = np.clip(s, 0.0, 1.0)
    order = np.lexsort((-s, t))     # by time; within a time, the top of a drop first
    if (order != np.arange(len(t))).any():
        notes.append("points sorted by time")
        t, s = t[order], s[order]
    mono = np.minimum.accumulate(s)
    if (mono < s).any():
        notes.append(f"{int((mono < s).sum())} point(s) above an earlier point lowered to keep survival "
                     "non-increasing")
        s = mono
    if t[0] > 0 or s[0] < 1:
        notes.append("origin (0, 1) added")
        t, s = np.r_[0.0, t], np.r_[1.0, s]
    rt, rn = risk["time"].to_numpy(float), risk["n_risk"].to_numpy(float)
    if rt[0] != 0:
        raise ValueError(f"numbers at risk must start at time 0 (the patients analysed); first time is {rt[0]:g}")
    if (np.diff(rt) <= 0).any():
        raise ValueError("numbers-at-risk times must be strictly increasing")
    if (rn != np.round(rn)).any() or (rn < 0).any() or (np.diff(rn) > 0).any():
        raise ValueError("numbers at risk must be whole, non-negative and non-increasing over time")
    beyond = rt > t[-1]
    if beyond.any():
        notes.append(f"{int(beyond.sum())} numbers-at-risk time(s) after the last digitised point dropped")
        rt, rn = rt[~beyond], rn[~beyond]
    for note in notes:
        warnings.warn(f"digitised curve: {note}", DigitisedCurveWarning, stacklevel=2)
    return DigitisedCurve(pd.DataFrame({"time": t, "surv": s}),
                          pd.DataFrame({"time": rt, "n_risk": rn.astype(np.int64)}), tuple(notes))


@dataclass(frozen=True, eq=False)
class Reconstruction:
    """Pseudo-patients and how well they reproduce the publication.

    ipd : time, event (one row per pseudo-patient).
    fit : at every digitised time, the digitised survival (lowest point at that
        time) and the reconstructed Kaplan-Meier; ``rmse`` and ``max_abs_diff`` summarise it.
    risk_check : time, n_risk published and reconstructed.
    events, total_events : reconstructed and published (None if not given) events.
    """

    ipd: pd.DataFrame
    fit: pd.DataFrame
    risk_check: pd.DataFrame
    rmse: float
    max_abs_diff: float
    events: int
    total_events: int | None
    notes: tuple[str, ...]

    def summary(self) -> str:
        ev = f"{self.events}" + (f" (published {self.total_events})" if self.total_events is not None else "")
        worst = self.risk_check.assign(gap=lambda d: (d["n_risk_reconstructed"] - d["n_risk"]).abs())["gap"].max()
        return "\n".join([f"Reconstructed {len(self.ipd)} pseudo-patients, {ev} events",
                          f"curve: RMSE {self.rmse:.4f}, max |difference| {self.max_abs_diff:.4f}",
                          f"numbers at risk: largest gap {worst}", *self.notes])


def reconstruct_ipd(curve, risk=None, total_events: int | None = None) -> Reconstruction:
    """Guyot's algorithm: pseudo-patients whose Kaplan-Meier matches the digitised curve.

    ``curve``: a :class:`DigitisedCurve` (then ``risk`` is taken from it), or
    DataFrames/CSV paths for the curve and ``risk`` (cleaned by
    :func:`read_digitised`).  ``total_events``: the published number of
    events, if any (it fixes the censoring in the last interval).
    """
    dig = curve if isinstance(curve, DigitisedCurve) else read_digitised(curve, risk)
    T, S = dig.curve["time"].to_numpy(float), dig.curve["surv"].to_numpy(float)
    rt, rn = dig.risk["time"].to_numpy(float), dig.risk["n_risk"].to_numpy()
    # the curve's value at each risk time (flat since the previous point) as a point
    # of its own, so that every interval between risk times starts on a point
    missing = ~np.isin(rt, T)
    if missing.any():
        at = S[np.searchsorted(T, rt[missing], side="right") - 1]
        T, S = np.r_[T, rt[missing]], np.r_[S, at]
        order = np.lexsort((-S, T))
        T, S = T[order], S[order]
    times, events, notes = _guyot.reconstruct(T, S, rt, rn, total_events)
    ipd = pd.DataFrame({"time": times, "event": events}).sort_values(["time", "event"], ignore_index=True)
    km = stats.kaplan_meier(ipd, "time", "event")
    u_t = np.unique(T)
    digitised = np.array([S[T == x].min() for x in u_t])
    rebuilt = km.at(u_t)["surv"].to_numpy()
    diff = rebuilt - digitised
    fit = pd.DataFrame({"time": u_t, "surv_digitised": digitised, "surv_reconstructed": rebuilt, "diff": diff})
    n_rec = np.array([(ipd["time"] >= x).sum() for x in rt])
    risk_check = pd.DataFrame({"time": rt, "n_risk": rn, "n_risk_reconstructed": n_rec})
    return Reconstruction(ipd, fit, risk_check, float(np.sqrt(np.nanmean(diff ** 2))),
                          float(np.nanmax(np.abs(diff))), int(events.sum()),
                          None if total_events is None else int(total_events), tuple([*dig.notes, *notes]))


@dataclass(frozen=True, eq=False)
class ReconstructedComparison:
    """Our cohort vs a reconstructed published arm: log-rank p, Cox HR (ours / theirs) with CI."""

    logrank: object
    cox: object
    p_logrank: float
    hr: float
    ci_low: float
    ci_high: float
    n_ours: int
    n_theirs: int
    caveats: str

    def summary(self) -> str:
        return (f"ours (n={self.n_ours}) vs reconstructed (n={self.n_theirs}): HR {self.hr:.3g} "
                f"({self.ci_low:.3g}-{self.ci_high:.3g}), log-rank p = {self.p_logrank:.3g}\n{self.caveats}")


def compare_with_reconstructed(our: pd.DataFrame, reconstructed, conventions: Conventions | None = None,
                               time: str = "time", event: str = "event") -> ReconstructedComparison:
    """Log-rank test and Cox hazard ratio of our patients against the reconstructed arm.

    ``our``: one row per patient with ``time``/``event`` columns (e.g.
    ``results.endpoints.endpoint("OS")``), in the same time unit as the
    published curve.  ``reconstructed``: a :class:`Reconstruction` or a
    DataFrame with time, event.  HR > 1: our patients fare worse.
    """
    theirs = reconstructed.ipd if isinstance(reconstructed, Reconstruction) else reconstructed
    for name, df, cols in (("our", our, (time, event)), ("reconstructed", theirs, ("time", "event"))):
        lost = [c for c in cols if c not in df.columns]
        if lost:
            raise ValueError(f"{name} data lack column(s) {lost}")
    both = pd.concat([
        pd.DataFrame({"time": our[time].to_numpy(float), "event": our[event].to_numpy(float), "arm": "ours"}),
        pd.DataFrame({"time": theirs["time"].to_numpy(float), "event": theirs["event"].to_numpy(float),
                      "arm": "published"})], ignore_index=True)
    both["arm"] = pd.Categorical(both["arm"], categories=["published", "ours"])
    lr = stats.compare_survival(both, "time", "event", "arm", test="logrank", conventions=conventions)
    fit = stats.cox(both, "time", "event", ["arm"], reference={"arm": "published"}, conventions=conventions,
                    concordance=False)
    row = fit.table.iloc[0]
    return ReconstructedComparison(lr, fit, float(lr.p), float(row["hr"]), float(row["ci_low"]),
                                   float(row["ci_high"]), int((both["arm"] == "ours").sum()),
                                   int((both["arm"] == "published").sum()), CAVEATS)
