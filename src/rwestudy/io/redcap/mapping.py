"""Which REDCap instrument fills which of our tables, which field fills which column,
which REDCap code means which of our codes.

Without a mapping file our own conventions apply (the ones `export redcap-dictionary`
writes, so its projects import back with no mapping):

- the record id (first field) is ``patient_id``; ``center`` is the field ``center`` when
  the project has one, else the Data Access Group;
- an instrument named like a table fills that table (``patients`` is the only one not
  repeating);
- a field fills the column its annotation names (``rwestudy:table.column``), else the
  column of the same name, else ``<prefix>_<column>`` (prefix per table: `PREFIX`);
- a choice's label is the value (our dictionary's labels are our codes).

A mapping file (TOML) overrides any of these::

    [redcap]
    missing_codes = ["UNK", "NASK", "-999"]   # REDCap's missing-data codes of the project
    center = "dag"                            # or the name of a field holding the center

    [instruments]                             # table = instrument (form name)
    prior_lines = "prior_therapy"

    [fields.patients]                         # column = field (a checkbox choice: field___code)
    sex = "gender"
    prior_asct = "prior_tx___2"

    [codes."patients.sex"]                    # our code = [REDCap codes or labels]
    M = ["1"]
    F = ["2"]

    [centers]                                 # Data Access Group (unique name or label) = center
    milano_int = "Milano INT"
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rwestudy.io.schema import TABLES
from rwestudy.io.toml_file import read_toml

# Field name prefix of each repeating table's fields in our dictionary (REDCap field names
# are unique across a project, and `date`, `best_response`... recur in several tables).
PREFIX = {"prior_lines": "pl", "responses": "rsp", "treatment": "trt", "adverse_events": "ae",
          "subsequent_therapies": "st", "mutations": "mut", "assessments": "asm"}
# REDCap's suggested missing-data codes (project setup > additional customizations), which
# follow HL7 null flavors; a project may define others: list them in [redcap] missing_codes.
DEFAULT_MISSING_CODES = ("NI", "INV", "UNK", "NASK", "ASKU", "NAV", "MSK", "NA", "NAVU", "NP", "QS", "QI",
                         "TRC", "UNC", "DER", "PINF", "NINF", "OTH")


class RedcapMappingError(ValueError):
    """The REDCap mapping file itself is wrong."""


@dataclass
class RedcapMapping:
    missing_codes: tuple[str, ...] = DEFAULT_MISSING_CODES
    center: str = "auto"  # auto: field `center` if any, else the DAG
    instruments: dict[str, str] = field(default_factory=dict)  # table -> form
    fields: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> column -> field
    codes: dict[str, dict[str, str]] = field(default_factory=dict)  # "table.column" -> redcap value (lower) -> code
    centers: dict[str, str] = field(default_factory=dict)
    source: str | None = None


def field_name(table: str, column: str) -> str:
    """Our REDCap field name of a contract column."""
    if column == "patient_id" or table == "patients":
        return column
    return f"{PREFIX[table]}_{column}"


def load_redcap_mapping(path: str | Path | None) -> RedcapMapping:
    if path is None:
        return RedcapMapping()
    data = read_toml(path, "REDCap mapping", RedcapMappingError)
    unknown = set(data) - {"redcap", "instruments", "fields", "codes", "centers"}
    if unknown:
        raise RedcapMappingError(f"unknown section(s) {sorted(unknown)} in {path}; expected [redcap], "
                                 "[instruments], [fields.<table>], [codes.\"<table>.<column>\"], [centers]")
    rc = data.get("redcap", {})
    bad = set(rc) - {"missing_codes", "center"}
    if bad:
        raise RedcapMappingError(f"unknown key(s) {sorted(bad)} in [redcap]; expected missing_codes, center")
    instruments = {str(k): str(v) for k, v in data.get("instruments", {}).items()}
    for t in instruments:
        if t not in TABLES:
            raise RedcapMappingError(f"[instruments] names unknown table {t!r}; tables are {', '.join(TABLES)}")
    fields: dict[str, dict[str, str]] = {}
    for t, cols in data.get("fields", {}).items():
        if t not in TABLES:
            raise RedcapMappingError(f"[fields.{t}]: unknown table; tables are {', '.join(TABLES)}")
        for c in cols:
            if c not in TABLES[t].by_name:
                raise RedcapMappingError(f"[fields.{t}]: {c!r} is not a column of {t}")
        fields[t] = {str(k): str(v) for k, v in cols.items()}
    codes: dict[str, dict[str, str]] = {}
    for key, entries in data.get("codes", {}).items():
        t, _, c = str(key).partition(".")
        if t not in TABLES or c not in TABLES[t].by_name:
            raise RedcapMappingError(f"[codes.\"{key}\"]: name a column as \"table.column\", e.g. \"patients.sex\"")
        col = TABLES[t].by_name[c]
        allowed = col.codes if col.kind == "code" else ("yes", "no") if col.kind == "yesno" else None
        lookup = {}
        for canon, spellings in entries.items():
            if allowed is not None and canon not in allowed:
                raise RedcapMappingError(f"[codes.\"{key}\"]: {canon!r} is not a code of {key}; codes are "
                                         f"{', '.join(allowed)}")
            for s in [spellings] if isinstance(spellings, str) else spellings:
                lookup[str(s).strip().lower()] = str(canon)
        codes[key] = lookup
    missing = rc.get("missing_codes", DEFAULT_MISSING_CODES)
    if not isinstance(missing, list | tuple):
        raise RedcapMappingError("[redcap] missing_codes must be a list of codes")
    return RedcapMapping(missing_codes=tuple(str(m) for m in missing), center=str(rc.get("center", "auto")),
                         instruments=instruments, fields=fields, codes=codes,
                         centers={str(k): str(v) for k, v in data.get("centers", {}).items()},
                         source=str(path))
