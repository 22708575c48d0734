"""Comparing survival between groups: weighted log-rank tests and the trend test.

All tests share one statistic: at each distinct event time t (within stratum),
with n_k at risk and d_k events in group k (n, d pooled) and a weight w(t),

    U_k  = sum_t w (d_k - d n_k / n)
    V_kl = sum_t w^2 d (n - d) / (n - 1) (n_k / n) (1[k = l] - n_l / n)

and chi-square = U' V^- U on rank(V) (= K - 1) degrees of freedom, V^- a
generalized inverse.  Stratified tests add U and V over strata, as R's
``survdiff(... + strata(s))`` and Stata's ``sts test, strata()``.

Weights (``test=``):

* ``"logrank"``: 1 (R survdiff rho=0, Stata/SAS/SPSS log-rank).
* ``"gehan"``: n (Wilcoxon-Breslow-Gehan: Stata ``sts test, wilcoxon``,
  SAS LIFETEST Wilcoxon, SPSS "Breslow").
* ``"tarone-ware"``: sqrt(n).
* ``"peto-peto"``: S(t-), the pooled Kaplan-Meier just before t (R survdiff rho=1).
* ``"fleming-harrington"``: S(t-)^rho (1 - S(t-))^gamma.
* ``"wilcoxon"``: whichever of gehan / peto-peto ``conventions.wilcoxon`` says.

Observed and expected counts in the result are unweighted (what Stata prints
beside every test); the weighted score U is ``weighted_o_minus_e``.  For
``peto-peto`` R's survdiff prints weighted obs/exp instead; their difference is U.

Counts and sums are float64 numpy (``scipy.stats.logrank`` overflows int64 in
its variance with ~1e6 tied rows; lifelines' "peto" weights are not R's rho=1).

Example
-------
>>> import pandas as pd
>>> from rwestudy.stats.group_tests import compare_survival
>>> df = pd.DataFrame({"t": [1, 3, 2, 4], "d": [1, 1, 1, 0], "arm": ["a", "a", "b", "b"]})
>>> res = compare_survival(df, "t", "d", "arm")
>>> round(res.statistic, 6), res.df   # 8/13, worked out in tests/stats/test_group_tests.py
(0.615385, 1)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rwestudy.stats._dist import chi2_sf

from rwestudy.stats import _km_kernel as kern
from rwestudy.stats.conventions import Conventions, get_conventions

TESTS = ("logrank", "gehan", "tarone-ware", "peto-peto", "fleming-harrington", "wilcoxon")
# eigenvalues of V below this fraction of the largest count as zero (rank)
RANK_TOL = 1e-10


@dataclass(frozen=True, eq=False)
class GroupTestResult:
    """A survival comparison; all numbers computed once.

    ``table``: group, n, observed, expected (unweighted), weighted_o_minus_e (U).
    ``variance``: the K x K matrix V.  ``scores`` is set for a trend test.
    """

    test: str
    statistic: float
    df: int
    p: float
    table: pd.DataFrame
    variance: np.ndarray
    strata: str | None
    conventions: Conventions
    scores: np.ndarray | None = None

    @property
    def observed(self) -> pd.Series:
        return self.table.set_index("group")["observed"]

    @property
    def expected(self) -> pd.Series:
        return self.table.set_index("group")["expected"]

    def summary(self) -> str:
        strat = f", stratified by {self.strata}" if self.strata else ""
        lines = [f"{self.test}{strat}: chi2({self.df}) = {self.statistic:.4f}, p = {self.p:.4g}",
                 f"{'group':<16}{'n':>7}{'observed':>10}{'expected':>10}"]
        for r in self.table.itertuples(index=False):
            lines.append(f"{str(r.group):<16}{r.n:>7.0f}{r.observed:>10.0f}{r.expected:>10.2f}")
        return "\n".join(lines)


def _resolve_test(test: str, rho, gamma, conv: Conventions) -> tuple[str, float, float]:
    name = test.lower()
    if name not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    if name == "wilcoxon":
        name = conv.wilcoxon
    if name == "fleming-harrington":
        if rho is None and gamma is None:
            raise ValueError("fleming-harrington needs rho and/or gamma")
        return name, float(rho or 0.0), float(gamma or 0.0)
    if rho is not None or gamma is not None:
        raise ValueError("rho/gamma apply only to test='fleming-harrington'")
    return name, 0.0, 0.0


def _score_and_variance(df, time, event, by, strata, test, rho, gamma, conventions):
    conv = conventions if conventions is not None else get_conventions()
    name, rho, gamma = _resolve_test(test, rho, gamma, conv)
    enc = kern.encode(df, time, event, by, strata, timefix=conv.timefix)
    labels = enc.levels[by]
    k = len(labels)
    if k < 2:
        raise ValueError(f"{by!r} has {k} group(s); need at least 2 to compare")
    cells = kern.risk_cells(enc.time, enc.event, block=enc.codes.get(strata) if strata else None,
                            col=enc.codes[by], n_cols=k)
    n_k, d_k = cells.n_risk, cells.n_event
    n, d = n_k.sum(axis=1), d_k.sum(axis=1)
    w = _weights(name, n, d, cells.starts, rho, gamma)
    e_k = d[:, None] * n_k / n[:, None]
    u = (w[:, None] * (d_k - e_k)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        hyper = np.where(n > 1, d * (n - d) / (n - 1), 0.0)  # n == 1: no variance
    c = w * w * hyper
    p = n_k / n[:, None]
    v = np.diag((c[:, None] * p).sum(axis=0)) - (p * c[:, None]).T @ p
    table = pd.DataFrame({"group": labels, "n": cells.n_at.sum(axis=0), "observed": d_k.sum(axis=0),
                          "expected": e_k.sum(axis=0), "weighted_o_minus_e": u})
    label = name if name != "fleming-harrington" else f"fleming-harrington(rho={rho:g}, gamma={gamma:g})"
    return label, table, u, v, conv


def _weights(name, n, d, starts, rho, gamma) -> np.ndarray:
    if name == "logrank":
        return np.ones_like(n)
    if name == "gehan":
        return n.copy()
    if name == "tarone-ware":
        return np.sqrt(n)
    # pooled Kaplan-Meier just before t, restarted in every stratum
    surv, _ = kern.km_within_blocks(n, d, starts)
    left = np.empty_like(surv)
    left[1:] = surv[:-1]
    left[starts[:-1]] = 1.0
    if name == "peto-peto":
        return left
    return left**rho * (1.0 - left) ** gamma


def _quadratic_form(u: np.ndarray, v: np.ndarray) -> tuple[float, int]:
    """U' V^- U and rank(V), via the eigen-decomposition of the symmetric V."""
    vals, vecs = np.linalg.eigh(v)
    if vals.max(initial=0.0) <= 0:
        return np.nan, 0
    keep = vals > RANK_TOL * vals.max()
    proj = vecs[:, keep].T @ u
    return float(np.sum(proj * proj / vals[keep])), int(keep.sum())


