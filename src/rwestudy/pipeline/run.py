"""load -> validate -> derive -> analyse -> render, as plain functions.

The CLI, a Python user and (later) the capture server run a study the same
way: `run_analysis`, `run_report`, `run_compare`, `run_demo`. Nothing here
prints: progress goes to an optional ``progress(message)`` callback, and a
problem the user can fix is a `PipelineError` (one sentence).

>>> import rwestudy
>>> run = rwestudy.run_report("study.xlsx", "report/", cutoff="2025-06-30")   # doctest: +SKIP
>>> run.files.html, run.cutoff.source                                          # doctest: +SKIP
(PosixPath('report/report.html'), 'option')
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rwestudy.pipeline.cutoff import Cutoff, parse_cutoff, resolve_cutoff, study_cutoff
from rwestudy.pipeline.errors import PipelineError, ValidationFailed
from rwestudy.pipeline.helper import figure_helper
from rwestudy.pipeline.output import LOCK_WAIT_S, atomic_file, atomic_folder

Progress = Callable[[str], None]


@dataclass
class AnalysisRun:
    study: object
    plan: object
    results: object
    cutoff: Cutoff
    results_json: Path | None = None


@dataclass
class ReportRun(AnalysisRun):
    out: Path | None = None
    files: object = None  # report.build.ReportFiles, with the paths the files have in ``out``


@dataclass
class CompareRun(AnalysisRun):
    out: Path | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    data: dict = field(default_factory=dict)  # comparison.json


@dataclass
class DemoRun:
    out: Path
    study_path: Path
    study: object
    planted: object = None  # the planted errors (with_errors), a DataFrame
    csv_dir: Path | None = None
    validation_json: Path | None = None
    report: ReportRun | None = None


def _quiet(_msg: str) -> None:
    pass


def load_settings(plan=None, profile: str | None = None):
    """The analysis plan: a `Plan`, a TOML path, or None (defaults); ``profile`` overrides its profile."""
    from rwestudy.analysis.plan import Plan, PlanError, load_plan

    try:
        if isinstance(plan, Plan):
            plan = dataclasses.replace(plan, profile=profile) if profile else plan
            plan.conventions  # noqa: B018  (validates the profile)
            return plan
        return load_plan(plan, profile=profile)
    except PlanError as exc:
        raise PipelineError(str(exc)) from None
    except ValueError as exc:  # a profile name the conventions do not know
        raise PipelineError(str(exc)) from None


def _with_figure_formats(plan, formats):
    """The plan with the figure formats of an option (checked like the plan's own key)."""
    from rwestudy.analysis.plan_check import PlanError, check_figure_formats

    try:
        return dataclasses.replace(plan, figure_formats=check_figure_formats("--figure-formats", formats))
    except PlanError as exc:
        raise PipelineError(str(exc)) from None


def load(study, *, mapping=None, date_format: str | None = None, partial_dates: str | None = None,
         cutoff=None):
    """Read and validate a study (path), or take an already loaded `Study` as it is."""
    from rwestudy.io.mapping import MappingError
    from rwestudy.study import Study, load_study

    if isinstance(study, Study):
        return study
    date = parse_cutoff(cutoff, "--cutoff") if not isinstance(cutoff, Cutoff) else cutoff.date
    try:
        return load_study(study, mapping, date_format=date_format, partial_dates=partial_dates,
                          cutoff_date=None if date is None else date.isoformat())
    except (FileNotFoundError, MappingError) as exc:
        raise PipelineError(str(exc)) from None


def validate_study(study, *, plan=None, cutoff=None, mapping=None, date_format: str | None = None,
                   partial_dates: str | None = None):
    """Read and validate a study with the cut-off the analysis would use (option, then plan, then mapping)."""
    chosen = resolve_cutoff(cutoff, load_settings(plan) if plan is not None else None)
    s = load(study, mapping=mapping, date_format=date_format, partial_dates=partial_dates, cutoff=chosen)
    return _recheck_cutoff(s, chosen) if chosen is not None else s


def _recheck_cutoff(study, cut: Cutoff):
    """A `Study` given loaded, with another cut-off than it was validated with: dates checked again."""
    import pandas as pd

    from rwestudy.validation.findings import combine
    from rwestudy.validation.rules import check_future_dates

    declared = study.config.cutoff_date
    if cut.date is None or (declared is not None and declared.date() == cut.date):
        return study
    stamp = pd.Timestamp(cut.date)
    kept = study.findings.loc[study.findings["rule"] != "date-future"]
    centers = None
    pats = study.tables.get("patients")
    if pats is not None and {"patient_id", "center"} <= set(pats.columns):
        centers = pats.dropna(subset=["patient_id"]).drop_duplicates("patient_id").set_index("patient_id")["center"]
    findings = combine([kept, *check_future_dates(study.tables, stamp)], centers)
    return dataclasses.replace(study, findings=findings,
                               config=dataclasses.replace(study.config, cutoff_date=stamp))


def _validated(study, plan, cutoff, *, mapping, date_format, partial_dates, allow_errors):
    """(study, plan with the cut-off, cut-off): validation and analysis get the same date."""
    from rwestudy.validation.findings import count_by_severity

    chosen = resolve_cutoff(cutoff, plan)
    s = load(study, mapping=mapping, date_format=date_format, partial_dates=partial_dates, cutoff=chosen)
    if chosen is not None:
        s = _recheck_cutoff(s, chosen)
    cut = chosen or study_cutoff(s)
    if s.n_patients == 0:
        # --allow-errors goes on past bad values, but an analysis of nobody is not a result.
        raise ValidationFailed(f"{s.source} has no patients (the patients table is missing or has no rows): "
                               "nothing to analyse, with or without --allow-errors", s)
    n_err = count_by_severity(s.findings)["error"]
    if n_err and not allow_errors:
        raise ValidationFailed(f"validation found {n_err} error(s); fix them (rwestudy validate {s.source}) "
                               "or pass --allow-errors to go on anyway (unreadable values are then NA)", s)
    # The analysis censors at the plan's cutoff; without one set anywhere it censors nothing, as before.
    plan = dataclasses.replace(plan, cutoff=cut.iso) if cut.date is not None else plan
    return s, plan, cut


def _state_cutoff(results, cut: Cutoff) -> None:
    """results.json says where its data_cutoff came from, right after the date."""
    out = {}
    for k, v in results.records["study"][0].items():
        out[k] = v
        if k == "data_cutoff":
            out["data_cutoff_source"] = cut.source
    results.records["study"][0] = out


def _analyse(s, plan, cut, say: Progress, endpoints=None):
    from rwestudy.analysis.run import analyze

    results = analyze(s, plan, progress=say, endpoints=endpoints)
    _state_cutoff(results, cut)
    return results


def run_analysis(study, out=None, *, plan=None, profile: str | None = None, cutoff=None, mapping=None,
                 date_format: str | None = None, partial_dates: str | None = None, allow_errors: bool = False,
                 progress: Progress | None = None, lock_wait_s: float = LOCK_WAIT_S) -> AnalysisRun:
    """Validate and analyse a study; with ``out``, write ``out/results.json`` (whole, or not at all)."""
    from rwestudy.analysis.results import write_results

    say = progress or _quiet
    p = load_settings(plan, profile)
    s, p, cut = _validated(study, p, cutoff, mapping=mapping, date_format=date_format,
                           partial_dates=partial_dates, allow_errors=allow_errors)
    results = _analyse(s, p, cut, say)
    run = AnalysisRun(study=s, plan=p, results=results, cutoff=cut)
    if out is not None:
        target = Path(out) / "results.json"
        with atomic_file(target, wait_s=lock_wait_s) as tmp:
            write_results(results, tmp)
        run.results_json = target
    return run


def _inputs(*things) -> tuple[Path, ...]:
    """The paths among a run's inputs (a `Study` or `Plan` given as an object is no file)."""
    import os

    return tuple(Path(t) for t in things if isinstance(t, (str, os.PathLike)))


def _context_parts(results, ids, maic, registry_dir, figures_dir: Path, say: Progress) -> list[dict]:
    """The report's Context section(s): comparison with published studies, and MAIC when the plan asks."""
    from rwestudy.context.report import context_part
    from rwestudy.context.run import maic_part
    from rwestudy.registry import RegistryError

    parts = []
    try:
        if ids:
            say("Comparing with published studies")
            parts.append(context_part(results, ids, registry_dir=registry_dir, figures_dir=figures_dir))
        if maic:
            say(f"MAIC against {maic}")
            parts.append(maic_part(results, maic, registry_dir=registry_dir))
    except (KeyError, ValueError, RegistryError) as exc:
        raise PipelineError(str(exc).strip('"')) from None
    return parts


def _rebase(path, tmp: Path, out: Path) -> Path:
    return out / Path(path).relative_to(tmp)


def _report_files(files, tmp: Path, out: Path):
    """The files of a report written into ``tmp``, with the paths they have once moved to ``out``."""
    figures = []
    for f in files.figures:
        g = copy.copy(f)
        g.paths = {k: _rebase(v, tmp, out) for k, v in f.paths.items()}
        figures.append(g)
    return dataclasses.replace(files, html=_rebase(files.html, tmp, out), docx=_rebase(files.docx, tmp, out),
                               xlsx=_rebase(files.xlsx, tmp, out),
                               results_json=_rebase(files.results_json, tmp, out), figures=figures)


def _report_into(tmp: Path, s, p, cut, *, figures: bool, context_with, registry_dir, helper, say: Progress):
    """Derive, analyse and write the report's files into ``tmp``."""
    from rwestudy._trace import mark
    from rwestudy.analysis.run import plan_endpoints

    endpoints = plan_endpoints(s, p)  # once, for the analysis and the figure helper
    if helper is not None and figures:
        helper.early(s, endpoints, p, tmp / "figures", formats=p.figure_formats, dpi=p.figure_dpi)
        mark("pipeline: endpoints sent to the figure helper")
    results = _analyse(s, p, cut, say, endpoints=endpoints)
    mark("pipeline: analysis done")
    ids = list(dict.fromkeys([*p.context_studies, *context_with]))
    reg_dir = registry_dir or p.registry_dir
    context = _context_parts(results, ids, p.context_maic, reg_dir, tmp / "figures", say) \
        if ids or p.context_maic else None
    # Imported after the analysis, and the writers' libraries only once the figure helper has the
    # results (python-docx, openpyxl, Jinja2: ~0.15 s that no figure should wait for).
    from rwestudy.report import build_report

    files = build_report(results, s, tmp, figures=figures, context=context, progress=say, figure_worker=helper)
    mark("pipeline: report written")
    return results, files


def run_report(study, out, *, plan=None, profile: str | None = None, cutoff=None, mapping=None,
               date_format: str | None = None, partial_dates: str | None = None, figures: bool = True,
               figure_formats=None,
               context_with=(), registry_dir=None, allow_errors: bool = False, progress: Progress | None = None,
               figure_helper_process: bool = True, lock_wait_s: float = LOCK_WAIT_S,
               exits_after: bool = False) -> ReportRun:
    """Validate, analyse and write the report into ``out`` (report.html, report.docx, tables.xlsx,
    results.json, figures/). ``out`` appears complete or not at all; an earlier report there is
    replaced whole. ``figure_helper_process``: draw the figures in a helper process started now
    (POSIX), while the study is read and analysed. ``figure_formats``: e.g. "png,svg,pdf" or a list,
    instead of the plan's ``[figures] formats``. ``exits_after``: the calling process ends after
    this run (the CLI), so the collector settings of the run are left as they are (`pipeline.helper`)."""
    from rwestudy._trace import mark

    say = progress or _quiet
    out = Path(out)
    p = load_settings(plan, profile)
    if figure_formats is not None:
        p = _with_figure_formats(p, figure_formats)
    mark("pipeline: plan loaded")
    # The helper is forked before the output lock is taken, so it never holds the lock (a forked
    # process shares its parent's flock) and cannot keep it after this run is killed.
    with figure_helper(figures and figure_helper_process, keep_frozen=exits_after) as helper:
        mark("pipeline: figure helper forked")
        with atomic_folder(out, inputs=_inputs(study, mapping, plan, registry_dir), wait_s=lock_wait_s) as tmp:
            s, p, cut = _validated(study, p, cutoff, mapping=mapping, date_format=date_format,
                                   partial_dates=partial_dates, allow_errors=allow_errors)
            mark("pipeline: study read and validated")
            results, files = _report_into(tmp, s, p, cut, figures=figures, context_with=context_with,
                                          registry_dir=registry_dir, helper=helper, say=say)
    files = _report_files(files, tmp, out)
    return ReportRun(study=s, plan=p, results=results, cutoff=cut, results_json=files.results_json, out=out,
                     files=files)


def run_compare(study, out, *, with_=(), maic: str | None = None, maic_vars=None, curve=None, risk=None,
                endpoint: str = "PFS", label: str = "published arm", events: int | None = None,
                n_boot: int = 1000, registry_dir=None, plan=None, profile: str | None = None, cutoff=None,
                mapping=None, allow_errors: bool = False, progress: Progress | None = None,
                lock_wait_s: float = LOCK_WAIT_S) -> CompareRun:
    """Our cohort beside published studies: comparison.html/.docx/.xlsx/.json (and figures/) in ``out``."""
    import json

    from rwestudy.context.run import run_compare as write_comparison
    from rwestudy.registry import RegistryError

    say = progress or _quiet
    if (curve is None) != (risk is None):
        raise PipelineError("--curve and --risk go together: the digitised curve and its published numbers at risk")
    out = Path(out)
    p = load_settings(plan, profile)
    s, p, cut = _validated(study, p, cutoff, mapping=mapping, date_format=None, partial_dates=None,
                           allow_errors=allow_errors)
    results = _analyse(s, p, cut, say)
    with atomic_folder(out, inputs=_inputs(study, mapping, curve, risk, registry_dir), wait_s=lock_wait_s) as tmp:
        try:
            paths = write_comparison(results, list(with_), tmp, registry_dir=registry_dir, maic=maic,
                                     maic_vars=list(maic_vars or []) or None, curve=curve, risk=risk,
                                     endpoint=endpoint, label=label, total_events=events, n_boot=n_boot,
                                     progress=say)
        except (ValueError, KeyError, RegistryError) as exc:
            raise PipelineError(str(exc).strip('"')) from None
        except OSError as exc:
            raise PipelineError(f"cannot read {exc.filename}: {exc.strerror}") from None
    paths = {k: _rebase(v, tmp, out) for k, v in paths.items()}
    return CompareRun(study=s, plan=p, results=results, cutoff=cut, out=out, paths=paths,
                      data=json.loads(paths["json"].read_text(encoding="utf-8")))


def run_demo(out, *, with_errors: bool = False, patients: int = 96, centers: int = 26, seed: int = 20240611,
             csv: bool = False, progress: Progress | None = None, lock_wait_s: float = LOCK_WAIT_S,
             exits_after: bool = False) -> DemoRun:
    """The shipped synthetic study in ``out``: study.xlsx, validation.json and, when it has no error,
    its full report (with ``with_errors``: planted_errors.csv and no report)."""
    import json

    from rwestudy.demo.errors import plant_errors
    from rwestudy.demo.generator import make_study
    from rwestudy.io.writers import write_csv_folder, write_workbook
    from rwestudy.study import load_study

    say = progress or _quiet
    out = Path(out)
    with figure_helper(not with_errors, keep_frozen=exits_after) as helper:  # before the lock: see run_report
        with atomic_folder(out, wait_s=lock_wait_s) as tmp:
            say("Generating the demo study")
            tables = make_study(n_patients=patients, n_centers=centers, seed=seed)
            planted = None
            if with_errors:
                tables, planted = plant_errors(tables, seed=seed)
                planted.to_csv(tmp / "planted_errors.csv", index=False)
            write_workbook(tables, tmp / "study.xlsx")
            if csv:
                write_csv_folder(tables, tmp / "csv")
            say("Validating")
            # Named by where it will be: the folder is moved into place when complete.
            study = dataclasses.replace(load_study(tmp / "study.xlsx"), source=str(out / "study.xlsx"))
            (tmp / "validation.json").write_text(json.dumps(study.to_dict(), indent=2, default=str),
                                                 encoding="utf-8")
            demo = DemoRun(out=out, study_path=out / "study.xlsx", study=study, planted=planted,
                           csv_dir=out / "csv" if csv else None, validation_json=out / "validation.json")
            if study.ok:
                p = load_settings()
                cut = study_cutoff(study)
                results, files = _report_into(tmp, study, p, cut, figures=True, context_with=(),
                                              registry_dir=None, helper=helper, say=say)
                demo.report = ReportRun(study=study, plan=p, results=results, cutoff=cut, out=out,
                                        files=_report_files(files, tmp, out))
                demo.report.results_json = demo.report.files.results_json
    return demo
