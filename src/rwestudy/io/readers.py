"""Read a study (a workbook: .xlsx/.xlsm/.xls/.ods; or a folder of CSV files)
into raw tables of cell values, reporting anything unreadable as a finding.

python-calamine reads workbooks several times faster than openpyxl and keeps
each cell's type (date, number, text), which the date parser needs. CSV files
are read as text; encoding and delimiter are detected and reported.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from rwestudy.io._cells import _norm  # noqa: F401  (study.py compares table names with it)
from rwestudy.io.csv_read import _read_csv, _read_csv_folder
from rwestudy.io.workbook import _read_workbook
from rwestudy.core.findings import empty_findings, finding

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}


def read_source(path: Path) -> tuple[dict[str, tuple[pd.DataFrame, str]], pd.DataFrame]:
    """Raw tables keyed by normalised sheet/file name -> (frame, original name).

    Each frame has the original header names as columns, object cells, and
    the source row number (spreadsheet row, header = row 1) as index.
    """
    if path.is_dir():
        return _read_csv_folder(path)
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return _read_workbook(path)
    if path.suffix.lower() == ".csv":
        tables, f = {}, [empty_findings()]
        frame, problems = _read_csv(path)
        f.append(problems)
        if frame is not None:
            tables["patients"] = (frame, path.name)
        return tables, pd.concat(f, ignore_index=True)
    return {}, finding("error", "file-type", "(study)",
                       f"{path.name}: not a workbook (.xlsx, .xls, .ods) or a folder of CSV files")


