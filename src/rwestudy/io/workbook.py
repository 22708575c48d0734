"""Read a study workbook (.xlsx/.xlsm/.xls/.ods) into raw tables of cell values.

python-calamine reads workbooks several times faster than openpyxl and keeps
each cell's type (date, number, text), which the date parser needs.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from rwestudy.io._cells import _col_letter, _empty, _norm
from rwestudy.validation.findings import empty_findings, finding


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


