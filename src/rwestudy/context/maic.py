"""Matching-adjusted indirect comparison (MAIC) of our cohort with a published study.

Signorovitch et al. (2010) method of moments, as in NICE DSU TSD 18: each of
our patients gets a weight w_i = exp(x_i' a), x_i the covariates centred on
the published means/proportions, with a chosen so that the weighted means
equal the published ones exactly.  Optionally a published SD is matched too
(weighted variance around the published mean = SD^2; the published SD is taken
as the population's, the same convention as TSD 18 and R's MAIC package).

* :func:`maic_weights` - the weights, effective sample size, weight
  distribution and a balance table; clear errors when no weights exist.
* :func:`maic_outcomes` - weighted response rates with a bootstrap CI
  (weights re-estimated in every resample) and weighted Kaplan-Meier curves
  and medians, with the statement of what an unanchored MAIC assumes.

Checked against closed forms (one binary covariate), R's ``optim`` and
``survfit(weights=)`` (``reference/r/maic_reference.R``) and the worked
example printed in the vignette of Roche's R ``MAIC`` package
(``tests/context/test_maic.py``).

Example
-------
>>> import pandas as pd
>>> ipd = pd.DataFrame({"male": [1, 1, 1, 0], "age": [50, 60, 70, 65]})
>>> mw = maic_weights(ipd, {"male": 0.5})
>>> mw.weights.round(3).tolist()     # closed form: 0.5/0.75 for men, 0.5/0.25 for the woman
[0.667, 0.667, 0.667, 2.0]
>>> round(mw.ess, 4)                 # (sum w)^2 / sum w^2
3.0
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from rwestudy.context import _maic_solver as solver
from rwestudy.context._maic_design import Design, build_design
from rwestudy.context._weighted_km import batch_km_median, km_median, weighted_km
from rwestudy.exceptions import ExcludedRowsWarning

__all__ = ["MaicWeights", "MaicOutcomes", "maic_weights", "maic_outcomes", "unanchored_statement"]

# share of the patients whose summed weight is reported ("top 10% carry x%")
TOP_SHARE = 0.10


@dataclass(frozen=True, eq=False)
class MaicWeights:
    """MAIC weights of our complete-case patients.

    weights : normalised to sum to n (1 = an unweighted patient), indexed like ``ipd``.
    raw : exp(x_i' a) on the centred covariates (what R's MAIC package calls ``wt``).
    ess : effective sample size (sum w)^2 / sum w^2.
    distribution : min, q25, median, q75, max of ``weights`` and ``top10_share``,
        the share of the total weight carried by the 10% most weighted patients.
    balance : one row per matched moment: target, ours before and after
        weighting, standardized difference before/after.
    n_excluded, excluded_by : patients left out for a missing matching variable.
    """

    weights: pd.Series
    raw: pd.Series
    ess: float
    n: int
    n_excluded: int
    excluded_by: dict
    targets: dict
    variances: dict
    coefficients: pd.Series
    balance: pd.DataFrame
    distribution: pd.Series
    converged: bool
    gradient_norm: float
    iterations: int
    notes: tuple[str, ...]
    _design: Design = field(repr=False)
    _a: np.ndarray = field(repr=False)

    def summary(self) -> str:
        d = self.distribution
        lines = [f"MAIC weights: n = {self.n}" + (f" ({self.n_excluded} excluded, missing values)" if self.n_excluded else ""),
                 f"ESS = {self.ess:.1f} ({100 * self.ess / self.n:.0f}% of n)",
                 f"weights (sum = n): min {d['min']:.3g}, quartiles {d['q25']:.3g} / {d['median']:.3g} / "
                 f"{d['q75']:.3g}, max {d['max']:.3g}; top 10% of patients carry {100 * d['top10_share']:.0f}%",
                 self.balance.to_string(index=False, float_format=lambda v: f"{v:.4g}")]
        return "\n".join([*lines, *self.notes])


def maic_weights(ipd: pd.DataFrame, targets: Mapping[str, float],
                 variances: Mapping[str, float] | None = None) -> MaicWeights:
    """Weights that make our patients' covariate means equal the published ones.

    Parameters
    ----------
    ipd : one row per patient (e.g. ``results.endpoints.patients``).
    targets : column -> published mean (continuous) or proportion in [0, 1]
        (0/1 or boolean column).  ``"col=value"`` matches the proportion of
        one value of a text column, e.g. ``{"sex=M": 0.62}``.
    variances : column -> published variance (SD squared) to match as well.

    Patients with a missing matching variable are left out (complete cases),
    with a warning and the count in ``n_excluded``/``excluded_by``.  Raises
    ValueError, naming the variable, when no weights exist: a target outside
    (or on the edge of) our data's range, a constant covariate, a percentage
    given for a proportion, or targets jointly outside our data's convex hull.

    Example
    -------
    >>> import pandas as pd
    >>> ipd = pd.DataFrame({"age": [40.0, 50.0, 60.0, 70.0]})
    >>> mw = maic_weights(ipd, {"age": 60.0})
    >>> round(float((mw.weights * ipd["age"]).sum() / mw.weights.sum()), 10)
    60.0
    """
    targets = dict(targets)
    variances = dict(variances or {})
    design = build_design(ipd, targets, variances)
    notes = []
    if design.n_excluded:
        msg = (f"MAIC: {design.n_excluded} patient(s) excluded for a missing matching variable "
               f"({', '.join(f'{k}: {v}' for k, v in design.excluded_by.items())}); complete cases used")
        warnings.warn(msg, ExcludedRowsWarning, stacklevel=2)
        notes.append(msg)
    a, info = solver.fit(design.zs)
    if not info["converged"]:
        raise RuntimeError(f"MAIC weights did not converge (largest weighted-mean gap {info['max_mean_deviation']:.2g} "
                           f"SD; {info['optimizer_message']})")
    raw = np.exp(design.zs @ a)
    w = raw / raw.sum() * len(raw)
    index = design.index
    coef_names = [t.variable if t.kind != "variance" else f"{t.variable} (variance)" for t in design.terms]
    return MaicWeights(
        weights=pd.Series(w, index=index, name="weight"), raw=pd.Series(raw, index=index, name="raw_weight"),
        ess=_ess(w), n=len(w), n_excluded=design.n_excluded, excluded_by=design.excluded_by,
        targets=targets, variances=variances,
        coefficients=pd.Series(a / design.scale, index=coef_names, name="coefficient"),
        balance=_balance(design, w), distribution=_distribution(w), converged=True,
        gradient_norm=info["gradient_norm"], iterations=info["iterations"], notes=tuple(notes),
        _design=design, _a=a)


def _ess(w: np.ndarray) -> float:
    return float(w.sum() ** 2 / (w ** 2).sum())


def _distribution(w: np.ndarray) -> pd.Series:
    q = np.quantile(w, [0.0, 0.25, 0.5, 0.75, 1.0])
    k = max(1, int(np.ceil(TOP_SHARE * len(w))))
    top = np.sort(w)[::-1][:k].sum() / w.sum()
    return pd.Series({"min": q[0], "q25": q[1], "median": q[2], "q75": q[3], "max": q[4], "top10_share": top})


def _balance(design: Design, w: np.ndarray) -> pd.DataFrame:
    """Before/after table; SMD = (ours - target) / pooled SD, same denominator before and after."""
    rows = []
    for t in design.terms:
        x = design.values[t.variable].to_numpy()
        if t.kind == "variance":
            before = float(np.sqrt(((x - x.mean()) ** 2).mean()))
            m_w = np.average(x, weights=w)
            after = float(np.sqrt(np.average((x - m_w) ** 2, weights=w)))
            rows.append((t.variable, "sd", np.sqrt(t.target), before, after, np.nan, np.nan))
            continue
        before, after = float(x.mean()), float(np.average(x, weights=w))
        if t.kind == "proportion":
            sd = np.sqrt((before * (1 - before) + t.target * (1 - t.target)) / 2)
        else:
            # the published SD joins the pooled SD when it was given, else ours alone
            v = _published_variance(design, t.variable)
            sd = np.sqrt((x.var() + v) / 2) if v is not None else x.std()
        rows.append((t.variable, t.kind, t.target, before, after, (before - t.target) / sd, (after - t.target) / sd))
    return pd.DataFrame(rows, columns=["variable", "statistic", "target", "before", "after", "smd_before", "smd_after"])


def _published_variance(design: Design, variable: str) -> float | None:
    for t in design.terms:
        if t.kind == "variance" and t.variable == variable:
            return t.target
    return None


def unanchored_statement(ess: float, n: int) -> str:
    """What an unanchored MAIC can and cannot say, with the effective sample size."""
    return ("This is an UNANCHORED matching-adjusted indirect comparison: our single-arm cohort, weighted to the "
            "published characteristics of another single-arm study, with no common comparator arm. It assumes that "
            "every prognostic factor and effect modifier is among the matched variables and is defined and measured "
            "the same way in both studies; residual confounding by anything not matched, or measured differently, "
            f"cannot be excluded. After weighting, our {n} patients carry the information of about {ess:.0f} "
            f"(effective sample size, {100 * ess / n:.0f}%).")


@dataclass(frozen=True, eq=False)
class MaicOutcomes:
    """Weighted outcomes of our cohort in the published population.

    binary : outcome, n, events, rate (unweighted), rate_weighted, ci_low, ci_high (percentile bootstrap).
    survival : endpoint -> weighted Kaplan-Meier table (time, n_risk, n_event, n_censor, surv; weighted counts).
    medians : endpoint, n, events, median (unweighted), median_weighted, ci_low, ci_high (bootstrap; NaN = not reached).
    """

    binary: pd.DataFrame
    survival: dict
    medians: pd.DataFrame
    ess: float
    n_boot: int
    n_boot_failed: int
    seed: int
    conf_level: float
    statement: str
    notes: tuple[str, ...]

    def summary(self) -> str:
        fmt = lambda v: f"{v:.4g}"  # noqa: E731
        return "\n".join([self.statement, self.binary.to_string(index=False, float_format=fmt),
                          self.medians.to_string(index=False, float_format=fmt), *self.notes])


def maic_outcomes(weights: MaicWeights, ipd: pd.DataFrame, *, binary=("orr_best", "cr_best"),
                  survival: Mapping[str, object] | None = None, id_col: str = "patient_id",
                  n_boot: int = 1000, seed: int = 20240611, conf_level: float = 0.95) -> MaicOutcomes:
    """Weighted response rates and Kaplan-Meier curves, with percentile bootstrap CIs.

    Parameters
    ----------
    weights : from :func:`maic_weights` on this same ``ipd`` (rows are matched by index).
    binary : 0/1 or boolean outcome columns (missing values leave that patient out of that outcome).
    survival : endpoint name -> ``(time_col, event_col)`` in ``ipd``, or a DataFrame with
        ``id_col``, ``time``, ``event`` (e.g. ``results.endpoints.endpoint("OS")``).
    n_boot, seed : bootstrap resamples of patients; the weights are re-estimated in
        each (a resample whose patients cannot reach the targets is counted in
        ``n_boot_failed`` and left out of the percentiles).

    Example
    -------
    >>> import pandas as pd
    >>> ipd = pd.DataFrame({"male": [1, 1, 1, 0, 0, 1], "orr": [1, 0, 1, 1, 0, 1],
    ...                     "t": [3.0, 5, 8, 2, 9, 12], "d": [1, 1, 0, 1, 1, 0]})
    >>> mw = maic_weights(ipd, {"male": 0.5})
    >>> out = maic_outcomes(mw, ipd, binary=["orr"], survival={"OS": ("t", "d")}, n_boot=200)
    >>> round(float(out.binary["rate_weighted"].iloc[0]), 4)   # 0.5 * 3/4 + 0.5 * 1/2
    0.625
    """
    missing = weights.weights.index.difference(ipd.index)
    if len(missing):
        raise ValueError(f"{len(missing)} weighted patient(s) are not rows of ipd: pass the data frame the "
                         "weights were estimated on")
    rows = ipd.loc[weights.weights.index]
    w = weights.weights.to_numpy()
    n = len(w)
    alpha = (1 - conf_level) / 2
    design = weights._design
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float) if n_boot else np.zeros((0, n))
    a_boot, ok, _ = solver.newton_batch(design.zs, counts, weights._a)
    boot_w = solver.batch_weights(design.zs, counts[ok], a_boot[ok])
    notes = []
    if n_boot and (~ok).sum():
        notes.append(f"{int((~ok).sum())} of {n_boot} bootstrap resamples could not reach the targets (e.g. no "
                     "patient drawn on one side of a 0/1 variable) and were left out of the percentiles")
    bin_rows = []
    for col in binary:
        y = _binary(rows, col)
        has = ~np.isnan(y)
        if (~has).sum():
            notes.append(f"{col}: {int((~has).sum())} patient(s) with a missing value left out")
        yy = np.where(has, y, 0.0)
        rate_w = float((w * yy * has).sum() / (w * has).sum())
        boot = (boot_w * yy * has).sum(axis=1) / (boot_w * has).sum(axis=1)
        lo, hi = np.quantile(boot, [alpha, 1 - alpha]) if len(boot) else (np.nan, np.nan)
        bin_rows.append((col, int(has.sum()), int(yy.sum()), float(yy[has].mean()), rate_w, lo, hi))
    curves, med_rows = {}, []
    for name, spec in (survival or {}).items():
        t, e, has = _survival(rows, spec, id_col, name)
        if (~has).sum():
            notes.append(f"{name}: {int((~has).sum())} weighted patient(s) without this endpoint left out")
        t, e = t[has], e[has]
        curves[name] = weighted_km(t, e, w[has])
        unweighted = km_median(weighted_km(t, e, np.ones(len(t))))
        boot = batch_km_median(t, e, boot_w[:, has]) if len(boot_w) else np.array([])
        # "not reached" in a resample sorts above every reached median
        lo, hi = (np.quantile(np.where(np.isnan(boot), np.inf, boot), [alpha, 1 - alpha])
                  if len(boot) else (np.nan, np.nan))
        med_rows.append((name, int(has.sum()), int(e.sum()), unweighted, km_median(curves[name]),
                         lo if np.isfinite(lo) else np.nan, hi if np.isfinite(hi) else np.nan))
    return MaicOutcomes(
        binary=pd.DataFrame(bin_rows, columns=["outcome", "n", "events", "rate", "rate_weighted", "ci_low", "ci_high"]),
        survival=curves,
        medians=pd.DataFrame(med_rows, columns=["endpoint", "n", "events", "median", "median_weighted",
                                                "ci_low", "ci_high"]),
        ess=weights.ess, n_boot=int(n_boot), n_boot_failed=int((~ok).sum()), seed=seed, conf_level=conf_level,
        statement=unanchored_statement(weights.ess, weights.n), notes=tuple(notes))


def _binary(rows: pd.DataFrame, col: str) -> np.ndarray:
    if col not in rows.columns:
        raise ValueError(f"outcome column {col!r} not in ipd")
    y = pd.to_numeric(rows[col].astype("Float64") if rows[col].dtype == bool or
                      isinstance(rows[col].dtype, pd.BooleanDtype) else rows[col]).astype(float).to_numpy()
    if not np.isin(y[~np.isnan(y)], (0.0, 1.0)).all():
        raise ValueError(f"outcome {col!r} must be 0/1 or boolean")
    return y


def _survival(rows: pd.DataFrame, spec, id_col: str, name: str):
    if isinstance(spec, pd.DataFrame):
        need = [c for c in (id_col, "time", "event") if c not in spec.columns]
        if need or id_col not in rows.columns:
            raise ValueError(f"{name}: need columns {id_col!r}, 'time', 'event' in the endpoint table "
                             f"and {id_col!r} in ipd")
        if spec[id_col].duplicated().any():
            raise ValueError(f"{name}: duplicated {id_col} in the endpoint table")
        m = rows[[id_col]].merge(spec[[id_col, "time", "event"]], on=id_col, how="left")
        t, e = m["time"].to_numpy(float), m["event"].to_numpy(float)
    else:
        tc, ec = spec
        for c in (tc, ec):
            if c not in rows.columns:
                raise ValueError(f"{name}: column {c!r} not in ipd")
        t = pd.to_numeric(rows[tc]).to_numpy(float)
        e = pd.to_numeric(rows[ec].astype("Float64") if isinstance(rows[ec].dtype, pd.BooleanDtype)
                          else rows[ec]).to_numpy(float)
    return t, e, ~(np.isnan(t) | np.isnan(e))
