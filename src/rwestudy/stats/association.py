"""Two-group and k-group association tests, each with the rule that chose it.

Categorical variable by group (:func:`compare_categorical`):
Pearson's chi-square when every expected count is >= ``fisher_expected_min``
(Yates' correction for 2x2 only when ``chisq_correction``), else Fisher's exact
test. Fisher 2x2 follows R ``fisher.test``: the two-sided p sums the
hypergeometric probabilities <= the observed one times 1 + 1e-7. Larger tables
are enumerated exactly when the enumeration stays under ``max_exact_tables``
partial tables; otherwise the p-value is simulated as R
``fisher.test(simulate.p.value=TRUE)``: (1 + #{simulated <= observed}) / (B + 1)
with the conventions' seed and resamples. (scipy's ``fisher_exact`` is not used
for R x C: its default there is a random Monte-Carlo p.)

Continuous variable by group (:func:`compare_continuous`): the parametric test
(Welch's t for two groups, one-way ANOVA for more) when every group has >= 3
values and a Shapiro-Wilk p >= 0.05; otherwise Mann-Whitney / Kruskal-Wallis.
We do not switch to the t-test merely because n >= 30 per group: skewed
clinical variables (LDH, follow-up, counts) stay skewed at n = 40, Table 1
summarises them by median and IQR, and the rank test loses little power
(efficiency 0.955) when the data are in fact normal. This is also the Stata
workflow of ``swilk`` followed by ``ttest`` or ``ranksum``.
Mann-Whitney follows R ``wilcox.test``: exact p when both groups have < 50
values and there are no ties, else the normal approximation with tie and
continuity corrections. Rows with a missing value or group are excluded and
counted in ``n_excluded``.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({"cr": [1, 1, 1, 0, 1, 0, 0, 0], "arm": list("AAAABBBB")})
>>> res = compare_categorical(df, "cr", "arm")
>>> res.test, round(res.p, 4)
("Fisher's exact test", 0.4857)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import special

from rwestudy.stats._dist import chi2_sf, hypergeom_logpmf

from rwestudy.stats.conventions import Conventions, get_conventions

# R fisher.test 2x2: probabilities within this relative tolerance count as ties.
FISHER_REL_TOL = 1e-7
# R fisher.test simulate.p.value: STAT <= STATISTIC / (1 + 64 eps)
_ALMOST_ONE = 1.0 + 64.0 * np.finfo(float).eps
MAX_EXACT_TABLES = 2_000_000
_MC_BATCH = 10_000


@dataclass(frozen=True)
class ComparisonResult:
    """One association test: what was run, on how many patients, and why."""

    variable: str
    by: str
    test: str
    statistic: float
    statistic_name: str
    df: float
    df2: float
    p: float
    rule: str
    n_used: int
    n_excluded: int
    groups: tuple[tuple[str, int], ...]
    p_method: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------- primitives
def fisher_exact_2x2(table, alternative: str = "two-sided") -> float:
    """Fisher's exact p for a 2x2 table, as R ``fisher.test``.

    >>> round(fisher_exact_2x2([[3, 1], [1, 3]]), 6)   # (1 + 16 + 16 + 1) / 70
    0.485714
    """
    t = np.asarray(table, dtype=np.int64)
    if t.shape != (2, 2) or (t < 0).any():
        raise ValueError("need a 2x2 table of non-negative counts")
    m, n, k, x = t[:, 0].sum(), t[:, 1].sum(), t[0].sum(), t[0, 0]
    lo, hi = max(0, k - n), min(k, m)
    support = np.arange(lo, hi + 1)
    # hypergeometric: draw k (row 1) from m "column 1" and n "column 2" patients
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError("alternative must be 'two-sided', 'less' or 'greater'")
    logd = hypergeom_logpmf(support, m + n, m, k)
    d = np.exp(logd - logd.max())
    d /= d.sum()
    if alternative == "less":
        return float(min(1.0, d[: x - lo + 1].sum()))
    if alternative == "greater":
        return float(min(1.0, d[x - lo:].sum()))
    return float(min(1.0, d[d <= d[x - lo] * (1.0 + FISHER_REL_TOL)].sum()))


def _drop_empty(table: np.ndarray) -> np.ndarray:
    return table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]


def _compositions(total: int, bounds: np.ndarray) -> np.ndarray:
    """All integer vectors x with sum(x) == total and 0 <= x <= bounds (rows)."""
    parts = np.zeros((1, 0), dtype=np.int64)
    for i, b in enumerate(bounds[:-1]):
        used = parts.sum(axis=1)
        room_after = bounds[i + 1:].sum()
        lo = np.maximum(0, total - used - room_after)
        hi = np.minimum(b, total - used)
        counts = np.maximum(hi - lo + 1, 0)
        base = np.repeat(parts, counts, axis=0)
        # value = lo + offset within each repeated block
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        parts = np.column_stack([base, np.repeat(lo, counts) + offsets])
    return np.column_stack([parts, total - parts.sum(axis=1)])


def _merge(parts: list, strides: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge partial tables with the same remaining row totals and the same
    partial log-probability (to 1e-9), adding their multiplicities."""
    rem = np.concatenate([p[0] for p in parts])
    val = np.concatenate([p[1] for p in parts])
    weight = np.concatenate([p[2] for p in parts])
    code = rem @ strides
    key = np.rint(val * 1e9).astype(np.int64)
    order = np.lexsort((key, code))
    code, key = code[order], key[order]
    start = np.flatnonzero(np.r_[True, (np.diff(code) != 0) | (np.diff(key) != 0)])
    return rem[order][start], val[order][start], np.add.reduceat(weight[order], start)


