"""`rwestudy import redcap` and `rwestudy export redcap-dictionary` (mounted by rwestudy.cli)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.text import Text

from rwestudy.terminal import plain

console = Console()
import_app = typer.Typer(help="Bring another system's export in as a study.", no_args_is_help=True)


class RedcapUserError(Exception):
    """A bad command line (missing file...): one sentence, exit 2 (rwestudy.cli prints it)."""


@import_app.command("redcap")
def import_redcap_cmd(
    records: Optional[Path] = typer.Option(None, "--records", help="REDCap record export (CSV, raw or labels)."),
    dictionary: Path = typer.Option(..., "--dictionary", help="The project's data dictionary (CSV)."),
    mapping: Optional[Path] = typer.Option(None, "--mapping", "-m", help="REDCap mapping TOML (docs/redcap.md)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for study.xlsx, csv/ and the findings."),
    suggest: Optional[Path] = typer.Option(None, "--suggest-mapping",
                                           help="Write a first draft of the mapping to this file and stop."),
    mutations: Optional[Path] = typer.Option(None, "--mutations", help="A MAF file: it becomes the mutations table."),
    samples: Optional[Path] = typer.Option(None, "--samples", help="With --mutations: sample_id,patient_id table."),
):
    """Import a REDCap project: the study (study.xlsx and csv/), import_findings.csv, import_rows.csv.

    Exit code 0 when nothing was refused, 1 when a finding is an error.

    Examples:

      rwestudy import redcap --records records.csv --dictionary dictionary.csv --out study/

      rwestudy import redcap --dictionary dictionary.csv --suggest-mapping redcap.toml
    """
    from rwestudy.io.redcap.convert import import_redcap
    from rwestudy.io.redcap.dictionary import read_dictionary
    from rwestudy.io.redcap.mapping import RedcapMappingError, load_redcap_mapping
    from rwestudy.io.redcap.output import write_import
    from rwestudy.io.redcap.suggest import suggest_mapping
    from rwestudy.core.findings import count_by_severity

    if not dictionary.is_file():
        raise RedcapUserError(f"data dictionary not found: {dictionary}")
    if suggest is not None:
        d, problems = read_dictionary(dictionary)
        if not d.fields:
            raise RedcapUserError("; ".join(problems["message"]) or "the data dictionary has no fields")
        suggest.write_text(suggest_mapping(d), encoding="utf-8")
        console.print(Text.assemble("Draft mapping written to ", plain(str(suggest))), soft_wrap=True)
        return
    if records is None or out is None:
        raise RedcapUserError("--records and --out are needed (or --suggest-mapping FILE)")
    if not records.is_file():
        raise RedcapUserError(f"record export not found: {records}")
    try:
        m = load_redcap_mapping(mapping)
    except RedcapMappingError as exc:
        raise RedcapUserError(str(exc)) from None
    result = import_redcap(records, dictionary, m)
    if mutations is not None:
        result = with_maf(result, mutations, samples)
    paths = write_import(result, out)
    counts = count_by_severity(result.findings)
    acc = result.accounting["outcome"].value_counts().to_dict()
    tables = ", ".join(f"{k} ({len(v)} rows)" for k, v in result.tables.items())
    console.print(plain(f"{len(result.accounting)} rows read ({', '.join(f'{v} {k}' for k, v in acc.items())}); "
                        f"tables: {tables or 'none'}"), soft_wrap=True)
    for rec in result.findings.loc[result.findings["severity"] != "info"].head(30).itertuples():
        import pandas as pd

        where = "file" if pd.isna(rec.row) else f"line {int(rec.row)}"
        console.print(plain(f"{rec.severity.upper():7} {where}" + (f", {rec.column}" if rec.column else "")
                            + f": {rec.message}"), soft_wrap=True)
    console.print(plain(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s); "
                        f"study written to {paths['xlsx']} and {paths['csv']}/, findings to {paths['findings']}"),
                  soft_wrap=True)
    raise typer.Exit(1 if counts["error"] else 0)


def with_maf(result, maf: Path, samples: Path | None):
    """The import with its mutations table taken from a MAF (the rule and the MAF's findings added)."""
    import pandas as pd

    from rwestudy.io.maf import RULE, read_maf
    from rwestudy.core.findings import finding

    for p in (maf, samples):
        if p is not None and not p.exists():
            raise RedcapUserError(f"file not found: {p}")
    table, _, tested, findings = read_maf(maf, samples)
    parts = [result.findings, findings, finding("info", "maf-rule", maf.name, RULE)]
    if "mutations" in result.tables:
        parts.append(finding("warning", "maf-replaces-redcap", maf.name,
                             f"the REDCap project has a mutations instrument ({len(result.tables['mutations'])} rows);"
                             " the MAF's table is used instead"))
    known = set(result.tables.get("patients", pd.DataFrame(columns=["patient_id"]))["patient_id"])
    strangers = sorted(set(tested) - known)
    if strangers:
        parts.append(finding("warning", "maf-patient-unknown", maf.name,
                             f"{len(strangers)} patient(s) of the MAF are not records of the REDCap project; "
                             "their rows are kept and validation will list them"))
    tables = {**result.tables, "mutations": table[["patient_id", "gene", "alteration", "vaf"]]}
    return type(result)(tables, pd.concat([p for p in parts if len(p)], ignore_index=True), result.accounting,
                        result.style, result.lines)


def redcap_dictionary_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the data dictionary (CSV)."),
    ae_terms: str = typer.Option("text", "--ae-terms", help="CTCAE term as 'text' or 'dropdown'."),
    study: Optional[Path] = typer.Option(None, "--study", help="A study whose drugs become the choices of "
                                         "related_to (a checkbox); without it related_to is text."),
):
    """Write our study format as a REDCap data dictionary (and the list of repeating instruments beside it)."""
    from rwestudy.io.redcap.export_dictionary import dictionary_rows, repeating_instruments, to_csv

    if ae_terms not in ("text", "dropdown"):
        raise RedcapUserError(f"--ae-terms must be text or dropdown, got {ae_terms!r}")
    drugs = None
    if study is not None:
        from rwestudy.study import load_study

        if not study.exists():
            raise RedcapUserError(f"no such study: {study}")
        s = load_study(study)
        if s.treatment is not None and "drug" in s.treatment:
            drugs = sorted(s.treatment["drug"].dropna().astype(str).unique())
    out.parent.mkdir(parents=True, exist_ok=True)
    terms = None
    if ae_terms == "dropdown":
        from rwestudy.validation.ctcae import ctcae_terms

        terms = list(ctcae_terms()["term"])
    out.write_text(to_csv(dictionary_rows(ae_terms=ae_terms, drugs=drugs, terms=terms)), encoding="utf-8")
    rep = out.with_name(out.stem + "_repeating_instruments.csv")
    rep.write_text(to_csv(repeating_instruments(), header=("form_name", "custom_form_label")), encoding="utf-8")
    console.print(Text.assemble("REDCap data dictionary written to ", plain(str(out)), "; repeating instruments to ",
                                plain(str(rep))), soft_wrap=True)
