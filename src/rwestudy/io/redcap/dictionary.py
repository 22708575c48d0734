"""The REDCap data dictionary: 18 columns, as the Data Dictionary page writes them
(``Variable / Field Name`` ...) or as the API's metadata export names them
(``field_name`` ...). Both are read; the order of the rows is the order of the fields.

Choices are ``code, label | code, label`` (the code is everything before the first
comma). yesno and truefalse fields have fixed choices (1 Yes / 0 No, 1 True / 0 False).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rwestudy.io.csv_read import _read_csv
from rwestudy.core.findings import empty_findings, finding

# (data dictionary page header, API metadata header), in REDCap's column order (A to R).
COLUMNS = (
    ("Variable / Field Name", "field_name"),
    ("Form Name", "form_name"),
    ("Section Header", "section_header"),
    ("Field Type", "field_type"),
    ("Field Label", "field_label"),
    ("Choices, Calculations, OR Slider Labels", "select_choices_or_calculations"),
    ("Field Note", "field_note"),
    ("Text Validation Type OR Show Slider Number", "text_validation_type_or_show_slider_number"),
    ("Text Validation Min", "text_validation_min"),
    ("Text Validation Max", "text_validation_max"),
    ("Identifier?", "identifier"),
    ("Branching Logic (Show field only if...)", "branching_logic"),
    ("Required Field?", "required_field"),
    ("Custom Alignment", "custom_alignment"),
    ("Question Number (surveys only)", "question_number"),
    ("Matrix Group Name", "matrix_group_name"),
    ("Matrix Ranking?", "matrix_ranking"),
    ("Field Annotation", "field_annotation"),
)
HEADERS = tuple(h for h, _ in COLUMNS)
API_HEADERS = tuple(a for _, a in COLUMNS)
MANDATORY = ("field_name", "form_name", "field_type", "field_label")
CODED_TYPES = ("radio", "dropdown", "checkbox", "yesno", "truefalse")
FIXED_CHOICES = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}
FIELD_TYPES = ("text", "notes", "radio", "dropdown", "checkbox", "yesno", "truefalse", "calc", "file",
               "descriptive", "slider", "sql")
# Fields that hold no value in a record export.
NO_DATA_TYPES = ("descriptive",)


@dataclass
class Field:
    name: str
    form: str
    type: str
    label: str
    choices: dict[str, str] = field(default_factory=dict)  # code -> label, in order
    validation: str = ""
    vmin: str = ""
    vmax: str = ""
    identifier: bool = False
    required: bool = False
    annotation: str = ""
    note: str = ""
    row: int = 0  # line in the dictionary file

    @property
    def is_date(self) -> bool:
        return self.validation.startswith(("date_", "datetime_"))

    @property
    def is_number(self) -> bool:
        return self.validation == "integer" or self.validation.startswith("number")


@dataclass
class Dictionary:
    fields: list[Field]
    source: str = ""

    @property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @property
    def record_id(self) -> str:
        """REDCap's record id is the first field of the first form."""
        return self.fields[0].name if self.fields else "record_id"

    @property
    def forms(self) -> list[str]:
        return list(dict.fromkeys(f.form for f in self.fields))

    def form_fields(self, form: str) -> list[Field]:
        return [f for f in self.fields if f.form == form]


def parse_choices(text: str) -> tuple[dict[str, str], list[str]]:
    """``"1, Male | 2, Female"`` -> {"1": "Male", "2": "Female"}; and the pieces that are not ``code, label``."""
    out: dict[str, str] = {}
    bad: list[str] = []
    for piece in str(text or "").split("|"):
        piece = piece.strip()
        if not piece:
            continue
        code, sep, label = piece.partition(",")
        if not sep or not code.strip():
            bad.append(piece)
            continue
        out[code.strip()] = label.strip()
    return out, bad


def format_choices(choices: dict[str, str]) -> str:
    return " | ".join(f"{k}, {v}" for k, v in choices.items())


def read_dictionary(path: str | Path) -> tuple[Dictionary, pd.DataFrame]:
    """Read a data dictionary CSV (either header style, UTF-8 with or without BOM)."""
    path = Path(path)
    table = "(redcap dictionary)"
    if not path.exists():
        return Dictionary([], str(path)), finding("error", "redcap-dictionary-missing", table,
                                                  f"no data dictionary file {path}")
    frame, problems = _read_csv(path)
    parts = [problems.assign(table=table) if len(problems) else problems]
    if frame is None:
        return Dictionary([], str(path)), pd.concat(parts, ignore_index=True)
    rename = {}
    for web, api in COLUMNS:
        for c in frame.columns:
            if str(c).strip().lower() in (web.lower(), api):
                rename[c] = api
    frame = frame.rename(columns=rename)
    missing = [c for c in MANDATORY if c not in frame.columns]
    if missing:
        parts.append(finding("error", "redcap-dictionary-columns", table,
                             f"{path.name} is not a REDCap data dictionary: column(s) "
                             f"{', '.join(missing)} missing (expected REDCap's headers, "
                             f"'{HEADERS[0]}', ... or the API's 'field_name', ...)"))
        return Dictionary([], str(path)), pd.concat(parts, ignore_index=True)
    fields: list[Field] = []
    seen: set[str] = set()
    for row, rec in frame.iterrows():
        get = lambda k: "" if k not in rec or pd.isna(rec[k]) else str(rec[k]).strip()  # noqa: E731
        name, ftype = get("field_name"), get("field_type").lower()
        if not name:
            parts.append(finding("error", "redcap-dictionary-field", table, "a row without a field name; skipped",
                                 row=row, column="field_name"))
            continue
        if name in seen:
            parts.append(finding("error", "redcap-dictionary-field", table,
                                 f"field '{name}' is defined twice; the first definition is used",
                                 row=row, column="field_name", value=name))
            continue
        seen.add(name)
        if ftype not in FIELD_TYPES:
            parts.append(finding("error", "redcap-dictionary-type", table,
                                 f"field '{name}' has field type '{ftype}', not a REDCap field type "
                                 f"({', '.join(FIELD_TYPES)}); read as text", row=row, column="field_type",
                                 value=ftype))
            ftype = "text"
        choices: dict[str, str] = dict(FIXED_CHOICES.get(ftype, {}))
        if ftype in ("radio", "dropdown", "checkbox"):
            choices, bad = parse_choices(get("select_choices_or_calculations"))
            for piece in bad:
                parts.append(finding("error", "redcap-dictionary-choices", table,
                                     f"field '{name}': choice '{piece}' is not 'code, label'; ignored",
                                     row=row, column="select_choices_or_calculations", value=piece))
            if not choices:
                parts.append(finding("error", "redcap-dictionary-choices", table,
                                     f"{ftype} field '{name}' has no choices", row=row,
                                     column="select_choices_or_calculations"))
        fields.append(Field(
            name=name, form=get("form_name"), type=ftype, label=get("field_label"), choices=choices,
            validation=get("text_validation_type_or_show_slider_number").lower() if ftype == "text" else "",
            vmin=get("text_validation_min"), vmax=get("text_validation_max"),
            identifier=get("identifier").lower() in ("y", "yes", "1"),
            required=get("required_field").lower() in ("y", "yes", "1"),
            annotation=get("field_annotation"), note=get("field_note"), row=int(row)))
    return Dictionary(fields, str(path)), pd.concat(parts, ignore_index=True) if parts else empty_findings()
