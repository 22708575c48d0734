"""`render_all`: the report's whole figure set, written as PNG/SVG/PDF, with captions.

Which figures: Kaplan-Meier overall for each endpoint analysed; by each
factor whose log-rank or Gehan p < 0.05 (so the report shows what the text
will discuss, not 30 null curves); one forest plot per factor endpoint; best
and final response; the swimmer plot; adverse events; the oncoprint when
the study has mutations. Each figure is built, saved and dropped at once, so
memory stays flat; ``workers=2`` renders in forked processes (each figure is
independent, and rendering is CPU-bound).
"""
from __future__ import annotations

import gc
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

from rwestudy._trace import mark
from rwestudy.figures import ae, cif, forest, km, oncoprint, response, swimmer
from rwestudy.figures.data import patients as patient_frame, records, study_tables, table
from rwestudy.figures import style
from rwestudy.figures.style import pretty, save_figure

SIGNIFICANCE = 0.05
# Figures drawn from the study and the derived patients only: they can be drawn before the analysis ends.
PATIENT_LEVEL = frozenset({"swimmer", "oncoprint"})


def drawn_early(name: str) -> bool:
    """Figures the report's helper draws while the analysis runs: the patient-level ones and the
    overall Kaplan-Meier curves (from `analysis.run.overall_survival`, the analysis' own records)."""
    return name in PATIENT_LEVEL or (name.startswith("km_") and not name.startswith("km_by_"))
# Relative render time (measured with bench_figures.py), for scheduling the biggest first.
_COST = {"swimmer": 3, "oncoprint": 3, "km_by": 3, "forest": 2, "adverse": 2}


def _cost(name: str) -> int:
    return next((c for prefix, c in _COST.items() if name.startswith(prefix)), 1)


@dataclass
class FigureInfo:
    """One written figure: file stem, caption for the report, and {format: path}."""

    name: str
    title: str
    paths: dict[str, Path] = field(default_factory=dict)


@dataclass
class _Job:
    name: str
    title: str
    build: Callable
    kwargs: dict


def plan_figures(results, study) -> list[_Job]:
    """The figures the data supports, in report order (nothing is drawn here)."""
    jobs: list[_Job] = []
    rec = records(results)
    conv = (rec.get("conventions") or [{}])[0]
    ci = conv.get("km_ci_transform")
    ci_text = f" ({ci} transform)" if isinstance(ci, str) and ci else ""
    ties = str(conv.get("ties") or "").capitalize()
    surv = table(results, "survival")
    kmt = table(results, "km_table")
    endpoints = list(dict.fromkeys(kmt["endpoint"])) if not kmt.empty else []
    for e in endpoints:
        s = surv[(surv["endpoint"] == e) & (surv["group"] == "all")] if not surv.empty else surv
        n = f", {int(s['n'].iloc[0])} patients" if len(s) else ""
        jobs.append(_Job(f"km_{e}", f"Kaplan-Meier estimate of {km.ENDPOINT_NAMES.get(e, e)} ({e}){n}. "
                         f"Shaded band: 95% confidence interval{ci_text}; +: censored; dashed lines: median. "
                         "Numbers at risk under the time axis.", km.km_figure, {"endpoint": e}))
    gt = table(results, "group_tests")
    if not gt.empty:
        # One figure per factor significant on any factor endpoint, its endpoints side by side (A: OS, B: PFS):
        # the reader sees whether OS and PFS agree, and the set stays small.
        sig = gt[gt["p"].astype(float) < SIGNIFICANCE]
        for f in dict.fromkeys(sig["variable"]):
            ends = [e for e in dict.fromkeys(gt.loc[gt["variable"] == f, "endpoint"])
                    if not kmt.empty and ((kmt["endpoint"] == e) & (kmt["group"] == f)).any()]
            if not ends:
                continue
            g = gt[gt["variable"] == f]
            label = str(g["label"].iloc[0])
            tests = " and ".join(km.TEST_NAMES.get(t, t) for t in dict.fromkeys(g["test"]))
            post = bool(g["post_baseline"].fillna(False).any()) if "post_baseline" in g else False
            note = (" Post-baseline factor: groups formed after the start of treatment are subject to "
                    "immortal-time bias (see the landmark and time-dependent analyses).") if post else ""
            which = ", ".join(f"({chr(65 + i)}) {km.ENDPOINT_NAMES.get(e, e)}" for i, e in enumerate(ends)) \
                if len(ends) > 1 else km.ENDPOINT_NAMES.get(ends[0], ends[0])
            jobs.append(_Job(f"km_by_{f}", f"Kaplan-Meier estimates by {pretty(label)}: {which}. P values: "
                             f"{tests} tests; hazard ratio from univariate Cox regression"
                             f"{f' ({ties} ties)' if ties else ''}; +: censored; dashed lines: medians.{note}",
                             km.km_panels, {"endpoints": ends, "factor": f, "label": label}))
    cox = table(results, "cox")
    if not cox.empty:
        for e in dict.fromkeys(cox["endpoint"]):
            jobs.append(_Job(f"forest_{e}", f"Hazard ratios for {km.ENDPOINT_NAMES.get(e, e)} ({e}) with 95% "
                             "confidence intervals: univariate and multivariate Cox regression "
                             f"(log scale){f', {ties} ties' if ties else ''}.", forest.forest_figure,
                             {"endpoint": e}))
    if not table(results, "cif_table").empty:
        jobs.append(_Job("cif", "Cumulative incidence of progression and of death without progression "
                         "(competing risks, Aalen-Johansen; shaded: 95% CI, log(-log) scale). Numbers at risk: "
                         "patients free of both events.", cif.cif_figure, {}))
    resp = table(results, "response")
    if not resp.empty:
        jobs.append(_Job("response", "Best and final response (% of all treated patients, n and % on each "
                         "bar); ORR and CR rate with exact 95% confidence intervals.", response.response_figure, {}))
    pats = patient_frame(results, study)
    if len(pats) and {"treatment_start_date", "diagnosis_date"} <= set(pats.columns):
        jobs.append(_Job("swimmer", "Swimmer plot: one bar per patient from diagnosis to death or last contact: "
                         "time to first relapse/progression after first-line therapy, to the start of the study "
                         "treatment, treatment duration and follow-up after it; markers: first CR/PR, "
                         "progression, death; arrow: alive at last contact.", swimmer.swimmer_figure,
                         {"study": study}))
    aet = table(results, "adverse_events")
    if not aet.empty and (aet["table"] == "by_term").any():
        jobs.append(_Job("adverse_events", "Most frequent adverse events: % of patients with each term, "
                         "stacked by the worst CTCAE grade per patient.", ae.ae_figure, {}))
    mut = study_tables(study).get("mutations")
    if mut is not None and len(mut):
        jobs.append(_Job("oncoprint", "Oncoprint of recorded alterations (genes by frequency; patients "
                         "memo-sorted); top rows: best response and cell of origin. Percentages are of the "
                         "patients with at least one recorded alteration.", oncoprint.oncoprint_figure,
                         {"study": study}))
    return jobs


