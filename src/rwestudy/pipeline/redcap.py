"""A REDCap export read as a study (what `validate|analyze|report --redcap-dictionary` do):
imported, then validated like any study, every finding pointing at the export's own line."""
from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pandas as pd

from rwestudy.io.redcap.convert import import_redcap
from rwestudy.io.redcap.mapping import load_redcap_mapping
from rwestudy.io.writers import write_csv_folder
from rwestudy.core.findings import combine


def load_redcap_study(records, dictionary, redcap_mapping=None, **load_kwargs):
    """A `Study` from a record export and its data dictionary (``load_kwargs`` go to `load_study`)."""
    from rwestudy.study import load_study

    records = Path(records)
    if not records.exists():
        raise FileNotFoundError(f"no such REDCap record export: {records}")
    if not Path(dictionary).exists():
        raise FileNotFoundError(f"no such REDCap data dictionary: {dictionary}")
    result = import_redcap(records, dictionary, load_redcap_mapping(redcap_mapping))
    with tempfile.TemporaryDirectory(prefix="rwestudy-redcap-") as tmp:
        s = load_study(write_csv_folder(result.tables, Path(tmp) / "study"), **load_kwargs)
    findings = s.findings.copy()
    for table, lines in result.lines.items():
        # Rows of the study written from the export (header = row 1) -> lines of the export.
        at = findings["table"].eq(table) & findings["row"].notna()
        findings.loc[at, "row"] = [lines[int(r) - 2] if 2 <= int(r) < len(lines) + 2 else r
                                   for r in findings.loc[at, "row"]]
    tables = {k: v.set_axis(pd.Index(result.lines.get(k, list(v.index))[: len(v)], name="row"))
              if len(result.lines.get(k, [])) == len(v) else v for k, v in s.tables.items()}
    pats = tables.get("patients")
    centers = None
    if pats is not None and {"patient_id", "center"} <= set(pats.columns):
        centers = pats.dropna(subset=["patient_id"]).drop_duplicates("patient_id").set_index("patient_id")["center"]
    return dataclasses.replace(s, source=str(records), tables=tables,
                               findings=combine([result.findings, findings], centers))