def fisher_exact_rxc(table, max_tables: int = MAX_EXACT_TABLES) -> float | None:
    """Exact Fisher-Freeman-Halton p for an R x C table, or None if too large.

    None means the enumeration would hold more than ``max_tables`` merged
    partial tables at some column; the caller then simulates the p-value.

    Column by column, partial tables sharing the same remaining row totals and
    the same partial probability are merged (a dynamic program over columns:
    the network algorithm's graph without its pruning bounds), so the work
    grows with the number of distinct partial tables, not of all tables.
    Tables count as "as or less likely" with R's relative tolerance 1 + 1e-7.
    """
    t = _drop_empty(np.asarray(table, dtype=np.int64))
    if min(t.shape) < 2:
        return 1.0
    if t.shape[0] > t.shape[1]:
        t = t.T  # fewer rows -> fewer column compositions and states
    rows, cols, n = t.sum(axis=1), t.sum(axis=0), int(t.sum())
    logfact = special.gammaln(np.arange(n + 1) + 1.0)
    observed = -logfact[t].sum()
    strides = np.cumprod(np.concatenate([[1], rows[:-1] + 1])).astype(np.int64)
    rem = rows[None, :].astype(np.int32)
    val = np.zeros(1)
    weight = np.ones(1)
    for c in cols[:-1]:
        options = _compositions(int(c), rem.max(axis=0))
        opt_val = -logfact[options].sum(axis=1)
        pending, size = [], 0
        merged = (np.zeros((0, len(rows)), np.int32), np.zeros(0), np.zeros(0))
        step = max(1, 4_000_000 // len(rem))  # options per vectorised chunk
        for lo in range(0, len(options), step):
            opts = options[lo:lo + step]
            ok = (rem[:, None, :] >= opts[None, :, :]).all(axis=2)  # entries x options
            e, o = np.nonzero(ok)
            pending.append((rem[e] - opts[o], val[e] + opt_val[lo + o], weight[e]))
            size += len(e)
            if size > max_tables:  # merge early to bound memory
                merged = _merge([merged, *pending], strides)
                pending, size = [], len(merged[1])
                if size > max_tables:
                    return None
        rem, val, weight = _merge([merged, *pending], strides)
        if len(val) > max_tables:
            return None
    val = val - logfact[rem].sum(axis=1)  # the last column is forced
    log_const = logfact[rows].sum() + logfact[cols].sum() - logfact[n]
    prob = weight * np.exp(log_const + val)
    p = prob[val <= observed + np.log1p(FISHER_REL_TOL)].sum()
    return float(min(1.0, p))


def fisher_monte_carlo(table, resamples: int, seed: int) -> float:
    """Monte-Carlo Fisher p with R ``fisher.test(simulate.p.value=TRUE)`` semantics.

    Tables with the observed margins are drawn (scipy ``random_table``) from a
    generator seeded with ``seed``, so the result is reproducible; it is not
    R's number (different random streams), only close to it.
    """
    from scipy import stats  # lazy: see _dist.py
    t = _drop_empty(np.asarray(table, dtype=np.int64))
    if min(t.shape) < 2:
        return 1.0
    dist = stats.random_table(t.sum(axis=1), t.sum(axis=0))
    rng = np.random.default_rng(seed)
    observed = -special.gammaln(t + 1.0).sum()
    hits, done = 0, 0
    while done < resamples:
        size = min(_MC_BATCH, resamples - done)
        sims = dist.rvs(size=size, random_state=rng)
        stat = -special.gammaln(sims + 1.0).sum(axis=(1, 2))
        hits += int((stat <= observed / _ALMOST_ONE).sum())
        done += size
    return (1 + hits) / (resamples + 1)


def chisq_test(table, correction: bool = False) -> tuple[float, int, float, np.ndarray]:
    """Pearson chi-square (statistic, df, p, expected), as R ``chisq.test``.

    Yates' correction is applied only to 2x2 tables when ``correction``.
    """
    t = np.asarray(table, dtype=float)
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()
    dev = np.abs(t - expected)
    if correction and t.shape == (2, 2):
        dev = dev - min(0.5, dev.min())
    stat = float((dev**2 / expected).sum())
    df = (t.shape[0] - 1) * (t.shape[1] - 1)
    return stat, df, float(chi2_sf(stat, df)), expected


def mann_whitney(x, y) -> tuple[float, float, str]:
    """Mann-Whitney (W for ``x``, p, how p was computed), as R ``wilcox.test``."""
    from scipy import stats  # lazy: see _dist.py
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    pooled = np.concatenate([x, y])
    ties = len(np.unique(pooled)) < len(pooled)
    if len(x) < 50 and len(y) < 50 and not ties:
        res = stats.mannwhitneyu(x, y, alternative="two-sided", method="exact")
        how = "exact p (fewer than 50 values per group, no ties)"
    else:
        res = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True)
        why = "ties present" if ties else "50 or more values in a group"
        how = f"normal approximation with continuity correction ({why})"
    return float(res.statistic), float(res.pvalue), how


