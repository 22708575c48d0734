"""Baseline, exposure, response and survival tables from the records of results.json."""
from __future__ import annotations

import pandas as pd

from rwestudy.core.format import fmt_estimate_ci, fmt_hr, fmt_int, fmt_median, fmt_num, fmt_p, fmt_pct
from rwestudy.report.labels import ENDPOINT_LABELS, RESPONSE_LABELS, label
from rwestudy.report._records import first, frame
from rwestudy.report.table_model import ReportTable
from rwestudy.core.defaults import DAYS_PER_MONTH




def _n_patients(records: dict) -> int:
    return int((records.get("study") or [{}])[0].get("n_analysed") or 0)


def patient_flow(records: dict) -> ReportTable | None:
    f = frame(records, "patient_flow")
    if f.empty:
        return None
    t = ReportTable("flow", "Patient flow: patients (and rows) in, excluded with the reason, analysed",
                    ["Scope", "Step", "Reason", "n"], group="Patients")
    for r in f.itertuples():
        t.add(r.scope, r.step, r.reason or "", fmt_int(r.n))
    t.footnotes.append("Each scope balances: in = analysed + excluded. Endpoint scopes count patients; "
                       "table scopes count rows.")
    return t


def baseline(records: dict) -> ReportTable | None:
    b = frame(records, "baseline")
    if b.empty:
        return None
    groups = list(dict.fromkeys(b["group"]))
    n_by = {g: int(b[(b.group == g) & (b.level == "n")]["value"].max()) if (b.group == g).any() else None
            for g in groups}
    overall_n = _n_patients(records)
    header = ["Characteristic"] + [f"{g} (N={overall_n if g == 'Overall' else n_by.get(g) or ''})" for g in groups]
    tests = frame(records, "baseline_tests")
    if not tests.empty:
        header += ["p", "Test"]
    t = ReportTable("baseline", "Table 1. Baseline characteristics", header, group="Patients")
    pcol = {}
    if not tests.empty:
        pcol = {r.variable: (fmt_p(r.p), r.test) for r in tests.itertuples()}
    for var, rows in b.groupby("variable", sort=False):
        extra = list(pcol.get(var, ("", ""))) if not tests.empty else []
        by = {g: rows[rows.group == g].set_index("level") for g in groups}
        kind = rows["kind"].iloc[0]
        levels = [lv for lv in dict.fromkeys(rows["level"]) if lv != "(missing)"]
        missing = [by[g]["n"].get("(missing)") if "(missing)" in by[g].index else 0 for g in groups]
        if kind == "continuous":
            cells = [f"{fmt_num(s['value'].get('median'))} ({fmt_num(s['value'].get('min'))}-"
                     f"{fmt_num(s['value'].get('max'))})" if "median" in s.index else "" for s in by.values()]
            t.add(f"{label(var)}, median (range)", *cells, *extra)
        elif set(levels) <= {"False", "True"}:
            cells = [by[g]["text"].get("True", "0 (0.0%)") for g in groups]
            t.add(f"{label(var)}, n (%)", *cells, *extra)
        else:
            t.add(f"{label(var)}, n (%)", *[""] * len(groups), *extra)
            for lv in levels:
                t.add(str(lv), *[by[g]["text"].get(lv, "0") for g in groups], *([""] * len(extra)), indent=1)
        if any((m or 0) > 0 for m in missing):
            t.add("Missing", *[by[g]["text"].get("(missing)", "0") for g in groups], *([""] * len(extra)),
                  indent=1)
    conv = first(records, "conventions")
    t.footnotes.append("n (%) of all patients in the column; missing values are shown and stay in the "
                       "denominator. Continuous variables: median (range); quartiles (quantile type "
                       f"{conv.get('quantile_type', 7)}) are in results.json.")
    if not tests.empty:
        t.footnotes.append("Tests chosen by rule (see Methods): " + "; ".join(sorted(set(tests["test"]))) + ".")
    return t


def exposure(records: dict) -> ReportTable | None:
    e = frame(records, "treatment_exposure")
    if e.empty:
        return None
    t = ReportTable("exposure", "Treatment exposure", ["Drug / item", "Value"], group="Treatment")
    for drug, rows in e.groupby("drug", sort=False):
        t.section("All study drugs" if drug == "all" else str(drug))
        for r in rows.itertuples():
            t.add(r.item, r.text, indent=1)
    t.footnotes.append("n (%) of patients treated with the drug; monotherapy rows: of all patients. "
                       "Cycles: median (range).")
    return t


