"""`rwestudy registry list/show/validate`: the published-results registry on the command line.

A Typer sub-app (mounted by rwestudy.cli with add_typer). A problem with the
command itself (unknown id, invalid user file when listing) is one red line on
stderr and exit code 2, as UserError gives in the main app; we do not import
rwestudy.cli here, which imports this module.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rwestudy.registry.loader import RegistryError, Study, get_study, load_registry, validate_registry

app = typer.Typer(help="Published aggregate results (L-MIND, RE-MIND, TALOs...), each number with its source.",
                  no_args_is_help=True, add_completion=False)


def _out(stderr: bool = False) -> Console:
    # Made per call, not at import, so COLUMNS set by a caller (or a test runner) is honoured.
    return Console(stderr=stderr)

DIR_HELP = "Folder of your own registry files (*.toml, see docs/registry.md); repeatable."


def _fail(message: str) -> None:
    _out(True).print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False)
    raise typer.Exit(2)


def _load(dirs: Optional[List[Path]]) -> list[Study]:
    try:
        return load_registry(extra_dirs=dirs or [])
    except RegistryError as exc:
        _fail(f"{exc}\n(run: rwestudy registry validate)")


def _fmt(v) -> str:
    """A value as printed: percent with n/N and CI, median with CI, NR for not reached."""
    d = v.data
    if v.kind == "percent" or "pct" in d:
        x = v.number
        if "pct" not in d:  # only counts were published: say the percentage is ours
            s = f"{d['n']}/{d['N']} (= {x:.1f}%, computed)" if x is not None else str(d.get("value", ""))
        else:
            s = f"{x:g}%" + (f" ({d['n']}/{d['N']})" if d.get("n") is not None and d.get("N") else "")
        if "pct" in d and d.get("n") is None and d.get("N"):
            s += f" (N = {d['N']})"
    elif v.kind == "median" and d.get("reached") is False:
        s = "not reached"
    else:
        s = str(d.get("value", ""))
    if "ci" in d:
        s += f" [95% CI {d['ci'][0]}-{d['ci'][1]}]"
    if "range" in d:
        s += f" (range {d['range'][0]}-{d['range'][1]})"
    extras = [f"{k}: {d[k]}" for k in ("assessment", "method", "grade", "basis", "unit", "p") if k in d]
    return s + (f" [{'; '.join(extras)}]" if extras else "")


@app.command("list")
def list_cmd(registry_dir: Optional[List[Path]] = typer.Option(None, "--registry-dir", help=DIR_HELP)):
    """List the registry entries: id, label, design, n, data cut-off, regimen."""
    studies = _load(registry_dir)
    t = Table(title=f"Registry: {len(studies)} entries", header_style="bold")
    for col in ("id", "label", "design", "n", "cut-off", "regimen"):
        t.add_column(col, justify="right" if col == "n" else "left")
    for s in studies:
        n, cut = s.get("n"), s.get("data_cutoff")
        t.add_row(*map(escape, (s.id, s.label, s.design, "" if n is None else str(n.data["value"]),
                                "" if cut is None else str(cut.data["value"]),
                                s.regimen + ("" if s.shipped else " (user)"))))
    _out().print(t)


@app.command("show")
def show(study_id: str = typer.Argument(..., help="Entry id (see: rwestudy registry list)."),
         registry_dir: Optional[List[Path]] = typer.Option(None, "--registry-dir", help=DIR_HELP)):
    """Print every value of one entry with its source, where and quote."""
    studies = _load(registry_dir)
    try:
        s = get_study(study_id, studies)
    except KeyError as exc:
        _fail(exc.args[0])
    _out().print(f"[bold]{escape(s.label)}[/bold]  ({escape(s.id)}; {s.design}; {escape(s.regimen)})", highlight=False)
    _out().print(escape(f"{s.citation}" + (f" doi:{s.doi}" if s.doi else "") + (f" {s.url}" if s.url else "")),
                 highlight=False)
    for c in s.caveats:
        _out().print(f"[yellow]caveat:[/yellow] {escape(c)}", highlight=False)
    t = Table(header_style="bold", show_lines=False)
    for col in ("field", "value", "source", "quality", "where", "quote"):
        t.add_column(col, overflow="fold")
    for v in s.all_values():
        quote = v.quote + (f" (derived: {v.derived})" if v.derived else "") + (f" [note: {v.note}]" if v.note else "")
        # escape: brackets in values and quotes ([95% CI ...], [mini]R-CHOP) are not Rich markup
        t.add_row(*map(escape, (v.name, _fmt(v), v.source.key, v.source_quality, v.where, quote)))
    _out().print(t)
    _out().print("[bold]Sources[/bold]")
    for src in s.sources.values():
        _out().print(escape(f"  {src.key} ({src.source_quality}): {src.citation}"
                            + (f" doi:{src.doi}" if src.doi else "") + (f" {src.url}" if src.url else "")),
                      highlight=False, soft_wrap=True)


@app.command("validate")
def validate(directory: Optional[List[Path]] = typer.Option(None, "--dir", help=DIR_HELP),
             registry_dir: Optional[List[Path]] = typer.Option(None, "--registry-dir", help=DIR_HELP)):
    """Check the shipped files and your own against the format; exit 1 if any problem."""
    dirs = [*(directory or []), *(registry_dir or [])]
    for d in dirs:
        if not d.exists():
            _fail(f"{d} does not exist")
    problems = validate_registry(extra_dirs=dirs)
    for p in problems:
        _out().print(f"[bold red]ERROR[/bold red] {escape(str(p))}", highlight=False,
                      soft_wrap=True)
    if problems:
        _out().print(f"[bold red]{len(problems)} problem(s).[/bold red]")
        raise typer.Exit(1)
    n = len(load_registry(extra_dirs=dirs))
    _out().print(f"[bold green]Registry valid:[/bold green] {n} entries.")
