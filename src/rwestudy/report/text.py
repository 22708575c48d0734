"""Methods and Results paragraphs written from results.json records (no number is typed by hand).

Each sentence is built only when its numbers exist, so a study without
adverse events or without a PFS simply has no such sentence.
"""
from __future__ import annotations

import pandas as pd

from rwestudy.report._records import first, frame
from rwestudy.core.format import fmt_median, fmt_num, fmt_p
from rwestudy.report.labels import label
from rwestudy.core.defaults import DAYS_PER_MONTH




_MEDIAN_CI = {"brookmeyer-crowley": "Brookmeyer-Crowley", "symmetric": "symmetric (median +/- z SE, as SPSS)"}
_CAUSE = {"unknown": "unknown cause", "other": "other causes", "not recorded": "cause not recorded"}


def _pct(n, d) -> str:
    return f"{100.0 * n / d:.1f}%" if d else "NA"


def methods_paragraphs(records: dict) -> list[str]:
    conv, study = first(records, "conventions"), first(records, "study")
    plan = first(records, "plan")
    ci = int(round(100 * float(conv.get("conf_level", 0.95))))
    endpoints = ", ".join(plan.get("endpoints") or [])
    out = [
        "Overall survival (OS) was measured from the start of treatment to death from any cause; "
        "progression-free survival (PFS) to progression or death; duration of response (DoR) from the "
        "first response to progression or death in responders; disease-free survival (DFS) from complete "
        "response to relapse or death; time to next treatment (TTNT) to the start of the next line or "
        f"death. Patients without an event were censored at the last contact. Endpoints analysed: {endpoints}. "
        f"Times are in months ({study.get('months', f'days / {DAYS_PER_MONTH}')}).",
        f"Survival was estimated by the Kaplan-Meier method with Greenwood variance and {ci}% confidence "
        f"intervals on the {conv.get('km_ci_transform')} scale; confidence intervals of the median used "
        f"the {_MEDIAN_CI.get(conv.get('median_ci'), conv.get('median_ci'))} method. Median follow-up was "
        "estimated by the reverse Kaplan-Meier method. Survival was compared between groups with the "
        f"log-rank test and the {'Wilcoxon-Breslow-Gehan' if conv.get('wilcoxon') == 'gehan' else 'Peto-Peto'}"
        " test. Hazard ratios were estimated by Cox proportional hazards regression "
        f"({str(conv.get('ties', '')).capitalize()} method for ties, "
        f"{'Wald' if conv.get('cox_p') == 'wald' else 'likelihood-ratio'} p-values), univariate, "
        "multivariate and by backward stepwise selection; proportional hazards were checked with scaled "
        "Schoenfeld residuals. Factors that occur after the start of treatment were analysed by landmark "
        "and time-dependent Cox models to avoid immortal-time bias.",
        f"Response rates are given with exact binomial {ci}% confidence intervals"
        if conv.get("binomial_ci") == "exact" else
        f"Response rates are given with {conv.get('binomial_ci')} {ci}% confidence intervals",
    ]
    out[-1] += (", with every patient treated in the denominator. Categorical variables were compared with "
                f"the chi-square test {'with' if conv.get('chisq_correction') else 'without'} continuity "
                f"correction, or Fisher's exact test when an expected count was below "
                f"{float(conv.get('fisher_expected_min', 5)):g}. Adverse events were graded by CTCAE v5.0 and "
                "counted per patient at the worst grade. Two-sided p < 0.05 was considered significant.")
    out.append(f"Analyses used {study.get('software_versions') or study.get('software')}, with the "
               f"'{conv.get('profile')}' conventions profile (every choice is listed in the appendix).")
    return out


def results_paragraphs(records: dict) -> list[str]:
    out = [p for p in (_population(records), _response(records), _survival(records), _factors(records),
                       _safety(records)) if p]
    return out


def _population(records: dict) -> str:
    study = first(records, "study")
    n = study.get("n_analysed")
    if not n:
        return ""
    s = f"Of {study.get('n_patients')} patients in the study"
    s += f" from {study['n_centers']} centers" if study.get("n_centers") else ""
    s += f", {n} were analysed."
    b = frame(records, "baseline")
    if not b.empty:
        b = b[b.group == "Overall"].set_index(["variable", "level"])
        if ("age_at_start", "median") in b.index:
            s += (f" The median age at the start of treatment was {fmt_num(b.loc[('age_at_start', 'median'), 'value'])}"
                  f" years (range {fmt_num(b.loc[('age_at_start', 'min'), 'value'])}-"
                  f"{fmt_num(b.loc[('age_at_start', 'max'), 'value'])})")
            if ("sex", "M") in b.index:
                s += f", and {int(b.loc[('sex', 'M'), 'n'])} ({b.loc[('sex', 'M'), 'pct']:.1f}%) were male"
            s += "."
        parts = [f"{int(b.loc[(v, 'True'), 'n'])} ({b.loc[(v, 'True'), 'pct']:.1f}%) {what}"
                 for v, what in (("primary_refractory", "were refractory to first-line therapy"),
                                 ("refractory_last_line", "were refractory to the last line"),
                                 ("prior_asct", "had received an autologous transplant"))
                 if (v, "True") in b.index]
        if parts:
            s += " In total, " + _join(parts) + "."
    return s