def _run(job: _Job, results, out_dir, formats, dpi) -> FigureInfo | None:
    fig = job.build(results, **job.kwargs)
    if fig is None:
        return None
    paths = save_figure(fig, out_dir, job.name, formats=formats, dpi=dpi)
    mark(f"figure {job.name} written")
    fig.clear()  # drop artists now: memory stays flat across the set
    return FigureInfo(job.name, job.title, paths)


_SHARED: tuple | None = None  # (jobs, results, out_dir, formats, dpi), inherited by forked workers


def _run_index(i: int) -> FigureInfo | None:
    jobs, results, out_dir, formats, dpi = _SHARED
    return _run(jobs[i], results, out_dir, formats, dpi)


def render_all(results, study, out_dir, formats=("png", "svg"), dpi: int = 300,
               progress: Callable[[str], None] | None = None, workers: int = 1,
               only: set[str] | None = None, skip: set[str] | frozenset = frozenset()) -> list[FigureInfo]:
    """Build and save every figure the data supports; returns them in report order.

    ``workers > 1`` renders in forked processes (POSIX only; falls back to
    serial elsewhere). Results and study reach the workers by fork, not by pickling.
    """
    global _SHARED
    say = progress or (lambda msg: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    formats = tuple(formats)
    # only/skip: a subset of the plan (the background worker draws the patient-level figures early).
    jobs = [j for j in plan_figures(results, study) if (only is None or j.name in only) and j.name not in skip]
    infos: list[FigureInfo | None] = []
    if workers > 1 and len(jobs) > 1 and "fork" in _start_methods():
        style.warm_up(formats)  # once here, not once per forked worker
        # What the workers inherit is skipped by their collector (whose writes would copy every page);
        # unfrozen again below, so a long-lived caller's garbage stays collectable.
        gc.freeze()
        _SHARED = (jobs, results, out_dir, formats, dpi)
        # Biggest figures first, so no worker is left alone with the swimmer at the end.
        order = sorted(range(len(jobs)), key=lambda i: -_cost(jobs[i].name))
        try:
            with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=get_context("fork")) as pool:
                futures = {i: pool.submit(_run_index, i) for i in order}
                for i, job in enumerate(jobs):
                    infos.append(futures[i].result())
                    say(f"Figure {job.name}")
        finally:
            _SHARED = None
            gc.unfreeze()
    else:
        for job in jobs:
            say(f"Figure {job.name}")
            infos.append(_run(job, results, out_dir, formats, dpi))
    return [i for i in infos if i is not None]


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods() if os.name == "posix" else []
