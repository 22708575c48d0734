"""`analyze`: the standard analysis of a real-world treatment study, as tidy records.

One call derives the endpoints and computes everything the TALOs paper
reports (and the honest analyses it lacked), writing each number once into
`Results.records` (the content of results.json). Every statistic comes from
`rwestudy.stats`, so the numbers checked against R are the numbers printed.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from rwestudy import __version__
from rwestudy.analysis.exposure import death_causes, subsequent_therapies, treatment_exposure
from rwestudy.analysis.plan import Plan
from rwestudy.analysis.lugano_agreement import NOTE as LUGANO_NOTE, lugano_agreement_records
from rwestudy.analysis.variables import categorise, is_continuous
from rwestudy.endpoints import Endpoints, derive_endpoints
from rwestudy.endpoints.inputs import typed_tables
from rwestudy.stats.adverse_events import ae_tables
from rwestudy.stats.association import compare_categorical
from rwestudy.stats.cox import cox, cox_stepwise, cox_univariate, ph_test
from rwestudy.stats.descriptive import table_one
from rwestudy.stats.group_tests import compare_survival
from rwestudy.stats.response import response_table
from rwestudy.stats.survival import kaplan_meier, reverse_km_followup
from rwestudy.exceptions import ExcludedRowsWarning

# Date that makes each post-baseline factor true (for landmark and time-dependent analyses).
FACTOR_DATES = {"dose_reduced": "reduction_date", "toxicity": "first_grade3_ae_date"}
FACTOR_LABELS = {
    "sex": "Sex", "age_ge70_diagnosis": "Age >= 70 at diagnosis", "age_ge70_start": "Age >= 70 at start",
    "double_hit": "Double-hit", "stage_3_4": "Stage III-IV", "prior_asct": "Prior ASCT",
    "extranodal": "Extranodal disease", "primary_refractory": "Primary refractory",
    "b_symptoms": "B symptoms", "ecog_2_3": "ECOG 2-3", "bulky": "Bulky disease",
    "ldh_increased": "LDH increased", "refractory_last_line": "Refractory to last line",
    "toxicity": "Toxicity (grade >= 3 AE)", "dose_reduced": "Dose reduction",
}


@dataclass
class Results:
    """Tidy records per section (lists of dicts), plus the derived endpoints."""

    records: dict[str, list[dict]]
    endpoints: object = None
    plan: Plan | None = None
    notes: list[str] = field(default_factory=list)

    def table(self, section: str) -> pd.DataFrame:
        return pd.DataFrame(self.records.get(section, []))

    def to_json_dict(self) -> dict:
        return _clean(self.records)


def _clean(x):
    """JSON-safe: NaN/NA -> None, numpy scalars -> Python, timestamps -> ISO dates."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (pd.Timestamp,)):
        return None if pd.isna(x) else x.strftime("%Y-%m-%d")
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    return x


def _records(frame: pd.DataFrame, **constant) -> list[dict]:
    if frame is None or len(frame) == 0:
        return []
    rows = frame.to_dict(orient="records")  # NaN/NA/NaT become None in _clean, when results.json is written
    if constant:
        for r in rows:
            r.update(constant)
    return [{k: (None if _is_missing(v) else v) for k, v in r.items()} for r in rows]


def _is_missing(v) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)


def _endpoint_rows(ep, endpoint: str) -> pd.DataFrame:
    # Cached per Endpoints object: the same endpoint is sliced once per factor otherwise.
    cache = ep.__dict__.setdefault("_rows_cache", {})
    if endpoint not in cache:
        cache[endpoint] = ep.endpoint(endpoint)
    return cache[endpoint]