# ---------------------------------------------------------------- data prep
def _levels(s: pd.Series) -> list:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [c for c in s.cat.categories if (s == c).any()]
    return sorted(pd.unique(s.dropna()), key=lambda v: (str(type(v)), v))


def _complete(df: pd.DataFrame, var: str, by: str) -> tuple[pd.DataFrame, int]:
    keep = df[var].notna() & df[by].notna()
    return df.loc[keep, [var, by]], int((~keep).sum())


def _excluded_text(n_excluded: int) -> str:
    return f" {n_excluded} patient(s) with a missing value or group were excluded." if n_excluded else ""


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _no_test(var, by, n_used, n_excl, groups, why) -> ComparisonResult:
    nan = float("nan")
    return ComparisonResult(var, by, "none", nan, "", nan, nan, nan, why + _excluded_text(n_excl),
                            n_used, n_excl, groups)


# --------------------------------------------------------------- categorical
def compare_categorical(
    df: pd.DataFrame,
    var: str,
    by: str,
    conventions: Conventions | None = None,
    *,
    method: str = "auto",
    correction: bool | None = None,
    expected_min: float | None = None,
    max_exact_tables: int = MAX_EXACT_TABLES,
) -> ComparisonResult:
    """Chi-square or Fisher's exact test of ``var`` by ``by``.

    ``method``: "auto" (expected-count rule), "chisq" or "fisher". Keyword
    ``correction`` / ``expected_min`` override the conventions.

    >>> df = pd.DataFrame({"x": ["a"] * 30 + ["b"] * 30, "g": ["u", "v"] * 30})
    >>> r = compare_categorical(df, "x", "g")
    >>> r.test, r.statistic, r.p
    ("Pearson's chi-square test", 0.0, 1.0)
    """
    conv = conventions if conventions is not None else get_conventions()
    correction = conv.chisq_correction if correction is None else correction
    expected_min = conv.fisher_expected_min if expected_min is None else expected_min
    data, n_excl = _complete(df, var, by)
    crosstab = pd.crosstab(data[var], data[by])
    groups = tuple((str(g), int(k)) for g, k in crosstab.sum(axis=0).items())
    table = _drop_empty(crosstab.to_numpy(dtype=np.int64))
    if min(table.shape) < 2:
        return _no_test(var, by, len(data), n_excl, groups,
                        "No test: fewer than two observed levels or groups.")
    _, _, _, expected = chisq_test(table)
    n_small = int((expected < expected_min).sum())
    shape = f"{table.shape[0]}x{table.shape[1]}"
    if method == "auto":
        use_chisq = n_small == 0
        rule = (f"All {expected.size} expected counts are >= {expected_min:g} (smallest {expected.min():.2f})"
                if use_chisq else
                f"{n_small} of {expected.size} expected counts are < {expected_min:g} (smallest {expected.min():.2f})")
    elif method in ("chisq", "fisher"):
        use_chisq = method == "chisq"
        rule = f"Test requested explicitly (method={method!r})"
    else:
        raise ValueError("method must be 'auto', 'chisq' or 'fisher'")

    if use_chisq:
        yates = correction and table.shape == (2, 2)
        stat, dof, p, _ = chisq_test(table, correction=yates)
        test = "Pearson's chi-square test" + (" with Yates' continuity correction" if yates else "")
        rule += f", so {test} was used on the {shape} table."
        return ComparisonResult(var, by, test, stat, "X-squared", float(dof), float("nan"), p,
                                rule + _excluded_text(n_excl), len(data), n_excl, groups, "asymptotic")
    if table.shape == (2, 2):
        p, p_method = fisher_exact_2x2(table), "exact"
    else:
        p = fisher_exact_rxc(table, max_tables=max_exact_tables)
        p_method = "exact"
        if p is None:
            B, seed = conv.monte_carlo_resamples, conv.monte_carlo_seed
            p = fisher_monte_carlo(table, B, seed)
            p_method = f"Monte-Carlo ({B} simulated tables, seed {seed})"
    test = "Fisher's exact test" if p_method == "exact" else "Fisher's exact test (simulated p)"
    rule += f", so Fisher's exact test was used on the {shape} table; p is {p_method}."
    return ComparisonResult(var, by, test, float("nan"), "", float("nan"), float("nan"), p,
                            rule + _excluded_text(n_excl), len(data), n_excl, groups, p_method)


