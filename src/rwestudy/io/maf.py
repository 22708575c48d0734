"""Mutation Annotation Format (MAF) files -> our ``mutations`` table (one row per patient
and altered gene), with a sample-to-patient table; cBioPortal's data_mutations.txt (a MAF)
and data_clinical_patient.txt / data_clinical_sample.txt read too.

A MAF is tab-separated, may start with ``#`` lines (``#version 2.4``), and names its
columns in its header. Needed: Hugo_Symbol, Tumor_Sample_Barcode, Variant_Classification;
used when present: HGVSp_Short, t_alt_count, t_depth (VAF = t_alt_count / t_depth).

Which variants are kept (the rule, stated in every output): the protein-altering classes
`KEPT` (missense, nonsense, frame shift, in-frame indels, splice site, translation start
site, nonstop). Silent, intronic, UTR, flank, intergenic, RNA and splice-region variants
are not: `DROPPED`. A class in neither list is not kept and is reported. Several variants of
one gene in one patient make one row: the most damaging class (truncating, then
missense, then other), the highest VAF, every HGVSp_Short joined by ``;``.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from rwestudy.io.csv_read import _decode
from rwestudy.core.findings import COLUMNS, empty_findings

REQUIRED = ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification")
KEPT = {"Missense_Mutation": "missense", "Nonsense_Mutation": "truncating", "Frame_Shift_Del": "truncating",
        "Frame_Shift_Ins": "truncating", "Splice_Site": "truncating", "Translation_Start_Site": "truncating",
        "Nonstop_Mutation": "truncating", "In_Frame_Del": "other", "In_Frame_Ins": "other"}
DROPPED = ("Silent", "Intron", "3'UTR", "5'UTR", "3'Flank", "5'Flank", "IGR", "RNA", "lincRNA", "Splice_Region",
           "Targeted_Region", "De_novo_Start_InFrame", "De_novo_Start_OutOfFrame")
RULE = ("variants kept: " + ", ".join(KEPT) + " (protein-altering); not kept: " + ", ".join(DROPPED)
        + "; several variants of one gene in one patient count once")
_SEVERITY = {"truncating": 0, "missense": 1, "other": 2}


def _notes() -> list[dict]:
    return []


def _add(notes, severity, rule, table, message, **kw):
    notes.append({"severity": severity, "rule": rule, "table": table, "row": kw.get("row"),
                  "column": kw.get("column"), "value": None if kw.get("value") is None else str(kw["value"]),
                  "patient_id": kw.get("patient_id"), "center": None, "message": message,
                  "count": kw.get("count", 1)})


def _frame(notes) -> pd.DataFrame:
    return pd.DataFrame(notes, columns=COLUMNS) if notes else empty_findings()


def read_tsv(path: Path, notes, table: str) -> pd.DataFrame | None:
    """A tab-separated file with '#' comment lines before the header; index = line in the file."""
    text, enc = _decode(path.read_bytes(), path.name, table)
    notes += [r for f in enc for r in f.to_dict("records")]
    if text is None:
        return None
    lines = text.splitlines()
    skip = 0
    while skip < len(lines) and lines[skip].startswith("#"):
        skip += 1
    if skip >= len(lines) or not lines[skip].strip():
        _add(notes, "error", "maf-empty", table, f"{path.name} has no header line")
        return None
    sep = "\t" if "\t" in lines[skip] else ","
    frame = pd.read_csv(io.StringIO("\n".join(lines[skip:])), sep=sep, dtype=str, keep_default_na=False,
                        skip_blank_lines=False, comment=None, quoting=3 if sep == "\t" else 0)
    frame.index = pd.RangeIndex(skip + 2, skip + 2 + len(frame), name="row")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.loc[frame.ne("").any(axis=1)]


def read_samples(path: str | Path | None, notes) -> dict[str, str] | None:
    """sample id -> patient id, from a CSV/TSV with sample_id and patient_id (or cBioPortal's SAMPLE_ID, PATIENT_ID)."""
    if path is None:
        return None
    path = Path(path)
    table = path.name
    frame = read_tsv(path, notes, table)
    if frame is None:
        return {}
    cols = {c.lower(): c for c in frame.columns}
    s, p = cols.get("sample_id"), cols.get("patient_id")
    if s is None or p is None:
        _add(notes, "error", "maf-samples-columns", table,
             f"{path.name} needs columns sample_id and patient_id (or SAMPLE_ID, PATIENT_ID); it has "
             f"{', '.join(frame.columns)}")
        return {}
    out: dict[str, str] = {}
    for row, rec in frame.iterrows():
        sid, pid = rec[s].strip(), rec[p].strip()
        if not sid or not pid:
            _add(notes, "error", "maf-samples-missing", table, "a sample without its patient (or the reverse)",
                 row=row)
        elif sid in out and out[sid] != pid:
            _add(notes, "error", "maf-samples-conflict", table,
                 f"sample '{sid}' is given to patients '{out[sid]}' and '{pid}'; the first is kept",
                 row=row, value=sid)
        else:
            out.setdefault(sid, pid)
    return out


def read_maf(path: str | Path, samples: str | Path | None = None):
    """(our mutations table, the variants kept with their patient, the patients tested, findings)."""
    path = Path(path)
    table = path.name
    notes = _notes()
    sample_map = read_samples(samples, notes)
    empty = pd.DataFrame(columns=["patient_id", "gene", "alteration", "vaf"])
    if not path.exists():
        _add(notes, "error", "maf-missing", table, f"no MAF file {path}")
        return empty, empty, [], _frame(notes)
    frame = read_tsv(path, notes, table)
    if frame is None:
        return empty, empty, [], _frame(notes)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        _add(notes, "error", "maf-columns", table,
             f"{path.name} is not a usable MAF: required column(s) {', '.join(missing)} missing "
             f"(a MAF needs {', '.join(REQUIRED)}; found {', '.join(frame.columns[:8])}"
             + (" ..." if len(frame.columns) > 8 else "") + ")")
        return empty, empty, [], _frame(notes)
    v = frame.rename(columns={"Hugo_Symbol": "gene", "Tumor_Sample_Barcode": "sample",
                              "Variant_Classification": "classification"})
    v["sample"] = v["sample"].str.strip()
    v["gene"] = v["gene"].str.strip()
    if sample_map is None:
        v["patient_id"] = v["sample"]
        _add(notes, "info", "maf-samples-none", table,
             "no sample-to-patient table: Tumor_Sample_Barcode is taken as the patient id, and only patients "
             "with at least one variant are known to be tested")
        tested = sorted(v["patient_id"].unique())
    else:
        v["patient_id"] = v["sample"].map(sample_map)
        unknown = v["patient_id"].isna()
        for sample, rows in v.loc[unknown].groupby("sample", sort=False):
            _add(notes, "error", "maf-sample-unknown", table,
                 f"sample '{sample}' is not in the sample-to-patient table: its {len(rows)} variant(s) are not "
                 "imported", row=int(rows.index[0]), column="Tumor_Sample_Barcode", value=sample, count=len(rows))
        tested = sorted(set(sample_map.values()))
        v = v.loc[~unknown]
    no_gene = v["gene"].eq("") | v["gene"].eq("Unknown")
    for row in v.index[no_gene]:
        _add(notes, "error", "maf-gene-missing", table, "variant without a Hugo_Symbol; not imported",
             row=int(row), column="Hugo_Symbol")
    v = v.loc[~no_gene]
    cls = v["classification"].str.strip()
    kept = cls.isin(list(KEPT))
    dropped = cls.isin(DROPPED)
    for c, n in cls[~kept & ~dropped].value_counts().items():
        _add(notes, "warning", "maf-class-unknown", table,
             f"Variant_Classification '{c}' is not a MAF class we know; its {n} variant(s) are not kept",
             column="Variant_Classification", value=c, count=int(n))
    if dropped.any():
        counts = ", ".join(f"{k}: {n}" for k, n in cls[dropped].value_counts().items())
        _add(notes, "info", "maf-class-dropped", table,
             f"{int(dropped.sum())} variant(s) not protein-altering, not kept ({counts}); {RULE}")
    v = v.loc[kept].copy()
    v["alteration"] = cls[kept].map(KEPT)
    v["vaf"] = _vaf(v, notes, table)
    variants = v[["patient_id", "sample", "gene", "classification", "alteration", "vaf"]
                 + (["HGVSp_Short"] if "HGVSp_Short" in v.columns else [])].copy()
    mutations = _per_gene(variants)
    return mutations, variants, tested, _frame(notes)


def _vaf(v: pd.DataFrame, notes, table) -> pd.Series:
    if not {"t_alt_count", "t_depth"} <= set(v.columns):
        return pd.Series(np.nan, index=v.index)
    alt = pd.to_numeric(v["t_alt_count"].str.strip(), errors="coerce")
    depth = pd.to_numeric(v["t_depth"].str.strip(), errors="coerce")
    bad = (alt.isna() & v["t_alt_count"].str.strip().ne("")) | (depth.isna() & v["t_depth"].str.strip().ne("")) \
        | (depth <= 0) | (alt < 0) | (alt > depth)
    for row in v.index[bad.fillna(False)]:
        _add(notes, "warning", "maf-vaf", table,
             f"t_alt_count {v.at[row, 't_alt_count']!r} of t_depth {v.at[row, 't_depth']!r} is no allele fraction; "
             "VAF left empty", row=int(row), column="t_alt_count")
    return (alt / depth).where(~bad.fillna(False))


def _per_gene(variants: pd.DataFrame) -> pd.DataFrame:
    if variants.empty:
        return pd.DataFrame(columns=["patient_id", "gene", "alteration", "vaf"])
    v = variants.assign(_rank=variants["alteration"].map(_SEVERITY))
    g = v.sort_values(["patient_id", "gene", "_rank"], kind="stable").groupby(["patient_id", "gene"], sort=False)
    out = g.agg(alteration=("alteration", "first"), vaf=("vaf", "max")).reset_index()
    if "HGVSp_Short" in v.columns:
        out["protein_change"] = g["HGVSp_Short"].agg(lambda s: ";".join(x for x in s if x)).to_numpy()
    return out


def read_cbioportal_patients(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """cBioPortal data_clinical_patient.txt -> (patient_id, endpoint, time in months, event), findings.

    OS_STATUS / PFS_STATUS (or DFS_STATUS) are ``1:DECEASED`` / ``0:LIVING``-style values: the number
    before the colon is the event indicator; OS_MONTHS / PFS_MONTHS the time.
    """
    path = Path(path)
    notes = _notes()
    frame = read_tsv(path, notes, path.name) if path.exists() else None
    out = []
    if frame is None or "PATIENT_ID" not in frame.columns:
        _add(notes, "error", "cbioportal-clinical", path.name,
             f"{path.name}: not a cBioPortal clinical patient file (no PATIENT_ID column)")
        return pd.DataFrame(columns=["patient_id", "endpoint", "time", "event"]), _frame(notes)
    for endpoint, prefixes in (("OS", ("OS",)), ("PFS", ("PFS", "DFS"))):
        pre = next((p for p in prefixes if f"{p}_MONTHS" in frame and f"{p}_STATUS" in frame), None)
        if pre is None:
            continue
        for row, rec in frame.iterrows():
            status, months = rec[f"{pre}_STATUS"].strip(), rec[f"{pre}_MONTHS"].strip()
            if not status and not months or months.upper() in ("NA", "[NOT AVAILABLE]"):
                continue
            ev = status.split(":", 1)[0].strip()
            t = pd.to_numeric(months, errors="coerce")
            if ev not in ("0", "1") or pd.isna(t) or t < 0:
                _add(notes, "error", "cbioportal-survival", path.name,
                     f"{pre}_STATUS '{status}' / {pre}_MONTHS '{months}' is not a time and a 0:/1: status; "
                     "patient left out of " + endpoint, row=int(row), patient_id=rec["PATIENT_ID"])
                continue
            out.append({"patient_id": rec["PATIENT_ID"].strip(), "endpoint": endpoint, "time": float(t),
                        "event": int(ev)})
    return pd.DataFrame(out, columns=["patient_id", "endpoint", "time", "event"]), _frame(notes)
