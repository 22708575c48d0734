"""Proportions with confidence intervals (response rates, CR rates, Table 1 cells).

Methods (``Conventions.binomial_ci`` or ``method=``):

* ``exact``: Clopper-Pearson, from beta quantiles (R ``binom.test``, Stata
  ``ci proportions``, SAS ``EXACT BINOMIAL``).
* ``wilson``: Wilson score (R ``prop.test(correct=FALSE)``).
* ``wilson-cc``: Wilson score with continuity correction, Newcombe (1998)
  method 4. R ``prop.test(correct=TRUE)`` gives the same interval except when
  x = n/2 exactly, where R shrinks the correction to zero.
* ``wald`` / ``wald-cc``: p +/- z*SE (+ 1/(2n)), clipped to [0, 1] (SPSS).
* ``jeffreys``: equal-tailed Beta(x + 1/2, n - x + 1/2) interval, lower bound 0
  at x = 0 and upper bound 1 at x = n (Brown, Cai & DasGupta 2001).
* ``agresti-coull``: Wald interval around (x + z^2/2) / (n + z^2), clipped.

Example
-------
>>> low, high = proportion_ci(3, 10, method="exact")
>>> round(low, 4), round(high, 4)
(0.0667, 0.6525)
>>> ci = proportion_ci(0, 0)
>>> ci.note
'n = 0: a proportion of no patients is undefined'
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import pandas as pd
from rwestudy.stats._dist import beta_ppf, norm_ppf

from rwestudy.stats.conventions import Conventions, get_conventions

METHODS = ("exact", "wilson", "wilson-cc", "wald", "wald-cc", "jeffreys", "agresti-coull")
NA_LABEL = "(missing)"


@dataclass(frozen=True)
class ProportionCI:
    """A proportion x/n and its interval; unpacks as ``low, high``."""

    x: int
    n: int
    estimate: float
    low: float
    high: float
    method: str
    conf_level: float
    note: str = ""

    def __iter__(self) -> Iterator[float]:
        # so that `low, high = proportion_ci(...)` works
        return iter((self.low, self.high))


def _resolve(method: str | None, conf_level: float | None, conventions: Conventions | None) -> tuple[str, float]:
    conv = conventions if conventions is not None else get_conventions()
    method = (method or conv.binomial_ci).lower()
    if method not in METHODS:
        raise ValueError(f"unknown binomial CI method {method!r}; choose one of {', '.join(METHODS)}")
    conf = conv.conf_level if conf_level is None else float(conf_level)
    if not 0 < conf < 1:
        raise ValueError(f"conf_level must be between 0 and 1, got {conf}")
    return method, conf


def _bounds(x: float, n: float, method: str, conf: float) -> tuple[float, float]:
    alpha = 1.0 - conf
    z = float(norm_ppf(1.0 - alpha / 2.0))
    p = x / n
    if method == "exact":
        low = 0.0 if x == 0 else beta_ppf(alpha / 2.0, x, n - x + 1)
        high = 1.0 if x == n else beta_ppf(1.0 - alpha / 2.0, x + 1, n - x)
        return float(low), float(high)
    if method == "jeffreys":
        low = 0.0 if x == 0 else beta_ppf(alpha / 2.0, x + 0.5, n - x + 0.5)
        high = 1.0 if x == n else beta_ppf(1.0 - alpha / 2.0, x + 0.5, n - x + 0.5)
        return float(low), float(high)
    if method in ("wilson", "wilson-cc"):
        # Score interval for a continuity-shifted p: p -/+ 1/(2n) when corrected.
        shift = 0.5 / n if method == "wilson-cc" else 0.0
        z22n = z * z / (2.0 * n)

        def score(pc: float, sign: float) -> float:
            return (pc + z22n + sign * z * math.sqrt(pc * (1.0 - pc) / n + z22n / (2.0 * n))) / (1.0 + 2.0 * z22n)

        low = 0.0 if p - shift <= 0 else score(p - shift, -1.0)
        high = 1.0 if p + shift >= 1 else score(p + shift, +1.0)
        return low, high
    if method == "agresti-coull":
        n_t = n + z * z
        p_t = (x + z * z / 2.0) / n_t
        half = z * math.sqrt(p_t * (1.0 - p_t) / n_t)
        return max(0.0, p_t - half), min(1.0, p_t + half)
    # wald / wald-cc
    half = z * math.sqrt(p * (1.0 - p) / n) + (0.5 / n if method == "wald-cc" else 0.0)
    return max(0.0, p - half), min(1.0, p + half)


def proportion_ci(
    x: int,
    n: int,
    method: str | None = None,
    conf_level: float | None = None,
    conventions: Conventions | None = None,
) -> ProportionCI:
    """Confidence interval for the proportion ``x / n``.

    ``method`` and ``conf_level`` default to ``conventions`` (``get_conventions()``
    when None). Returns a :class:`ProportionCI` that unpacks as ``(low, high)``.
    For n = 0 the estimate and bounds are NaN and ``note`` says why; the Wald
    interval at x = 0 or x = n collapses to a point, which ``note`` also says.

    >>> low, high = proportion_ci(0, 10)          # exact: upper = 1 - 0.025**(1/10)
    >>> low, round(high, 4)
    (0.0, 0.3085)
    >>> round(proportion_ci(1, 10, method="wilson").low, 4)
    0.0179
    """
    method, conf = _resolve(method, conf_level, conventions)
    if x != int(x) or n != int(n) or x < 0 or n < 0 or x > n:
        raise ValueError(f"need integers 0 <= x <= n, got x={x}, n={n}")
    x, n = int(x), int(n)
    if n == 0:
        nan = float("nan")
        return ProportionCI(x, n, nan, nan, nan, method, conf, "n = 0: a proportion of no patients is undefined")
    low, high = _bounds(float(x), float(n), method, conf)
    note = ""
    if method in ("wald", "wald-cc") and x in (0, n):
        note = "Wald standard error is 0 at x = 0 or x = n; prefer exact or wilson"
    return ProportionCI(x, n, x / n, low, high, method, conf, note)


def proportion_table(
    series: pd.Series,
    categories: list | None = None,
    method: str | None = None,
    conf_level: float | None = None,
    conventions: Conventions | None = None,
) -> pd.DataFrame:
    """Count, percent and CI of every category, over all patients.

    The denominator is every row of ``series`` *including* missing values, and
    a ``(missing)`` row is always present (0 when nothing is missing), so the
    counts add up to the number of patients. ``categories`` fixes the order and
    adds zero rows for unobserved levels; values outside it raise ``ValueError``
    (they are never dropped silently). Columns: category, n, denominator, pct
    (0-100), ci_low, ci_high (0-100), method, conf_level. ``attrs['denominator']``
    says which denominator was used.

    >>> s = pd.Series(["CR", "PR", "CR", None, "SD"])
    >>> t = proportion_table(s, categories=["CR", "PR", "SD", "PD"])
    >>> t[["category", "n", "denominator", "pct"]].to_dict("list")["n"]
    [2, 1, 1, 0, 1]
    >>> t.attrs["denominator"]
    'all 5 patients, missing values included'
    """
    method, conf = _resolve(method, conf_level, conventions)
    missing = series.isna()
    observed = series[~missing]
    if categories is None:
        if isinstance(series.dtype, pd.CategoricalDtype):
            categories = list(series.cat.categories)
        else:
            categories = sorted(pd.unique(observed), key=lambda v: (str(type(v)), v))
    else:
        unknown = sorted(set(pd.unique(observed)) - set(categories), key=str)
        if unknown:
            raise ValueError(f"values not in categories: {unknown}")
    counts = observed.value_counts().reindex(categories, fill_value=0)
    labels = list(categories) + [NA_LABEL]
    n_cat = [int(v) for v in counts.to_numpy()] + [int(missing.sum())]
    total = int(len(series))
    cis = [proportion_ci(k, total, method=method, conf_level=conf) for k in n_cat]
    table = pd.DataFrame(
        {
            "category": pd.Series(labels, dtype=object),
            "n": n_cat,
            "denominator": total,
            "pct": [100.0 * c.estimate for c in cis],
            "ci_low": [100.0 * c.low for c in cis],
            "ci_high": [100.0 * c.high for c in cis],
            "method": method,
            "conf_level": conf,
        }
    )
    table.attrs["denominator"] = f"all {total} patients, missing values included"
    return table


__all__ = ["METHODS", "NA_LABEL", "ProportionCI", "proportion_ci", "proportion_table"]
