"""Cox proportional hazards regression, matching R's ``coxph``.

* :func:`cox` fits one model (Breslow or Efron ties, strata, (start, stop]
  counting-process data, categorical covariates with treatment coding) and
  detects monotone likelihood (a coefficient running off to +/- infinity,
  typically a level with no events); ``firth=True`` fits Firth's penalised
  likelihood instead (Heinze & Schemper 2001), which stays finite.
* :func:`cox_univariate` fits one model per covariate (the usual Table 2
  "univariate" column); :func:`cox_stepwise` does backward elimination.
* :func:`ph_test` is R's ``cox.zph(fit, transform="km", terms=TRUE)``.

Numbers agree with R ``survival`` 3.5 to ~1e-12 (see ``reference/r/cox.R``).

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({
...     "months": [5, 8, 12, 20, 3, 9, 15, 30, 2, 7],
...     "died":   [1, 1, 0, 1, 1, 1, 0, 0, 1, 1],
...     "arm":    ["A", "A", "A", "A", "B", "B", "B", "B", "B", "A"],
...     "age":    [61, 70, 55, 48, 66, 72, 59, 50, 75, 64],
... })
>>> fit = cox(df, "months", "died", ["arm", "age"], ties="efron")
>>> list(fit.table["term"])
['arm[B]', 'age']
>>> fit.n, fit.events
(10, 7)
>>> bool(fit.table.loc[0, "hr"] > 0)
True
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence
import warnings

import numpy as np
import pandas as pd
from rwestudy.exceptions import ExcludedRowsWarning
from rwestudy.stats._dist import chi2_sf, norm_ppf, norm_sf

from . import _cox_kernel as kernel
from .conventions import Conventions, get_conventions
from .design import Design, build_design

__all__ = ["CoxResult", "GlobalTest", "cox", "cox_univariate", "cox_stepwise", "StepwiseResult",
           "UnivariateResult", "ph_test"]


@dataclass(frozen=True)
class GlobalTest:
    """A chi-square test: statistic, degrees of freedom, p-value."""

    statistic: float
    df: int
    p: float

    @classmethod
    def chisq(cls, stat: float, df: int) -> "GlobalTest":
        p = float(chi2_sf(stat, df)) if np.isfinite(stat) and df > 0 else float("nan")
        return cls(float(stat), int(df), p)


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model. Everything is computed at fit time; nothing on access.

    ``table`` has one row per design column: term, variable, coef, se, hr,
    ci_low, ci_high, z, p_wald, p (the p chosen by ``conventions.cox_p``) and
    monotone. ``variables`` has one row per covariate with its joint Wald test
    (df > 1 for a categorical covariate).
    """

    table: pd.DataFrame
    variables: pd.DataFrame
    vcov: pd.DataFrame
    loglik_null: float
    loglik: float
    lr_test: GlobalTest
    wald_test: GlobalTest
    score_test: GlobalTest
    concordance: float
    concordance_se: float
    n: int
    events: int
    n_excluded: int
    excluded_by: Mapping[str, int]
    iterations: int
    converged: bool
    ties: str
    conf_level: float
    p_method: str
    firth: bool
    strata: tuple[str, ...]
    messages: tuple[str, ...]
    design: Design = field(repr=False)
    cluster: str | None = None
    n_clusters: int = 0
    _risk_sets: Any = field(repr=False, default=None)
    _beta: np.ndarray = field(repr=False, default=None)
    _outcome: tuple = field(repr=False, default=None)   # (stop, event, start) of the used rows

    @property
    def coef(self) -> pd.Series:
        return self.table.set_index("term")["coef"]

    @property
    def any_monotone(self) -> bool:
        return bool(self.table["monotone"].any())

    def summary(self) -> str:
        """A printable summary in the layout of R's ``summary(coxph)``."""
        ci = int(round(self.conf_level * 100))
        kind = "Firth-penalised Cox" if self.firth else "Cox"
        lines = [f"{kind} model ({self.ties.capitalize()} ties"
                 + (f", strata: {', '.join(self.strata)}" if self.strata else "") + ")",
                 f"n = {self.n}, events = {self.events}"
                 + (f"; {self.n_excluded} excluded ({_excluded_text(self.excluded_by)})" if self.n_excluded else "")]
        t = self.table
        show = pd.DataFrame({
            "coef": t["coef"].to_numpy(), "HR": t["hr"].to_numpy(), "se": t["se"].to_numpy(),
            f"{ci}% CI low": t["ci_low"].to_numpy(), f"{ci}% CI high": t["ci_high"].to_numpy(),
            "z": t["z"].to_numpy(), "p": t["p"].to_numpy(),
        }, index=t["term"].to_numpy())
        lines.append(show.to_string(float_format=lambda v: f"{v:.4g}"))
        lines.append(f"Concordance = {self.concordance:.3f} (se = {self.concordance_se:.3f})")
        for name, test in (("Likelihood ratio", self.lr_test), ("Wald", self.wald_test),
                           ("Score (log-rank)", self.score_test)):
            lines.append(f"{name} test = {test.statistic:.4g} on {test.df} df, p = {test.p:.3g}")
        lines.extend(self.messages)
        return "\n".join(lines)