def response(records: dict) -> ReportTable | None:
    r = frame(records, "response")
    if r.empty:
        return None
    assessments = [a for a in ("best", "final") if (r.assessment == a).any()]
    header = ["Response"]
    for a in assessments:
        header += [f"{a.capitalize()} response, n (%)", "95% CI"]
    t = ReportTable("response", "Best and final response", header, group="Efficacy")
    order = [c for c in dict.fromkeys(r["category"])]
    for cat in order:
        cells = []
        for a in assessments:
            x = r[(r.assessment == a) & (r.category == cat)]
            if x.empty:
                cells += ["", ""]
                continue
            x = x.iloc[0]
            cells += [fmt_pct(x["n"], x["denominator"]), f"{fmt_num(x['ci_low'])}-{fmt_num(x['ci_high'])}"]
        if cat == "not assessed" and all(c.startswith("0 ") for c in cells[::2] if c):
            continue
        t.add(RESPONSE_LABELS.get(cat, cat), *cells)
    x = r.iloc[0]
    method = {"exact": "exact (Clopper-Pearson)", "wilson": "Wilson score", "wald": "Wald"}.get(
        x["ci_method"], x["ci_method"])
    t.footnotes.append(f"Denominator: all {int(x['denominator'])} patients analysed; not evaluable (NE) and not "
                       f"assessed patients stay in the denominator. {int(round(100 * x['conf_level']))}% CI: "
                       f"{method}, in %. ORR = CR + PR.")
    return t


def survival_summary(records: dict) -> ReportTable | None:
    s = frame(records, "survival")
    if s.empty:
        return None
    s = s[s.group == "all"]
    lm = frame(records, "landmarks")
    times = sorted(lm["time"].unique()) if not lm.empty else []
    header = ["Endpoint", "N", "Events", "Median, months (95% CI)"] + [f"{t:g}-month rate, % (95% CI)"
                                                                        for t in times]
    t = ReportTable("survival", "Survival summary (Kaplan-Meier)", header, group="Efficacy")
    for r in s.itertuples():
        cells = []
        for tm in times:
            x = lm[(lm.endpoint == r.endpoint) & (lm.group == "all") & (lm.time == tm)]
            cells.append("" if x.empty or pd.isna(x.iloc[0]["surv"]) else
                         fmt_estimate_ci(100 * x.iloc[0]["surv"], 100 * x.iloc[0]["ci_low"],
                                         100 * x.iloc[0]["ci_high"], missing="NA"))
        t.add(ENDPOINT_LABELS.get(r.endpoint, r.endpoint), fmt_int(r.n), fmt_int(r.events),
              fmt_estimate_ci(r.median, r.median_ci_low, r.median_ci_high), *cells)
    conv = first(records, "conventions")
    t.footnotes.append(f"NR: not reached. Median CI: {conv.get('median_ci', '')}; survival CI: "
                       f"{conv.get('km_ci_transform', '')} transform. Months = days / "
                       f"{conv.get('days_per_month', DAYS_PER_MONTH)}.")
    fu = frame(records, "follow_up")
    if not fu.empty:
        t.footnotes.append("Median follow-up: " + "; ".join(
            f"{r.method}: {fmt_median(r.median)} months" + (
                f" (95% CI {fmt_median(r.ci_low)}-{fmt_median(r.ci_high)})" if pd.notna(r.ci_low) else "")
            for r in fu.itertuples()) + ".")
    return t


def survival_by_factor(records: dict, endpoint: str) -> ReportTable | None:
    s = frame(records, "survival")
    g = frame(records, "group_tests")
    if s.empty or g.empty:
        return None
    s = s[(s.endpoint == endpoint) & (s.group != "all")]
    g = g[g.endpoint == endpoint]
    if s.empty:
        return None
    tests = list(dict.fromkeys(g["test"]))
    names = {"logrank": "Log-rank p", "gehan": "Gehan p", "peto-peto": "Peto-Peto p",
             "tarone-ware": "Tarone-Ware p"}
    header = ["Factor", "N", "Events", "Median, months (95% CI)"] + [names.get(x, f"{x} p") for x in tests]
    t = ReportTable(f"survival_{endpoint}", f"{ENDPOINT_LABELS.get(endpoint, endpoint)} by factor",
                    header, group="Efficacy")
    for var, rows in s.groupby("group", sort=False):
        ps = [fmt_p(g[(g.variable == var) & (g.test == x)]["p"].iloc[0])
              if ((g.variable == var) & (g.test == x)).any() else "" for x in tests]
        t.add(label(var), "", "", "", *ps)
        for r in rows.itertuples():
            t.add(_level(r.level), fmt_int(r.n), fmt_int(r.events),
                  fmt_estimate_ci(r.median, r.median_ci_low, r.median_ci_high), *[""] * len(tests), indent=1)
    t.footnotes.append("Kaplan-Meier medians; NR: not reached. Tests: " + ", ".join(tests)
                       + " (Gehan = Wilcoxon-Breslow-Gehan). Post-baseline factors (toxicity, dose reduction) "
                       "are subject to immortal-time bias: see the landmark and time-dependent analyses.")
    t.footnotes += _factor_footnotes(records, g)
    return t


