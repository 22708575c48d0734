"""`rwestudy mutations`: a MAF (or cBioPortal's data_mutations.txt) with its sample-to-patient
table -> our mutations table, per-gene frequencies, the oncoprint, and OS/PFS by mutated vs
wild-type per gene (with a study, or cBioPortal's data_clinical_patient.txt)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.console import Console

from rwestudy.terminal import plain

console = Console()


class MutationsUserError(Exception):
    """A bad command line: one sentence, exit 2."""


def analyse_mutations(maf, samples=None, *, study=None, clinical=None, out=None, min_mutated: int = 3) -> dict:
    """Everything `rwestudy mutations` writes, as frames (and files in ``out`` when given)."""
    from rwestudy.analysis.mutation_survival import gene_frequencies, survival_by_gene
    from rwestudy.figures.oncoprint import oncoprint_figure
    from rwestudy.io.maf import RULE, read_cbioportal_patients, read_maf

    mutations, variants, tested, findings = read_maf(maf, samples)
    parts = [findings]
    survival = pd.DataFrame(columns=["patient_id", "endpoint", "time", "event"])
    patients = pd.DataFrame({"patient_id": tested})
    if study is not None:
        from rwestudy.endpoints.derive import derive_endpoints
        from rwestudy.study import Study, load_study

        s = study if isinstance(study, Study) else load_study(study)
        ep = derive_endpoints(s)
        survival = ep.time_to_event[["patient_id", "endpoint", "time", "event"]]
        patients = ep.patients
        known = set(patients["patient_id"])
        outside = sorted(set(tested) - known)
        if outside:
            from rwestudy.core.findings import finding

            parts.append(finding("warning", "maf-patient-unknown", Path(maf).name,
                                 f"{len(outside)} tested patient(s) are not analysed patients of the study "
                                 "(not in it, or excluded); left out of the survival comparisons"))
    elif clinical is not None:
        survival, clinical_findings = read_cbioportal_patients(clinical)
        parts.append(clinical_findings)
    freq = gene_frequencies(mutations, tested)
    by_gene = survival_by_gene(mutations, survival, tested, min_mutated=min_mutated)
    result = {"mutations": mutations, "variants": variants, "tested": tested, "frequencies": freq,
              "survival_by_gene": by_gene, "rule": RULE,
              "findings": pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)}
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        mutations.to_csv(out / "mutations.csv", index=False)
        freq.to_csv(out / "gene_frequencies.csv", index=False)
        by_gene.to_csv(out / "survival_by_gene.csv", index=False)
        result["findings"].to_csv(out / "maf_findings.csv", index=False)
        (out / "variant_rule.txt").write_text(RULE + "\n", encoding="utf-8")
        fig = oncoprint_figure({}, {"mutations": mutations, "patients": patients})
        if fig is not None:
            fig.savefig(out / "oncoprint.png", dpi=200)
            fig.savefig(out / "oncoprint.svg")
            result["oncoprint"] = out / "oncoprint.png"
    return result


def mutations_cmd(
    maf: Path = typer.Option(..., "--maf", help="MAF file (or cBioPortal data_mutations.txt)."),
    samples: Optional[Path] = typer.Option(None, "--samples", help="Sample-to-patient table (sample_id, patient_id; "
                                           "or cBioPortal data_clinical_sample.txt)."),
    study: Optional[Path] = typer.Option(None, "--study", help="Our study: OS/PFS by mutated vs wild-type."),
    clinical: Optional[Path] = typer.Option(None, "--clinical", help="cBioPortal data_clinical_patient.txt "
                                            "(OS_/PFS_ MONTHS and STATUS), instead of --study."),
    out: Path = typer.Option(Path("mutations"), "--out", "-o", help="Folder for the outputs."),
    min_mutated: int = typer.Option(3, "--min-mutated", min=1, help="Patients needed in each group to test a gene."),
):
    """Mutations: per-gene frequencies, oncoprint, OS/PFS mutated vs wild-type (log-rank, BH q-values).

    Examples:

      rwestudy mutations --maf cohort.maf --samples samples.csv --study study.xlsx --out mut/

      rwestudy mutations --maf data_mutations.txt --samples data_clinical_sample.txt --clinical data_clinical_patient.txt
    """
    for p in (maf, samples, study, clinical):
        if p is not None and not p.exists():
            raise MutationsUserError(f"file not found: {p}")
    if study is not None and clinical is not None:
        raise MutationsUserError("give --study or --clinical, not both")
    r = analyse_mutations(maf, samples, study=study, clinical=clinical, out=out, min_mutated=min_mutated)
    f = r["findings"]
    for rec in f.loc[f["severity"] != "info"].head(20).itertuples():
        console.print(plain(f"{rec.severity.upper():7} {rec.table}"
                            + (f" line {rec.row}" if pd.notna(rec.row) else "") + f": {rec.message}"), soft_wrap=True)
    console.print(plain(f"{len(r['tested'])} patients tested, {len(r['mutations'])} patient-gene alterations in "
                        f"{r['frequencies'].shape[0]} genes ({r['rule']})."), soft_wrap=True)
    for row in r["survival_by_gene"].loc[lambda d: d["tested"]].itertuples():
        console.print(plain(f"  {row.endpoint} {row.gene}: mutated {row.n_mutated} ({row.events_mutated} events) vs "
                            f"wild-type {row.n_wild_type} ({row.events_wild_type} events), log-rank p={row.logrank_p:.3g}, "
                            f"BH q={row.q_bh:.3g}"), soft_wrap=True)
    console.print(plain(f"Written to {out}/"), soft_wrap=True)
    raise typer.Exit(1 if (f["severity"] == "error").any() else 0)