def _response(records: dict) -> str:
    r = frame(records, "response")
    if r.empty:
        return ""
    r = r.set_index(["assessment", "category"])
    out = []
    if ("final", "CR") in r.index:
        cr, pr, orr = r.loc[("final", "CR")], r.loc[("final", "PR")], r.loc[("final", "ORR (CR+PR)")]
        out.append(f"At the end of therapy, CR was achieved by {int(cr['n'])} patients ({cr['pct']:.1f}%) and PR "
                   f"by {int(pr['n'])} ({pr['pct']:.1f}%), for a final ORR of {orr['pct']:.1f}% (95% CI "
                   f"{orr['ci_low']:.1f}-{orr['ci_high']:.1f}).")
    if ("best", "ORR (CR+PR)") in r.index:
        orr, cr = r.loc[("best", "ORR (CR+PR)")], r.loc[("best", "CR")]
        out.append(f"The best ORR was {orr['pct']:.1f}% (95% CI {orr['ci_low']:.1f}-{orr['ci_high']:.1f}), with a "
                   f"best CR rate of {cr['pct']:.1f}% ({int(cr['n'])}/{int(cr['denominator'])}).")
    return " ".join(out)


def _survival(records: dict) -> str:
    s = frame(records, "survival")
    fu = frame(records, "follow_up")
    if s.empty:
        return ""
    s = s[s.group == "all"].set_index("endpoint")
    out = []
    if not fu.empty and pd.notna(fu.iloc[0]["median"]):
        out.append(f"After a median follow-up of {fmt_median(fu.iloc[0]['median'])} months (reverse Kaplan-Meier)")
    parts = []
    for e in ("OS", "PFS", "DoR"):
        if e in s.index:
            x = s.loc[e]
            if pd.notna(x["median"]):
                parts.append(f"the median {e} was {fmt_median(x['median'])} months (95% CI "
                             f"{fmt_median(x['median_ci_low'])}-{fmt_median(x['median_ci_high'])})")
            else:
                parts.append(f"the median {e} was not reached")
    if not parts:
        return ""
    text = (out[0] + ", " if out else "") + _join(parts)
    text = text[0].upper() + text[1:] + "."
    lm = frame(records, "landmarks")
    if not lm.empty:
        x = lm[(lm.group == "all") & (lm.time == 12)].set_index("endpoint")
        rates = [f"{e} {100 * x.loc[e, 'surv']:.1f}%" for e in ("OS", "PFS") if e in x.index
                 and pd.notna(x.loc[e, "surv"])]
        if rates:
            text += " The 12-month rates were " + _join(rates) + "."
    return text


def _factors(records: dict) -> str:
    c = frame(records, "cox")
    if c.empty:
        return ""
    out = []
    for e in dict.fromkeys(c["endpoint"]):
        u = c[(c.endpoint == e) & (c.model == "univariate") & (c.p < 0.05) & (~c.monotone.astype(bool))]
        m = c[(c.endpoint == e) & (c.model == "multivariate") & (c.p < 0.05) & (~c.monotone.astype(bool))]
        if u.empty:
            out.append(f"No factor was associated with {e} in univariate Cox analysis (p < 0.05).")
            continue
        out.append(f"In univariate analysis, {_join([_hr(r) for r in u.itertuples()])} were associated with {e}.")
        if not m.empty:
            out.append(f"In the multivariate model, {_join([_hr(r) for r in m.itertuples()])} "
                       "remained independently associated.")
    return " ".join(out)


def _hr(r) -> str:
    name = "male sex" if r.term == "sex[M]" else _lower_first(label(r.variable))
    return f"{name} (HR {r.hr:.2f}, 95% CI {r.ci_low:.2f}-{r.ci_high:.2f}, {_p_is(r.p)})"


def _p_is(p) -> str:
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _lower_first(text: str) -> str:
    """'Prior ASCT' -> 'prior ASCT'; acronyms ('ECOG 2-3', 'LDH increased') stay as they are."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _safety(records: dict) -> str:
    a = frame(records, "adverse_events")
    d = frame(records, "death_causes")
    out = []
    if not a.empty:
        cat = a[a.table == "by_category"]
        term = a[(a.table == "by_term") & (a.grade == ">=3")].sort_values("patients", ascending=False)
        den = int(a["denominator_patients"].iloc[0])
        hem = cat[(cat.category == "hematologic") & (cat.grade == ">=3")]
        if not hem.empty:
            out.append(f"Grade >=3 hematologic adverse events occurred in {int(hem.iloc[0]['patients'])} patients "
                       f"({_pct(hem.iloc[0]['patients'], den)}).")
        top = [f"{r.term.lower()} ({int(r.patients)}, {_pct(r.patients, den)})" for r in term.head(3).itertuples()
               if r.patients > 0]
        if top:
            out.append("The most frequent grade >=3 events were " + _join(top) + ".")
    if not d.empty:
        dead = d[d.cause == "any"].iloc[0]
        causes = d[d.cause != "any"].sort_values("n", ascending=False)
        s = f"Overall, {int(dead['n'])} patients ({_pct(dead['n'], dead['denominator'])}) died"
        if len(causes):
            s += ", " + _join([f"{int(r.n)} of {_CAUSE.get(r.item, r.item)}" for r in causes.itertuples()])
        out.append(s + ".")
    return " ".join(out)


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
