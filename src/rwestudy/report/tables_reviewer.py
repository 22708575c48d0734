"""Competing risks, center effects and RMST tables from the records of results.json."""
from __future__ import annotations

from rwestudy.report._records import frame
from rwestudy.core.format import fmt_hr, fmt_int, fmt_num, fmt_p
from rwestudy.report.labels import ENDPOINT_LABELS, label
from rwestudy.report.table_model import ReportTable
from rwestudy.report.tables_efficacy import _level, _term_label


def _pct_ci(est, low, high) -> str:
    return f"{fmt_num(100 * est if est is not None else None)}% ({fmt_num(100 * low if low is not None else None)}-" \
           f"{fmt_num(100 * high if high is not None else None)})"


def competing_risks(records: dict) -> ReportTable | None:
    cif = frame(records, "cif")
    if cif.empty:
        return None
    times = list(dict.fromkeys(cif["time"]))
    header = ["Cause"] + [f"{t:g} months, % (95% CI)" for t in times]
    t = ReportTable("competing_risks", "Cumulative incidence of progression and of death without progression",
                    header, group="Efficacy")
    for cause, rows in cif.groupby("cause", sort=False):
        at = rows.set_index("time")
        t.add(cause.capitalize(), *[_pct_ci(at.loc[x, "cif"], at.loc[x, "ci_low"], at.loc[x, "ci_high"])
                                    for x in times])
    gray = frame(records, "gray_tests")
    if not gray.empty:
        t.section("Gray's test by factor (p): progression / death without progression")
        for var, rows in gray.groupby("variable", sort=False):
            p = rows.set_index("cause")["p"]
            t.add(label(var), f"{fmt_p(p.get('progression'))} / {fmt_p(p.get('death without progression'))}",
                  *[""] * (len(times) - 1), indent=1)
    t.footnotes.append("From the PFS endpoint: progression (or death from lymphoma without a recorded "
                       "progression date) and death without progression (non-relapse mortality) compete. "
                       "Aalen-Johansen estimate; variance by Gray's method (cmprsk::cuminc); CI on the "
                       "log(-log) scale. Gray's test compares the cumulative incidence across factor levels.")
    return t


def center_effects(records: dict) -> ReportTable | None:
    ce = frame(records, "center_effects")
    if ce.empty:
        return None
    methods = list(dict.fromkeys(ce["method"]))
    header = ["Endpoint / term"] + [f"{m}: HR (95% CI)" for m in methods] + ["Robust / model-based SE"]
    t = ReportTable("center_effects", "Multivariate Cox model and center effects", header, group="Efficacy")
    for e, rows in ce.groupby("endpoint", sort=False):
        t.section(f"{ENDPOINT_LABELS.get(e, e)} ({fmt_int(rows['n_centers'].iloc[0])} centers)")
        for term, g in rows.groupby("term", sort=False):
            g = g.set_index("method")
            cells = [fmt_hr(g.loc[m, "hr"], g.loc[m, "ci_low"], g.loc[m, "ci_high"], bool(g.loc[m, "monotone"]))
                     if m in g.index else "" for m in methods]
            ratio = g["se_ratio"].get("cluster-robust (center)")
            t.add(_term_label(term, label(g["variable"].iloc[0])), *cells, fmt_num(ratio, 2), indent=1)
        frail = rows[rows["method"] == "shared gamma frailty (center)"]
        if len(frail):
            f = frail.iloc[0]
            t.add("Variance of the center frailty (theta), p for theta = 0",
                  *[f"{fmt_num(f['theta'], 3)}, p {fmt_p(f['theta_p'])}" if m == f["method"] else ""
                    for m in methods], "", indent=1)
    t.footnotes.append("Model-based: the fit of the main Cox tables. Stratified: a baseline hazard per center. "
                       "Cluster-robust: sandwich variance with center as cluster (R: coxph(..., cluster = "
                       "center)); same HRs, CIs from the robust SE. Shared gamma frailty: a random effect per "
                       "center (R: coxph(... + frailty(center)), theta by R's I-likelihood search); HRs "
                       "within a center. The main tables keep the model-based fit so that they compare with "
                       "published studies; this table shows how far the estimates and CIs move. Methods: the "
                       "plan's [center_effects] methods.")
    if "converged" in ce and ce["converged"].eq(False).any():
        t.footnotes.append("The frailty variance search stopped at R's limit of 10 outer iterations before "
                           "converging (as R does); theta is R's value, not the optimum.")
    return t