def _excluded_text(by: Mapping[str, int]) -> str:
    return ", ".join(f"{k} missing: {v}" for k, v in by.items())


# --------------------------------------------------------------------------- fitting

def _resolve(conventions: Conventions | None, ties: str | None, conf_level: float | None,
             p_method: str | None) -> tuple[str, float, str]:
    conv = conventions if conventions is not None else get_conventions()
    ties = ties or conv.ties
    if ties not in ("breslow", "efron"):
        raise ValueError(f"ties must be 'breslow' or 'efron', got {ties!r}")
    p_method = p_method or conv.cox_p
    if p_method not in ("wald", "lr"):
        raise ValueError(f"p_method must be 'wald' or 'lr', got {p_method!r}")
    return ties, (conf_level or conv.conf_level), p_method


def _as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def _outcome_arrays(sub: pd.DataFrame, time: str, event: str, start: str | None):
    stop = sub[time].to_numpy(dtype=np.float64)
    ev_raw = sub[event]
    ev = ev_raw.to_numpy(dtype=np.float64) if not pd.api.types.is_bool_dtype(ev_raw.dtype) \
        else ev_raw.to_numpy(dtype=bool).astype(np.float64)
    if not np.isin(ev, (0.0, 1.0)).all():
        raise ValueError(f"event column {event!r} must be 0/1 or bool")
    if not np.isfinite(stop).all():
        raise ValueError(f"time column {time!r} has non-finite values")
    st = None
    if start is not None:
        st = sub[start].to_numpy(dtype=np.float64)
        if not (st < stop).all():
            raise ValueError(f"every {start!r} must be < {time!r} (intervals are (start, stop])")
    return stop, ev.astype(bool), st


def _strata_codes(sub: pd.DataFrame, strata: list[str]) -> np.ndarray | None:
    if not strata:
        return None
    return sub.groupby(strata, sort=True, dropna=False, observed=True).ngroup().to_numpy()


