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
from rich.text import Text

from rwestudy import __version__
from rwestudy.terminal import plain

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
    from rwestudy.server.cli import app as serve_app, audit_app, export as serve_export
    app.add_typer(serve_app, name="serve", help="Multicenter data capture server (init, adduser, run, import).")
    app.add_typer(audit_app, name="audit", help="Verify the server's audit trail.")
    from rwestudy.commands.redcap import import_app, redcap_dictionary_cmd

    # `rwestudy export --db URL --out DIR` (= `serve export`) and `rwestudy export redcap-dictionary --out F`.
    export_app = typer.Typer(help="Export: the server's snapshot (--db), or our format as a REDCap dictionary.")

    @export_app.callback(invoke_without_command=True)
    def _export(ctx: typer.Context,
                db: Optional[str] = typer.Option(None, "--db", help="sqlite:///FILE or postgresql://... (snapshot)"),
                out: Optional[Path] = typer.Option(None, "--out", help="Folder for the snapshot."),
                study: Optional[str] = typer.Option(None, "--study")):
        if ctx.invoked_subcommand is not None:
            return
        if db is None or out is None:
            raise UserError("rwestudy export needs --db URL --out DIR, or a subcommand (redcap-dictionary)")
        serve_export(db=db, out=out, study=study)

    export_app.command("redcap-dictionary")(redcap_dictionary_cmd)
    app.add_typer(export_app, name="export")
    app.add_typer(import_app, name="import", help="Import another system's export (REDCap) as a study.")
    from rwestudy.commands.mutations import mutations_cmd

    app.command("mutations")(mutations_cmd)


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


def _cell(v) -> str:
    import pandas as pd

    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _print_study(study, max_rows: int, show_info: bool) -> None:
    # Every text from the data (values, names, paths) is printed as plain text (`terminal.plain`),
    # never as Rich markup: a value '[/bold]' must show as typed, not crash or restyle the line.
    from rwestudy.validation.findings import count_by_severity

    f = study.findings
    counts = count_by_severity(f)  # a summary row counts as the findings it stands for
    tables = ", ".join(f"{k} ({len(v)} rows)" for k, v in study.tables.items())
    console.print(Text.assemble(plain(study.source, "bold"), plain(f": {study.n_patients} patients; tables: "
                                                                   f"{tables or 'none'}")), soft_wrap=True)
    shown = f if show_info else f.loc[f["severity"] != "info"]
    # One line per finding: readable in any terminal width, easy to grep.
    for rec in shown.head(max_rows).itertuples(index=False):
        where = f"{rec.table}" + (f" row {_cell(rec.row)}" if _cell(rec.row) else "")
        if _cell(rec.column):
            where += f", {rec.column}"
        if _cell(rec.value):
            where += f" = '{_cell(rec.value)}'"  # shown as typed; plain() makes controls visible
        who = ", ".join(x for x in (_cell(rec.patient_id), _cell(rec.center)) if x)
        line = f" {where}" + (f" ({who})" if who else "") + f": {rec.message}"
        console.print(Text.assemble(plain(f"{rec.severity.upper():7}", SEVERITY_STYLE.get(rec.severity)),
                                    plain(line)), soft_wrap=True)
    if len(shown) > max_rows:
        console.print(f"... {len(shown) - max_rows} more (use --max-rows, --format json or --export)")
    centers = study.center_summary()
    if len(centers) and (counts["error"] or counts["warning"]):
        t = Table(title="Open problems per center", header_style="bold")
        for col in centers.columns:
            t.add_column(plain(col), justify="right" if col != "center" else "left")
        for rec in centers.itertuples(index=False):
            t.add_row(*[plain(v) for v in rec])
        console.print(t)
    verdict = "[bold green]No errors.[/bold green]" if not counts["error"] else \
        f"[bold red]{counts['error']} error(s)[/bold red] must be fixed before analysis."
    console.print(f"{verdict} {counts['warning']} warning(s), {counts['info']} note(s)."
                  + ("" if show_info or not counts["info"] else " (--info shows the notes)"))


def _export(study, path: Path) -> None:
    """Findings for the centers: CSV, or xlsx with a summary sheet and one sheet per center."""
    from rwestudy.validation.export import ExportError, write_findings

    try:
        write_findings(study, path)
    except ExportError as exc:
        raise UserError(str(exc)) from None
    console.print(Text.assemble("Findings written to ", plain(str(path))), soft_wrap=True)