def rmst(records: dict) -> ReportTable | None:
    r = frame(records, "rmst")
    if r.empty:
        return None
    c = frame(records, "rmst_contrasts")
    t = ReportTable("rmst", "Restricted mean survival time", ["Endpoint / group", "Horizon, months",
                    "RMST, months (95% CI)", "Difference (95% CI)", "p", "Ratio (95% CI)"], group="Efficacy")
    for e, rows in r.groupby("endpoint", sort=False):
        t.section(ENDPOINT_LABELS.get(e, e))
        for var, g in rows.groupby("variable", sort=False):
            if var == "all":
                x = g.iloc[0]
                t.add("All patients", fmt_num(x["tau"]), _est(x), "", "", "")
                continue
            cc = c[(c["endpoint"] == e) & (c["variable"] == var)] if not c.empty else c
            k = cc.iloc[0] if len(cc) else None
            t.add(label(var), fmt_num(g["tau"].iloc[0]), "",
                  "" if k is None else f"{fmt_num(k['difference'], 2)} ({fmt_num(k['diff_ci_low'], 2)} to "
                  f"{fmt_num(k['diff_ci_high'], 2)})", "" if k is None else fmt_p(k["diff_p"]),
                  "" if k is None else f"{fmt_num(k['ratio'], 2)} ({fmt_num(k['ratio_ci_low'], 2)}-"
                  f"{fmt_num(k['ratio_ci_high'], 2)})")
            for x in g.itertuples():
                t.add(_level(x.level), "", _est(x._asdict()), "", "", "", indent=1)
    t.footnotes.append("RMST: area under the Kaplan-Meier curve up to the horizon (the largest landmark, cut to "
                       "the shortest follow-up of the groups compared: nothing is extrapolated); variance as R's "
                       "print.survfit(rmean =). Difference (months) and ratio: second level vs the first; ratio CI and "
                       "p on the log scale.")
    return t


def _est(x) -> str:
    return f"{fmt_num(x['rmst'], 1)} ({fmt_num(x['ci_low'], 1)}-{fmt_num(x['ci_high'], 1)})"


def lugano_agreement(records: dict) -> ReportTable | None:
    a = frame(records, "lugano_agreement")
    s = frame(records, "lugano_summary")
    if s.empty:
        return None
    cats = ["CR", "PR", "SD", "PD", "NE"]
    t = ReportTable("lugano_agreement", "Recorded response against Lugano 2014 from the imaging time points",
                    ["Recorded \\ Lugano 2014"] + cats + ["Agreement, kappa"], group="Efficacy")
    for x in s.itertuples():
        t.section(f"{'Best' if x.measure == 'best_response' else 'Final'} response ({fmt_int(x.n)} patients "
                  "with assessments)")
        rows = a[a["measure"] == x.measure]
        first = True
        for r in cats + ["missing"]:
            got = rows[rows["recorded"] == r].set_index("lugano")["n"]
            if got.empty:
                continue
            summary = f"{fmt_int(x.agree)}/{fmt_int(x.n)} ({fmt_num(100 * x.agreement, 1)}%), " \
                      f"kappa {fmt_num(x.kappa, 2)}" if first else ""
            first = False
            t.add("not recorded" if r == "missing" else r, *[fmt_int(got.get(c, 0)) for c in cats], summary,
                  indent=1)
    t.footnotes.append("Rows: the best/final response recorded in patients; columns: derived by the Lugano "
                       "2014 rules (Cheson et al., J Clin Oncol 2014) from the assessments table (PET-CT: "
                       "Deauville score; CT: target lesion sizes from the nadir). Kappa: Cohen's, unweighted. "
                       "Each disagreement is a validation finding naming the patient's row. The analysis uses "
                       "the recorded responses unless the plan says [response] source = \"lugano\".")
    return t


def mutations(records: dict) -> ReportTable | None:
    f = frame(records, "mutation_frequencies")
    if f.empty:
        return None
    s = frame(records, "mutation_survival")
    endpoints = list(dict.fromkeys(s["endpoint"])) if not s.empty else []
    header = ["Gene", "Mutated, n/N (%)"]
    for e in endpoints:
        header += [f"{e}: events mutated / wild-type", f"{e}: log-rank p", f"{e}: q (BH)"]
    t = ReportTable("mutations", "Recorded alterations by gene, and survival mutated vs wild-type", header,
                    group="Efficacy")
    for g in f.itertuples():
        cells = [g.gene, f"{fmt_int(g.n_mutated)}/{fmt_int(g.n_tested)} ({fmt_num(g.percent, 1)}%)"]
        for e in endpoints:
            x = s[(s["endpoint"] == e) & (s["gene"] == g.gene)]
            if x.empty:
                cells += ["", "", ""]
                continue
            x = x.iloc[0]
            cells += [f"{fmt_int(x.events_mutated)}/{fmt_int(x.n_mutated)} vs {fmt_int(x.events_wild_type)}/"
                      f"{fmt_int(x.n_wild_type)}",
                      fmt_p(x.logrank_p) if x.tested else "not tested", fmt_p(x.q_bh) if x.tested else ""]
        t.add(*cells)
    t.footnotes.append("N: patients with at least one recorded alteration. Events/patients in each group. Log-rank "
                       "test when each group has at least 3 patients; q: Benjamini-Hochberg adjusted over the genes "
                       "tested for that endpoint. With few patients and events these comparisons are exploratory.")
    return t