def cox(
    df: pd.DataFrame,
    time: str,
    event: str,
    covariates: Sequence[str],
    *,
    ties: str | None = None,
    strata: str | Sequence[str] | None = None,
    start: str | None = None,
    cluster: str | None = None,
    reference: Mapping[str, Any] | None = None,
    firth: bool = False,
    missing: str = "exclude",
    conf_level: float | None = None,
    p_method: str | None = None,
    concordance: bool = True,
    conventions: Conventions | None = None,
) -> CoxResult:
    """Fit a Cox proportional hazards model.

    Parameters
    ----------
    time, event : columns with the follow-up (stop) time and the 0/1 event.
    covariates : numeric or categorical columns; categorical ones get
        treatment coding with the first level (or ``reference[col]``) as reference.
    ties : "breslow" or "efron" (default from ``conventions``).
    strata : column(s) defining strata (separate baseline hazards).
    start : entry-time column for (start, stop] counting-process data
        (time-dependent covariates, left truncation).
    cluster : column of clusters (e.g. the center): the standard errors, CIs,
        Wald p-values and Wald test use the cluster-robust sandwich variance
        (R's ``coxph(..., cluster = )``: robust se = sqrt diag of D'D, D the
        dfbeta residuals summed per cluster); ``naive_se`` keeps the model-based one.
    firth : fit Firth's penalised partial likelihood (Breslow ties, like R
        ``coxphf``); CIs and p-values then come from the penalised profile
        likelihood.
    missing : "exclude" drops incomplete rows and records (and warns) how
        many and which column caused it; "error" raises instead.
    p_method : "wald" or "lr" for the ``p`` column (default ``conventions.cox_p``).
    concordance : compute Harrell's C (O(n log^2 n); skip for speed on huge data).

    Returns
    -------
    CoxResult

    Example
    -------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 1, 0, 1, 0],
    ...                   "x": [1, 0, 1, 0, 1, 0]})
    >>> fit = cox(d, "t", "e", ["x"], ties="breslow")
    >>> fit.events, fit.table["term"].tolist()
    (4, ['x'])
    """
    ties, level, p_method = _resolve(conventions, ties, conf_level, p_method)
    covariates = list(covariates)
    strata_cols = _as_list(strata)
    required = [time, event, *strata_cols] + ([start] if start else []) + ([cluster] if cluster else [])
    design, sub, (stop, ev, st) = complete_cases(df, time, event, covariates, reference=reference,
                                                 required=required, start=start, missing=missing,
                                                 conventions=conventions, what="Cox model")
    if firth:
        ties = "breslow"
    strata_codes = _strata_codes(sub, strata_cols)
    rs = kernel.prepare(design.matrix, stop, ev, start=st, strata=strata_codes, ties=ties)
    fit = _fit(design, rs, ties=ties, level=level, p_method=p_method, firth=firth,
               strata=tuple(strata_cols), want_concordance=concordance, outcome=(stop, ev, st))
    if cluster is None:
        return fit
    if firth:
        raise ValueError("cluster-robust variance is not available for the Firth-penalised fit")
    return _robust(fit, sub[cluster].to_numpy(), strata_codes, cluster)


def complete_cases(df: pd.DataFrame, time: str, event: str, covariates: list[str], *, reference, required,
                   start: str | None, missing: str, conventions: Conventions | None, what: str):
    """(design, used rows, (stop, event, start)) on complete cases: exclusions warned or refused
    (``missing``), times tied as the conventions say (timefix). Shared by the Cox fitters."""
    design = build_design(df, covariates, reference=reference, required=required)
    if design.n_excluded:
        if missing == "error":
            raise ValueError(f"missing values: {design.exclusion_note()}")
        if missing != "exclude":
            raise ValueError(f"missing must be 'exclude' or 'error', got {missing!r}")
        warnings.warn(f"{what}: {design.exclusion_note()}", ExcludedRowsWarning, stacklevel=3)
    sub = df if design.row_mask.all() else df.loc[design.row_mask]   # no copy when every row is used
    stop, ev, st = _outcome_arrays(sub, time, event, start)
    if (conventions if conventions is not None else get_conventions()).timefix:
        from .timefix import merge_noise_ties

        stop, st = merge_noise_ties(stop, st)
    return design, sub, (stop, ev, st)