MAPPING_HELP = "TOML file mapping your sheet/column names and codes (see docs/mapping.md)."
DATE_HELP = "Date format of text dates: iso (default), DD/MM/YYYY or MM/DD/YYYY."
PARTIAL_HELP = "Impute partial dates (2021-05, 2021): none (default: error), mid or first."
CUTOFF_HELP = ("Data cut-off YYYY-MM-DD: later events are censored, later dates a warning. Wins over the plan's "
               "[endpoints] cutoff and the mapping's cutoff_date (default: none; dates checked against today).")

# Options shared by several commands (Typer allows one OptionInfo in many signatures).
STUDY_ARG = typer.Argument(..., help="Study workbook (.xlsx) or folder of CSV files.")
PLAN_OPT = typer.Option(None, "--plan", "-p", help="Analysis plan TOML (rwestudy plan --init).")
PROFILE_OPT = typer.Option(None, "--profile", help="Conventions: rwestudy, r, stata, sas or spss.")
MAPPING_OPT = typer.Option(None, "--mapping", "-m", help=MAPPING_HELP)
DATE_OPT = typer.Option(None, "--date-format", help=DATE_HELP)
PARTIAL_OPT = typer.Option(None, "--partial-dates", help=PARTIAL_HELP)
CUTOFF_OPT = typer.Option(None, "--cutoff", help=CUTOFF_HELP)
REGISTRY_OPT = typer.Option(None, "--registry-dir", help="Folder of your own registry files.")
REDCAP_OPT = typer.Option(None, "--redcap-dictionary", help="STUDY is a REDCap record export (CSV); this is its "
                          "data dictionary (docs/redcap.md).")
REDCAP_MAP_OPT = typer.Option(None, "--redcap-mapping", help="REDCap mapping TOML, with --redcap-dictionary.")


def _redcap_source(study: Path, dictionary: Optional[Path], redcap_mapping: Optional[Path], mapping,
                   date_format, partial_dates):
    """The study path as given, or, with --redcap-dictionary, the REDCap export read as a study."""
    if dictionary is None:
        return study
    from rwestudy.io.mapping import MappingError
    from rwestudy.pipeline.redcap import load_redcap_study
    from rwestudy.io.redcap.mapping import RedcapMappingError

    try:
        return load_redcap_study(study, dictionary, redcap_mapping, mapping=mapping, date_format=date_format,
                                 partial_dates=partial_dates)
    except (FileNotFoundError, MappingError, RedcapMappingError) as exc:
        raise UserError(str(exc)) from None


