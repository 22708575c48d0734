"""The findings as files for the centers: xlsx (a summary sheet and one sheet per center), CSV, JSON.

Findings quote the centers' own text (an AE term, a center name), so every cell goes
through `io.cell_text`: a value such as ``=HYPERLINK(...)`` is written as text (xlsx) or
with a leading quote (CSV), never as a formula, and control characters are escaped.
JSON keeps each value exactly (its own escaping makes any text safe).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from rwestudy.io.cell_text import csv_text, sheet_title, xlsx_cell
from rwestudy.exceptions import RwestudyError

EXCEL_MAX_ROWS = 1_048_576  # rows in an Excel sheet, header included


class ExportError(RwestudyError):
    """The export path cannot be written (wrong extension)."""


def write_findings(study, path, timestamp=None) -> Path:
    """Write ``study``'s findings to ``path`` (.xlsx, .csv or .json); returns the path.

    ``timestamp`` (xlsx): the workbook's date; default: the study's data cut-off, if declared.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv", ".json"):
        raise ExportError(f"--export must end in .xlsx, .csv or .json, got {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        _write_csv(study.findings, path)
    elif suffix == ".xlsx":
        when = timestamp if timestamp is not None else getattr(study.config, "cutoff_date", None)
        _write_xlsx(study, path, when)
    else:
        path.write_text(json.dumps(study.to_dict(), indent=2, default=str), encoding="utf-8")
    return path


def _cell(v):
    """A plain Python value for a writer: None for missing, ints as ints."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def _rows(frame: pd.DataFrame):
    for rec in frame.itertuples(index=False, name=None):
        yield [_cell(v) for v in rec]


def _write_csv(findings: pd.DataFrame, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([csv_text(c) for c in findings.columns])
        for row in _rows(findings):
            out.writerow(["" if v is None else csv_text(v) for v in row])


def _sheet(wb, title: str, frame: pd.DataFrame) -> None:
    ws = wb.create_sheet(title)
    ws.append([xlsx_cell(ws, str(c)) for c in frame.columns])
    n = 0
    for row in _rows(frame):
        if n == EXCEL_MAX_ROWS - 2:  # the last row of the sheet says what did not fit
            ws.append([xlsx_cell(ws, f"... {len(frame) - n} more rows do not fit in an Excel sheet; "
                                     "export as .csv or .json for all of them")])
            return
        ws.append([xlsx_cell(ws, v) for v in row])
        n += 1


def _write_xlsx(study, path: Path, timestamp) -> None:
    from openpyxl import Workbook

    from rwestudy.io.stable_zip import save_workbook

    findings = study.findings
    wb = Workbook(write_only=True)
    used = {"per center", "all findings"}
    _sheet(wb, "per center", study.center_summary())
    _sheet(wb, "all findings", findings)
    for center, grp in findings.groupby(findings["center"].fillna("(no center)"), sort=True):
        _sheet(wb, sheet_title(str(center), used, fallback="center"), grp)
    save_workbook(wb, path, timestamp)