def _robust(fit: "CoxResult", clusters: np.ndarray, strata_codes, cluster: str) -> "CoxResult":
    """The same fit with the cluster-robust sandwich variance (R's ``coxph(cluster=)``)."""
    from dataclasses import replace

    from ._cox_residuals import score_residuals

    stop, ev, st = fit._outcome
    beta = fit._beta
    naive = fit.vcov.to_numpy()
    resid = score_residuals(fit.design.matrix, stop, ev, beta, start=st, strata=strata_codes, ties=fit.ties)
    dfbeta = resid @ naive
    codes = pd.factorize(pd.Series(clusters), sort=True)[0]
    per_cluster = np.zeros((codes.max() + 1, dfbeta.shape[1]))
    np.add.at(per_cluster, codes, dfbeta)
    var = per_cluster.T @ per_cluster
    t = fit.table.copy()
    se = np.sqrt(np.clip(np.diag(var), 0, None))
    z_crit = float(norm_ppf(0.5 + fit.conf_level / 2))
    mono = t["monotone"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t["naive_se"] = t["se"]
        t["se"] = np.where(mono, np.nan, se)
        t["z"] = beta / t["se"]
        t["ci_low"] = np.where(mono, np.nan, np.exp(beta - z_crit * se))
        t["ci_high"] = np.where(mono, np.nan, np.exp(beta + z_crit * se))
        t["p_wald"] = 2 * norm_sf(np.abs(t["z"]))
    if fit.p_method == "wald":
        t["p"] = t["p_wald"]
    p = len(beta)
    wald = float(beta @ _solve(var, beta)) if p and not mono.any() else float("nan")
    n_clusters = int(codes.max() + 1)
    msg = (f"Cluster-robust (sandwich) standard errors with {cluster} as cluster ({n_clusters} clusters); "
           "the likelihood-ratio test is model-based.")
    return replace(fit, table=t, variables=_variable_tests(fit.design, beta, var, mono),
                   vcov=pd.DataFrame(var, index=fit.vcov.index, columns=fit.vcov.columns),
                   wald_test=GlobalTest.chisq(wald, p), messages=(*fit.messages, msg), cluster=cluster,
                   n_clusters=n_clusters)


def _fit(design: Design, rs: kernel.RiskSets, *, ties: str, level: float, p_method: str,
         firth: bool, strata: tuple[str, ...], want_concordance: bool, outcome: tuple) -> CoxResult:
    p = design.matrix.shape[1]
    z_crit = float(norm_ppf(0.5 + level / 2))
    messages: list[str] = []
    if firth:
        from . import _firth
        ff = _firth.fit(rs, p, conf_level=level)
        beta, var = ff.beta, ff.vcov
        ll_null, ll = ff.loglik_null, ff.loglik
        iterations, converged = ff.iterations, ff.converged
        monotone = np.zeros(p, dtype=bool)
        se = np.sqrt(np.diag(var))
        ci_low, ci_high = ff.ci_low, ff.ci_high
        p_wald = 2 * norm_sf(np.abs(beta / se))
        p_chosen = ff.p_plr
        lr = GlobalTest.chisq(ff.lr_stat, p)
        score_null = kernel.moments(rs, np.zeros(p))
        messages.append("Firth-penalised partial likelihood (Heinze & Schemper 2001), Breslow ties; "
                        "CIs and p from the penalised profile likelihood.")
    else:
        nr = kernel.newton_raphson(rs, p)
        beta, ll_null, ll = nr.beta, nr.null.loglik, nr.moments.loglik
        iterations, converged = nr.iterations, nr.converged
        var = _inverse(nr.moments.information)
        monotone = _monotone(nr, design, rs)
        se = np.sqrt(np.clip(np.diag(var), 0, None))
        with np.errstate(over="ignore"):   # diverging coefficients are masked below
            ci_low, ci_high = np.exp(beta - z_crit * se), np.exp(beta + z_crit * se)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_wald = 2 * norm_sf(np.abs(beta / se))
        p_chosen = p_wald if p_method == "wald" else _lr_p_per_column(rs, design, ll)
        lr = GlobalTest.chisq(2 * (ll - ll_null), p)
        score_null = nr.null
        if not converged:
            messages.append(f"Newton-Raphson did not converge in {iterations} iterations.")

    score_stat = float(score_null.score @ _solve(score_null.information, score_null.score)) if p else 0.0
    wald_stat = float(beta @ _solve(var, beta)) if p and not monotone.any() else float("nan")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = beta / se
        hr = np.exp(beta)
    if monotone.any():
        names = [design.columns[j] for j in np.flatnonzero(monotone)]
        messages.append(
            "Monotone likelihood: the coefficient(s) of " + ", ".join(names)
            + " diverge (typically a level with no events or all events); the maximum-likelihood hazard"
              " ratio is infinite/zero and its CI and p are undefined. Refit with firth=True for a finite"
              " penalised estimate.")
        sign = np.sign(beta)
        beta = np.where(monotone, sign * np.inf, beta)
        hr = np.where(monotone, np.where(sign > 0, np.inf, 0.0), hr)
        for arr in (se, z, ci_low, ci_high, p_wald, p_chosen):
            arr[monotone] = np.nan

    cols = list(design.columns)
    variable = [t.name for t in design.terms for _ in t.columns]
    table = pd.DataFrame({
        "term": cols, "variable": variable, "coef": beta, "se": se, "hr": hr,
        "ci_low": ci_low, "ci_high": ci_high, "z": z, "p_wald": p_wald, "p": p_chosen,
        "monotone": monotone,
    })
    variables = _variable_tests(design, beta, var, monotone)
    conc, conc_se = (float("nan"), float("nan"))
    finite_beta = ff.beta if firth else nr.beta   # last iterate: orders risks like the limit
    if want_concordance and p:
        _, conc, conc_se = kernel.concordance(rs, kernel.linear_predictor(rs.x, finite_beta))
    return CoxResult(
        table=table, variables=variables, vcov=pd.DataFrame(var, index=cols, columns=cols),
        loglik_null=float(ll_null), loglik=float(ll), lr_test=lr,
        wald_test=GlobalTest.chisq(wald_stat, p), score_test=GlobalTest.chisq(score_stat, p),
        concordance=conc, concordance_se=conc_se, n=design.n_used, events=int(rs.d.sum()),
        n_excluded=design.n_excluded, excluded_by=dict(design.missing_by_column),
        iterations=int(iterations), converged=bool(converged), ties=ties, conf_level=level,
        p_method="plr" if firth else p_method, firth=firth, strata=strata, messages=tuple(messages),
        design=design, _risk_sets=rs, _beta=np.asarray(finite_beta), _outcome=outcome,
    )


def _inverse(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(a)


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


def _monotone(nr: kernel.NewtonResult, design: Design, rs: kernel.RiskSets) -> np.ndarray:
    """Coefficients whose estimate runs off to infinity.

    At a finite maximum Newton-Raphson converges quadratically, so the next
    step is ~0. Under monotone likelihood the log-likelihood flattens while the
    diverging coefficient keeps moving by O(1) per step, so the next Newton
    step stays large relative to the coefficient's own scale.
    """
    # measure both on the linear-predictor scale so the rule does not depend on units
    xt = rs.x.T   # centred in the kernel: the SD is the root mean square (no n x p temporary)
    sd = np.sqrt(np.einsum("ij,ij->i", xt, xt) / max(xt.shape[1], 1))
    sd = np.where(sd > 0, sd, 1.0)
    step = np.abs(nr.last_step) * sd
    return (step > 1e-3) & (np.abs(nr.beta) * sd > 3)


def _lr_p_per_column(rs: kernel.RiskSets, design: Design, ll_full: float) -> np.ndarray:
    """Likelihood-ratio p for each design column (refit without it, same rows)."""
    p = design.matrix.shape[1]
    out = np.empty(p)
    for j in range(p):
        keep = np.delete(np.arange(p), j)
        ll0 = _refit_subset(rs, keep)
        out[j] = chi2_sf(max(2 * (ll_full - ll0), 0.0), 1)
    return out


def _refit_subset(rs: kernel.RiskSets, keep: np.ndarray) -> float:
    """Maximised log partial likelihood using only design columns ``keep``."""
    from dataclasses import replace
    sub = replace(rs, x=np.asfortranarray(rs.x[:, keep]), dead_x_sum=rs.dead_x_sum[keep])   # kernel layout
    return kernel.newton_raphson(sub, len(keep)).moments.loglik


def _variable_tests(design: Design, beta: np.ndarray, var: np.ndarray, monotone: np.ndarray) -> pd.DataFrame:
    """Joint Wald chi-square per covariate (all its design columns)."""
    rows = []
    for t, sl in zip(design.terms, design.term_slices().values()):
        b, v = beta[sl], var[sl, sl]
        if monotone[sl].any():
            stat = float("nan")
        else:
            stat = float(b @ np.linalg.solve(v, b))
        test = GlobalTest.chisq(stat, t.df)
        rows.append({"variable": t.name, "kind": t.kind, "df": t.df, "wald_chisq": test.statistic,
                     "p_wald": test.p, "reference": t.reference})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- PH test

@dataclass(frozen=True)
class PHTest:
    """R's ``cox.zph(fit, transform="km", terms=TRUE)``: one row per covariate, then GLOBAL."""

    table: pd.DataFrame   # term, chisq, df, p

    def summary(self) -> str:
        return ("Proportional hazards test (score test of x * (1 - KM(t-)), as R cox.zph)\n"
                + self.table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def ph_test(result: CoxResult) -> PHTest:
    """Test proportional hazards per covariate and globally.

    The exact score test (R survival >= 3.0) for adding x * g(t) with
    g = 1 - KM(t-) to the fitted model; a categorical covariate is tested with
    all its columns (k - 1 df). Not the lifelines ``proportional_hazard_test``,
    which implements the pre-3.0 approximation.

    Example
    -------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [2, 3, 5, 7, 8, 11, 13, 15], "e": [1, 1, 0, 1, 1, 1, 0, 1],
    ...                   "x": [0.5, 1.2, 0.1, 2.0, 0.3, 1.5, 0.9, 0.2]})
    >>> ph_test(cox(d, "t", "e", ["x"])).table["term"].tolist()
    ['x', 'GLOBAL']
    """
    from . import _cox_zph
    if result.any_monotone:
        raise ValueError("PH test is undefined with a diverging (monotone-likelihood) coefficient")
    if result.firth:
        raise ValueError("PH test is defined for the unpenalised fit")
    stop, ev, st = result._outcome
    rs = result._risk_sets
    g = _cox_zph.km_transform(stop, ev, st, rs.time_of_group)
    rows = _cox_zph.zph_test(rs, result._beta, result.design.term_slices(), g)
    table = pd.DataFrame([{"term": name, "chisq": stat, "df": df, "p": float(chi2_sf(stat, df))}
                          for name, stat, df in rows])
    return PHTest(table)


# --------------------------------------------------------------------------- univariate / stepwise

@dataclass(frozen=True)
class UnivariateResult:
    """One Cox model per covariate, each on its own complete cases.

    ``table``: the term rows of every model, with the covariate's n, events,
    n_excluded and joint Wald p (``p_variable``, k-1 df for categorical).
    """

    table: pd.DataFrame
    fits: Mapping[str, CoxResult]

    def summary(self) -> str:
        cols = ["term", "n", "events", "hr", "ci_low", "ci_high", "p"]
        return "Univariate Cox models\n" + self.table[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}")


def cox_univariate(df: pd.DataFrame, time: str, event: str, covariates: Sequence[str], **kwargs) -> UnivariateResult:
    """Fit ``cox(df, time, event, [c])`` for each covariate ``c``.

    Each model uses the rows complete for that covariate, so n and events can
    differ between rows of the table (they are reported per row).
    Keyword arguments go to :func:`cox`.

    Example
    -------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [2, 3, 5, 7, 8, 11, 13, 15], "e": [1, 1, 0, 1, 1, 1, 0, 1],
    ...                   "x": [0.5, 1.2, 0.1, 2.0, 0.3, 1.5, 0.9, 0.2],
    ...                   "arm": ["a", "b", "a", "b", "a", "b", "a", "b"]})
    >>> cox_univariate(d, "t", "e", ["x", "arm"]).table["term"].tolist()
    ['x', 'arm[b]']
    """
    fits, parts = {}, []
    for c in covariates:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExcludedRowsWarning)   # exclusions are reported in the table
            fit = cox(df, time, event, [c], **kwargs)
        fits[c] = fit
        part = fit.table.copy()
        part.insert(2, "n", fit.n)
        part.insert(3, "events", fit.events)
        part.insert(4, "n_excluded", fit.n_excluded)
        part["p_variable"] = fit.variables.loc[0, "p_wald"] if fit.p_method != "lr" else fit.lr_test.p
        parts.append(part)
    return UnivariateResult(pd.concat(parts, ignore_index=True), fits)


@dataclass(frozen=True)
class StepwiseResult:
    """Backward elimination: the final model and the removal history.

    ``history`` rows: step, removed (covariate), df, p (its joint test p when
    removed), test. All steps use the same complete-case rows (``n``).
    """

    final: CoxResult
    history: pd.DataFrame
    kept: tuple[str, ...]
    n: int
    n_excluded: int
    threshold: float
    test: str

    def summary(self) -> str:
        head = (f"Backward elimination ({self.test} test, remove while p >= {self.threshold}); "
                f"all steps on the same {self.n} complete cases ({self.n_excluded} excluded)")
        return "\n".join([head, self.history.to_string(index=False), "", self.final.summary()])


def _term_p(fit: CoxResult, test: str) -> dict[str, float]:
    """Joint p per covariate: Wald from the fit, or LR by refitting without it."""
    if test == "wald":
        return dict(zip(fit.variables["variable"], fit.variables["p_wald"]))
    out = {}
    rs = fit._risk_sets
    for t, sl in fit.design.term_slices().items():
        keep = np.setdiff1d(np.arange(len(fit.design.columns)), np.arange(len(fit.design.columns))[sl])
        ll0 = _refit_subset(rs, keep) if len(keep) else fit.loglik_null
        out[t] = float(chi2_sf(max(2 * (fit.loglik - ll0), 0.0), sl.stop - sl.start))
    return out


def cox_stepwise(df: pd.DataFrame, time: str, event: str, covariates: Sequence[str], *,
                 threshold: float = 0.05, test: str = "wald", **kwargs) -> StepwiseResult:
    """Backward stepwise selection.

    Start with all covariates; while the largest covariate p is >= threshold,
    remove that covariate (a diverging, monotone-likelihood covariate has an
    undefined Wald p and is removed first) (a categorical covariate leaves as a whole, judged by
    its joint Wald or LR p). Every step is fitted on the rows complete for
    *all* candidate covariates, so the models are nested and comparable.

    Example
    -------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [2, 3, 5, 7, 8, 11, 13, 15, 4, 9], "e": [1, 1, 0, 1, 1, 1, 0, 1, 1, 0],
    ...                   "x": [3.5, 0.2, 0.1, 2.0, 1.3, 0.5, 0.9, 3.2, 2.5, 0.4],
    ...                   "z": [1, 0, 1, 0, 1, 1, 0, 0, 1, 0]})
    >>> res = cox_stepwise(d, "t", "e", ["x", "z"], threshold=0.2)
    >>> res.history["removed"].tolist(), res.kept
    (['x'], ('z',))
    """
    if test not in ("wald", "lr"):
        raise ValueError(f"test must be 'wald' or 'lr', got {test!r}")
    extra = [c for c in (kwargs.get("start"), *_as_list(kwargs.get("strata"))) if c]
    used = [time, event, *covariates, *extra]
    complete = df[used].notna().all(axis=1).to_numpy()
    data = df.loc[complete]
    keep = list(covariates)
    history = []
    step = 0
    while True:
        fit = cox(data, time, event, keep, **kwargs)
        pvals = _term_p(fit, test)
        worst = max(keep, key=lambda c: (np.nan_to_num(pvals[c], nan=np.inf)))
        if not (np.nan_to_num(pvals[worst], nan=np.inf) >= threshold) or len(keep) == 1:
            break
        step += 1
        df_t = int(fit.variables.set_index("variable").loc[worst, "df"])
        history.append({"step": step, "removed": worst, "df": df_t, "p": pvals[worst], "test": test})
        keep.remove(worst)
    hist = pd.DataFrame(history, columns=["step", "removed", "df", "p", "test"])
    return StepwiseResult(fit, hist, tuple(keep), int(complete.sum()), int((~complete).sum()),
                          threshold, test)
