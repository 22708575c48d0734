"""Our cohort beside published studies: a side-by-side table, honest tests, caveats, sentences.

Published studies give aggregates only, so what can be said is limited: is our
rate inside their CI, is it compatible with their proportion (exact binomial
test of our x/n against their rate, which treats theirs as known), how
different are the populations (standardized differences). Everything that
makes numbers incomparable (per-event AE rates, follow-up computed another
way, final vs best response, line eligibility, maturity) becomes a warning,
and the Discussion sentences are built only from the computed values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from rwestudy.stats.proportions import proportion_ci

OURS = "This cohort"
# (registry field, row label, kind); the table's fixed row order.
ROWS = [
    ("design", "Design", "text"), ("regimen", "Regimen", "text"), ("n", "Patients, n", "count"),
    ("age_median", "Age, median (years)", "median"), ("male_pct", "Male, %", "percent"),
    ("primary_refractory_pct", "Refractory to first line, %", "percent"),
    ("refractory_last_line_pct", "Refractory to last line, %", "percent"),
    ("prior_lines_median", "Prior lines, median", "median"), ("prior_lines_ge3_pct", ">= 3 prior lines, %", "percent"),
    ("stage_3_4_pct", "Stage III-IV, %", "percent"), ("ecog_ge2_pct", "ECOG >= 2, %", "percent"),
    ("prior_asct_pct", "Prior ASCT, %", "percent"), ("prior_car_t_pct", "Prior CAR-T, %", "percent"),
    ("orr", "ORR, %", "percent"), ("cr", "CR rate, %", "percent"),
    ("orr_final", "ORR at end of treatment, %", "percent"), ("cr_final", "CR at end of treatment, %", "percent"),
    ("pfs_median", "PFS, median (months)", "median"), ("os_median", "OS, median (months)", "median"),
    ("dor_median", "DoR, median (months)", "median"), ("followup_median", "Follow-up, median (months)", "median"),
    ("data_cutoff", "Data cut-off", "text"), ("ae_basis", "AE rates counted", "text"),
]
# Baseline proportions: registry field -> (our patient column, what "more" means in a sentence)
BASELINE = {"male_pct": ("sex", "men"), "primary_refractory_pct": ("primary_refractory", "primary refractory patients"),
            "refractory_last_line_pct": ("refractory_last_line", "patients refractory to the last line"),
            "prior_lines_ge3_pct": ("n_prior_lines", "patients with >= 3 prior lines"),
            "stage_3_4_pct": ("stage_3_4", "patients with stage III-IV"), "ecog_ge2_pct": ("ecog_2_3", "patients with ECOG >= 2"),
            "prior_asct_pct": ("prior_asct", "patients with a prior ASCT"),
            "prior_car_t_pct": ("prior_car_t", "patients with prior CAR-T")}
RATES = [("ORR", "orr", "ORR (CR+PR)"), ("CR", "cr", "CR rate"), ("ORR", "orr_final", "ORR (CR+PR)"),
         ("CR", "cr_final", "CR rate")]
SMD_NOTABLE = 0.1  # the usual threshold for a meaningful imbalance


@dataclass
class Cell:
    value: float | None = None
    ci: tuple | None = None
    n: int | None = None
    N: int | None = None
    text: str = ""
    detail: str = ""       # assessment / method / range
    source: str = "computed from the study data"
    source_quality: str = ""
    where: str = ""
    quote: str = ""


@dataclass
class Comparison:
    table: pd.DataFrame
    long: pd.DataFrame
    tests: pd.DataFrame
    warnings: list[dict] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    conf_level: float = 0.95

    @property
    def rate_tests(self) -> pd.DataFrame:
        return self.tests.loc[self.tests["kind"] == "rate"].dropna(axis=1, how="all")

    @property
    def smd(self) -> pd.DataFrame:
        return self.tests.loc[self.tests["kind"] == "smd"].dropna(axis=1, how="all")

    def to_records(self) -> dict[str, list[dict]]:
        """JSON-safe records for results.json."""
        from rwestudy.analysis.run import _clean, _records

        return _clean({"comparison": _records(self.long), "comparison_tests": _records(self.tests),
                       "comparison_warnings": list(self.warnings),
                       "comparison_sentences": [{"sentence": s} for s in self.sentences]})


def _g(x) -> str:
    """A published number as transcribed (47 stays 47, 46.0 stays 46.0); computed floats get one decimal."""
    if x is None:
        return "NR"
    return str(x) if isinstance(x, int) or len(repr(float(x)).split(".")[1]) <= 2 else f"{x:.1f}"


def _ci_text(ci, fmt=_g) -> str:
    return "" if not ci else f"{fmt(ci[0]) if ci[0] is not None else 'NR'}-{fmt(ci[1]) if ci[1] is not None else 'NR'}"


def _f1(x) -> str:
    return "NR" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}"


def _num(x):
    return None if x is None or pd.isna(x) else float(x)


# ---- our cohort -------------------------------------------------------------------------------------------

def _ours(results, conf: float) -> dict[str, Cell]:
    out: dict[str, Cell] = {}
    study = (results.records.get("study") or [{}])[0]
    out["design"], out["regimen"] = Cell(text="this study"), Cell(text="")
    out["data_cutoff"] = Cell(text=str(study.get("data_cutoff") or "")[:10])
    out["ae_basis"] = Cell(text="per patient (per event also computed)")
    pats = getattr(results.endpoints, "patients", None)
    if pats is not None:
        out["n"] = Cell(value=len(pats), text=str(len(pats)))
        for name, col in (("age_median", "age_at_start"), ("prior_lines_median", "n_prior_lines")):
            if col in pats and pats[col].notna().any():
                x = pats[col].dropna().astype(float)
                out[name] = Cell(value=float(x.median()), detail=f"range {x.min():.0f}-{x.max():.0f}",
                                 text=f"{x.median():.1f} (range {x.min():.0f}-{x.max():.0f})")
                out[name + "_mean_sd"] = Cell(value=float(x.mean()), ci=(float(x.std(ddof=1)), None))
        for name, (col, _) in BASELINE.items():
            if col not in pats:
                continue
            x = pats[col]
            x = (x == "M").where(x.notna()) if col == "sex" else (x >= 3).where(x.notna()) if col == "n_prior_lines" else x
            x = x.dropna().astype(bool)
            if len(x):
                k, N = int(x.sum()), len(x)
                out[name] = Cell(value=100 * k / N, n=k, N=N, text=f"{100 * k / N:.1f} ({k}/{N})")
    resp = results.table("response")
    for name, assessment, category in (("orr", "best", "ORR (CR+PR)"), ("cr", "best", "CR rate"),
                                       ("orr_final", "final", "ORR (CR+PR)"), ("cr_final", "final", "CR rate")):
        r = resp.loc[(resp.get("assessment") == assessment) & (resp.get("category") == category)] if len(resp) else resp
        if len(r):
            r = r.iloc[0]
            k, N = int(r["n"]), int(r["denominator"])
            ci = proportion_ci(k, N, method="exact", conf_level=conf)
            out[name] = Cell(value=100 * k / N, n=k, N=N, ci=(100 * ci.low, 100 * ci.high), detail=assessment,
                             text=f"{100 * k / N:.1f} ({k}/{N}) [{_f1(100 * ci.low)}-{_f1(100 * ci.high)}]"
                                  + (" (best)" if assessment == "best" else ""))
    surv = results.table("survival")
    for name, e in (("pfs_median", "PFS"), ("os_median", "OS"), ("dor_median", "DoR")):
        r = surv.loc[(surv["endpoint"] == e) & (surv["group"] == "all")] if len(surv) else surv
        if len(r):
            r = r.iloc[0]
            med = _num(r["median"]) if r["reached"] else None
            ci = (_num(r["median_ci_low"]), _num(r["median_ci_high"]))
            out[name] = Cell(value=med, ci=ci, N=int(r["n"]),
                             text=("not reached" if med is None else _f1(med)) + f" [{_f1(ci[0])}-{_f1(ci[1])}]")
    fu = results.table("follow_up")
    r = fu.loc[fu["method"].str.startswith("reverse")] if len(fu) else fu
    if len(r):
        r = r.iloc[0]
        ci = (_num(r["ci_low"]), _num(r["ci_high"]))
        out["followup_median"] = Cell(value=_num(r["median"]), ci=ci, detail="reverse Kaplan-Meier",
                                      text=f"{_f1(_num(r['median']))} [{_f1(ci[0])}-{_f1(ci[1])}] (reverse KM)")
    return out


# ---- published studies ------------------------------------------------------------------------------------

def _theirs(study, name: str) -> Cell | None:
    if name == "design":
        return Cell(text=study.design, source=study.citation, source_quality="")
    if name == "regimen":
        return Cell(text=study.regimen, source=study.citation, source_quality="")
    v = study.get(name)
    if v is None:
        return None
    d = v.data
    c = Cell(value=v.number, ci=v.ci, n=d.get("n"), N=d.get("N"), source=f"{v.source.key}: {v.source.citation}",
             source_quality=v.source_quality, where=v.where, quote=v.quote,
             detail="; ".join(str(d[k]) for k in ("assessment", "method") if k in d))
    if v.kind == "percent":
        counts = f"{d['n']}/{d['N']}" if d.get("n") is not None and d.get("N") else ""
        c.text = f"{_g(v.number)}" + (f" ({counts})" if counts else "") if "pct" in d else \
            f"{v.number:.1f} ({counts}, computed from n/N)"
    elif v.kind == "median" and d.get("reached") is False:
        c.text = "not reached"
    elif v.kind in ("date", "text"):
        c.text = str(d["value"])
    else:
        c.text = _g(v.number)
    if v.ci:
        c.text += f" [{_ci_text(v.ci)}]"
    if "range" in d:
        c.text += f" (range {_g(d['range'][0])}-{_g(d['range'][1])})"
        c.detail = (c.detail + "; " if c.detail else "") + f"range {d['range'][0]}-{d['range'][1]}"
    if d.get("assessment") and d["assessment"] != "best":
        c.text += f" ({d['assessment']})"
    if v.source_quality.startswith("S-"):
        c.text += f" [{v.source_quality}]"
    return c


# ---- tests ----------------------------------------------------------------------------------------------

def smd_proportions(p1: float, p2: float) -> float | None:
    """Standardized difference of two proportions (0-1): (p1-p2)/sqrt((p1(1-p1)+p2(1-p2))/2)."""
    var = (p1 * (1 - p1) + p2 * (1 - p2)) / 2
    if var == 0:
        return 0.0 if p1 == p2 else None
    return (p1 - p2) / math.sqrt(var)


def smd_means(m1: float, s1: float, m2: float, s2: float) -> float:
    return (m1 - m2) / math.sqrt((s1 ** 2 + s2 ** 2) / 2)


def _rate_test(ours: Cell, theirs: Cell, study, measure: str, assessment: str, conf: float) -> dict:
    p0 = theirs.value / 100
    p = binomtest(ours.n, ours.N, p0).pvalue if 0 <= p0 <= 1 else None
    lo, hi = theirs.ci or (None, None)
    inside = None if lo is None or hi is None else bool(lo <= ours.value <= hi)
    return {"study": study.id, "label": study.label, "kind": "rate", "item": measure, "assessment_ours": ours.detail,
            "assessment_published": assessment, "ours": ours.value, "ours_x": ours.n, "ours_n": ours.N,
            "ours_ci_low": ours.ci[0], "ours_ci_high": ours.ci[1], "ours_ci_method": f"exact (Clopper-Pearson), {conf:.0%}",
            "published": theirs.value, "published_ci_low": lo, "published_ci_high": hi,
            "inside_published_ci": inside, "binomial_p": p, "source_quality": theirs.source_quality,
            "note": "" if theirs.ci else "no CI published"}


def _smd_rows(ours: dict, study) -> list[dict]:
    rows = []
    for name in BASELINE:
        o, t = ours.get(name), study.get(name)
        if o is None or t is None or t.number is None:
            continue
        s = smd_proportions(o.value / 100, t.number / 100)
        rows.append({"study": study.id, "label": study.label, "kind": "smd", "item": name, "ours": o.value,
                     "published": t.number, "smd": s, "source_quality": t.source_quality,
                     "note": "" if s is not None else "undefined (no variance)"})
    for name, mean, sd in (("age_median", "age_mean", "age_sd"),):
        o = ours.get(name + "_mean_sd")
        if o is None or study.get(name) is None and study.get(mean) is None:
            continue
        if study.get(mean) is not None and study.get(sd) is not None:
            s = smd_means(o.value, o.ci[0], study.number(mean), study.number(sd))
            rows.append({"study": study.id, "label": study.label, "kind": "smd", "item": "age (mean)",
                         "ours": o.value, "published": study.number(mean), "smd": s, "note": ""})
        else:
            rows.append({"study": study.id, "label": study.label, "kind": "smd", "item": "age (mean)", "ours": o.value,
                         "published": None, "smd": None,
                         "note": f"cannot be computed: {study.label} publishes a median age "
                                 f"({_g(study.number(name))}), not a mean and SD; a median is not a mean"})
    return rows


# ---- warnings -----------------------------------------------------------------------------------------

def _warnings(ours: dict, study, pats) -> list[dict]:
    w = []

    def add(topic, msg):
        w.append({"study": study.id, "topic": topic, "message": msg})

    basis = study.get("ae_basis")
    bases = {a.data.get("basis") for a in study.adverse_events}
    if (basis and basis.data["value"] == "per event") or "per event" in bases:
        add("adverse events", f"{study.label} reports AE rates per event (share of all AEs), ours are per patient: "
                              "the percentages are not comparable.")
    elif study.adverse_events and (basis is None or basis.data["value"] == "not stated" or "not stated" in bases):
        add("adverse events", f"{study.label}: whether AE rates are per patient or per event is not stated.")
    fu = study.get("followup_median")
    if fu is None:
        add("follow-up", f"{study.label}: median follow-up not reported; data maturity unknown.")
    else:
        if fu.data["method"] != "reverse Kaplan-Meier":
            add("follow-up", f"{study.label}: median follow-up {fu.data['method']} (ours: reverse Kaplan-Meier); "
                             "a plain median of observation times is shorter when many patients died.")
        o = ours.get("followup_median")
        if o and o.value and fu.number and max(o.value, fu.number) / min(o.value, fu.number) >= 1.5:
            add("maturity", f"Different data maturity: our median follow-up {o.value:.1f} months vs "
                            f"{_g(fu.number)} months in {study.label}; medians and rates at a later cut can differ.")
    for name in ("orr", "cr"):
        v = study.get(name)
        if v is not None and v.data["assessment"] != "best":
            how = {"final": "a final (end-of-treatment) response; compared with our final response",
                   "end of induction": "the response at the end of induction; compared with our final response",
                   "not stated": "a response whose type (best or final) is not stated; compared with our best"}
            add("response", f"{study.label} {name.upper()} is {how[v.data['assessment']]}.")
    assessor = study.get("response_assessor")
    if assessor and "independent" in assessor.data["value"] or assessor and "central" in assessor.data["value"]:
        add("response", f"{study.label}: responses assessed centrally ({assessor.data['value']}); ours by investigators.")
    lo, hi = study.number("prior_lines_eligible_min"), study.number("prior_lines_eligible_max")
    if pats is not None and "n_prior_lines" in pats and (lo is not None or hi is not None):
        lines = pats["n_prior_lines"].dropna()
        out = int(((lines < (lo or 0)) | (lines > (hi if hi is not None else np.inf))).sum())
        if out:
            add("eligibility", f"{out} of {len(lines)} ({100 * out / len(lines):.1f}%) of our patients had a number "
                               f"of prior lines outside the {_g(lo)}-{_g(hi)} eligible in {study.label}.")
    elif study.design in ("phase II trial", "matched cohort"):
        add("eligibility", f"{study.label}: line-of-therapy eligibility not recorded in the registry.")
    used = [study.get(r[0]) for r in ROWS if study.get(r[0]) is not None]
    secondary = sorted({v.source_quality for v in used if v.source_quality.startswith("S-")})
    if secondary:
        k = sum(v.source_quality.startswith("S-") for v in used)
        add("sources", f"{k} of {len(used)} numbers for {study.label} are secondary ({', '.join(secondary)}).")
    for c in study.caveats:
        add("caveat", f"{study.label}: {c}")
    return w


# ---- sentences -------------------------------------------------------------------------------------------

def _p(p) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def _rate_sentence(t: dict, conf: float) -> str:
    what = f"{'best' if t['assessment_ours'] == 'best' else 'end-of-treatment'} {t['item']}"
    lvl = f"{conf:.0%}"
    ours = (f"Our {what} of {t['ours']:.1f}% ({lvl} CI {t['ours_ci_low']:.1f}-{t['ours_ci_high']:.1f}; "
            f"{t['ours_x']}/{t['ours_n']})")
    test = f"exact binomial test of our {t['ours_x']}/{t['ours_n']} against {_g(t['published'])}%: {_p(t['binomial_p'])}"
    if t["inside_published_ci"] is None:
        return f"{ours} compares with {_g(t['published'])}% reported for {t['label']} ({test})."
    where = "lies within" if t["inside_published_ci"] else (
        "lies below" if t["ours"] < t["published_ci_low"] else "lies above")
    return (f"{ours} {where} the 95% CI published for {t['label']} "
            f"({_g(t['published_ci_low'])}-{_g(t['published_ci_high'])}; {test}).")


def _sentences(ours, study, tests: list[dict], smd: list[dict], conf: float) -> list[str]:
    out = [_rate_sentence(t, conf) for t in tests]
    for name, what in (("pfs_median", "PFS"), ("os_median", "OS")):
        o, t = ours.get(name), study.get(name)
        if o is None or t is None or o.value is None:
            continue
        theirs = "was not reached" if t.data.get("reached") is False else f"was {_g(t.number)} months"
        out.append(f"Median {what} was {o.value:.1f} months ({conf:.0%} CI {_f1(o.ci[0])}-{_f1(o.ci[1])}) in our "
                   f"cohort; in {study.label} it {theirs} (an unadjusted comparison across different populations).")
    for r in smd:
        if r["smd"] is not None and abs(r["smd"]) >= SMD_NOTABLE:
            more = "more" if r["smd"] > 0 else "fewer"
            out.append(f"Compared with {study.label}, our cohort had {more} {BASELINE[r['item']][1]} "
                       f"({r['ours']:.1f}% vs {_g(r['published'])}%; standardized difference {r['smd']:.2f}).")
    o, t = ours.get("followup_median"), study.get("followup_median")
    if o and t and o.value is not None:
        how = "method not stated" if t.data["method"] == "not stated" else t.data["method"]
        out.append(f"Our median follow-up was {o.value:.1f} months by reverse Kaplan-Meier, against "
                   f"{_g(t.number)} months in {study.label} ({how}).")
    return out


# ---- entry point ------------------------------------------------------------------------------------------

def compare_cohort(results, studies, conventions=None) -> Comparison:
    """Put our `Results` beside registry entries (`rwestudy.registry.Study`)."""
    conf = getattr(conventions, "conf_level", None) or 0.95
    ours = _ours(results, conf)
    pats = getattr(results.endpoints, "patients", None)
    long, tests, warnings, sentences = [], [], [], []
    labels = [s.label for s in studies]  # a repeated label gets its id, so columns stay distinct
    columns = [(OURS, None)] + [(s.label if labels.count(s.label) == 1 else f"{s.label} ({s.id})", s)
                                for s in studies]
    for name, label, _ in ROWS:
        for col, study in columns:
            c = ours.get(name) if study is None else _theirs(study, name)
            if c is None:
                continue
            long.append({"row": name, "label": label, "column": col, "study": "" if study is None else study.id,
                         "value": c.value, "ci_low": c.ci[0] if c.ci else None, "ci_high": c.ci[1] if c.ci else None,
                         "n": c.n, "N": c.N, "detail": c.detail, "text": c.text, "source": c.source,
                         "source_quality": c.source_quality, "where": c.where, "quote": c.quote})
    for s in studies:
        rate_rows = []
        for measure, name, _ in RATES:
            t = _theirs(s, name)
            if t is None or t.value is None:
                continue
            assessment = s.get(name).data.get("assessment", "final")
            mine = ours.get(name if assessment in ("best", "not stated") or name.endswith("_final")
                            else name + "_final")
            if mine is None or not mine.N:
                continue
            rate_rows.append(_rate_test(mine, t, s, measure, assessment, conf))
        smd = _smd_rows(ours, s)
        tests += rate_rows + smd
        warnings += _warnings(ours, s, pats)
        sentences += _sentences(ours, s, rate_rows, [r for r in smd if r["item"] in BASELINE], conf)
    long = pd.DataFrame(long)
    table = long.pivot(index="label", columns="column", values="text") if len(long) else pd.DataFrame()
    if len(table):
        order = [label for _, label, _ in ROWS if label in table.index]
        table = table.loc[order, [c for c, _ in columns if c in table.columns]].fillna("")
        table.index.name, table.columns.name = None, None
    return Comparison(table=table, long=long, tests=pd.DataFrame(tests), warnings=warnings, sentences=sentences,
                      conf_level=conf)
