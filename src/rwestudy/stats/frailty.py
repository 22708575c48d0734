"""Shared gamma frailty Cox model (center effects), matching R's
``coxph(Surv(time, event) ~ x + frailty(center, distribution = "gamma"))``.

Model: the hazard of a patient in center g is ``u_g * h0(t) * exp(x beta)``
with ``u_g`` gamma distributed, mean 1 and variance ``theta``. As in R
(Therneau, Grambsch & Pankratz 2003), it is fitted by penalised partial
likelihood: for a given theta the log frailties ``w_g = log u_g`` are
coefficients with the penalty ``(1/theta) * sum(w_g - exp(w_g))``; theta is
chosen to maximise the approximate marginal likelihood, R's "I-likelihood"
(the penalised partial likelihood plus a closed-form gamma correction).

The algorithm is R's, step for step, so that its numbers are reproduced and
not only the model's (R's default search usually stops before theta has
converged, see below):

* inner fit (``coxfit5``): Newton-Raphson with step halving on the penalised
  partial likelihood, stopping when its relative change is <= 1e-9 (at most
  20 iterations). The frailties are recentred to ``mean(exp(w)) = 1`` at every
  evaluation. With more than 5 centers (R's ``sparse`` frailty) only the
  diagonal of the frailty-by-frailty block of the Hessian is used, both for
  the Newton steps and for the reported variances; with 2-5 centers the full
  Hessian is used.
* outer search for theta (``frailty.controlgam``, method "em"): theta = 0
  (the plain Cox fit), then 1, then 0.5 or 2, then parabolic interpolation on
  sqrt(theta) (``frailty.brent``), until the I-likelihood changes by a
  relative < 1e-5 or 10 outer iterations have run (``outer.max``). Each inner
  fit starts from the fit of the nearest theta tried so far. With
  ``theta=`` given, that theta is used as is (R's method "fixed").

Variances (R's ``coxpenal.df``): ``se`` is R's ``se(coef)``, the square root
of the diagonal of H^-1 (H = the penalised information as above); ``se2`` is
R's ``se2``, from H^-1 (H - P) H^-1 (P = the penalty's second derivative).
CIs, z and p use ``se``. Ties: Breslow and Efron (the two R's frailty code
supports).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> n = 120
>>> d = pd.DataFrame({"center": rng.integers(0, 8, n), "x": rng.normal(size=n)})
>>> d["months"] = np.ceil(rng.exponential(20, n) * np.exp(-0.5 * d["x"]))
>>> d["died"] = (rng.random(n) < 0.7).astype(int)
>>> fit = cox_frailty(d, "months", "died", ["x"], cluster="center", ties="efron")
>>> fit.table["term"].tolist(), fit.n_clusters, fit.sparse
(['x'], 8, True)
>>> bool(fit.theta >= 0) and len(fit.frailties) == 8
True
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import gammaln

from rwestudy.stats._dist import chi2_sf, norm_ppf, norm_sf

from . import _cox_kernel as kernel
from .conventions import Conventions
from .cox import _as_list, _resolve, _strata_codes, complete_cases
from .design import Design

__all__ = ["ChiSquareTest", "FrailtyResult", "cox_frailty"]

INNER_EPS = 1e-9        # coxph.control(eps): relative change of the penalised loglik
INNER_MAX_ITER = 20     # coxph.control(iter.max)
OUTER_MAX_ITER = 10     # coxph.control(outer.max)
THETA_EPS = 1e-5        # frailty(eps): relative change of the I-likelihood
SPARSE_ABOVE = 5        # frailty(sparse = nclass > 5)


@dataclass(frozen=True)
class ChiSquareTest:
    """A chi-square test whose degrees of freedom may be fractional (penalised terms)."""

    statistic: float
    df: float
    p: float


@dataclass(frozen=True)
class FrailtyResult:
    """A fitted shared gamma frailty Cox model; everything computed at fit time.

    ``table``: one row per design column: term, variable, coef, se (R's
    ``se(coef)``), se2 (R's ``se2``), hr, ci_low, ci_high, z, p (Wald, from se),
    df (R's effective degrees of freedom of the term).
    ``frailties``: one row per cluster: cluster, n, events, frailty (log
    frailty w_g, recentred so mean(exp(w)) = 1), se (sqrt of R's ``fvar``),
    relative_hazard = exp(frailty).
    ``history``: the theta search, one row per outer iteration: theta, the
    penalised partial loglik and the I-likelihood (R's ``history``).
    """

    table: pd.DataFrame
    frailties: pd.DataFrame
    theta: float                 # variance of the random effect (R's printed value)
    theta_fixed: bool
    history: pd.DataFrame
    loglik_null: float           # partial loglik at beta = 0, no frailty (R's loglik[1])
    loglik: float                # partial loglik at the fit, without penalty (R's loglik[2])
    i_loglik: float              # R's I-likelihood (c.loglik), the approximate marginal loglik
    penalty: float               # R's penalty[2] = -sum(w) / theta
    frailty_df: float
    frailty_test: ChiSquareTest  # the Wald line "frailty(center)" of R's print
    lr_test: ChiSquareTest       # R's "Likelihood ratio test": 2 (loglik - loglik_null) on sum(df)
    theta_test: ChiSquareTest | None   # LR test of theta = 0 (not printed by R), see cox_frailty
    vcov: pd.DataFrame           # R's var (covariates)
    vcov2: pd.DataFrame          # R's var2
    n: int
    events: int
    n_clusters: int
    n_excluded: int
    excluded_by: Mapping[str, int]
    outer_iterations: int
    newton_iterations: int
    converged: bool
    ties: str
    sparse: bool
    cluster: str
    strata: tuple[str, ...]
    conf_level: float
    messages: tuple[str, ...]
    design: Design = field(repr=False)

    @property
    def coef(self) -> pd.Series:
        return self.table.set_index("term")["coef"]

    def summary(self) -> str:
        """A printable summary in the layout of R's ``print(coxph)`` for a frailty model."""
        ci = int(round(self.conf_level * 100))
        t = self.table
        show = pd.DataFrame({
            "coef": t["coef"].to_numpy(), "HR": t["hr"].to_numpy(), "se(coef)": t["se"].to_numpy(),
            "se2": t["se2"].to_numpy(), f"{ci}% CI low": t["ci_low"].to_numpy(),
            f"{ci}% CI high": t["ci_high"].to_numpy(), "p": t["p"].to_numpy(),
        }, index=t["term"].to_numpy())
        ft = self.frailty_test
        lines = [
            f"Cox model with shared gamma frailty for {self.cluster} ({self.ties.capitalize()} ties"
            + (f", strata: {', '.join(self.strata)}" if self.strata else "") + ")",
            f"n = {self.n}, events = {self.events}, clusters = {self.n_clusters}"
            + (f"; {self.n_excluded} excluded" if self.n_excluded else ""),
            show.to_string(float_format=lambda v: f"{v:.4g}"),
            f"frailty({self.cluster}): chisq = {ft.statistic:.4g} on {ft.df:.2f} df, p = {ft.p:.3g}",
            f"Variance of random effect = {self.theta:.4g}"
            + (" (fixed)" if self.theta_fixed else "") + f", I-likelihood = {self.i_loglik:.1f}",
            f"Iterations: {self.outer_iterations} outer, {self.newton_iterations} Newton-Raphson",
            f"Likelihood ratio test = {self.lr_test.statistic:.4g} on {self.lr_test.df:.2f} df, "
            f"p = {self.lr_test.p:.3g}",
        ]
        if self.theta_test is not None:
            lines.append(f"Test of theta = 0 (likelihood ratio, I-likelihood): chisq = "
                         f"{self.theta_test.statistic:.4g}, p = {self.theta_test.p:.3g}")
        lines.extend(self.messages)
        return "\n".join(lines)


# --------------------------------------------------------------------------- API

def cox_frailty(
    df: pd.DataFrame,
    time: str,
    event: str,
    covariates: Sequence[str],
    *,
    cluster: str,
    ties: str | None = None,
    strata: str | Sequence[str] | None = None,
    theta: float | None = None,
    sparse: bool | None = None,
    reference: Mapping[str, Any] | None = None,
    missing: str = "exclude",
    conf_level: float | None = None,
    outer_max: int = OUTER_MAX_ITER,
    eps: float = INNER_EPS,
    iter_max: int = INNER_MAX_ITER,
    conventions: Conventions | None = None,
) -> FrailtyResult:
    """Fit a Cox model with a shared gamma frailty per ``cluster`` (e.g. the center).

    Parameters
    ----------
    time, event, covariates, reference, missing : as :func:`rwestudy.stats.cox.cox`.
        Rows with a missing cluster are excluded like any other incomplete row.
    cluster : column of clusters; at least 2 distinct values.
    ties : "breslow" or "efron" (default from ``conventions``).
    strata : column(s) defining strata (separate baseline hazards), as
        ``strata()`` in the R formula; the frailty is shared across strata.
    theta : fix the frailty variance (R's ``frailty(..., theta = )``);
        None chooses it by R's "em" search of the I-likelihood.
    sparse : use only the diagonal of the frailty block of the Hessian;
        None = R's rule (more than 5 clusters).
    outer_max : outer iterations of the theta search (R's ``coxph.control(outer.max)``,
        10). R's search often stops there before the I-likelihood has
        converged (``converged`` False, and a message says so); raise it to
        search on.
    eps, iter_max : the inner Newton-Raphson's stopping rule (R's
        ``coxph.control(eps, iter.max)``: relative change of the penalised
        log-likelihood <= 1e-9, at most 20 iterations). The defaults reproduce
        R; with the approximate (sparse) Hessian the iteration converges only
        linearly, so R's frailties solve their score equations to ~1e-5
        relative; a smaller ``eps`` (and larger ``iter_max``) gets closer.

    ``theta_test`` (not printed by R) is the likelihood-ratio test of theta = 0:
    2 (I-likelihood - loglik of the plain Cox fit), which is the first point
    of the search; its p is half the chi-square(1) tail, theta = 0 being on
    the boundary (Self & Liang 1987).

    Example
    -------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [3, 5, 6, 8, 9, 12, 14, 15, 18, 20, 22, 25],
    ...                   "e": [1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1],
    ...                   "x": [1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0],
    ...                   "site": ["a", "a", "a", "b", "b", "b", "c", "c", "c", "d", "d", "d"]})
    >>> fit = cox_frailty(d, "t", "e", ["x"], cluster="site", theta=0.5)
    >>> fit.theta, fit.n_clusters, fit.outer_iterations
    (0.5, 4, 1)
    """
    ties, level, _ = _resolve(conventions, ties, conf_level, None)
    covariates = list(covariates)
    strata_cols = _as_list(strata)
    design, sub, (stop, ev, _) = complete_cases(df, time, event, covariates, reference=reference,
                                                required=[time, event, cluster, *strata_cols], start=None,
                                                missing=missing, conventions=conventions, what="Frailty Cox model")
    if not ev.any():
        raise ValueError("the frailty model needs at least one event")
    codes, labels = pd.factorize(sub[cluster], sort=True)
    n_clusters = len(labels)
    if n_clusters < 2:
        raise ValueError(f"a shared frailty needs at least 2 clusters; {cluster!r} has {n_clusters}")
    if theta is not None and not (np.isfinite(theta) and theta >= 0):
        raise ValueError(f"theta must be a finite number >= 0, got {theta!r}")
    sparse = n_clusters > SPARSE_ABOVE if sparse is None else bool(sparse)

    # frailty indicators first, then the covariates: coefficient vector [w, beta] as in R
    z = np.zeros((len(codes), n_clusters))
    z[np.arange(len(codes)), codes] = 1.0
    rs = kernel.prepare(np.hstack([z, design.matrix]), stop, ev, strata=_strata_codes(sub, strata_cols),
                        ties=ties)
    deaths = np.bincount(codes, weights=ev.astype(float), minlength=n_clusters)
    if not (eps > 0 and iter_max >= 1 and outer_max >= 1):
        raise ValueError("eps must be > 0, iter_max and outer_max >= 1")
    model = _PenalisedModel(rs, n_clusters, sparse, eps=eps, iter_max=int(iter_max))
    search = _search_theta(model, deaths, theta, outer_max)
    return _result(design, model, search, deaths, codes, labels, ties=ties, level=level,
                   cluster=cluster, strata=tuple(strata_cols), theta_fixed=theta is not None, outer_max=outer_max,
                   iter_max=int(iter_max))


# --------------------------------------------------------------------------- penalised fit

@dataclass(frozen=True)
class _Evaluation:
    coef: np.ndarray        # [w (recentred), beta]
    plik: float             # partial loglik + sum(w) / theta: what R iterates on
    loglik: float           # partial loglik
    score: np.ndarray
    hessian: np.ndarray     # penalised information (frailty block diagonal if sparse)
    pen_second: np.ndarray  # penalty second derivative per frailty (0 at theta = 0)


class _PenalisedModel:
    """The penalised partial likelihood for one theta, evaluated like R's coxfit5_b."""

    def __init__(self, rs: kernel.RiskSets, n_frail: int, sparse: bool, *, eps: float, iter_max: int):
        self.rs, self.nf, self.sparse = rs, n_frail, sparse
        self.eps, self.iter_max = eps, iter_max
        self.p = rs.x.shape[1] - n_frail
        self.loglik_null = kernel.moments(rs, np.zeros(rs.x.shape[1]), want_info=False).loglik

    def evaluate(self, coef: np.ndarray, theta: float) -> _Evaluation:
        nf = self.nf
        coef = coef.copy()
        if theta > 0:
            # the penalised likelihood is maximal over a common shift of w when mean(exp(w)) = 1;
            # the partial likelihood itself does not change (every row has a frailty)
            coef[:nf] -= np.log(np.mean(np.exp(coef[:nf])))
        m = kernel.moments(self.rs, coef)
        score, h = m.score.copy(), m.information.copy()
        if self.sparse:
            off = ~np.eye(nf, dtype=bool)
            h[:nf, :nf][off] = 0.0
        w = coef[:nf]
        if theta > 0:
            ew = np.exp(w)
            score[:nf] -= (ew - 1) / theta
            h[np.arange(nf), np.arange(nf)] += ew / theta
            plik = m.loglik + w.sum() / theta   # R drops the constant -nf / theta
            pen2 = ew / theta
        else:   # theta = 0: no frailty; the frailties stay where they are
            score[:nf] = 0.0
            h[:nf, :] = 0.0
            h[:, :nf] = 0.0
            h[np.arange(nf), np.arange(nf)] = 1.0
            plik = m.loglik
            pen2 = np.zeros(nf)
        return _Evaluation(coef, plik, m.loglik, score, h, pen2)

    def fit(self, theta: float, start: np.ndarray) -> tuple[_Evaluation, int, bool]:
        """Newton-Raphson with step halving, R's stopping rule; returns (fit, iterations, converged)."""
        coef, old = start.copy(), start.copy()
        last_plik, halving = 0.0, False
        for it in range(self.iter_max + 1):
            cur = self.evaluate(coef, theta)
            coef = cur.coef
            if abs(cur.plik) < self.eps or (abs(1 - last_plik / cur.plik) <= self.eps and not halving):
                return cur, it, True
            if it == self.iter_max:
                break
            if it > 0 and cur.plik < last_plik:   # went downhill: halve back towards the last point
                halving = True
                coef = (old + coef) / 2
            else:
                halving = False
                last_plik = cur.plik
                old = coef
                coef = coef + _solve(cur.hessian, cur.score)
        return cur, self.iter_max, False


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


# --------------------------------------------------------------------------- theta search

def gamma_correction(deaths: np.ndarray, theta: float) -> float:
    """I-likelihood minus R's penalised loglik for gamma frailty (survival's ``frailty.gammacon``).

    With nu = 1/theta and d_g the events of cluster g:
    sum_g [d_g + nu log(nu / (nu + d_g)) + lgamma(nu + d_g) - lgamma(nu) - d_g log(nu + d_g)]
    (for nu > 1e7 max d the first two terms are replaced by their limit d_g^2 / nu, as R does).

    >>> round(gamma_correction(np.array([2.0, 0.0]), 1.0), 6)   # 2 + log(1/3) + log(2) - 2 log(3)
    -0.60269
    """
    if theta == 0:
        return 0.0
    d = np.asarray(deaths, dtype=float)
    nu = 1.0 / theta
    if nu > 1e7 * d.max():
        term1 = float(np.sum(d * d)) / nu
    else:
        term1 = float(np.sum(d + nu * np.log(nu / (nu + d))))
    term2 = float(np.sum(gammaln(nu + d) - gammaln(nu) - d * np.log(nu + d)))
    return term1 + term2


def _parabola_step(x: np.ndarray, y: np.ndarray, lower: float = 0.0) -> float:
    """The next abscissa of R's ``frailty.brent`` (a guarded parabolic step towards max y)."""
    n = len(x)
    if n < 3:
        return float(np.mean(x))
    order = np.argsort(x, kind="stable")
    xx, yy = x[order], y[order]
    best = np.flatnonzero(yy == y.max())
    if len(best) > 1:
        raise ArithmeticError("theta search: two values of theta have the same I-likelihood")
    b = int(best[0])
    if b == 0:
        new = xx[0] - 3 * (xx[1] - xx[0])
        if new < lower:
            new = lower + (xx[xx > lower].min() - lower) / 10
        return float(new)
    if b == n - 1:
        return float(xx[-1] + 3 * (xx[-1] - xx[-2]))
    x1, x2, x3 = xx[b - 1:b + 2]
    y1, y2, y3 = yy[b - 1:b + 2]
    num = (x2 - x1) ** 2 * (y2 - y3) - (x2 - x3) ** 2 * (y2 - y1)
    den = (x2 - x1) * (y2 - y3) - (x2 - x3) * (y2 - y1)
    new = x2 - 0.5 * num / den
    # R compares with the last points tried (in the order tried, x unsorted)
    if new < x1 or new > x3 or (n > 4 and (new - x[-1]) > 0.5 * abs(x[-2] - x[-3])):
        return float(x2 - 0.38 * (x2 - x1)) if (x2 - x1) > (x3 - x2) else float(x2 + 0.32 * (x3 - x2))
    return float(new)


def _next_theta(history: list[tuple[float, float, float]]) -> tuple[float, bool]:
    """R's frailty.controlgam: the next theta to try and whether the search is done."""
    k = len(history)
    thetas = np.array([h[0] for h in history])
    ilik = np.array([h[2] for h in history])
    if k == 1:
        return 1.0, False
    if k == 2:
        return (float(thetas[:2].mean()) if ilik[1] < ilik[0] + 1 else 2 * thetas[1]), False
    done = abs(1 - ilik[-1] / ilik[-2]) < THETA_EPS
    if ilik[-1] == ilik.max() and thetas[-1] == thetas.max():
        return 2 * float(thetas.max()), done
    return _parabola_step(np.sqrt(thetas), ilik, lower=0.0) ** 2, done


@dataclass(frozen=True)
class _Search:
    final: _Evaluation
    theta: float
    history: list
    outer: int
    newton: int
    converged: bool
    inner_failures: tuple[int, ...]


def _search_theta(model: _PenalisedModel, deaths: np.ndarray, theta_fixed: float | None,
                  outer_max: int) -> _Search:
    theta = 0.0 if theta_fixed is None else float(theta_fixed)
    start = np.zeros(model.nf + model.p)
    tried: list[tuple[float, np.ndarray]] = []
    history: list[tuple[float, float, float]] = []
    newton, failures, done = 0, [], False
    for outer in range(1, outer_max + 1):
        fit, iters, ok = model.fit(theta, start)
        newton += iters
        if not ok:
            failures.append(outer)
        fitted_theta = theta
        if theta_fixed is not None:
            done = True
            break
        history.append((theta, fit.plik, fit.plik + gamma_correction(deaths, theta)))
        theta, done = _next_theta(history)
        if done:
            break
        tried.append((fitted_theta, fit.coef))
        # warm start from the fit of the nearest theta tried so far (the first, on ties)
        start = min(tried, key=lambda tc: (tc[0] - theta) ** 2)[1]
    return _Search(fit, fitted_theta, history, outer, newton, done, tuple(failures))


# --------------------------------------------------------------------------- result

def _result(design: Design, model: _PenalisedModel, search: _Search, deaths: np.ndarray,
            codes: np.ndarray, labels, *, ties: str, level: float, cluster: str, strata: tuple[str, ...],
            theta_fixed: bool, outer_max: int, iter_max: int) -> FrailtyResult:
    nf, p = model.nf, model.p
    fit, theta = search.final, search.theta
    hinv = np.linalg.inv(fit.hessian)
    pen = np.concatenate([fit.pen_second, np.zeros(p)])
    var2_full = hinv - hinv @ np.diag(pen) @ hinv          # H^-1 (H - P) H^-1
    f, b = slice(0, nf), slice(nf, nf + p)
    var, var2 = hinv[b, b], var2_full[b, b]
    fvar = np.diag(hinv)[f].copy()
    w, beta = fit.coef[f], fit.coef[b]

    # effective degrees of freedom per term (R's coxpenal.df)
    term_df = {}
    for name, sl in design.term_slices().items():
        term_df[name] = float(np.trace(np.linalg.solve(var[sl, sl], var2[sl, sl])))
    if theta == 0:
        frailty_df, fvar[:] = 0.0, 0.0
    elif model.sparse:
        frailty_df = float(nf - np.sum(fvar * fit.pen_second))
    else:
        frailty_df = float(np.trace(np.linalg.solve(hinv[f, f], var2_full[f, f])))

    # the frailty line of R's print: Wald chi-square of the frailties
    if theta == 0:
        chisq = 0.0
    elif model.sparse:
        chisq = float(np.sum(w ** 2 / fvar))
    else:
        chisq = float(w @ np.linalg.solve(hinv[f, f], w))
    frailty_test = ChiSquareTest(chisq, frailty_df, float(chi2_sf(chisq, max(frailty_df, 0.5))))

    z_crit = float(norm_ppf(0.5 + level / 2))
    se = np.sqrt(np.diag(var))
    cols = list(design.columns)
    table = pd.DataFrame({
        "term": cols, "variable": [t.name for t in design.terms for _ in t.columns],
        "coef": beta, "se": se, "se2": np.sqrt(np.diag(var2)), "hr": np.exp(beta),
        "ci_low": np.exp(beta - z_crit * se), "ci_high": np.exp(beta + z_crit * se),
        "z": beta / se, "p": 2 * norm_sf(np.abs(beta / se)),
        "df": [term_df[t.name] for t in design.terms for _ in t.columns],
    })
    frailties = pd.DataFrame({
        "cluster": list(labels), "n": np.bincount(codes, minlength=nf), "events": deaths.astype(int),
        "frailty": w, "se": np.sqrt(fvar), "relative_hazard": np.exp(w),
    })

    loglik = fit.loglik
    total_df = sum(term_df.values()) + frailty_df
    lr_stat = 2 * (loglik - model.loglik_null)
    # R prints the p with the total df rounded to 2 decimals
    lr_test = ChiSquareTest(lr_stat, total_df, float(chi2_sf(lr_stat, round(total_df, 2))))
    i_loglik = fit.plik + gamma_correction(deaths, theta)
    theta_test = None
    if search.history:
        stat = max(2 * (i_loglik - search.history[0][2]), 0.0)
        theta_test = ChiSquareTest(stat, 1.0, float(0.5 * chi2_sf(stat, 1)))

    messages = [f"Shared gamma frailty for {cluster} ({nf} clusters), penalised partial likelihood as "
                f"R coxph(... + frailty({cluster})); "
                + (f"theta fixed at {theta:.4g}." if theta_fixed else
                   "theta chosen by maximising the I-likelihood (R's method 'em').")]
    if not theta_fixed and not search.converged:
        messages.append(f"The theta search stopped after {outer_max} outer iterations before the "
                        "I-likelihood converged (R's default outer.max; R does not warn). The theta "
                        "reported is the last one fitted, as R reports it.")
    if search.inner_failures:
        messages.append("The Newton-Raphson fit for a given theta did not converge in "
                        f"{iter_max} iterations at outer iteration(s) "
                        + ", ".join(map(str, search.inner_failures)) + ".")
    history = pd.DataFrame(search.history, columns=["theta", "loglik_penalised", "i_loglik"])
    return FrailtyResult(
        table=table, frailties=frailties, theta=float(theta), theta_fixed=theta_fixed,
        history=history, loglik_null=float(model.loglik_null), loglik=float(loglik),
        i_loglik=float(i_loglik), penalty=float(-(w.sum() / theta) if theta > 0 else 0.0),
        frailty_df=frailty_df, frailty_test=frailty_test, lr_test=lr_test, theta_test=theta_test,
        vcov=pd.DataFrame(var, index=cols, columns=cols), vcov2=pd.DataFrame(var2, index=cols, columns=cols),
        n=design.n_used, events=int(deaths.sum()), n_clusters=nf, n_excluded=design.n_excluded,
        excluded_by=dict(design.missing_by_column), outer_iterations=search.outer,
        newton_iterations=search.newton, converged=bool(search.converged), ties=ties,
        sparse=model.sparse, cluster=cluster, strata=strata, conf_level=level, messages=tuple(messages), design=design,
    )
