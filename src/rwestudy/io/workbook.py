"""Read a study workbook (.xlsx/.xlsm/.xls/.ods) into raw tables of cell values.

python-calamine reads workbooks several times faster than openpyxl and keeps
each cell's type (date, number, text), which the date parser needs.
"""
from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import pandas as pd

from rwestudy.io._cells import _col_letter, _empty, _norm
from rwestudy.io.xlsx_inspect import col_index
from rwestudy.core.findings import empty_findings, finding


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

    from rwestudy.io.xlsx_inspect import WorkbookTooLarge, inspect_xlsx

    info = None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            info = inspect_xlsx(path)   # before calamine expands anything
        except WorkbookTooLarge as exc:
            return {}, finding("error", "workbook-too-large", "(study)",
                               f"{path.name} is refused, it would not fit in memory: {exc}")
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
            info = None   # a damaged part: calamine's own error names it below
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
        sheet_info = info.sheets.get(sheet) if info is not None else None
        if sheet_info is not None:
            problems += _apply_inspection(rows, sheet_info, sheet)
        frame, p = _frame_from_rows(rows, sheet)
        problems.append(p)
        if frame is None:
            continue
        if info is not None and info.date1904:
            frame.attrs["date1904"] = True   # plain serials are shifted where the column is a date (study.py)
        key = _norm(sheet)
        if key in tables:
            problems.append(finding("error", "table-duplicate", sheet,
                                    f"sheets '{tables[key][1]}' and '{sheet}' are the same table ('{key}'): "
                                    "merge them into one sheet or rename one; only the first is read"))
            continue
        tables[key] = (frame, sheet)
    return tables, pd.concat(problems, ignore_index=True)


def _apply_inspection(rows: list[list], info, sheet: str) -> list[pd.DataFrame]:
    """Findings for what the cell values hide (xlsx_inspect), and the values corrected in ``rows``."""
    out = []
    header = rows[0] if rows else []

    def name(c: int) -> str:
        return str(header[c]).strip() if c < len(header) and not _empty(header[c]) else _col_letter(c)

    if info.state != "visible":
        out.append(finding("warning", "sheet-hidden", sheet,
                           f"sheet '{sheet}' is {'very hidden' if info.state == 'veryHidden' else 'hidden'} in "
                           "the workbook; it is read like the others: check that it belongs to the study"))
    for rng in info.merged:
        first, _, last = rng.partition(":")
        r0 = int("".join(ch for ch in first if ch.isdigit()))
        r1 = int("".join(ch for ch in last if ch.isdigit())) if last else r0
        if r1 < 2:
            continue   # merged header cells hide no data
        c0 = col_index("".join(ch for ch in first if ch.isalpha()))
        out.append(finding("warning", "cells-merged", sheet,
                           f"cells {rng} are merged: only {first} holds the value, the other cells read as "
                           "empty; unmerge them and fill each cell", row=max(r0, 2), column=name(c0)))
    for note in info.notes:
        r, c = note.row - 1, note.column
        if r < 1 or r >= len(rows) or c >= len(rows[r]):
            continue
        rows[r][c] = None
        cell = f"{_col_letter(c)}{note.row}"
        formula = f" (={note.formula})" if note.formula else ""
        if note.kind == "error":
            msg = (f"cell {cell} is a formula{formula} whose result is the error {note.value}: "
                   "type the value itself")
        else:
            msg = (f"cell {cell} is a formula{formula} saved without its result (the program that wrote the "
                   "file did not calculate it): open and save the file in Excel, or type the value")
        out.append(finding("error", "formula-cell", sheet, msg, row=note.row, column=name(c),
                           value=note.value or (f"={note.formula}" if note.formula else None)))
    padded_cols = {}
    for (row, c), text in info.padded.items():
        r = row - 1
        if 1 <= r < len(rows) and c < len(rows[r]):
            rows[r][c] = text
            padded_cols.setdefault(c, (row, text))
    for c, (row, text) in padded_cols.items():
        out.append(finding("info", "number-zero-padded", sheet,
                           f"'{name(c)}' holds numbers shown zero-padded by their cell format; read as shown "
                           f"(e.g. '{text}')", row=row, column=name(c), value=text))
    return out
