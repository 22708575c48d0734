"""Private: turn our patients and the published targets into the centred MAIC design.

Every column of the design is "our value minus the published target", so the
weights we look for make each column's weighted mean exactly zero.  A
variance target adds the column (x - m)^2 - v, whose weighted mean is zero
exactly when the weighted variance around the published mean m is v.

All the checks that make a MAIC impossible live here, each with a sentence a
clinician can act on: a missing column, text where numbers are needed, a
percentage given for a proportion, a constant covariate, a target outside the
range of our data, or targets that are each reachable but not together.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.optimize import linprog

# a target closer than this (in SDs of our data) to our min/max is "on the edge":
# only patients at that extreme could carry weight, the weights degenerate
EDGE_TOL = 1e-9
# the deepest interior point must keep at least this share of weight on everyone
HULL_TOL = 1e-9


@dataclass(frozen=True)
class Term:
    """One matched moment: the mean/proportion of a variable, or its variance."""

    variable: str
    kind: str          # "mean", "proportion" or "variance"
    target: float      # published mean/proportion, or variance for kind "variance"
    centre: float      # the published mean (used by variance terms)


@dataclass(frozen=True)
class Design:
    terms: tuple[Term, ...]
    z: np.ndarray            # n x p centred design, original units
    scale: np.ndarray        # p, SD of each column in our data (to standardise)
    values: pd.DataFrame     # the numeric covariates of the complete cases
    index: pd.Index          # ipd row labels of the complete cases
    n_excluded: int
    excluded_by: dict

    @property
    def zs(self) -> np.ndarray:
        """Standardised design: the weights do not depend on column scale, the optimiser does."""
        return self.z / self.scale


def _column(ipd: pd.DataFrame, key: str) -> pd.Series:
    """The covariate for one target key: a column, or 'col=value' for a proportion of a text column."""
    if key in ipd.columns:
        s = ipd[key]
    elif "=" in key and key.split("=", 1)[0] in ipd.columns:
        col, level = key.split("=", 1)
        raw = ipd[col]
        s = (raw.astype("string") == level).astype("boolean").mask(raw.isna())
        if not s.fillna(False).any():
            seen = ", ".join(repr(v) for v in pd.unique(raw.dropna())[:8])
            raise ValueError(f"no patient has {col} == {level!r} (values seen: {seen}); check the spelling")
    else:
        raise ValueError(f"target {key!r} names no column of our data; give a column name, or 'column=value' "
                         f"for the proportion of one value of a text column (columns: {', '.join(map(str, ipd.columns))})")
    if pd.api.types.is_bool_dtype(s.dtype) or isinstance(s.dtype, pd.BooleanDtype):
        return s.astype("Float64").astype(float)
    if not pd.api.types.is_numeric_dtype(s.dtype):
        seen = ", ".join(repr(v) for v in pd.unique(s.dropna())[:5])
        raise ValueError(f"{key!r} is text ({seen}); MAIC needs numbers: use '{key}=<value>' for the proportion "
                         f"of one value, or a 0/1 column")
    return pd.to_numeric(s).astype(float)


def build_design(ipd: pd.DataFrame, targets: dict, variances: dict | None) -> Design:
    """Centred design of the complete cases; raises ValueError when no weights can exist."""
    if not isinstance(ipd, pd.DataFrame) or len(ipd) == 0:
        raise ValueError("ipd must be a non-empty DataFrame, one row per patient")
    if not targets:
        raise ValueError("give at least one target, e.g. {'age_at_start': 62.0, 'prior_asct': 0.25}")
    variances = dict(variances or {})
    unknown = [k for k in variances if k not in targets]
    if unknown:
        raise ValueError(f"variance given without a mean target for {unknown}: a variance is matched around the "
                         "published mean, so give the mean in targets too")
    cols = {}
    for key, value in targets.items():
        if value is None or not np.isfinite(float(value)):
            raise ValueError(f"target for {key!r} must be a finite number, got {value!r}")
        cols[key] = _column(ipd, key)
    values = pd.DataFrame(cols, index=ipd.index)
    na = values.isna()
    excluded_by = {k: int(v) for k, v in na.sum().items() if v}
    complete = ~na.any(axis=1)
    values = values.loc[complete]
    n = len(values)
    terms = []
    for key, value in targets.items():
        x = values[key].to_numpy()
        binary = bool(np.isin(x, (0.0, 1.0)).all())
        _check_target(key, float(value), x, binary, n)
        terms.append(Term(key, "proportion" if binary else "mean", float(value), float(value)))
    for key, var in variances.items():
        if var is None or not np.isfinite(float(var)) or float(var) <= 0:
            raise ValueError(f"variance for {key!r} must be a positive number (the published SD squared), got {var!r}")
        if terms[list(targets).index(key)].kind == "proportion":
            raise ValueError(f"{key!r} is 0/1: its variance is fixed by its proportion, do not match it")
        terms.append(Term(key, "variance", float(var), float(targets[key])))
    if n < len(terms) + 1:
        raise ValueError(f"only {n} patient(s) have every matching variable; {len(terms)} moments cannot be "
                         f"matched (missing: {excluded_by})")
    z = np.column_stack([_centred(values[t.variable].to_numpy(), t) for t in terms])
    for t, col in zip(terms, z.T):
        if t.kind == "variance":
            _check_range(f"variance of {t.variable!r} (SD {np.sqrt(t.target):.4g})", col, n,
                         f"our patients' squared distances from the published mean {t.centre:.4g} span "
                         f"[{col.min() + t.target:.4g}, {col.max() + t.target:.4g}], target {t.target:.4g}")
    scale = z.std(axis=0)
    design = Design(tuple(terms), z, scale, values, values.index, int((~complete).sum()), excluded_by)
    _check_hull(design)
    return design


def _centred(x: np.ndarray, t: Term) -> np.ndarray:
    if t.kind == "variance":
        # (x - m)^2 - v rather than x^2 - (m^2 + v): same weights (a linear
        # recombination of the columns), far better conditioned
        return (x - t.centre) ** 2 - t.target
    return x - t.target


def _check_target(key: str, target: float, x: np.ndarray, binary: bool, n: int) -> None:
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        if target == lo:
            raise ValueError(f"{key!r} is constant in our data (all {n} patients have {key} = {lo:g}) and already "
                             "equals the target: drop it from the targets")
        raise ValueError(f"{key!r} is constant in our data (all {n} patients have {key} = {lo:g}) but the target "
                         f"is {target:g}: no weighting can change it; no MAIC is possible on this variable")
    if binary:
        if 1 < target <= 100:
            raise ValueError(f"target for {key!r} is {target:g}: give proportions in [0, 1], not percentages "
                             f"({target / 100:g})")
        if not 0 <= target <= 1:
            raise ValueError(f"target proportion for {key!r} must be in [0, 1], got {target:g}")
        n1 = int(x.sum())
        where = f"{n1} of our {n} patients have {key} = 1"
    else:
        where = f"our patients range from {lo:g} to {hi:g}"
    _check_range(f"target {target:g} for {key!r}", x - target, n, where)


def _check_range(what: str, col: np.ndarray, n: int, where: str) -> None:
    lo, hi = float(col.min()), float(col.max())
    tol = EDGE_TOL * max(float(col.std()), 1e-300)
    if lo > tol or hi < -tol:
        raise ValueError(f"{what} lies outside our data ({where}): no weighting of our patients can reach it; "
                         "no MAIC is possible with this target")
    if lo >= -tol or hi <= tol:
        raise ValueError(f"{what} lies on the edge of our data ({where}): only the patients at that extreme "
                         "could carry weight (the weights degenerate); restrict the cohort instead of weighting")


def _deepest_share(zs: np.ndarray) -> float:
    """Largest t such that some weights w >= t (summing to 1) balance zs exactly; -1 if none.

    The target lies strictly inside the convex hull of our patients (the
    condition for the MAIC weights to exist) exactly when t > 0.
    """
    n, p = zs.shape
    # w_i = t + v_i with v_i >= 0: only p + 1 equality rows, so the LP stays
    # fast for thousands of patients (the form with n rows "w_i >= t" does not)
    c = np.zeros(n + 1)
    c[-1] = -1.0
    a_eq = np.zeros((p + 1, n + 1))
    a_eq[:p, :n] = zs.T
    a_eq[:p, n] = zs.sum(axis=0)
    a_eq[p, :n] = 1.0
    a_eq[p, n] = n
    b_eq = np.zeros(p + 1)
    b_eq[p] = 1.0
    res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=[(0, None)] * n + [(0, 1.0 / n)], method="highs")
    return float(res.x[-1]) if res.status == 0 else -1.0


def _check_hull(design: Design) -> None:
    zs = design.zs
    n = zs.shape[0]
    if _deepest_share(zs) > HULL_TOL / n:
        return
    labels = [t.variable if t.kind != "variance" else f"variance of {t.variable}" for t in design.terms]
    culprit = ""
    for i, j in combinations(range(len(labels)), 2):
        if _deepest_share(zs[:, [i, j]]) <= HULL_TOL / n:
            culprit = f" ({labels[i]} and {labels[j]} already cannot be matched together)"
            break
    raise ValueError("each target is within the range of our data, but together they lie outside it"
                     f"{culprit}: no positive weighting of our patients reproduces them all at once; "
                     "match fewer variables or check the targets")