def compare_survival(df: pd.DataFrame, time: str, event: str, by: str, test: str = "logrank",
                     strata: str | None = None, rho: float | None = None, gamma: float | None = None,
                     conventions: Conventions | None = None) -> GroupTestResult:
    """Test equality of survival across the groups of ``by`` (K-1 df chi-square).

    ``test`` is one of logrank, gehan, tarone-ware, peto-peto,
    fleming-harrington (with ``rho``/``gamma``) or wilcoxon (resolved by
    ``conventions.wilcoxon``).  ``strata`` gives the stratified test.  Rows with a
    missing time, event, group or stratum raise ``ValueError`` (count named).

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [1, 3, 2, 4], "d": [1, 1, 1, 0], "arm": ["a", "a", "b", "b"]})
    >>> res = compare_survival(df, "t", "d", "arm", test="gehan")
    >>> round(res.statistic, 6)   # U = 2, V = 7 -> 4/7
    0.571429
    """
    label, table, u, v, conv = _score_and_variance(df, time, event, by, strata, test, rho, gamma, conventions)
    stat, dof = _quadratic_form(u, v)
    p = float(chi2_sf(stat, dof)) if dof > 0 else np.nan
    return GroupTestResult(label, stat, dof, p, table, v, strata, conv)


def trend_test(df: pd.DataFrame, time: str, event: str, by: str, test: str = "logrank",
               strata: str | None = None, scores=None, rho: float | None = None,
               gamma: float | None = None, conventions: Conventions | None = None) -> GroupTestResult:
    """Test for a trend in survival across ordered groups (1 df).

    chi-square = (a'U)^2 / (a'Va), with U and V of the chosen weighted test and
    scores a = 1..K in group order (categorical order, else sorted values), as
    Stata's ``sts test, trend``; pass ``scores`` to use others.

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "d": [1] * 6, "dose": [3, 3, 2, 2, 1, 1]})
    >>> res = trend_test(df, "t", "d", "dose")
    >>> res.df, res.p < 0.05
    (1, True)
    """
    label, table, u, v, conv = _score_and_variance(df, time, event, by, strata, test, rho, gamma, conventions)
    a = np.arange(1.0, len(u) + 1) if scores is None else np.asarray(scores, dtype=np.float64)
    if a.shape != u.shape:
        raise ValueError(f"scores must have one value per group ({len(u)}), got {a.size}")
    stat = float((a @ u) ** 2 / (a @ v @ a))
    return GroupTestResult(f"trend ({label})", stat, 1, float(chi2_sf(stat, 1)), table, v, strata, conv, a)