@app.command()
def validate(
    study: Path = STUDY_ARG,
    mapping: Optional[Path] = MAPPING_OPT,
    date_format: Optional[str] = DATE_OPT,
    partial_dates: Optional[str] = PARTIAL_OPT,
    cutoff: Optional[str] = CUTOFF_OPT,
    plan: Optional[Path] = typer.Option(None, "--plan", "-p", help="Analysis plan TOML: its cut-off, if any, "
                                        "is used (so validate checks what analyze will)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
    export: Optional[Path] = typer.Option(None, "--export", help="Also write the findings (.xlsx per center, .csv, .json)."),
    max_rows: int = typer.Option(50, "--max-rows", help="Findings shown on screen."),
    info: bool = typer.Option(False, "--info", help="Show notes (normalised spellings, imputed dates) too."),
    redcap_dictionary: Optional[Path] = REDCAP_OPT,
    redcap_mapping: Optional[Path] = REDCAP_MAP_OPT,
):
    """Check a study and list every problem with sheet, row, column and value.

    Exit code 0 when there is no error (warnings allowed), 1 when there are errors.

    Examples:

      rwestudy validate study.xlsx

      rwestudy validate centers/ --mapping italian.toml --export findings.xlsx

      rwestudy validate study.xlsx --format json > findings.json
    """
    from rwestudy import pipeline

    if fmt not in ("text", "json"):
        raise UserError(f"--format must be text or json, got {fmt!r}")
    study = _redcap_source(study, redcap_dictionary, redcap_mapping, mapping, date_format, partial_dates)
    s = pipeline.validate_study(study, plan=plan, cutoff=cutoff, mapping=mapping, date_format=date_format,
                                partial_dates=partial_dates)
    if fmt == "json":
        sys.stdout.write(json.dumps(s.to_dict(), indent=2, default=str) + "\n")
    else:
        _print_study(s, max_rows, info)
    if export is not None:
        _export(s, export)
    raise typer.Exit(0 if s.ok else 1)


def _print_survival(results) -> None:
    surv = results.table("survival")
    overall = surv[surv["group"] == "all"] if len(surv) else surv
    for r in overall.itertuples():
        med = f"{r.median:.1f} months" if r.reached else "not reached"
        console.print(plain(f"  {r.endpoint}: n={int(r.n)}, events={int(r.events)}, median {med}"))


def _print_report(run) -> None:
    files = run.files
    console.print(plain(f"Report written to {run.out}/ (profile: {run.plan.profile}):"), soft_wrap=True)
    console.print(plain(f"  {files.html.name}, {files.docx.name}, {files.xlsx.name}, {files.results_json.name}"
                        + (f", figures/ ({len(files.figures)} figures as PNG, SVG and PDF)" if files.figures
                           else "")))


class _Bar:
    """The report's progress bar: one step per progress message of the pipeline."""

    def __init__(self, steps: int):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(TextColumn("{task.description:<58}"), BarColumn(), TimeElapsedColumn(),
                             console=console, transient=True)
        self._task = self._bar.add_task("Analysing", total=steps)

    def __enter__(self):
        self._bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self._bar.__exit__(*exc)

    def __call__(self, msg: str) -> None:
        # Progress text can carry user text (a registry id): shown literally.
        self._bar.update(self._task, description=plain(msg[:58]).markup, advance=1)


@app.command()
def report(
    study: Path = STUDY_ARG,
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Folder for the report and its files."),
    plan: Optional[Path] = PLAN_OPT,
    profile: Optional[str] = PROFILE_OPT,
    cutoff: Optional[str] = CUTOFF_OPT,
    mapping: Optional[Path] = MAPPING_OPT,
    date_format: Optional[str] = DATE_OPT,
    partial_dates: Optional[str] = PARTIAL_OPT,
    with_: list[str] = typer.Option([], "--with", "-w",
                                    help="Published study to compare with (registry id; repeatable)."),
    registry_dir: Optional[Path] = REGISTRY_OPT,
    no_figures: bool = typer.Option(False, "--no-figures", help="Skip the figures (faster)."),
    figure_formats: Optional[str] = typer.Option(
        None, "--figure-formats", metavar="<list>",
        help="Figure files, comma-separated: png (always), svg, pdf. Default: the plan's [figures] formats "
             "(png,svg); e.g. png,svg,pdf for a journal asking for PDF."),
    allow_errors: bool = typer.Option(False, "--allow-errors",
                                      help="Report even if validation found errors (unreadable values are NA)."),
    redcap_dictionary: Optional[Path] = REDCAP_OPT,
    redcap_mapping: Optional[Path] = REDCAP_MAP_OPT,
):
    """Validate, analyse and write the full report: report.html, report.docx, tables.xlsx, figures/, results.json.

    The report is written beside --out and moved into place when complete; an earlier report in --out is
    replaced whole.

    Examples:

      rwestudy report study.xlsx --out report/

      rwestudy report study.xlsx --profile stata --with l-mind-primary
    """
    from rwestudy import pipeline
    from rwestudy._trace import mark

    mark("cli: report starts")
    study = _redcap_source(study, redcap_dictionary, redcap_mapping, mapping, date_format, partial_dates)
    with _Bar(14 + (0 if no_figures else 3)) as say:
        run = pipeline.run_report(study, out, plan=plan, profile=profile, cutoff=cutoff, mapping=mapping,
                                  date_format=date_format, partial_dates=partial_dates, figures=not no_figures,
                                  figure_formats=figure_formats, context_with=list(with_),
                                  registry_dir=registry_dir, allow_errors=allow_errors, progress=say,
                                  exits_after=True)
    mark("cli: report written")
    _print_report(run)


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
    cutoff: Optional[str] = CUTOFF_OPT,
    mapping: Optional[Path] = MAPPING_OPT,
    allow_errors: bool = typer.Option(False, "--allow-errors", help="Compare even if validation found errors."),
):
    """Our cohort beside published studies: side-by-side table, tests, warnings, MAIC, reconstructed curves.

    Examples:

      rwestudy compare study.xlsx --with lmind-5year --with talos --out cmp/

      rwestudy compare study.xlsx --maic talos

      rwestudy compare study.xlsx --curve lmind_pfs.csv --risk lmind_pfs_risk.csv --endpoint PFS --label L-MIND
    """
    from rwestudy import pipeline

    with console.status("Analysing...") as status:
        run = pipeline.run_compare(study, out, with_=list(with_), maic=maic, maic_vars=list(maic_vars),
                                   curve=curve, risk=risk, endpoint=endpoint, label=label, events=events,
                                   n_boot=n_boot, registry_dir=registry_dir, plan=plan, profile=profile,
                                   cutoff=cutoff, mapping=mapping, allow_errors=allow_errors,
                                   progress=lambda m: status.update(plain(f"{m}...")))
    data = run.data
    for row in data.get("comparison_sentences", []):
        console.print(plain("  " + row["sentence"]))
    for row in data.get("comparison_warnings", []):
        console.print(Text.assemble("  ", ("warning:", "yellow"), " ", plain(row["message"])))
    for row in data.get("maic_summary", []):
        console.print(plain(f"  MAIC vs {row['study']}: ESS {row['ess']:.1f} of {row['n']}. {row['statement']}"))
    for row in data.get("reconstruction", []):
        console.print(plain(f"  Reconstructed {row['label']}: {row['n']} pseudo-patients, RMSE {row['rmse']:.4f}; "
                            f"HR ours vs theirs {row['hr']:.2f} ({row['ci_low']:.2f}-{row['ci_high']:.2f})"))
    console.print(plain(f"Comparison written to {run.out}/: " + ", ".join(p.name for p in run.paths.values())),
                  soft_wrap=True)


