"""Read a study workbook (.xlsx/.xlsm/.xls/.ods) or a folder of CSV files into
raw tables of cell values, reporting anything unreadable as a finding.

python-calamine reads workbooks several times faster than openpyxl and keeps
each cell's type (date, number, text), which the date parser needs. CSV files
are read as text; encoding and delimiter are detected and reported.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from rwestudy.validation.findings import empty_findings, finding

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}


def _norm(name: str) -> str:
    """Header/sheet name as compared: lower case, spaces and dashes to underscores."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


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


def _frame_from_rows(rows: list[list], table: str) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    if not rows or all(_empty(c) for c in rows[0]):
        return None, finding("error", "table-empty", table,
                             f"sheet '{table}' is empty: the first row must hold the column names")
    header = ["" if _empty(h) else str(h).strip() for h in rows[0]]
    width = len(header)
    body = [list(r) + [None] * (width - len(r)) if len(r) < width else list(r) for r in rows[1:]]
    frame = pd.DataFrame(body, columns=range(max(width, max((len(r) for r in body), default=0))),
                         dtype=object)
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="row")
    # calamine gives '' for empty cells; whitespace-only text is NA later (blank_to_na)
    frame = frame.where(frame.notna() & frame.ne(""), None)
    problems = [empty_findings()]
    keep = []
    for i in frame.columns:
        name = header[i] if i < width else ""
        if name == "":
            if frame[i].notna().any():
                problems.append(finding("warning", "column-no-header", table,
                                        f"column {_col_letter(i)} holds values but has no header; "
                                        "it is ignored", column=_col_letter(i)))
            continue
        keep.append(i)
    frame = frame[keep]
    frame.columns = [header[i] for i in keep]
    # Drop rows that are entirely empty (formatting residue), nothing else.
    frame = frame.loc[frame.notna().any(axis=1)]
    return frame, pd.concat(problems, ignore_index=True)


def _read_workbook(path: Path):
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types for corrupt files
        return {}, finding("error", "file-unreadable", "(study)",
                           f"{path.name} cannot be read as a workbook: {exc}")
    tables, problems = {}, [empty_findings()]
    for sheet in wb.sheet_names:
        try:
            rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        except Exception as exc:
            problems.append(finding("error", "table-unreadable", sheet, f"sheet cannot be read: {exc}"))
            continue
        frame, p = _frame_from_rows(rows, sheet)
        problems.append(p)
        if frame is not None:
            tables[_norm(sheet)] = (frame, sheet)
    return tables, pd.concat(problems, ignore_index=True)


def _read_csv_folder(path: Path):
    tables, problems = {}, [empty_findings()]
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
    if not files:
        return {}, finding("error", "file-type", "(study)", f"folder {path} holds no .csv files")
    for f in files:
        frame, p = _read_csv(f)
        problems.append(p)
        if frame is not None:
            tables[_norm(f.stem)] = (frame, f.name)
    return tables, pd.concat(problems, ignore_index=True)


def _read_csv(path: Path):
    table = path.stem
    data = path.read_bytes()
    problems = [empty_findings()]
    if not data.strip():
        return None, finding("error", "table-empty", table, f"{path.name} is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text, enc = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:
            text, enc = data.decode("latin-1"), "Latin-1"
        line = data[: exc.start].count(b"\n") + 1
        problems.append(finding("warning", "file-encoding", table,
                                f"{path.name} is not UTF-8 (first bad byte on line {line}); read as {enc}: "
                                "check accented characters, and save as UTF-8 next time", row=line))
    first = text.split("\n", 1)[0]
    sep = max([",", ";", "\t"], key=first.count)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_filter=False, skip_blank_lines=True, quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        return None, pd.concat(problems + [finding(
            "error", "table-unreadable", table,
            f"{path.name} cannot be parsed as CSV ({str(exc).strip()}); every row must have as many "
            "fields as the header")], ignore_index=True)
    if frame.columns.size == 0:
        return None, finding("error", "table-empty", table, f"{path.name} has no header row")
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed:")]
    for c in unnamed:
        if (frame[c] != "").any():
            problems.append(finding("warning", "column-no-header", table,
                                    "a column holds values but has no header; it is ignored", column=str(c)))
    frame = frame.drop(columns=unnamed)
    frame = frame.astype(object).where(frame != "", None)
    # Line numbers in the file (header = line 1); blank lines are skipped by the
    # parser, which is harmless for a table without quoted newlines.
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="row")
    frame = frame.loc[frame.notna().any(axis=1)]
    return frame, pd.concat(problems, ignore_index=True)


def _empty(v) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "") or (isinstance(v, float) and v != v)


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s