def _grouped_factors(pats: pd.DataFrame, plan: Plan) -> tuple[pd.DataFrame, list[dict], list[str]]:
    """The patients table as the factor analyses see it: each variable with cut points in the plan
    replaced by its groups. Returns that table, the grouping rules (for results.json) and the
    continuous variables without cut points, which are not grouping factors."""
    out, rules, continuous = pats, [], []
    wanted = [*plan.factors, *([plan.baseline_by] if plan.baseline_by else [])]
    for f in dict.fromkeys(wanted):
        if f not in pats.columns:
            continue
        if f in plan.factor_cuts:
            groups, rule = categorise(pats[f], plan.factor_cuts[f], f)
            out = out.assign(**{f: groups})
            rules.append({"variable": f, "label": FACTOR_LABELS.get(f, f), "cuts": plan.factor_cuts[f],
                          "levels": list(groups.cat.categories), "n_missing": int(groups.isna().sum()),
                          "rule": rule})
        elif is_continuous(f, pats[f]):
            continuous.append(f)
    return out, rules, continuous


def _factor_frame(ep, endpoint: str, factor: str, lookup: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Endpoint rows with the factor attached; rows with the factor missing dropped and counted."""
    d = _endpoint_rows(ep, endpoint)
    values = lookup[factor]
    d = d.assign(**{factor: d["patient_id"].map(values)})
    missing = int(d[factor].isna().sum())
    d = d.loc[d[factor].notna()].copy()
    if pd.api.types.is_bool_dtype(d[factor]) or str(d[factor].dtype) == "boolean":
        d[factor] = d[factor].map({True: "yes", False: "no"})
        d[factor] = pd.Categorical(d[factor], categories=["no", "yes"])
    return d, missing


def plan_endpoints(study, plan: Plan | None = None) -> Endpoints:
    """The study's endpoints derived with the plan's settings (months, cut-off, AE window)."""
    plan = plan or Plan()
    return derive_endpoints(study, days_per_month=plan.days_per_month, cutoff=plan.cutoff,
                            ae_window_days=plan.ae_window_days, response_source=plan.response_source)


def overall_survival(ep: Endpoints, plan: Plan) -> tuple[dict[str, list[dict]], list[str]]:
    """Kaplan-Meier of every endpoint over all patients: the survival, landmarks and km_table records,
    and the endpoints with no patient. One function for the analysis and the figure helper, which
    draws the overall curves from it while the rest of the analysis runs."""
    rec: dict[str, list[dict]] = {"survival": [], "landmarks": [], "km_table": []}
    empty = []
    for e in plan.endpoints:
        d = ep.endpoint(e)
        if len(d) == 0:
            empty.append(e)
            continue
        km = kaplan_meier(d, "time", "event", conventions=plan.conventions)
        rec["survival"] += _records(km.medians.drop(columns=["group"], errors="ignore"), endpoint=e, group="all")
        rec["landmarks"] += _records(km.at(plan.landmarks).drop(columns=["group"], errors="ignore"),
                                     endpoint=e, group="all")
        rec["km_table"] += _records(km.table.drop(columns=["group"], errors="ignore"), endpoint=e, group="all")
    return rec, empty


def analyze(study, plan: Plan | None = None, progress: Callable[[str], None] | None = None,
            endpoints: Endpoints | None = None) -> Results:
    """Run the standard analysis on a `Study` (or a dict of canonical tables).

    ``endpoints``: already derived from this study with `plan_endpoints(study, plan)`
    (the report derives them once and shares them with its figure helper).
    """
    plan = plan or Plan()
    conv = plan.conventions
    say = progress or (lambda msg: None)
    say("Deriving endpoints")
    ep = endpoints if endpoints is not None else plan_endpoints(study, plan)
    rec: dict[str, list[dict]] = {}
    notes = list(ep.notes)
    pats = ep.patients
    findings = getattr(study, "findings", None)
    rec["study"] = [{
        "n_patients": int(ep.flow_summary().set_index("scope").loc["study", "n_in"]),
        "n_analysed": len(pats), "n_centers": int(pats["center"].nunique()) if "center" in pats else None,
        "data_cutoff": plan.cutoff or (pats["last_contact_date"].max() if "last_contact_date" in pats else None),
        "source": getattr(study, "source", None), "software": f"rwestudy {__version__}",
        "months": f"days / {plan.days_per_month}",
        "software_versions": _software_versions(),
    }]
    rec["conventions"] = [dict(conv.to_dict(), description=" ".join(conv.describe()))]
    rec["censoring"] = [{"rule": r} for r in ep.censoring]

    fpats, group_rules, continuous = _grouped_factors(pats, plan)
    rec["factor_groups"] = group_rules
    notes += [f"{r['rule']} (stated in the plan); every analysis by {r['variable']} uses these groups."
              for r in group_rules]

    say("Baseline table")
    by = plan.baseline_by if plan.baseline_by in pats.columns else None
    if by is not None and by in continuous:
        notes.append(f"Table 1 not split by {by}: a continuous number needs cut points ([factors] cuts)")
        by = None
    if plan.baseline_by and by is None and plan.baseline_by not in pats.columns:
        notes.append(f"Table 1 not split by {plan.baseline_by}: the study has no such column")
    # the grouping variable is the columns of Table 1, not one of its rows
    variables = [v for v in plan.baseline if v in pats.columns and pats[v].notna().any() and v != by]
    t1 = table_one(pats.assign(**{by: fpats[by]}) if by else pats, variables, by=by, conventions=conv,
                   tests=by is not None)
    rec["baseline"] = _records(t1.records.rename(columns={"level_or_statistic": "level"}))
    rec["baseline_tests"] = _records(t1.tests) if by else []

    say("Response")
    rec["response"] = []
    for assessment, column in (("best", "best_response"), ("final", "final_response")):
        if column in pats and pats[column].notna().any():
            rec["response"] += _records(response_table(pats, column, conventions=conv), assessment=assessment)

    say("Survival")
    overall, empty = overall_survival(ep, plan)
    rec.update(overall)
    notes += [f"{e}: no patient can be analysed (see the patient flow)" for e in empty]
    os_d = ep.endpoint("OS")
    rec["follow_up"] = []
    if len(os_d):
        fu = reverse_km_followup(os_d, "time", "event", conventions=conv).table.iloc[0]
        rec["follow_up"].append({"method": "reverse Kaplan-Meier (OS, censoring as event)",
                                 "median": fu["median_followup"], "ci_low": fu["ci_low"],
                                 "ci_high": fu["ci_high"], "n": int(fu["n"])})
        rec["follow_up"].append({"method": "median observation time, all patients",
                                 "median": float(os_d["time"].median()), "ci_low": None, "ci_high": None,
                                 "n": len(os_d)})
        alive = os_d.loc[os_d["event"] == 0, "time"]
        rec["follow_up"].append({"method": "median observation time, patients alive",
                                 "median": float(alive.median()) if len(alive) else None,
                                 "ci_low": None, "ci_high": None, "n": len(alive)})

    say("Factors: Kaplan-Meier, tests, Cox")
    factors = [f for f in plan.factors if f in fpats.columns and f not in continuous
               and fpats[f].dropna().nunique() >= 2]
    skipped = [f for f in plan.factors if f not in factors and f not in continuous]
    if continuous:
        notes.append("continuous numbers not analysed as grouping factors (a log-rank test would compare one "
                     "group per value; give cut points in [factors] cuts): " + ", ".join(continuous))
    if skipped:
        notes.append("factors not analysed (absent or a single level in the data): " + ", ".join(skipped))
    rec["group_tests"], rec["cox"], rec["ph_tests"], rec["stepwise_history"] = [], [], [], []
    tests = list(dict.fromkeys(plan.group_tests))
    lookup = fpats.set_index("patient_id")
    factor_flow: list[dict] = []
    for e in plan.factor_endpoints:
        for f in factors:
            d, missing = _factor_frame(ep, e, f, lookup)
            if missing:  # dropped from this comparison, as R does, and counted in the patient flow
                factor_flow.append({"endpoint": f"{e} by {f}", "n_in": len(d) + missing,
                                    "reason": f"missing {f}", "n": missing})
            if d[f].nunique() < 2 or len(d) == 0:
                continue
            km = kaplan_meier(d, "time", "event", by=f, conventions=conv)
            rec["survival"] += _records(km.medians.rename(columns={"group": "level"}), endpoint=e, group=f)
            rec["km_table"] += _records(km.table.rename(columns={"group": "level"}), endpoint=e, group=f)
            for t in tests:
                g = compare_survival(d, "time", "event", by=f, test=t, conventions=conv)
                rec["group_tests"].append({"endpoint": e, "variable": f, "label": FACTOR_LABELS.get(f, f),
                                           "test": g.test, "statistic": g.statistic, "df": g.df, "p": g.p,
                                           "n": len(d), "n_missing": missing,
                                           "post_baseline": f in plan.post_baseline})
        rec["cox"] += _cox_models(ep, e, factors, plan, conv, rec, notes, lookup)

    say("Post-baseline factors: landmark and time-dependent Cox")
    rec["post_baseline"] = []
    for e in plan.factor_endpoints:
        for f in plan.post_baseline:
            if f in factors:
                rec["post_baseline"] += _post_baseline(ep, e, f, plan, conv)
    if rec["post_baseline"]:
        notes.append("Immortal-time bias: " + ", ".join(FACTOR_LABELS.get(f, f) for f in plan.post_baseline
                                                         if f in factors)
                     + " happen after the start of treatment; a patient must live long enough to have them, so "
                     "comparing them as fixed baseline groups overstates their benefit. See the landmark and "
                     "time-dependent Cox analyses (post_baseline).")

    _reviewer_analyses(ep, plan, conv, factors, lookup, rec, notes, say)

    say("Associations with response")
    rec["associations"] = []
    for outcome in plan.response_outcomes:
        if outcome not in pats:
            continue
        for f in factors:
            sub = fpats[[outcome, f]].dropna()
            if sub[outcome].nunique() < 2 or sub[f].nunique() < 2:
                continue
            r = compare_categorical(fpats.assign(**{outcome: fpats[outcome].astype("object"),
                                                    f: fpats[f].astype("object")}), outcome, f, conventions=conv)
            rec["associations"].append({"outcome": outcome, "variable": f, "test": r.test,
                                        "statistic": r.statistic, "df": r.df, "p": r.p, "rule": r.rule,
                                        "n": r.n_used, "n_excluded": r.n_excluded})

    say("Adverse events")
    rec["adverse_events"] = []
    ae = ep.tables.get("adverse_events")
    if ae is not None and len(ae):
        known = ae
        if "onset_date" in known and {"treatment_start_date", "treatment_end_date"} <= set(pats.columns):
            window = ("treatment_start_date", "treatment_end_date", plan.ae_window_days)
        else:
            window = False
            notes.append("AE onset or treatment dates absent: every adverse event is counted (no window)")
        at = ae_tables(known, pats, window=window, conventions=conv)
        rec["adverse_events"] += _records(at.by_category.rename(columns={"grade_band": "grade"}),
                                          table="by_category", term="any", drug="any")
        rec["adverse_events"] += _records(at.by_term.rename(columns={"grade_band": "grade"}),
                                          table="by_term", drug="any")
        rec["adverse_events"] += _records(at.by_drug.rename(columns={"grade_band": "grade", "attribution": "drug"}),
                                          table="by_drug")
        rec["adverse_events"] += _records(at.serious, table="serious", grade="any", drug="any")
        notes += list(at.notes)
        if len(at.excluded):
            notes.append(f"{len(at.excluded)} adverse events outside the window ({at.window}) not counted")

    say("Treatment exposure, subsequent therapies, deaths")
    rec["treatment_exposure"] = treatment_exposure(ep.tables.get("treatment"), len(pats))
    rec["subsequent_therapies"] = subsequent_therapies(ep.tables.get("subsequent_therapies"), len(pats))
    rec["death_causes"] = death_causes(pats)

    notes += _missing_factor_notes(fpats, factors, factor_flow)
    rec["patient_flow"] = _records(ep.flow) + _factor_flow_records(factor_flow)
    rec["exclusions"] = (_records(ep.exclusions.groupby(["endpoint", "reason"]).size().rename("n").reset_index())
                         + [{"endpoint": x["endpoint"], "reason": x["reason"], "n": x["n"]} for x in factor_flow])
    rec["findings"] = _records(findings) if findings is not None else []
    rec.update(_lugano_agreement(study))
    if rec["lugano_summary"]:
        notes.append(LUGANO_NOTE)
    rec.update(_mutation_records(ep, plan, notes))
    rec["notes"] = [{"note": n} for n in notes]
    rec["plan"] = [_clean(plan.to_dict())]
    say("Done")
    return Results(records=rec, endpoints=ep, plan=plan, notes=notes)


def _reviewer_analyses(ep, plan, conv, factors, lookup, rec, notes, say) -> None:
    """Competing risks, center effects and RMST: the statistics a reviewer asks for next."""
    from rwestudy.analysis.center_effects import CHOICE, center_effect_records
    from rwestudy.analysis.competing import RULE, competing_records
    from rwestudy.analysis.restricted_mean import rmst_records

    frames: dict = {}

    def frame_for(e, f):   # shared by the competing-risks and RMST sections (read-only there)
        if (e, f) not in frames:
            frames[e, f] = _factor_frame(ep, e, f, lookup)
        return frames[e, f]

    say("Competing risks")
    gray_factors = factors if "PFS" in plan.factor_endpoints else []
    if plan.competing_risks:
        rec.update(competing_records(ep, plan.landmarks, gray_factors, frame_for, FACTOR_LABELS,
                                     regression=plan.competing_regression))
    else:
        rec.update({"cif": [], "cif_table": [], "gray_tests": [], "competing_regression": []})
    if rec["cif"]:
        notes.append(RULE)
    say("Center effects")
    rec["center_effects"] = []
    centers = ep.patients.set_index("patient_id")["center"] if "center" in ep.patients else None
    if centers is not None and centers.nunique() > 1:
        for e in plan.factor_endpoints:
            chosen = sorted({r["variable"] for r in rec["cox"] if r["endpoint"] == e and r["model"] == "multivariate"})
            if chosen:
                d = _cox_frame(ep, e, chosen, lookup)
                d["center"] = d["patient_id"].map(centers)
                rec["center_effects"] += center_effect_records(d, e, [f for f in factors if f in chosen], conv,
                                                               FACTOR_LABELS, methods=plan.center_methods)
        if rec["center_effects"]:
            notes.append(CHOICE)
    say("Restricted mean survival time")
    horizon = plan.rmst_horizon or (float(max(plan.landmarks)) if plan.landmarks else 24.0)
    rec.update(rmst_records(ep, plan.endpoints, plan.factor_endpoints, factors, horizon, frame_for,
                            FACTOR_LABELS, conv.conf_level))


def _mutation_records(ep, plan, notes: list[str]) -> dict[str, list[dict]]:
    """Per-gene frequencies and OS/PFS mutated vs wild-type, when the study has a mutations table.

    Tested = the analysed patients with at least one row in the mutations table: the table lists
    altered genes, so a patient sequenced without any alteration cannot be told from one not
    sequenced (`rwestudy mutations` with a MAF and its sample table knows who was sequenced).
    """
    from rwestudy.analysis.mutation_survival import MIN_MUTATED, gene_frequencies, survival_by_gene

    mut = ep.tables.get("mutations")
    if mut is None or not len(mut) or "gene" not in mut:
        return {"mutation_frequencies": [], "mutation_survival": []}
    mut = mut.dropna(subset=["patient_id", "gene"])
    tested = sorted(set(mut["patient_id"].astype(str)))
    mut = mut.assign(patient_id=mut["patient_id"].astype(str))
    tte = ep.time_to_event.assign(patient_id=ep.time_to_event["patient_id"].astype(str))
    endpoints = [e for e in ("OS", "PFS") if e in plan.endpoints]
    freq = gene_frequencies(mut, tested)
    by_gene = survival_by_gene(mut, tte[["patient_id", "endpoint", "time", "event"]], tested, endpoints=endpoints)
    n_tests = int(by_gene["tested"].sum()) if len(by_gene) else 0
    notes.append(f"Mutations: {len(tested)} patients with at least one recorded alteration are the denominator "
                 f"(patients sequenced without alterations cannot be told apart in the mutations table); "
                 f"{n_tests} log-rank comparisons of mutated vs wild-type (genes with at least {MIN_MUTATED} "
                 "patients in each group), Benjamini-Hochberg q-values per endpoint. Exploratory: see the events "
                 "in each group.")
    keep = ["gene", "n_mutated", "n_tested", "percent"]
    return {"mutation_frequencies": _records(freq[keep]),
            "mutation_survival": _records(by_gene.astype({"tested": bool}))}


def _lugano_agreement(study) -> dict[str, list[dict]]:
    """Agreement records from the typed tables (a Study's are; a dict given to analyze holds raw cells)."""
    if not isinstance(study, dict):
        return lugano_agreement_records(getattr(study, "tables", {}))
    return lugano_agreement_records(typed_tables(study)[0] if "assessments" in study else {})


def _factor_flow_records(factor_flow: list[dict]) -> list[dict]:
    """One balanced flow scope per comparison that lost patients to a missing factor value."""
    out = []
    for x in factor_flow:
        out += [{"scope": x["endpoint"], "step": "in", "reason": "", "n": x["n_in"]},
                {"scope": x["endpoint"], "step": "excluded", "reason": x["reason"], "n": x["n"]},
                {"scope": x["endpoint"], "step": "analysed", "reason": "", "n": x["n_in"] - x["n"]}]
    return out


def _missing_factor_notes(fpats: pd.DataFrame, factors: list[str], factor_flow: list[dict]) -> list[str]:
    """One sentence per factor with missing values: how many patients, which comparisons lost them."""
    notes = []
    for f in factors:
        n = int(fpats[f].isna().sum())
        if n:
            where = [x["endpoint"].split(" by ")[0] for x in factor_flow if x["endpoint"].endswith(f" by {f}")]
            notes.append(f"{n} patient{'s' if n > 1 else ''} with missing {FACTOR_LABELS.get(f, f)} excluded from "
                         f"the comparisons by {f} ({', '.join(where) or 'response associations'}), as R does; "
                         "see the patient flow.")
    return notes


def _software_versions() -> str:
    """Versions for the Methods paragraph (the numeric libraries behind every statistic)."""
    import platform
    import scipy
    return (f"rwestudy {__version__}; Python {platform.python_version()}; numpy {np.__version__}; "
            f"scipy {scipy.__version__}; pandas {pd.__version__}")


def _cox_frame(ep, endpoint: str, factors: list[str], p: pd.DataFrame) -> pd.DataFrame:
    d = ep.endpoint(endpoint)
    for f in factors:
        v = d["patient_id"].map(p[f])
        if str(v.dtype) == "boolean" or pd.api.types.is_bool_dtype(v):
            v = v.astype("Float64").astype("float64")
        elif f == "sex":
            v = pd.Categorical(v, categories=["F", "M"])
        d[f] = v
    return d


def _cox_records(fit, endpoint, model, plan) -> list[dict]:
    t = fit.table
    return [{"endpoint": endpoint, "model": model, "term": r.term, "variable": r.variable,
             "label": FACTOR_LABELS.get(r.variable, r.variable), "hr": r.hr, "ci_low": r.ci_low,
             "ci_high": r.ci_high, "p": r.p, "p_wald": r.p_wald, "coef": r.coef, "se": r.se,
             "n": fit.n, "events": fit.events, "n_excluded": fit.n_excluded, "monotone": bool(r.monotone),
             "post_baseline": r.variable in plan.post_baseline, "ties": fit.ties,
             "concordance": fit.concordance} for r in t.itertuples()]


def _cox_models(ep, e, factors, plan, conv, rec, notes, lookup) -> list[dict]:
    d = _cox_frame(ep, e, factors, lookup)
    out = []
    if not factors or d["event"].sum() == 0:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExcludedRowsWarning)  # exclusions are in the records
        uni = cox_univariate(d, "time", "event", factors, ties=conv.ties, conventions=conv)
        for f, fit in uni.fits.items():
            out += _cox_records(fit, e, "univariate", plan)
            if fit.any_monotone:
                firth = cox(d, "time", "event", [f], firth=True, conventions=conv)
                out += _cox_records(firth, e, "univariate (Firth)", plan)
                notes.append(f"{e}, {FACTOR_LABELS.get(f, f)}: monotone likelihood (a level with no events); "
                             "the HR is not estimable by Cox; Firth-penalised estimate given instead")
        p_var = uni.table.groupby("variable")["p_variable"].first()
        chosen = factors if plan.multivariate == "all" else [f for f in factors
                                                             if p_var.get(f, 1.0) < plan.stepwise_threshold]
        if len(chosen) >= 1:
            multi = cox(d, "time", "event", chosen, ties=conv.ties, conventions=conv)
            out += _cox_records(multi, e, "multivariate", plan)
            if not multi.any_monotone and multi.events > len(multi.table):
                ph = ph_test(multi)
                rec["ph_tests"] += _records(ph.table, endpoint=e, model="multivariate")
            step = cox_stepwise(d, "time", "event", chosen, threshold=plan.stepwise_threshold,
                                test=plan.stepwise_test, ties=conv.ties, conventions=conv)
            # the final fit runs on the complete cases of all candidates: count those exclusions
            out += [dict(r, n_excluded=step.n_excluded) for r in _cox_records(step.final, e, "stepwise", plan)]
            rec["stepwise_history"] += _records(step.history, endpoint=e)
    return out


def _post_baseline(ep, e: str, f: str, plan: Plan, conv) -> list[dict]:
    """Landmark analysis and time-dependent Cox for a factor that happens after the index date."""
    date_col = FACTOR_DATES.get(f)
    d = ep.endpoint(e)
    p = ep.patients.set_index("patient_id")
    status = d["patient_id"].map(p[f]).astype("boolean")
    out = []
    if date_col is None or date_col not in p.columns:
        return out
    t_change = (d["patient_id"].map(p[date_col]) - d["start_date"]).dt.days / plan.days_per_month
    undated = status.fillna(False) & t_change.isna()
    base = {"endpoint": e, "variable": f, "label": FACTOR_LABELS.get(f, f)}
    # Landmark: patients still in follow-up at L; factor = happened by L; time from L.
    L = plan.landmark_months
    lm = d.assign(x=(status.fillna(False) & (t_change <= L)).astype(float)).loc[(d["time"] > L) & ~undated]
    lm = lm.assign(time=lm["time"] - L)
    if lm["x"].nunique() == 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExcludedRowsWarning)
            fit = cox(lm, "time", "event", ["x"], ties=conv.ties, conventions=conv)
        g = compare_survival(lm.assign(x=lm["x"].map({0.0: "no", 1.0: "yes"})), "time", "event", by="x",
                             test="logrank", conventions=conv)
        r = fit.table.iloc[0]
        out.append(dict(base, analysis=f"landmark at {L:g} months", hr=r.hr, ci_low=r.ci_low, ci_high=r.ci_high,
                        p=r.p, logrank_p=g.p, n=fit.n, events=fit.events, n_excluded_undated=int(undated.sum()),
                        monotone=bool(r.monotone)))
    # Time-dependent Cox: (start, stop] rows, x switches from 0 to 1 at the factor date.
    rows = d.loc[~undated].assign(tc=t_change[~undated], s=status[~undated].fillna(False))
    switch = rows["s"] & (rows["tc"] < rows["time"]) & (rows["tc"] > 0)
    at0 = rows["s"] & (rows["tc"] <= 0)
    before = rows.loc[switch].assign(start=0.0, stop=rows.loc[switch, "tc"], event=0, x=0.0)
    after = rows.loc[switch].assign(start=rows.loc[switch, "tc"], stop=rows.loc[switch, "time"], x=1.0)
    whole = rows.loc[~switch].assign(start=0.0, stop=rows.loc[~switch, "time"], x=at0[~switch].astype(float))
    cp = pd.concat([before, after, whole], ignore_index=True)[["patient_id", "start", "stop", "event", "x"]]
    if cp["x"].nunique() == 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExcludedRowsWarning)
            fit = cox(cp, "stop", "event", ["x"], start="start", ties=conv.ties, conventions=conv)
        r = fit.table.iloc[0]
        out.append(dict(base, analysis="time-dependent Cox (counting process)", hr=r.hr, ci_low=r.ci_low,
                        ci_high=r.ci_high, p=r.p, logrank_p=None, n=int(cp["patient_id"].nunique()),
                        events=fit.events, n_excluded_undated=int(undated.sum()), monotone=bool(r.monotone)))
    return out
