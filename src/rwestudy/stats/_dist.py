"""The few distribution functions the standard analysis needs, from scipy.special.

Why not scipy.stats: importing it costs about 0.7 s, half the start-up time of
`rwestudy report`, and the default analysis only needs these. They are the
same special functions scipy.stats calls; the rarely used tests (t-test,
Mann-Whitney, Kruskal-Wallis, Shapiro-Wilk, R x C Fisher) import scipy.stats
when they run.
"""
from __future__ import annotations

import numpy as np
from scipy import special


def norm_ppf(p):
    return special.ndtri(p)


def norm_sf(x):
    return special.ndtr(-np.asarray(x, dtype=float))


def chi2_sf(x, df):
    return special.chdtrc(df, x)


def chi2_ppf(q, df):
    return special.chdtri(df, 1.0 - q)


def beta_ppf(q, a, b):
    return special.betaincinv(a, b, q)


def hypergeom_logpmf(x, total, good, draws):
    """log P(X = x) drawing ``draws`` from ``total`` items of which ``good`` are marked."""
    x = np.asarray(x, dtype=float)
    lchoose = lambda n, k: special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)  # noqa: E731
    return lchoose(good, x) + lchoose(total - good, draws - x) - lchoose(total, draws)