@app.command()
def analyze(
    study: Path = STUDY_ARG,
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Folder for results.json."),
    plan: Optional[Path] = PLAN_OPT,
    profile: Optional[str] = PROFILE_OPT,
    cutoff: Optional[str] = CUTOFF_OPT,
    mapping: Optional[Path] = MAPPING_OPT,
    date_format: Optional[str] = DATE_OPT,
    partial_dates: Optional[str] = PARTIAL_OPT,
    allow_errors: bool = typer.Option(False, "--allow-errors",
                                      help="Analyse even if validation found errors (unreadable values are NA)."),
    redcap_dictionary: Optional[Path] = REDCAP_OPT,
    redcap_mapping: Optional[Path] = REDCAP_MAP_OPT,
):
    """Derive the endpoints and run the standard analysis; write results.json.

    Examples:

      rwestudy analyze study.xlsx --out results/

      rwestudy analyze study.xlsx --profile stata --plan plan.toml
    """
    from rwestudy import pipeline

    study = _redcap_source(study, redcap_dictionary, redcap_mapping, mapping, date_format, partial_dates)
    with console.status("Analysing...") as status:
        run = pipeline.run_analysis(study, out, plan=plan, profile=profile, cutoff=cutoff, mapping=mapping,
                                    date_format=date_format, partial_dates=partial_dates,
                                    allow_errors=allow_errors,
                                    progress=lambda msg: status.update(plain(f"Analysing: {msg}...")))
    _print_survival(run.results)
    console.print(plain(f"Results written to {run.results_json} (profile: {run.plan.profile})"), soft_wrap=True)


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
    console.print(Text.assemble("Default plan written to ", plain(str(out))), soft_wrap=True)


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
    from rwestudy import pipeline

    with _Bar(3 + (0 if with_errors else 17)) as say:
        run = pipeline.run_demo(out, with_errors=with_errors, patients=patients, centers=centers, seed=seed,
                                csv=csv, progress=say, exits_after=True)
    console.print(plain(f"Demo study written to {run.study_path}"
                        + (f" (and {run.csv_dir}/)" if run.csv_dir else "")), soft_wrap=True)
    if with_errors:
        console.print(plain(f"{len(run.planted)} errors planted; their list is in {out / 'planted_errors.csv'}"))
    _print_study(run.study, 40, False)
    console.print(plain(f"Validation written to {run.validation_json}"), soft_wrap=True)
    if run.report is None:
        console.print("Analysis skipped: fix the errors first (this is what the planted errors show).")
        raise typer.Exit(1)
    _print_report(run.report)


def _say_error(label: str, message) -> None:
    err.print(Text.assemble((label, "bold red"), " ", plain(message, keep="\n")), soft_wrap=True)


def main() -> None:
    """Console-script entry point: sentences instead of tracebacks."""
    from rwestudy.commands.mutations import MutationsUserError
    from rwestudy.commands.redcap import RedcapUserError
    from rwestudy.pipeline.errors import PipelineError, ValidationFailed

    code: int | str | None = 0
    try:
        app()  # standalone: usage errors and typer.Exit are handled by click
    except SystemExit as exc:
        code = exc.code
    except ValidationFailed as exc:  # what the errors are, then how to go on
        _print_study(exc.study, 20, False)
        _say_error("error:", exc)
        code = 2
    except (UserError, PipelineError, RedcapUserError, MutationsUserError) as exc:
        _say_error("error:", exc)
        code = 2
    except Exception as exc:  # a bug of ours: say so plainly
        if os.environ.get("RWESTUDY_DEBUG"):
            raise
        _say_error("internal error:", f"{type(exc).__name__}: {exc}\nThis is a bug in rwestudy, not in your data. "
                   "Re-run with RWESTUDY_DEBUG=1 and report the traceback.")
        code = 3
    sys.exit(code)


if __name__ == "__main__":
    main()
