"""The REDCap record export (CSV, "flat"): one row per record, event and repeat instance.

Columns, as REDCap writes them: the record id, then redcap_event_name (longitudinal
projects), redcap_repeat_instrument and redcap_repeat_instance (repeating instruments
or events), redcap_data_access_group (when DAGs are exported), then each instrument's
fields in dictionary order (a checkbox as one ``field___code`` column per choice,
code in lower case) and its ``<form>_complete`` status (0 Incomplete, 1 Unverified,
2 Complete). With label headers the columns are the field labels instead: "Event
Name", "Repeat Instrument", "Repeat Instance", "Data Access Group", "Complete?", and a
checkbox choice "Field label (choice=Choice label)". Label headers are mapped back
to field names here, in order, so two fields with the same label still line up.

Each row keeps its line in the file (header = line 1), also after quoted line breaks.
"""
from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pandas as pd

from rwestudy.io.csv_read import _decode, _dialect
from rwestudy.io.redcap.dictionary import NO_DATA_TYPES, Dictionary
from rwestudy.core.findings import empty_findings, finding

SYSTEM = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
          "redcap_data_access_group", "redcap_survey_identifier")
SYSTEM_LABELS = {"event name": "redcap_event_name", "repeat instrument": "redcap_repeat_instrument",
                 "repeat instance": "redcap_repeat_instance", "data access group": "redcap_data_access_group",
                 "survey identifier": "redcap_survey_identifier"}
_CHOICE = re.compile(r"^(?P<label>.*) \(choice=(?P<choice>.*)\)$", re.S)


def checkbox_column(field: str, code: str) -> str:
    """The export column of one checkbox choice: the code in lower case, other characters as '_'."""
    return f"{field}___{re.sub(r'[^a-z0-9_]', '_', code.lower())}"


def _plain(label: str) -> str:
    """A label as compared: no HTML tags, entities decoded, spaces collapsed, lower case."""
    text = html.unescape(re.sub(r"<[^>]+>", "", str(label)))
    return re.sub(r"\s+", " ", text).strip().lower()


def expected_columns(d: Dictionary) -> list[tuple[str, str]]:
    """(raw column, label header) of every column a full export of ``d`` can hold, in export order."""
    out = [(d.record_id, d.fields[0].label if d.fields else "Record ID")]
    out += [(s, {v: k for k, v in SYSTEM_LABELS.items()}[s].title()) for s in SYSTEM]
    for form in d.forms:
        for f in d.form_fields(form):
            if f.name == d.record_id or f.type in NO_DATA_TYPES:
                continue
            if f.type == "checkbox":
                out += [(checkbox_column(f.name, c), f"{f.label} (choice={lab})") for c, lab in f.choices.items()]
            else:
                out.append((f.name, f.label))
        out.append((f"{form}_complete", "Complete?"))
    return out


def read_records(path: str | Path) -> tuple[list[str] | None, pd.DataFrame | None, pd.DataFrame]:
    """(header as written, body with the file's line numbers as index, findings)."""
    path = Path(path)
    table = path.name
    if not path.exists():
        return None, None, finding("error", "redcap-records-missing", table, f"no record export file {path}")
    text, notes = _decode(path.read_bytes(), path.name, table)
    problems = [empty_findings(), *notes]
    if text is None or not text.strip():
        problems.append(finding("error", "redcap-records-empty", table, f"{path.name} holds no records"))
        return None, None, pd.concat(problems, ignore_index=True)
    sep, skip = _dialect(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows, lines, header = [], [], None
    start = 1
    for rec in reader:
        if reader.line_num <= skip:
            start = reader.line_num + 1
            continue
        if header is None:
            header = [h.strip() for h in rec]
        elif any(v.strip() for v in rec):
            if len(rec) != len(header):
                problems.append(finding("error", "redcap-records-ragged", table,
                                        f"line {start} has {len(rec)} values for {len(header)} columns; "
                                        "the row is not imported", row=start))
            else:
                rows.append([v.strip() or None for v in rec])
                lines.append(start)
        start = reader.line_num + 1
    body = pd.DataFrame(rows, columns=range(len(header or [])), index=pd.Index(lines, name="row"), dtype=object)
    return header, body, pd.concat(problems, ignore_index=True)


def resolve_header(header: list[str], d: Dictionary, table: str) -> tuple[list[str | None], str, pd.DataFrame]:
    """Raw column name of each header (None: not in the dictionary), 'raw' or 'label', findings."""
    expected = expected_columns(d)
    raw_names = {r for r, _ in expected}
    problems = [empty_findings()]
    n_raw = sum(h in raw_names or _is_checkbox_like(h, d) for h in header)
    style = "raw" if n_raw >= len(header) / 2 else "label"
    out: list[str | None] = []
    if style == "raw":
        out = list(header)
    else:
        by_label: dict[str, list[str]] = {}
        for raw, lab in expected:
            by_label.setdefault(_plain(lab), []).append(raw)
        for h in header:
            key = _plain(h)
            if key in SYSTEM_LABELS:
                out.append(SYSTEM_LABELS[key])
            elif by_label.get(key):
                out.append(by_label[key].pop(0))  # in order: the n-th "Complete?" is the n-th form's
            elif h in raw_names:
                out.append(h)
            else:
                m = _CHOICE.match(h)
                out.append(_checkbox_by_label(m, d) if m else None)
    for h, raw in zip(header, out):
        if raw is None or (raw not in raw_names and not _is_checkbox_like(raw, d)):
            problems.append(finding("error", "redcap-column-unknown", table,
                                    f"column '{h}' is not a field of the data dictionary (do the dictionary and "
                                    "the export come from the same project and version?); not imported",
                                    column=h))
    return out, style, pd.concat(problems, ignore_index=True)


def _is_checkbox_like(name: str, d: Dictionary) -> bool:
    base, sep, _ = str(name).partition("___")
    f = d.by_name.get(base)
    return bool(sep) and f is not None and f.type == "checkbox"


def _checkbox_by_label(m: re.Match, d: Dictionary) -> str | None:
    """'Label (choice=X)' -> field___code; a choice label the dictionary lacks -> field___?X (reported later)."""
    label, choice = _plain(m.group("label")), _plain(m.group("choice"))
    for f in d.fields:
        if f.type == "checkbox" and _plain(f.label) == label:
            for code, lab in f.choices.items():
                if _plain(lab) == choice:
                    return checkbox_column(f.name, code)
            return f"{f.name}___?{m.group('choice')}"
    return None