# ---------------------------------------------------------------- continuous
def _normality(samples: dict, alpha: float) -> tuple[bool, str]:
    """(all groups look normal, sentence) by Shapiro-Wilk in every group."""
    from scipy import stats  # lazy: see _dist.py
    for label, v in samples.items():
        if len(v) < 3:
            return False, f"group {label!r} has fewer than 3 values, so normality cannot be checked"
        if np.ptp(v) == 0:
            return False, f"group {label!r} has no spread (all values equal)"
    pvals = {label: float(stats.shapiro(v).pvalue) for label, v in samples.items()}
    worst = min(pvals, key=pvals.get)
    if pvals[worst] < alpha:
        return False, f"Shapiro-Wilk p < {alpha:g} in group {worst!r} (p = {_fmt(pvals[worst])})"
    return True, (f"Shapiro-Wilk p >= {alpha:g} in every group (smallest p = {_fmt(pvals[worst])}) "
                  "and every group has >= 3 values")


def compare_continuous(
    df: pd.DataFrame,
    var: str,
    by: str,
    conventions: Conventions | None = None,
    *,
    method: str = "auto",
    normality_alpha: float = 0.05,
    anova: str = "fisher",
) -> ComparisonResult:
    """Welch t / Mann-Whitney (2 groups) or ANOVA / Kruskal-Wallis (> 2 groups).

    ``method``: "auto" (Shapiro-Wilk rule), "parametric" or "nonparametric".
    ``anova``: "fisher" (classic one-way ANOVA, R ``aov``) or "welch" (R
    ``oneway.test``). ``conventions`` is accepted for a uniform API; no
    convention changes these tests.

    >>> df = pd.DataFrame({"age": [50, 61, 58, 72, 44, 66, 70, 59], "g": list("ABABABAB")})
    >>> r = compare_continuous(df, "age", "g")
    >>> r.test
    "Welch's t-test"
    """
    from scipy import stats  # lazy: see _dist.py
    data, n_excl = _complete(df, var, by)
    values = pd.to_numeric(data[var], errors="raise").astype(float)
    samples = {str(g): values[data[by] == g].to_numpy() for g in _levels(data[by])}
    groups = tuple((g, len(v)) for g, v in samples.items())
    if len(samples) < 2:
        return _no_test(var, by, len(data), n_excl, groups, "No test: fewer than two groups with data.")
    if method == "auto":
        parametric, why = _normality(samples, normality_alpha)
    elif method in ("parametric", "nonparametric"):
        parametric, why = method == "parametric", f"Test requested explicitly (method={method!r})"
    else:
        raise ValueError("method must be 'auto', 'parametric' or 'nonparametric'")
    arrays = list(samples.values())
    nan = float("nan")
    df2, p_method = nan, "asymptotic"
    if len(arrays) == 2 and parametric:
        res = stats.ttest_ind(arrays[0], arrays[1], equal_var=False)
        test, name, stat, dof, p = "Welch's t-test", "t", res.statistic, res.df, res.pvalue
        p_method = "t distribution (Welch-Satterthwaite df)"
    elif len(arrays) == 2:
        stat, p, p_method = mann_whitney(arrays[0], arrays[1])
        test, name, dof = "Mann-Whitney U test (Wilcoxon rank-sum)", f"W (group {groups[0][0]!r})", nan
    elif parametric:
        res = stats.f_oneway(*arrays, equal_var=(anova == "fisher"))
        test = "one-way ANOVA" if anova == "fisher" else "Welch's one-way ANOVA"
        name, stat, p = "F", res.statistic, res.pvalue
        dof = float(len(arrays) - 1)
        if anova == "fisher":
            df2 = float(sum(map(len, arrays)) - len(arrays))
    else:
        res = stats.kruskal(*arrays)
        test, name, stat, dof, p = "Kruskal-Wallis test", "H", res.statistic, float(len(arrays) - 1), res.pvalue
    article = "" if "'s " in test.split()[0] + " " else "the "
    rule = f"{why}, so {article}{test} was used"
    rule += f"; p by {p_method}." if test.startswith("Mann") else "."
    return ComparisonResult(var, by, test, float(stat), name, float(dof), df2, float(p),
                            rule + _excluded_text(n_excl), len(data), n_excl, groups, p_method)


__all__ = [
    "ComparisonResult", "compare_categorical", "compare_continuous", "fisher_exact_2x2",
    "fisher_exact_rxc", "fisher_monte_carlo", "chisq_test", "mann_whitney",
]
