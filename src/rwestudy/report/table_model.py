"""One table model, three renderers (HTML, Word, Excel).

A `ReportTable` holds only formatted strings: every number is formatted
once, in `report.tables_*`, from the records of results.json, so the three
outputs cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Row:
    cells: list[str]
    indent: int = 0          # 1 = a level under a variable (Table 1 style)
    section: bool = False    # a label row spanning the table (e.g. "Hematologic")


@dataclass
class ReportTable:
    key: str                 # stable id: HTML anchor, Excel sheet name, test handle
    title: str
    header: list[str]
    rows: list[Row] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    group: str = "Results"   # heading of the report part it belongs to

    def add(self, *cells, indent: int = 0) -> None:
        self.rows.append(Row([str(c) for c in cells], indent=indent))

    def section(self, text: str) -> None:
        self.rows.append(Row([text] + [""] * (len(self.header) - 1), section=True))

    def to_frame(self) -> pd.DataFrame:
        """The table as strings, one row per displayed row (indent shown by leading spaces)."""
        data = [["    " * r.indent + r.cells[0]] + r.cells[1:] for r in self.rows]
        return pd.DataFrame(data, columns=self.header)

    def cell(self, row_label: str, column: str) -> str:
        """The cell in the first row whose first cell is `row_label` (used by tests and text)."""
        j = self.header.index(column)
        for r in self.rows:
            if r.cells[0] == row_label:
                return r.cells[j]
        raise KeyError(f"{self.key}: no row {row_label!r}")
