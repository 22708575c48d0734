"""Restricted mean survival time of the standard analysis.

For each analysed endpoint: the RMST up to the horizon (the plan's, default
the largest landmark, cut to the shortest follow-up among the groups compared
so nothing is extrapolated) overall and by each two-level factor, with the
difference and ratio between the levels. Useful exactly where a median is
"not reached".
"""
from __future__ import annotations

from typing import Callable

from rwestudy.stats.rmst import rmst


def rmst_records(ep, endpoints: list[str], factor_endpoints: list[str], factors: list[str], horizon: float,
                 frame_for: Callable, labels: dict, conf_level: float) -> dict[str, list[dict]]:
    """``rmst``: one row per endpoint, factor and level; ``rmst_contrasts``: one per two-level factor."""
    out, contrasts = [], []
    for e in endpoints:
        d = ep.endpoint(e)
        if len(d) == 0:
            continue
        tau = min(horizon, float(d["time"].max()))
        res = rmst(d, "time", "event", tau, conf_level=conf_level)
        out += [dict(r, endpoint=e, variable="all", level="all", horizon_requested=horizon)
                for r in res.table.drop(columns=["group"]).to_dict(orient="records")]
        if e not in factor_endpoints:
            continue
        for f in factors:
            fd, missing = frame_for(e, f)
            if fd[f].nunique() != 2:
                continue
            tau_f = min(horizon, float(fd.groupby(f, observed=True)["time"].max().min()))
            res = rmst(fd, "time", "event", tau_f, by=f, conf_level=conf_level)
            c = res.contrasts.iloc[0].to_dict() if len(res.contrasts) else {}
            for r in res.table.rename(columns={"group": "level"}).to_dict(orient="records"):
                out.append(dict(r, endpoint=e, variable=f, label=labels.get(f, f), horizon_requested=horizon,
                                n_missing=missing))
            if c:
                contrasts.append({"endpoint": e, "variable": f, "label": labels.get(f, f),
                            "level": c["group"], "reference": c["reference"], "tau": tau_f,
                            "difference": c["difference"], "diff_ci_low": c["diff_ci_low"],
                            "diff_ci_high": c["diff_ci_high"], "diff_p": c["diff_p"], "ratio": c["ratio"],
                            "ratio_ci_low": c["ratio_ci_low"], "ratio_ci_high": c["ratio_ci_high"],
                            "ratio_p": c["ratio_p"], "horizon_requested": horizon, "n_missing": missing})
    return {"rmst": out, "rmst_contrasts": contrasts}
