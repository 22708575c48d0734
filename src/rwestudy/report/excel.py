"""tables.xlsx: every report table on its own sheet (title, header, rows, footnotes).

Every cell goes through `io.cell_text.xlsx_cell`: text stays a text cell (an AE term
``=HYPERLINK(...)`` is shown, never run) and control characters are escaped.
"""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from rwestudy.io.cell_text import sheet_title, xlsx_cell
from rwestudy.io.stable_zip import save_workbook
from rwestudy.report.table_model import ReportTable

_BOLD = Font(bold=True)
_ITALIC = Font(italic=True, size=9)


def write_xlsx(path: Path, tables: list[ReportTable], timestamp=None) -> Path:
    """Write-only mode: fast, and cells stay text exactly as in the Word and HTML tables.

    ``timestamp``: the workbook's created/modified date (and its zip entries' dates),
    so the same tables give the same bytes.
    """
    wb = Workbook(write_only=True)
    index = wb.create_sheet("contents")
    used = {"contents"}
    index.append([xlsx_cell(index, "Sheet"), xlsx_cell(index, "Table")])
    names = [sheet_title(t.key, used, fallback="table") for t in tables]
    for name, t in zip(names, tables):
        index.append([xlsx_cell(index, name), xlsx_cell(index, t.title)])
    for name, t in zip(names, tables):
        ws = wb.create_sheet(name)
        ws.column_dimensions["A"].width = 48
        for col in "BCDEFGHIJK":
            ws.column_dimensions[col].width = 20
        ws.append([xlsx_cell(ws, t.title, font=_BOLD)])
        ws.append([xlsx_cell(ws, h, font=_BOLD) for h in t.header])
        for r in t.rows:
            first = xlsx_cell(ws, r.cells[0], font=_BOLD if r.section else None,
                              alignment=Alignment(indent=2 * r.indent) if r.indent else None)
            ws.append([first] + [xlsx_cell(ws, c) for c in r.cells[1:]])
        ws.append([])
        for f in t.footnotes:
            ws.append([xlsx_cell(ws, f, font=_ITALIC)])
    return save_workbook(wb, path, timestamp)
