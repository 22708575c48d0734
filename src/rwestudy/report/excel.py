"""tables.xlsx: every report table on its own sheet (title, header, rows, footnotes)."""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font

from rwestudy.report.table_model import ReportTable

_BOLD = Font(bold=True)
_ITALIC = Font(italic=True, size=9)


def _sheet_name(key: str, used: set[str]) -> str:
    base = "".join(c for c in key if c not in '[]:*?/\\')[:31] or "table"
    name, k = base, 2
    while name.lower() in used:
        name = f"{base[:28]}_{k}"
        k += 1
    used.add(name.lower())
    return name


def write_xlsx(path: Path, tables: list[ReportTable]) -> Path:
    """Write-only mode: fast, and cells stay text exactly as in the Word and HTML tables."""
    wb = Workbook(write_only=True)
    index = wb.create_sheet("contents")
    used = {"contents"}
    index.append([WriteOnlyCell(index, "Sheet"), WriteOnlyCell(index, "Table")])
    names = [_sheet_name(t.key, used) for t in tables]
    for name, t in zip(names, tables):
        index.append([name, t.title])
    for name, t in zip(names, tables):
        ws = wb.create_sheet(name)
        ws.column_dimensions["A"].width = 48
        for col in "BCDEFGHIJK":
            ws.column_dimensions[col].width = 20
        title = WriteOnlyCell(ws, t.title)
        title.font = _BOLD
        ws.append([title])
        header = []
        for h in t.header:
            c = WriteOnlyCell(ws, h)
            c.font = _BOLD
            header.append(c)
        ws.append(header)
        for r in t.rows:
            first = WriteOnlyCell(ws, r.cells[0])
            if r.indent:
                first.alignment = Alignment(indent=2 * r.indent)
            if r.section:
                first.font = _BOLD
            ws.append([first] + list(r.cells[1:]))
        ws.append([])
        for f in t.footnotes:
            c = WriteOnlyCell(ws, f)
            c.font = _ITALIC
            ws.append([c])
    wb.save(path)
    return path
