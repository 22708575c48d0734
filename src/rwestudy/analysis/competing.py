"""Competing risks of the standard analysis: progression vs death without progression.

PFS counts progression and death alike; a reviewer of a lymphoma study asks
how much of it is relapse and how much non-relapse mortality. From the PFS
endpoint each patient's first event gets a cause:

* 1 "progression": a recorded progression, or a death from lymphoma
  (``death_cause`` = progression) without a recorded progression date;
* 2 "death without progression" (non-relapse mortality): any other death first;
* 0 censored.

Records: cumulative incidence of each cause at the landmark times with CI
(``cif``), the curves (``cif_table``), Gray's test by each factor
(``gray_tests``), and, for each factor, the Fine-Gray subdistribution HR beside
the cause-specific Cox HR (``competing_regression``).
"""
from __future__ import annotations

import warnings
from typing import Callable

import pandas as pd

from rwestudy.stats.competing_risks import CI_METHOD, cumulative_incidence
from rwestudy.stats.cox import cox
from rwestudy.stats.fine_gray import fine_gray
from rwestudy.exceptions import ExcludedRowsWarning

MAX_ABS_COEF = 15.0   # |log HR| beyond this is divergence, not an estimate (HR > 3e6)
CAUSES = {1: "progression", 2: "death without progression"}
RULE = ("Competing risks from PFS: progression (or death from lymphoma without a recorded progression date) "
        "vs death without progression (non-relapse mortality); cumulative incidence by Aalen-Johansen, "
        f"variance by Gray's method, CI: {CI_METHOD}; groups compared by Gray's test.")


def pfs_with_cause(ep) -> pd.DataFrame:
    """The PFS rows with ``cause`` coded 0/1/2 (see the module docstring)."""
    d = ep.endpoint("PFS")
    if len(d) == 0:
        return d.assign(cause=pd.Series(dtype="int64"))
    death_cause = d["patient_id"].map(ep.patients.set_index("patient_id").get("death_cause", pd.Series(dtype=object)))
    lymphoma_death = d["reason"].eq("death") & death_cause.astype("string").str.lower().eq("progression").fillna(False)
    cause = (d["event"] == 1) * (2 - (d["reason"].eq("progression") | lymphoma_death).astype(int))
    return d.assign(cause=cause.astype("int64"))


def competing_records(ep, landmarks, factors: list[str], frame_for: Callable, labels: dict,
                      regression: bool = False) -> dict[str, list[dict]]:
    """The competing-risks sections of results.json (empty lists when PFS has no event of either cause).

    ``regression``: also Fine-Gray and cause-specific Cox per factor (the plan's
    ``[competing_risks] regression = true``; off by default: 4 models per factor).
    """
    out = {"cif": [], "cif_table": [], "gray_tests": [], "competing_regression": []}
    d = pfs_with_cause(ep)
    if len(d) == 0 or not (d["cause"] > 0).any():
        return out
    fit = cumulative_incidence(d, "time", "cause")
    out["cif"] = [dict(r, cause=CAUSES[r["cause"]], group="all", method=CI_METHOD)
                  for r in fit.at(landmarks).to_dict(orient="records")]
    out["cif_table"] = [dict(r, cause=CAUSES[r["cause"]], variable="all")
                        for r in fit.table.to_dict(orient="records")]
    for f in factors:
        fd, missing = frame_for("PFS", f)
        fd = fd.merge(d[["patient_id", "cause"]], on="patient_id", how="left")
        if fd[f].nunique() < 2:
            continue
        by = cumulative_incidence(fd, "time", "cause", by=f)
        for r in by.tests.to_dict(orient="records"):
            out["gray_tests"].append({"variable": f, "label": labels.get(f, f), "cause": CAUSES[r["cause"]],
                                      "statistic": r["statistic"], "df": r["df"], "p": r["p"],
                                      "n": len(fd), "n_missing": missing})
        out["cif_table"] += [dict(r, cause=CAUSES[r["cause"]], variable=f) for r in by.table.to_dict(orient="records")]
        if regression:
            out["competing_regression"] += _regressions(fd, f, labels)
    return out


def _regressions(fd: pd.DataFrame, f: str, labels: dict) -> list[dict]:
    rows = []
    for k, name in CAUSES.items():
        if not (fd["cause"] == k).any():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExcludedRowsWarning)   # exclusions are counted in n
            fg = fine_gray(fd, "time", "cause", [f], failcode=k)
            cs = cox(fd.assign(event=(fd["cause"] == k).astype(int)), "time", "event", [f], ties="breslow")
        fg_table = fg.table.rename(columns={"shr": "hr"})
        if not fg.converged or (fg_table["coef"].abs() > MAX_ABS_COEF).any():
            # a level with no event of this cause: the estimate runs off to +/- infinity
            fg_table = fg_table.assign(hr=float("nan"), ci_low=float("nan"), ci_high=float("nan"), p=float("nan"))
        for model, t, n, events in (("Fine-Gray (subdistribution HR)", fg_table, fg.n, fg.events),
                                    ("cause-specific Cox (Breslow)", cs.table, cs.n, cs.events)):
            for r in t.itertuples():
                rows.append({"variable": f, "label": labels.get(f, f), "cause": name, "model": model,
                             "term": r.term, "hr": r.hr, "ci_low": r.ci_low, "ci_high": r.ci_high, "p": r.p,
                             "n": n, "events": events})
    return rows