def _factor_footnotes(records: dict, g: pd.DataFrame) -> list[str]:
    """How number variables were grouped, and patients left out for a missing factor value."""
    notes = [f"{label(r['variable'])}: {r['rule']}." for r in records.get("factor_groups") or []
             if (g.variable == r["variable"]).any()]
    if "n_missing" in g:
        missing = g[g.n_missing.fillna(0) > 0].drop_duplicates("variable")
        notes += [f"{label(r.variable)}: {fmt_int(r.n_missing)} patients with a missing value excluded."
                  for r in missing.itertuples()]
    return notes


def _level(level) -> str:
    text = {"True": "Yes", "False": "No", True: "Yes", False: "No"}.get(level, str(level))
    return text[:1].upper() + text[1:]


def cox_table(records: dict, endpoint: str) -> ReportTable | None:
    c = frame(records, "cox")
    if c.empty:
        return None
    c = c[c.endpoint == endpoint]
    if c.empty:
        return None
    models = [m for m in ("univariate", "multivariate", "stepwise") if (c.model == m).any()]
    header = ["Factor"]
    for m in models:
        header += [f"{m.capitalize()} HR (95% CI)", "p"]
    t = ReportTable(f"cox_{endpoint}", f"Cox regression, {ENDPOINT_LABELS.get(endpoint, endpoint)}",
                    header, group="Efficacy")
    for term, rows in c.groupby("term", sort=False):
        cells = []
        for m in models:
            x = rows[rows.model == m]
            if x.empty:
                cells += ["", ""]
            else:
                x = x.iloc[0]
                cells += [fmt_hr(x.hr, x.ci_low, x.ci_high, bool(x.monotone)), fmt_p(x.p)]
        t.add(_term_label(term, rows.iloc[0]["label"]), *cells)
    head = c.iloc[0]
    conv = first(records, "conventions")
    for m in models:
        x = c[c.model == m].iloc[0]
        t.footnotes.append(f"{m.capitalize()}: n = {fmt_int(x.n)}, events = {fmt_int(x.events)}"
                           + (f", concordance {x.concordance:.3f}" if m != "univariate" and
                              pd.notna(x.concordance) else "") + ".")
    t.footnotes.append(f"Ties: {head.ties}; p: {conv.get('cox_p', 'wald')} test. Multivariate: factors "
                       "selected by the plan; stepwise: backward elimination.")
    ph = frame(records, "ph_tests")
    if not ph.empty:
        glob = ph[(ph.endpoint == endpoint) & (ph.term == "GLOBAL")]
        if not glob.empty:
            t.footnotes.append(f"Proportional hazards (cox.zph, KM transform), global test p = "
                               f"{fmt_p(glob.iloc[0]['p'])}.")
    hist = frame(records, "stepwise_history")
    if not hist.empty and (hist.endpoint == endpoint).any():
        t.footnotes.append("Stepwise removals: " + "; ".join(
            f"step {r.step}: {label(r.removed)} (p = {fmt_p(r.p)})"
            for r in hist[hist.endpoint == endpoint].itertuples()) + ".")
    t.footnotes += _factor_footnotes(records, c.assign(n_missing=0))
    if c["monotone"].any():
        t.footnotes.append("Monotone likelihood (no events in one group): the HR is infinite or zero; see the "
                           "Firth-penalised estimate in results.json.")
    return t


def _term_label(term: str, lab: str) -> str:
    if "[" in term:  # a factor level, e.g. sex[M]
        return f"{lab} ({term.split('[', 1)[1].rstrip(']')})"
    return lab


def post_baseline(records: dict) -> ReportTable | None:
    p = frame(records, "post_baseline")
    if p.empty:
        return None
    t = ReportTable("post_baseline", "Post-baseline factors: landmark and time-dependent Cox analyses",
                    ["Endpoint", "Factor", "Analysis", "N", "Events", "HR (95% CI)", "p"], group="Efficacy")
    for r in p.itertuples():
        t.add(r.endpoint, r.label, r.analysis, fmt_int(r.n), fmt_int(r.events),
              fmt_hr(r.hr, r.ci_low, r.ci_high, bool(r.monotone)), fmt_p(r.p))
    t.footnotes.append("A factor that happens after the start of treatment (a grade >= 3 adverse event, a dose "
                       "reduction) cannot be compared as a baseline group without immortal-time bias. "
                       "Landmark: patients alive and event-free at the landmark, grouped by the factor before "
                       "it. Time-dependent: the factor switches on at its date.")
    return t


def associations(records: dict) -> ReportTable | None:
    a = frame(records, "associations")
    if a.empty:
        return None
    t = ReportTable("associations", "Association of response with baseline factors",
                    ["Outcome", "Factor", "N", "Test", "p"], group="Efficacy")
    for r in a.itertuples():
        t.add(label(r.outcome), label(r.variable), fmt_int(r.n), r.test, fmt_p(r.p))
    conv = first(records, "conventions")
    t.footnotes.append(f"Chi-square {'with' if conv.get('chisq_correction') else 'without'} continuity "
                       f"correction when every expected count is >= {conv.get('fisher_expected_min', 5):g}, "
                       "otherwise Fisher's exact test; the rule applied to each row is in results.json.")
    return t
