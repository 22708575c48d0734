"""The `rwestudy` command line: validate a study, run the demo.

Errors are sentences, not tracebacks: bad data becomes findings, a bad
command line or a missing file becomes one line in red and exit code 2.
Set RWESTUDY_DEBUG=1 to see the traceback of an unexpected failure.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from rwestudy import __version__

app = typer.Typer(
    name="rwestudy",
    help="Validated, reproducible analysis of real-world oncology studies.\n\n"
         "Start with:  rwestudy demo --out demo/   then   rwestudy validate demo/study.xlsx",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


def _mount_registry() -> None:
    from rwestudy.registry.cli import app as registry_app
    app.add_typer(registry_app, name="registry", help="Published studies: list, show, validate.")


_mount_registry()


def _mount_server() -> None:
    from rwestudy.server.cli import app as serve_app, audit_app
    app.add_typer(serve_app, name="serve", help="Multicenter data capture server (init, adduser, run).")
    app.add_typer(audit_app, name="audit", help="Verify the server's audit trail.")


_mount_server()

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


class UserError(Exception):
    """A problem the user can fix (missing file, bad option): one sentence, exit 2."""


def _version(value: bool):
    if value:
        console.print(f"rwestudy {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")):
    pass


def _load(path: Path, mapping, date_format, partial_dates, cutoff):
    from rwestudy.io.mapping import MappingError
    from rwestudy.study import load_study

    try:
        return load_study(path, mapping, date_format=date_format, partial_dates=partial_dates,
                          cutoff_date=cutoff)
    except (FileNotFoundError, MappingError) as exc:
        raise UserError(str(exc)) from None


def _cell(v) -> str:
    import pandas as pd

    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _print_study(study, max_rows: int, show_info: bool) -> None:
    f = study.findings
    counts = {s: int((f["severity"] == s).sum()) for s in ("error", "warning", "info")}
    tables = ", ".join(f"{k} ({len(v)} rows)" for k, v in study.tables.items())
    console.print(f"[bold]{study.source}[/bold]: {study.n_patients} patients; tables: {tables or 'none'}")
    shown = f if show_info else f.loc[f["severity"] != "info"]
    # One line per finding: readable in any terminal width, easy to grep.
    for rec in shown.head(max_rows).itertuples(index=False):
        where = f"{rec.table}" + (f" row {_cell(rec.row)}" if _cell(rec.row) else "")
        if _cell(rec.column):
            where += f", {rec.column}"
        if _cell(rec.value):
            where += f" = {_cell(rec.value)!r}"
        who = ", ".join(x for x in (_cell(rec.patient_id), _cell(rec.center)) if x)
        style = SEVERITY_STYLE.get(rec.severity, "")
        console.print(f"[{style}]{rec.severity.upper():7}[/{style}] {where}" + (f" ({who})" if who else "")
                      + f": {rec.message}", highlight=False, markup=True, soft_wrap=True)
    if len(shown) > max_rows:
        console.print(f"... {len(shown) - max_rows} more (use --max-rows, --format json or --export)")
    centers = study.center_summary()
    if len(centers) and (counts["error"] or counts["warning"]):
        t = Table(title="Open problems per center", header_style="bold")
        for col in centers.columns:
            t.add_column(col, justify="right" if col != "center" else "left")
        for rec in centers.itertuples(index=False):
            t.add_row(*[str(v) for v in rec])
        console.print(t)
    verdict = "[bold green]No errors.[/bold green]" if not counts["error"] else \
        f"[bold red]{counts['error']} error(s)[/bold red] must be fixed before analysis."
    console.print(f"{verdict} {counts['warning']} warning(s), {counts['info']} note(s)."
                  + ("" if show_info or not counts["info"] else " (--info shows the notes)"))


def _export(study, path: Path) -> None:
    """Findings for the centers: CSV, or xlsx with a summary sheet and one sheet per center."""
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        study.findings.to_csv(path, index=False)
    elif path.suffix.lower() == ".xlsx":
        with pd.ExcelWriter(path, engine="openpyxl") as xw:
            study.center_summary().to_excel(xw, sheet_name="per center", index=False)
            study.findings.to_excel(xw, sheet_name="all findings", index=False)
            used = {"per center", "all findings"}
            for center, grp in study.findings.groupby(study.findings["center"].fillna("(no center)")):
                grp.to_excel(xw, sheet_name=_sheet_title(str(center), used), index=False)
    elif path.suffix.lower() == ".json":
        path.write_text(json.dumps(study.to_dict(), indent=2, default=str), encoding="utf-8")
    else:
        raise UserError(f"--export must end in .xlsx, .csv or .json, got {path.name}")
    console.print(f"Findings written to {path}")


def _sheet_title(name: str, used: set[str]) -> str:
    """A valid, unused Excel sheet title: no []:*?/\\, at most 31 characters, unique."""
    import re

    base = re.sub(r"[\[\]:*?/\\]", "-", name).strip("'") or "center"
    title, k = base[:31], 1
    while title.lower() in {u.lower() for u in used}:
        k += 1
        title = f"{base[:31 - len(str(k)) - 1]}~{k}"
    used.add(title)
    return title


MAPPING_HELP = "TOML file mapping your sheet/column names and codes (see docs/mapping.md)."
DATE_HELP = "Date format of text dates: iso (default), DD/MM/YYYY or MM/DD/YYYY."
PARTIAL_HELP = "Impute partial dates (2021-05, 2021): none (default: error), mid or first."

# Options shared by several commands (Typer allows one OptionInfo in many signatures).
STUDY_ARG = typer.Argument(..., help="Study workbook (.xlsx) or folder of CSV files.")
PLAN_OPT = typer.Option(None, "--plan", "-p", help="Analysis plan TOML (rwestudy plan --init).")
PROFILE_OPT = typer.Option(None, "--profile", help="Conventions: rwestudy, r, stata, sas or spss.")
MAPPING_OPT = typer.Option(None, "--mapping", "-m", help=MAPPING_HELP)
DATE_OPT = typer.Option(None, "--date-format", help=DATE_HELP)
PARTIAL_OPT = typer.Option(None, "--partial-dates", help=PARTIAL_HELP)
REGISTRY_OPT = typer.Option(None, "--registry-dir", help="Folder of your own registry files.")


@app.command()
def validate(
    study: Path = STUDY_ARG,
    mapping: Optional[Path] = MAPPING_OPT,
    date_format: Optional[str] = DATE_OPT,
    partial_dates: Optional[str] = PARTIAL_OPT,
    cutoff: Optional[str] = typer.Option(None, "--cutoff", help="Data cut-off YYYY-MM-DD (default: today)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
    export: Optional[Path] = typer.Option(None, "--export", help="Also write the findings (.xlsx per center, .csv, .json)."),
    max_rows: int = typer.Option(50, "--max-rows", help="Findings shown on screen."),
    info: bool = typer.Option(False, "--info", help="Show notes (normalised spellings, imputed dates) too."),
):
    """Check a study and list every problem with sheet, row, column and value.

    Exit code 0 when there is no error (warnings allowed), 1 when there are errors.

    Examples:

      rwestudy validate study.xlsx

      rwestudy validate centers/ --mapping italian.toml --export findings.xlsx

      rwestudy validate study.xlsx --format json > findings.json
    """
    if fmt not in ("text", "json"):
        raise UserError(f"--format must be text or json, got {fmt!r}")
    s = _load(study, mapping, date_format, partial_dates, cutoff)
    if fmt == "json":
        sys.stdout.write(json.dumps(s.to_dict(), indent=2, default=str) + "\n")
    else:
        _print_study(s, max_rows, info)
    if export is not None:
        _export(s, export)
    raise typer.Exit(0 if s.ok else 1)


def _run_analysis(study, plan_path, profile, out: Path):
    """Analysis with a progress line per step; writes results.json."""
    from rwestudy.analysis.plan import PlanError, load_plan
    from rwestudy.analysis.results import write_results
    from rwestudy.analysis.run import analyze

    try:
        plan = load_plan(plan_path, profile=profile)
    except PlanError as exc:
        raise UserError(str(exc)) from None
    with console.status("Analysing...") as status:
        results = analyze(study, plan, progress=lambda msg: status.update(f"Analysing: {msg}..."))
    path = write_results(results, out)
    surv = results.table("survival")
    overall = surv[surv["group"] == "all"] if len(surv) else surv
    for r in overall.itertuples():
        med = f"{r.median:.1f} months" if r.reached else "not reached"
        console.print(f"  {r.endpoint}: n={int(r.n)}, events={int(r.events)}, median {med}")
    console.print(f"Results written to {path} (profile: {plan.profile})")
    return results


def _run_report(study, plan_path, profile, out: Path, *, figures: bool = True, context_with=(),
                registry_dir=None, figure_worker=None):
    """Analysis and report with a progress bar; prints where each output went."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from rwestudy._trace import mark
    from rwestudy.analysis.plan import PlanError, load_plan
    from rwestudy.analysis.run import analyze, plan_endpoints

    try:
        plan = load_plan(plan_path, profile=profile)
    except PlanError as exc:
        raise UserError(str(exc)) from None
    steps = 14 + (3 if figures else 0)
    with Progress(TextColumn("{task.description:<58}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("Analysing", total=steps)

        def say(msg: str) -> None:
            bar.update(task, description=msg[:58], advance=1)

        mark("cli: plan loaded")
        endpoints = plan_endpoints(study, plan)  # once, for the analysis and the figure helper
        if figure_worker is not None and figures:
            figure_worker.early(study, endpoints, plan, Path(out) / "figures")
            mark("cli: endpoints sent to the figure helper")
        results = analyze(study, plan, progress=say, endpoints=endpoints)
        mark("cli: analysis done")
        ids = list(dict.fromkeys([*plan.context_studies, *context_with]))
        reg_dir = registry_dir or plan.registry_dir
        context = _context_parts(results, ids, plan.context_maic, reg_dir, out, say) \
            if ids or plan.context_maic else None
        # Imported after the analysis, and the writers' libraries only once the figure helper has the
        # results (python-docx, openpyxl, Jinja2: ~0.15 s that no figure should wait for).
        from rwestudy.report import build_report

        files = build_report(results, study, out, figures=figures, context=context, progress=say,
                             figure_worker=figure_worker)
        bar.update(task, completed=steps)
    mark("cli: report written")
    console.print(f"Report written to {out}/ (profile: {plan.profile}):")
    console.print(f"  {files.html.name}, {files.docx.name}, {files.xlsx.name}, {files.results_json.name}"
                  + (f", figures/ ({len(files.figures)} figures as PNG, SVG and PDF)" if files.figures else ""))
    return results, files


def _context_parts(results, ids, maic, registry_dir, out, say) -> list[dict]:
    """The Context section(s): comparison with published studies, and MAIC when the plan asks."""
    from rwestudy.context.report import context_part
    from rwestudy.context.run import maic_part
    from rwestudy.registry import RegistryError

    parts = []
    try:
        if ids:
            say("Comparing with published studies")
            parts.append(context_part(results, ids, registry_dir=registry_dir, figures_dir=Path(out) / "figures"))
        if maic:
            say(f"MAIC against {maic}")
            parts.append(maic_part(results, maic, registry_dir=registry_dir))
    except (KeyError, ValueError, RegistryError) as exc:
        raise UserError(str(exc).strip('"')) from None
    return parts


@app.command()
def report(
    study: Path = STUDY_ARG,
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Folder for the report and its files."),
    plan: Optional[Path] = PLAN_OPT,
    profile: Optional[str] = PROFILE_OPT,
    mapping: Optional[Path] = MAPPING_OPT,
    date_format: Optional[str] = DATE_OPT,
    partial_dates: Optional[str] = PARTIAL_OPT,
    with_: list[str] = typer.Option([], "--with", "-w",
                                    help="Published study to compare with (registry id; repeatable)."),
    registry_dir: Optional[Path] = REGISTRY_OPT,
    no_figures: bool = typer.Option(False, "--no-figures", help="Skip the figures (faster)."),
    allow_errors: bool = typer.Option(False, "--allow-errors",
                                      help="Report even if validation found errors (unreadable values are NA)."),
):
    """Validate, analyse and write the full report: report.html, report.docx, tables.xlsx, figures/, results.json.

    Examples:

      rwestudy report study.xlsx --out report/

      rwestudy report study.xlsx --profile stata --with l-mind-primary
    """
    from rwestudy._trace import mark

    mark("cli: report starts")
    worker = None if no_figures else _start_figure_worker()
    mark("cli: figure helper forked")
    s = _load(study, mapping, date_format, partial_dates, None)
    mark("cli: study read and validated")
    _require_valid(s, study, allow_errors)
    plan_with = list(with_)
    _run_report(s, plan, profile, out, figures=not no_figures, context_with=plan_with, registry_dir=registry_dir,
                figure_worker=worker)


def _require_valid(s, path: Path, allow_errors: bool) -> None:
    """Analyses refuse a study with validation errors unless the user says --allow-errors."""
    n_err = len(s.errors)
    if n_err and not allow_errors:
        _print_study(s, 20, False)
        raise UserError(f"validation found {n_err} error(s); fix them (rwestudy validate {path}) "
                        "or pass --allow-errors to go on anyway (unreadable values are then NA)")


def _start_figure_worker():
    """Figures are drawn by a process that warms up while the study is read and analysed."""
    import gc

    gc.disable()  # importing creates ~10^6 objects and no garbage: no collections meanwhile (0.1 s)
    try:
        import rwestudy.analysis.run  # noqa: F401  (imported before the fork: the worker inherits it)
        from rwestudy.report.figure_worker import FigureWorker
    finally:
        _settle_gc()
    return FigureWorker.start()


def _settle_gc() -> None:
    """Keep Python's cycle collector off the imported libraries for the rest of this short-lived run.

    Why: drawing the figures allocates heavily, and each collection walked the
    million objects of pandas and matplotlib: 0.43 s of the 5.4 s of figure CPU
    (measured with gc.callbacks). Frozen objects are skipped (and forked workers
    do not copy their pages); young garbage is still collected, less often.
    """
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    gc.enable()


@app.command()
def compare(
    study: Path = STUDY_ARG,
    with_: list[str] = typer.Option([], "--with", "-w", help="Registry id of a published study (repeatable)."),
    out: Path = typer.Option(Path("comparison"), "--out", "-o", help="Folder for the comparison files."),
    maic: Optional[str] = typer.Option(None, "--maic", help="Registry id to reweight our cohort to (MAIC)."),
    maic_vars: list[str] = typer.Option([], "--maic-var", help="Registry field to match (repeatable; default: all "
                                        "published and available)."),
    curve: Optional[Path] = typer.Option(None, "--curve", help="CSV of a digitised published KM curve (time, surv)."),
    risk: Optional[Path] = typer.Option(None, "--risk", help="CSV of the published numbers at risk (time, n_risk)."),
    endpoint: str = typer.Option("PFS", "--endpoint", help="Our endpoint the curve is compared with."),
    label: str = typer.Option("published arm", "--label", help="Name of the reconstructed arm."),
    events: Optional[int] = typer.Option(None, "--events", help="Published total number of events of the curve."),
    n_boot: int = typer.Option(1000, "--boot", min=0, help="MAIC bootstrap resamples."),
    registry_dir: Optional[Path] = REGISTRY_OPT,
    plan: Optional[Path] = typer.Option(None, "--plan", "-p", help="Analysis plan TOML."),
    profile: Optional[str] = PROFILE_OPT,
    mapping: Optional[Path] = MAPPING_OPT,
    allow_errors: bool = typer.Option(False, "--allow-errors", help="Compare even if validation found errors."),
):
    """Our cohort beside published studies: side-by-side table, tests, warnings, MAIC, reconstructed curves.

    Examples:

      rwestudy compare study.xlsx --with lmind-5year --with talos --out cmp/

      rwestudy compare study.xlsx --maic talos

      rwestudy compare study.xlsx --curve lmind_pfs.csv --risk lmind_pfs_risk.csv --endpoint PFS --label L-MIND
    """
    from rwestudy.analysis.plan import PlanError, load_plan
    from rwestudy.analysis.run import analyze
    from rwestudy.context.run import run_compare
    from rwestudy.registry import RegistryError

    if (curve is None) != (risk is None):
        raise UserError("--curve and --risk go together: the digitised curve and its published numbers at risk")
    s = _load(study, mapping, None, None, None)
    _require_valid(s, study, allow_errors)
    try:
        p = load_plan(plan, profile=profile)
    except PlanError as exc:
        raise UserError(str(exc)) from None
    with console.status("Analysing...") as status:
        results = analyze(s, p, progress=lambda m: status.update(f"Analysing: {m}..."))
        try:
            paths = run_compare(results, list(with_), out, registry_dir=registry_dir, maic=maic,
                                maic_vars=list(maic_vars) or None, curve=curve, risk=risk, endpoint=endpoint,
                                label=label, total_events=events, n_boot=n_boot,
                                progress=lambda m: status.update(f"{m}..."))
        except (ValueError, KeyError, RegistryError) as exc:
            raise UserError(str(exc).strip('"')) from None
        except OSError as exc:
            raise UserError(f"cannot read {exc.filename}: {exc.strerror}") from None
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    for row in data.get("comparison_sentences", []):
        console.print("  " + row["sentence"])
    for row in data.get("comparison_warnings", []):
        console.print(f"  [yellow]warning:[/yellow] {row['message']}")
    for row in data.get("maic_summary", []):
        console.print(f"  MAIC vs {row['study']}: ESS {row['ess']:.1f} of {row['n']}. {row['statement']}")
    for row in data.get("reconstruction", []):
        console.print(f"  Reconstructed {row['label']}: {row['n']} pseudo-patients, RMSE {row['rmse']:.4f}; "
                      f"HR ours vs theirs {row['hr']:.2f} ({row['ci_low']:.2f}-{row['ci_high']:.2f})")
    console.print(f"Comparison written to {out}/: " + ", ".join(p.name for p in paths.values()))


@app.command()
def analyze(
    study: Path = STUDY_ARG,
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Folder for results.json."),
    plan: Optional[Path] = PLAN_OPT,
    profile: Optional[str] = PROFILE_OPT,
    mapping: Optional[Path] = MAPPING_OPT,
    date_format: Optional[str] = DATE_OPT,
    partial_dates: Optional[str] = PARTIAL_OPT,
    allow_errors: bool = typer.Option(False, "--allow-errors",
                                      help="Analyse even if validation found errors (unreadable values are NA)."),
):
    """Derive the endpoints and run the standard analysis; write results.json.

    Examples:

      rwestudy analyze study.xlsx --out results/

      rwestudy analyze study.xlsx --profile stata --plan plan.toml
    """
    s = _load(study, mapping, date_format, partial_dates, None)
    _require_valid(s, study, allow_errors)
    _run_analysis(s, plan, profile, out)


@app.command("plan")
def plan_cmd(
    init: bool = typer.Option(False, "--init", help="Write the default analysis plan."),
    out: Path = typer.Option(Path("plan.toml"), "--out", "-o", help="Where to write it."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
):
    """Write the default analysis plan, with comments, to edit and pass to analyze --plan."""
    from rwestudy.analysis.plan import default_plan_toml

    if not init:
        sys.stdout.write(default_plan_toml())
        return
    if out.exists() and not force:
        raise UserError(f"{out} exists; use --force to overwrite")
    out.write_text(default_plan_toml(), encoding="utf-8")
    console.print(f"Default plan written to {out}")


@app.command()
def demo(
    out: Path = typer.Option(Path("demo"), "--out", "-o", help="Folder to write the demo study and its results into."),
    with_errors: bool = typer.Option(False, "--with-errors", help="Plant realistic data errors to see validation work."),
    patients: int = typer.Option(96, "--patients", min=60, help="Number of patients (>= 60)."),
    centers: int = typer.Option(26, "--centers", min=1, help="Number of centers."),
    seed: int = typer.Option(20240611, "--seed", help="Random seed (same seed, same study)."),
    csv: bool = typer.Option(False, "--csv", help="Also write the study as a folder of CSV files."),
):
    """Write the shipped synthetic study, validate it, analyse it and write its full report.

    Examples:

      rwestudy demo --out demo/

      rwestudy demo --out demo-bad/ --with-errors
    """
    from rwestudy.demo.errors import plant_errors
    from rwestudy.demo.generator import make_study
    from rwestudy.io.writers import write_csv_folder, write_workbook
    from rwestudy.study import load_study

    out.mkdir(parents=True, exist_ok=True)
    worker = None if with_errors else _start_figure_worker()
    with console.status("Generating the demo study..."):
        tables = make_study(n_patients=patients, n_centers=centers, seed=seed)
        if with_errors:
            tables, planted = plant_errors(tables, seed=seed)
            planted.to_csv(out / "planted_errors.csv", index=False)
        path = write_workbook(tables, out / "study.xlsx")
        if csv:
            write_csv_folder(tables, out / "csv")
    console.print(f"Demo study written to {path}" + (f" (and {out / 'csv'}/)" if csv else ""))
    if with_errors:
        console.print(f"{len(planted)} errors planted; their list is in {out / 'planted_errors.csv'}")
    with console.status("Validating..."):
        study = load_study(path)
    _print_study(study, 40, False)
    (out / "validation.json").write_text(json.dumps(study.to_dict(), indent=2, default=str), encoding="utf-8")
    console.print(f"Validation written to {out / 'validation.json'}")
    if not study.ok:
        console.print("Analysis skipped: fix the errors first (this is what the planted errors show).")
        raise typer.Exit(1)
    _run_report(study, None, None, out, figure_worker=worker)


def main() -> None:
    """Console-script entry point: sentences instead of tracebacks."""
    code: int | str | None = 0
    try:
        app()  # standalone: usage errors and typer.Exit are handled by click
    except SystemExit as exc:
        code = exc.code
    except UserError as exc:
        err.print(f"[bold red]error:[/bold red] {exc}")
        code = 2
    except Exception as exc:  # a bug of ours: say so plainly
        if os.environ.get("RWESTUDY_DEBUG"):
            raise
        err.print(f"[bold red]internal error:[/bold red] {type(exc).__name__}: {exc}\n"
                  "This is a bug in rwestudy, not in your data. Re-run with RWESTUDY_DEBUG=1 and "
                  "report the traceback.")
        code = 3
    _leave(code)


def _leave(code) -> None:
    """Exit without the interpreter tearing down pandas, matplotlib and lifelines object by object.

    Why: that teardown took 0.25-0.3 s after every report was written and closed
    (measured with RWESTUDY_TRACE). The exit handlers still run first (the figure
    helper is stopped, multiprocessing joins its children), and output is flushed.
    """
    import atexit

    if isinstance(code, str):  # sys.exit("message"): Python prints it and exits 1
        print(code, file=sys.stderr)
        code = 1
    run_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_handlers is None:  # not CPython: the normal way out
        sys.exit(code)
    run_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head) or stream: nothing more to say
            code = code or 1
    os._exit(int(code or 0))


if __name__ == "__main__":
    main()
