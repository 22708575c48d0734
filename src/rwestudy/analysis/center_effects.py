"""Center effects of the standard analysis: the multivariate Cox model refitted three ways.

Patients of one center share referral, practice and follow-up, so their
outcomes are not independent. For each endpoint's multivariate model the
analysis gives, beside the model-based fit the tables print:

* stratified by center (a baseline hazard per center; a center whose
  patients all share one outcome pattern contributes nothing);
* cluster-robust (sandwich) standard errors with center as cluster (same
  HRs, honest CIs; R's ``coxph(..., cluster = center)``);
* a shared gamma frailty per center (R's ``coxph(... + frailty(center))``):
  HRs conditional on the center, and theta, the variance of the center
  effect, with the likelihood-ratio test of theta = 0.

The plan's ``[center_effects] methods`` chooses among the three.

Which is used where, and why, is stated in ``center_effects_choice``: the
main tables keep the model-based fit (what the seeds and R print by default,
so they compare with published studies); the sensitivity table shows how much
the CIs move. The largest change of a standard error is recorded too.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from rwestudy.stats.cox import cox
from rwestudy.stats.frailty import cox_frailty
from rwestudy.exceptions import ExcludedRowsWarning

METHODS = {"stratified": "stratified by center", "cluster": "cluster-robust (center)",
           "frailty": "shared gamma frailty (center)"}
CHOICE = ("Main Cox tables: model-based variance, so that they compare with published studies. Center "
          "effects beside them: stratified by center, cluster-robust (sandwich) variance with center as "
          "cluster, and a shared gamma frailty per center. With many small centers, stratification discards "
          "the centers with a single patient or no event; the sandwich keeps every patient and corrects only "
          "the CIs; the frailty estimates how much centers differ (theta) and gives HRs within a center.")


def center_effect_records(d: pd.DataFrame, endpoint: str, covariates: list[str], conv, labels: dict,
                          methods=("stratified", "cluster", "frailty")) -> list[dict]:
    """One row per term and method for the model on ``d`` (which holds a ``center`` column).

    The model-based fit is always the first method (the reference of ``se_ratio``).
    """
    if "center" not in d or d["center"].nunique() < 2 or not covariates or d["event"].sum() == 0 or not methods:
        return []
    d = d.loc[d["center"].notna()]
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExcludedRowsWarning)   # exclusions are counted in n
        fits = {"model-based": cox(d, "time", "event", covariates, ties=conv.ties, conventions=conv)}
        if "stratified" in methods:
            fits[METHODS["stratified"]] = cox(d, "time", "event", covariates, ties=conv.ties, conventions=conv,
                                              strata="center")
        if "cluster" in methods:
            fits[METHODS["cluster"]] = cox(d, "time", "event", covariates, ties=conv.ties, conventions=conv,
                                           cluster="center")
        if "frailty" in methods:
            fits[METHODS["frailty"]] = cox_frailty(d, "time", "event", covariates, cluster="center",
                                                   ties=conv.ties, conventions=conv)
    base_se = fits["model-based"].table.set_index("term")["se"]
    for method, fit in fits.items():
        frail = method == METHODS["frailty"]
        for r in fit.table.itertuples():
            base = base_se.get(r.term, np.nan)
            ratio = r.se / base if base else np.nan
            rows.append({"endpoint": endpoint, "method": method, "term": r.term, "variable": r.variable,
                         "label": labels.get(r.variable, r.variable), "hr": r.hr, "ci_low": r.ci_low,
                         "ci_high": r.ci_high, "se": r.se, "se_ratio": ratio, "p": r.p, "n": fit.n,
                         "events": fit.events, "n_centers": int(d["center"].nunique()),
                         "monotone": bool(getattr(r, "monotone", False)),
                         "theta": fit.theta if frail else None,
                         "theta_p": (fit.theta_test.p if fit.theta_test is not None else None) if frail else None,
                         "converged": bool(fit.converged) if frail else None})
    return rows
