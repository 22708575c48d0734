"""The study mapping: a small TOML file that lets a study keep its own sheet
names, column names and codes, and declares its date conventions.

Example (an Italian workbook)::

    [study]
    date_format = "DD/MM/YYYY"     # iso (default) | DD/MM/YYYY | MM/DD/YYYY
    partial_dates = "mid"          # none (default: error) | mid | first
    cutoff_date = "2024-06-30"     # data cut-off; later dates are warnings (after today: errors)

    [sheets]
    patients = "Pazienti"
    adverse_events = "Tossicita"

    [columns.patients]             # canonical name = name in your sheet
    sex = "Sesso"
    final_response = "Risposta finale"

    [codes.sex]                    # canonical code = [your spellings]
    M = ["maschio", "m"]
    F = ["femmina", "f"]

    [codes.responses]              # applies to every CR/PR/SD/PD/NE column
    CR = ["RC"]
    PR = ["RP"]
    SD = ["MS", "malattia stabile"]
    PD = ["PD", "progressione"]

    [codes.yesno]                  # applies to every yes/no column
    yes = ["si", "sì"]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rwestudy.io.toml_file import read_toml
from rwestudy.io.dates import DATE_FORMATS, PARTIAL_RULES
from rwestudy.io.schema import RESPONSES, TABLES
from rwestudy.exceptions import RwestudyError


class MappingError(RwestudyError):
    """The study mapping file itself is wrong (not the data)."""


@dataclass(frozen=True)
class StudyConfig:
    date_format: str = "iso"
    partial_dates: str = "none"
    cutoff_date: pd.Timestamp | None = None
    sheets: dict[str, str] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str | None = None

    def codes_for(self, table: str) -> dict[str, dict[str, str]]:
        """Column -> {user spelling (lower case) -> canonical code} for one table."""
        spec = TABLES[table]
        out: dict[str, dict[str, str]] = {}
        for col in spec.columns:
            merged: dict[str, str] = {}
            if col.kind == "code" and set(col.codes) == set(RESPONSES):
                merged.update(self.codes.get("responses", {}))
            if col.kind == "yesno":
                merged.update(self.codes.get("yesno", {}))
            merged.update(self.codes.get(col.name, {}))
            merged.update(self.codes.get(f"{table}.{col.name}", {}))
            if merged:
                out[col.name] = merged
        return out


def load_mapping(path: str | Path | None, **overrides) -> StudyConfig:
    """Read a mapping TOML (or none) and apply command-line overrides."""
    data: dict = {}
    source = None
    if path is not None:
        data = read_toml(path, "mapping", MappingError)
        source = str(path)
    unknown = set(data) - {"study", "sheets", "columns", "codes"}
    if unknown:
        raise MappingError(f"unknown section(s) {sorted(unknown)} in the mapping; "
                           "expected [study], [sheets], [columns.<table>], [codes.<column>]")
    study = dict(data.get("study", {}))
    study.update({k: v for k, v in overrides.items() if v is not None})
    bad = set(study) - {"date_format", "partial_dates", "cutoff_date"}
    if bad:
        raise MappingError(f"unknown key(s) {sorted(bad)} in [study]")
    date_format = study.get("date_format", "iso")
    if date_format not in DATE_FORMATS:
        raise MappingError(f"date_format must be one of {list(DATE_FORMATS)}, got {date_format!r}")
    partial = study.get("partial_dates", "none")
    if partial not in PARTIAL_RULES:
        raise MappingError(f"partial_dates must be one of {list(PARTIAL_RULES)}, got {partial!r}")
    cutoff = study.get("cutoff_date")
    if cutoff is not None:
        try:
            cutoff = pd.Timestamp(str(cutoff)).normalize()
        except ValueError:
            raise MappingError(f"cutoff_date must be YYYY-MM-DD, got {cutoff!r}") from None
    sheets = {str(k): str(v) for k, v in data.get("sheets", {}).items()}
    for table in sheets:
        if table not in TABLES:
            raise MappingError(f"[sheets] names unknown table {table!r}; tables are {', '.join(TABLES)}")
    columns: dict[str, dict[str, str]] = {}
    for table, cols in data.get("columns", {}).items():
        if table not in TABLES:
            raise MappingError(f"[columns.{table}]: unknown table; tables are {', '.join(TABLES)}")
        for canon in cols:
            if canon not in TABLES[table].by_name:
                raise MappingError(f"[columns.{table}]: {canon!r} is not a column of {table}; "
                                   f"columns are {', '.join(TABLES[table].by_name)}")
        columns[table] = {str(k): str(v) for k, v in cols.items()}
    codes: dict[str, dict[str, str]] = {}
    for column, entries in data.get("codes", {}).items():
        if not isinstance(entries, dict):
            raise MappingError(f"[codes.{column}] must map canonical codes to lists of spellings")
        allowed = _allowed_codes(column)
        lookup: dict[str, str] = {}
        for canon, spellings in entries.items():
            if canon not in allowed:
                raise MappingError(f"[codes.{column}]: {canon!r} is not a code of {column}; "
                                   f"codes are {', '.join(allowed)}")
            if isinstance(spellings, str):
                spellings = [spellings]
            for s in spellings:
                lookup[str(s).strip().lower()] = str(canon)
        codes[column] = lookup
    return StudyConfig(date_format=date_format, partial_dates=partial, cutoff_date=cutoff,
                       sheets=sheets, columns=columns, codes=codes, source=source)


def _allowed_codes(column: str) -> tuple[str, ...]:
    """Canonical codes a [codes.<column>] section may map to."""
    if column == "responses":
        return RESPONSES
    if column == "yesno":
        return ("yes", "no")
    name = column.split(".", 1)[-1]
    for table in TABLES.values():
        col = table.by_name.get(name)
        if col is not None and col.kind in ("code", "yesno"):
            return col.codes if col.kind == "code" else ("yes", "no")
    raise MappingError(f"[codes.{column}]: no coded column of that name; use a column of kind code or "
                       "yes/no, or 'responses' / 'yesno' for all of them")
