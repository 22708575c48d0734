"""A REDCap record export -> our tables (text cells, our codes, ISO dates), with a
finding for every value not taken as it is and an account of every row of the file.

Rules (docs/redcap.md says them to the data manager):
- a row with a repeat instrument fills that instrument's table; any other row fills the
  tables of the instruments that have values in it (``patients`` merged per record,
  across events; any other instrument gives one row per record and event);
- rows of a record that has no row outside a repeating instrument (no patients row)
  are not imported: "repeat instance for an unknown record";
- REDCap exports dates as YYYY-MM-DD whatever the field's validation (date_dmy...
  is only how it is typed on screen): anything else in a date field is an error and
  the value is not imported, never guessed; a datetime keeps its date;
- missing-data codes (UNK, NASK, ...) are read as not available, counted per field;
- a decimal comma is read as a decimal point (number_comma_decimal fields export it);
- fields marked Identifier are dropped with one note per field; their values are
  never copied into the study, the findings or the account of rows;
- ``<form>_complete`` (0/1/2) is checked but not imported: our tables have no such column.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rwestudy.io.redcap.dictionary import NO_DATA_TYPES, Dictionary, Field, read_dictionary
from rwestudy.io.redcap.mapping import RedcapMapping, field_name
from rwestudy.io.redcap.records import SYSTEM, checkbox_column, read_records, resolve_header, _plain
from rwestudy.io.schema import TABLES
from rwestudy.core.findings import COLUMNS, empty_findings

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(:\d{2})?$")
_COMMA = re.compile(r"^[+-]?\d+,\d+$")
CHECKED = {"1": True, "0": False, "checked": True, "unchecked": False}
COMPLETE = {"0", "1", "2", "incomplete", "unverified", "complete"}
ANNOTATION = re.compile(r"rwestudy:\s*([a-z_]+)\.([a-z0-9_]+)")


@dataclass
class RedcapImport:
    tables: dict[str, pd.DataFrame]
    findings: pd.DataFrame
    accounting: pd.DataFrame  # one row per row of the export: where it went, or why not
    style: dict[str, str] = field(default_factory=dict)  # headers / values: raw or label
    lines: dict[str, list[int]] = field(default_factory=dict)  # table -> line of the export of each row


class _Notes:
    """Findings collected as dicts (one DataFrame at the end)."""

    def __init__(self, table: str):
        self.table, self.rows = table, []

    def add(self, severity, rule, message, *, row=None, column=None, value=None, patient_id=None, table=None):
        self.rows.append({"severity": severity, "rule": rule, "table": table or self.table, "row": row,
                          "column": column, "value": None if value is None else str(value),
                          "patient_id": patient_id, "center": None, "message": message, "count": 1})

    def frame(self) -> pd.DataFrame:
        if not self.rows:
            return empty_findings()
        out = pd.DataFrame(self.rows, columns=COLUMNS)
        out["row"] = pd.array(out["row"], dtype="Int64")
        return out


def _form_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _plain(text)).strip("_")


def form_tables(d: Dictionary, m: RedcapMapping) -> dict[str, str]:
    """form name -> our table."""
    out = {}
    for table, form in m.instruments.items():
        out[form] = table
    for form in d.forms:
        if form not in out and form in TABLES and form not in m.instruments.values():
            out[form] = form
    return out


def column_sources(d: Dictionary, m: RedcapMapping, forms: dict[str, str]) -> dict[str, dict[str, str]]:
    """table -> column -> export column (a field, or field___code for one checkbox choice)."""
    by_table: dict[str, dict[str, str]] = defaultdict(dict)
    for f in d.fields:  # annotations first: they say it exactly
        hit = ANNOTATION.search(f.annotation)
        if hit and hit.group(1) in TABLES and hit.group(2) in TABLES[hit.group(1)].by_name:
            by_table[hit.group(1)].setdefault(hit.group(2), f.name)
    names = d.by_name
    for form, table in forms.items():
        for col in TABLES[table].columns:
            if col.name in by_table[table]:
                continue
            for cand in (field_name(table, col.name), col.name):
                f = names.get(cand)
                if f is not None and f.form == form:
                    by_table[table][col.name] = cand
                    break
    for table, cols in m.fields.items():
        by_table[table].update(cols)
    for table in list(by_table):
        by_table[table].pop("patient_id", None)
    return dict(by_table)


def import_redcap(records: str | Path, dictionary: str | Path, mapping: RedcapMapping | None = None) -> RedcapImport:
    m = mapping or RedcapMapping()
    d, dict_findings = read_dictionary(dictionary)
    name = Path(records).name
    parts = [dict_findings]
    if not d.fields:
        return RedcapImport({}, pd.concat(parts, ignore_index=True), _account([]))
    header, body, read_findings = read_records(records)
    parts.append(read_findings)
    if header is None:
        return RedcapImport({}, pd.concat(parts, ignore_index=True), _account([]))
    cols, header_style, header_findings = resolve_header(header, d, name)
    parts.append(header_findings)
    keep, seen = [], set()
    for i, c in enumerate(cols):
        if c is not None and c not in seen:
            keep.append(i)
            seen.add(c)
    frame = body[keep]
    frame.columns = [cols[i] for i in keep]
    conv = _Converter(d, m, frame, name, header_style)
    conv.run()
    parts.append(conv.notes.frame())
    return RedcapImport(conv.tables(), pd.concat([p for p in parts if len(p)] or [empty_findings()],
                                                 ignore_index=True),
                        _account(conv.account), {"headers": header_style, "values": conv.value_style},
                        conv.lines())


def _account(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["line", "record", "event", "instrument", "instance", "outcome", "detail"])


class _Converter:
    def __init__(self, d: Dictionary, m: RedcapMapping, frame: pd.DataFrame, name: str, header_style: str):
        self.d, self.m, self.frame, self.name = d, m, frame, name
        self.notes = _Notes(name)
        self.account: list[dict] = []
        self.rid = d.record_id
        self.forms = form_tables(d, m)
        self.sources = column_sources(d, m, self.forms)
        self.missing = {c.strip().lower() for c in m.missing_codes}
        self.missing_seen: dict[str, Counter] = defaultdict(Counter)
        self.comma_seen: Counter = Counter()
        self.datetime_seen: Counter = Counter()
        self.patients: dict[str, dict] = {}
        self.patient_lines: dict[str, int] = {}
        self.rows: dict[str, list[tuple[int, str, dict]]] = defaultdict(list)
        self._drop_identifiers()
        self.value_style = self._value_style()
        self.form_of_column = self._form_of_columns()
        self._center_source()

    # -- set-up ------------------------------------------------------------------------------------
    def _drop_identifiers(self):
        for f in self.d.fields:
            if not f.identifier or f.name == self.rid:
                continue
            cols = [c for c in self.frame.columns if c == f.name or c.startswith(f.name + "___")]
            self.frame = self.frame.drop(columns=cols)
            self.notes.add("info", "redcap-identifier-dropped",
                           f"field '{f.name}' is marked Identifier in the data dictionary: dropped, its values "
                           "are not in the study, the findings or any other output", column=f.name)
        for table, cols in self.sources.items():
            for col, src in list(cols.items()):
                f = self.d.by_name.get(src.partition("___")[0])
                if f is not None and f.identifier and f.name != self.rid:
                    del cols[col]

    def _value_style(self) -> str:
        raw = label = 0
        for c in self.frame.columns:
            f = self.d.by_name.get(c.partition("___")[0])
            values = self.frame[c].dropna()
            if c.endswith("_complete") and f is None:
                vals = set(values.str.lower())
                raw += len(vals & {"0", "1", "2"})
                label += len(vals & {"incomplete", "unverified", "complete"})
            elif f is not None and f.type == "checkbox" and "___" in c:
                vals = set(values.str.lower())
                raw += len(vals & {"0", "1"})
                label += len(vals & {"checked", "unchecked"})
            elif f is not None and f.choices:
                labels = {_plain(v) for v in f.choices.values()}
                for v in set(values):
                    if v in f.choices:
                        raw += 1
                    elif _plain(v) in labels:
                        label += 1
        return "label" if label > raw else "raw"

    def _form_of_columns(self) -> dict[str, str]:
        out = {}
        for c in self.frame.columns:
            if c in SYSTEM or c == self.rid:
                continue
            f = self.d.by_name.get(c.partition("___")[0])
            if f is not None:
                out[c] = f.form
            elif c.endswith("_complete") and c[: -len("_complete")] in self.d.forms:
                out[c] = c[: -len("_complete")]
        return out

    def _center_source(self):
        pat = self.sources.setdefault("patients", {})
        self.center_field = None
        if self.m.center not in ("auto", "dag"):
            self.center_field = self.m.center
        elif self.m.center == "auto":
            self.center_field = pat.get("center") or ("center" if "center" in self.d.by_name else None)
        pat.pop("center", None)
        self.use_dag = "redcap_data_access_group" in self.frame.columns and self.m.center in ("auto", "dag")
        if self.center_field is None and not self.use_dag:
            self.notes.add("error", "redcap-center-missing",
                           "no center: the export has no Data Access Group column and the project no field "
                           "'center' (export with DAGs, or name the field in [redcap] center)")

    # -- the pass over the rows ----------------------------------------------------------------------
    def run(self):
        if self.rid not in self.frame.columns:
            self.notes.add("error", "redcap-record-id-missing",
                           f"the export has no record id column '{self.rid}' (the first field of the data "
                           "dictionary): no row can be imported", column=self.rid)
            for line in self.frame.index:
                self.account.append({"line": line, "record": None, "event": None, "instrument": None,
                                     "instance": None, "outcome": "not imported", "detail": "no record id column"})
            return
        known_forms = set(self.d.forms)
        unmapped_forms: Counter = Counter()
        pending = []  # repeat rows, checked against the known records at the end
        for line, row in self.frame.iterrows():
            rec = row.get(self.rid)
            event = row.get("redcap_event_name")
            instr = row.get("redcap_repeat_instrument")
            inst = row.get("redcap_repeat_instance")
            acc = {"line": line, "record": rec, "event": event, "instrument": instr, "instance": inst}
            if rec is None:
                self.notes.add("error", "redcap-record-id-missing", f"row without a record id ('{self.rid}'); "
                               "not imported", row=line, column=self.rid)
                self.account.append({**acc, "outcome": "not imported", "detail": "no record id"})
                continue
            if instr is not None:
                form = self._instrument_form(instr, known_forms)
                if form is None:
                    self.notes.add("error", "redcap-instrument-unknown",
                                   f"repeat instrument '{instr}' is not a form of the data dictionary; row not "
                                   "imported", row=line, column="redcap_repeat_instrument", value=instr,
                                   patient_id=rec)
                    self.account.append({**acc, "outcome": "not imported", "detail": "unknown instrument"})
                    continue
                pending.append((line, row, acc, [form]))
                continue
            forms = self._forms_with_values(row)
            if rec not in self.patients:
                self.patients[rec] = {}
                self.patient_lines[rec] = line
            self._base_extras(rec, row, line)
            # A repeating event (an instance, no instrument) needs nothing more: each of its forms other
            # than patients gives one row per instance below.
            self._place(line, row, acc, forms, unmapped_forms)
        for line, row, acc, forms in pending:
            rec = acc["record"]
            if rec not in self.patients:
                self.notes.add("error", "redcap-record-unknown",
                               f"repeat instance {acc['instance'] or ''} of '{acc['instrument']}' belongs to "
                               f"record '{rec}', which has no row of its own (no patients data) in the export; "
                               "not imported", row=line, column=self.rid, value=rec, patient_id=rec)
                self.account.append({**acc, "outcome": "not imported", "detail": "repeat instance for an unknown record"})
                continue
            self._place(line, row, acc, forms, unmapped_forms)
        for form, n in unmapped_forms.items():
            self.notes.add("info", "redcap-form-unmapped",
                           f"instrument '{form}' is not one of our tables ({n} rows with data); not imported "
                           "(name it in [instruments] of the REDCap mapping if it is one)")
        self._summaries()

    def _instrument_form(self, value: str, forms: set[str]) -> str | None:
        if value in forms:
            return value
        key = _form_key(value)
        for f in forms:
            if _form_key(f) == key:
                return f
        return None

    def _forms_with_values(self, row) -> list[str]:
        present = []
        for c, form in self.form_of_column.items():
            if c.endswith("_complete") and c[: -len("_complete")] == form:
                continue
            v = row.get(c)
            if v is None:
                continue
            if "___" in c and CHECKED.get(str(v).lower()) is False:
                continue  # an unticked box is no data
            if form not in present:
                present.append(form)
        return present

    def _place(self, line, row, acc, forms, unmapped_forms):
        rec = acc["record"]
        placed = []
        for form in forms:
            self._check_complete(row, form, line, rec)
            table = self.forms.get(form)
            if table is None:
                unmapped_forms[form] += 1
                placed.append(f"{form}: not one of our tables")
                continue
            values = self._values(row, table, form, line, rec)
            if table == "patients":
                self._merge_patient(rec, values, line, acc.get("event"))
            else:
                self.rows[table].append((line, rec, values))
            placed.append(table)
        if not forms:
            self.account.append({**acc, "outcome": "empty", "detail": "no values in this row"})
        else:
            imported = [p for p in placed if p in TABLES]
            self.account.append({**acc, "outcome": "imported" if imported else "not imported",
                                 "detail": "; ".join(placed)})

    def _base_extras(self, rec, row, line):
        """Center from the DAG (the center field, if any, is read with the patients values)."""
        if self.use_dag and row.get("redcap_data_access_group") is not None:
            dag = row.get("redcap_data_access_group")
            self.patients[rec].setdefault("_dag", self.m.centers.get(dag, dag))

    def _merge_patient(self, rec, values, line, event):
        p = self.patients[rec]
        for col, v in values.items():
            if v is None:
                continue
            if p.get(col) is None:
                p[col] = v
            elif p[col] != v:
                self.notes.add("error", "redcap-event-conflict",
                               f"'{col}' of record '{rec}' is '{p[col]}' in an earlier event and '{v}' in event "
                               f"'{event}'; the first is kept", row=line, column=col, value=v, patient_id=rec)

    def _check_complete(self, row, form, line, rec):
        v = row.get(f"{form}_complete")
        if v is not None and str(v).lower() not in COMPLETE:
            self.notes.add("warning", "redcap-complete-status",
                           f"'{form}_complete' is '{v}': a form status is 0 (Incomplete), 1 (Unverified) or 2 "
                           "(Complete)", row=line, column=f"{form}_complete", value=v, patient_id=rec)

    # -- values --------------------------------------------------------------------------------------
    def _values(self, row, table, form, line, rec) -> dict:
        out = {}
        spec = TABLES[table].by_name
        for col, src in self.sources.get(table, {}).items():
            base, sep, code = src.partition("___")
            f = self.d.by_name.get(base)
            if f is None or f.form != form:
                continue
            if sep:
                out[col] = self._one_choice(row.get(src), spec[col], src, line, rec)
            elif f.type == "checkbox":
                out[col] = self._checkbox(row, f, table, spec[col], line, rec)
            else:
                out[col] = self._value(row.get(src), f, table, spec[col], line, rec)
        if table == "patients" and self.center_field is not None:
            f = self.d.by_name.get(self.center_field)
            if f is not None and f.form == form:
                out["center"] = self._value(row.get(f.name), f, table, spec["center"], line, rec)
        return out

    def _missing(self, v, f: Field) -> bool:
        if str(v).strip().lower() in self.missing:
            self.missing_seen[f.name][str(v)] += 1
            return True
        return False

    def _value(self, v, f: Field, table, col, line, rec):
        if v is None:
            return None
        if f.choices:
            lab = self._label(v, f)
            if lab is None:
                if self._missing(v, f):
                    return None
                shown = ", ".join(f"{k} = {x}" for k, x in f.choices.items())
                self.notes.add("error", "redcap-choice-unknown",
                               f"'{v}' is not one of the choices of '{f.name}' ({shown}); not imported",
                               row=line, column=f.name, value=v, patient_id=rec)
                return None
            return self._our_code(lab, v, f, table, col)
        if self._missing(v, f):
            return None
        if f.is_date or col.kind == "date":
            if _ISO.match(v):
                return v
            hit = _ISO_TIME.match(v)
            if hit:
                self.datetime_seen[f.name] += 1
                return hit.group(1)
            self.notes.add("error", "redcap-date-format",
                           f"'{v}' in date field '{f.name}' is not YYYY-MM-DD, the format of every date in a "
                           "REDCap export whatever the field's validation; not imported (never guessed): "
                           "export again from REDCap, or correct it there", row=line, column=f.name, value=v,
                           patient_id=rec)
            return None
        if (f.is_number or col.kind in ("int", "float")) and _COMMA.match(v):
            self.comma_seen[f.name] += 1
            return v.replace(",", ".")
        return v

    def _label(self, v, f: Field) -> str | None:
        """The choice label of an exported value (a code in raw exports, the label in label exports)."""
        if self.value_style == "raw" and v in f.choices:
            return f.choices[v]
        key = _plain(v)
        for code, lab in f.choices.items():
            if _plain(lab) == key:
                return lab
        return f.choices.get(v)

    def _our_code(self, label, raw, f: Field, table, col):
        lookup = self.m.codes.get(f"{table}.{col.name}", {})
        code = next((c for c, lab in f.choices.items() if lab == label), raw)
        for key in (str(code).lower(), label.lower()):
            if key in lookup:
                return lookup[key]
        if col.kind == "yesno" and f.type in ("yesno", "truefalse"):
            return "yes" if code == "1" else "no"
        return label

    def _checkbox(self, row, f: Field, table, col, line, rec):
        ticked, missing = [], False
        for c in [c for c in self.frame.columns if c.startswith(f.name + "___")]:
            v = row.get(c)
            state = CHECKED.get(str(v).lower()) if v is not None else None
            if v is not None and state is None:
                self.notes.add("error", "redcap-checkbox-value",
                               f"'{v}' in checkbox column '{c}': a box is 1/0 (Checked/Unchecked); not imported",
                               row=line, column=c, value=v, patient_id=rec)
                continue
            if not state:
                continue
            code = self._choice_code(f, c)
            if code is None:
                suffix = c.split("___", 1)[1]
                if suffix.lower() in self.missing:
                    self.missing_seen[f.name][suffix.upper()] += 1
                    missing = True
                continue  # a code the dictionary lacks: reported once per column in _summaries
            ticked.append(self._our_code(f.choices[code], code, f, table, col))
        if missing or not ticked:
            return None
        return "+".join(ticked)

    def _choice_code(self, f: Field, column: str) -> str | None:
        for code in f.choices:
            if checkbox_column(f.name, code) == column:
                return code
        return None

    def _one_choice(self, v, col, src, line, rec):
        if v is None:
            return None
        state = CHECKED.get(str(v).lower())
        if state is None:
            self.notes.add("error", "redcap-checkbox-value",
                           f"'{v}' in checkbox column '{src}': a box is 1/0 (Checked/Unchecked); not imported",
                           row=line, column=src, value=v, patient_id=rec)
            return None
        return ("yes" if state else "no") if col.kind == "yesno" else ("1" if state else "0")

    # -- the end -------------------------------------------------------------------------------------
    def _summaries(self):
        for fname, seen in self.missing_seen.items():
            n = sum(seen.values())
            codes = ", ".join(f"{k}: {v}" for k, v in sorted(seen.items()))
            self.notes.add("info", "redcap-missing-code",
                           f"{n} value(s) of '{fname}' are REDCap missing-data codes ({codes}); read as not "
                           "available", column=fname)
        for fname, n in self.comma_seen.items():
            self.notes.add("info", "redcap-decimal-comma",
                           f"{n} value(s) of '{fname}' have a decimal comma; read as a decimal point", column=fname)
        for fname, n in self.datetime_seen.items():
            self.notes.add("info", "redcap-datetime",
                           f"{n} value(s) of '{fname}' are date and time; the date is kept", column=fname)
        for c in self.frame.columns:
            base, sep, _ = c.partition("___")
            f = self.d.by_name.get(base)
            if not sep or f is None or f.type != "checkbox" or self._choice_code(f, c) is not None:
                continue
            suffix = c.split("___", 1)[1].lstrip("?")
            if suffix.lower() in self.missing:
                continue
            n = int(self.frame[c].map(lambda v: CHECKED.get(str(v).lower()) is True).sum())
            self.notes.add("error", "redcap-checkbox-code",
                           f"column '{c}': checkbox '{f.name}' has no choice '{suffix}' in the data dictionary "
                           f"(choices: {', '.join(f.choices)}); its {n} ticked box(es) are not imported",
                           column=c)
        present = set(self.frame.columns)
        absent = [f.name for f in self.d.fields if f.type not in NO_DATA_TYPES and f.type != "checkbox"
                  and not f.identifier and f.name not in present]
        absent += [f.name for f in self.d.fields if f.type == "checkbox" and not f.identifier
                   and not any(c.startswith(f.name + "___") for c in present)]
        if absent:
            self.notes.add("warning", "redcap-field-not-exported",
                           f"{len(absent)} field(s) of the data dictionary are not in the export: "
                           + ", ".join(absent[:12]) + (" ..." if len(absent) > 12 else "")
                           + " (was the export limited to some fields or instruments?)")
        used = {(t, s.partition("___")[0]) for t, cols in self.sources.items() for s in cols.values()}
        used_fields = {s for _, s in used} | {self.rid, self.center_field}
        for form, table in self.forms.items():
            for f in self.d.form_fields(form):
                if f.name not in used_fields and f.type not in NO_DATA_TYPES and not f.identifier:
                    self.notes.add("info", "redcap-field-unmapped",
                                   f"field '{f.name}' of instrument '{form}' has no column in our table "
                                   f"'{table}'; not imported (name it in [fields.{table}] if it is one)",
                                   column=f.name)

    def lines(self) -> dict[str, list[int]]:
        out = {"patients": [self.patient_lines[rec] for rec in self.patients]}
        out.update({t: [line for line, _, _ in rows] for t, rows in self.rows.items() if rows})
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {}
        pat_cols = ["patient_id", "center"] + [c.name for c in TABLES["patients"].columns
                                               if c.name in self.sources.get("patients", {})
                                               and c.name not in ("patient_id", "center")]
        prow = []
        for rec, vals in self.patients.items():
            center = vals.get("center") or vals.get("_dag")
            prow.append({"patient_id": rec, **{k: v for k, v in vals.items() if not k.startswith("_")},
                         "center": center})
        out["patients"] = pd.DataFrame(prow, columns=pat_cols, dtype=object)
        for table in TABLES:
            if table == "patients" or not self.rows.get(table):
                continue
            cols = ["patient_id"] + [c.name for c in TABLES[table].columns
                                     if c.name in self.sources.get(table, {}) and c.name != "patient_id"]
            out[table] = pd.DataFrame([{"patient_id": rec, **vals} for _, rec, vals in self.rows[table]],
                                      columns=cols, dtype=object)
        return out
