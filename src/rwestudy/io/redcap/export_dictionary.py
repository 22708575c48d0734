"""Our contract as a REDCap data dictionary (the 18 columns, in REDCap's order).

One instrument per table of the contract; ``patients`` is the first and only
non-repeating one (its first field, ``patient_id``, is the record id); every other
instrument is meant to be repeating (REDCap keeps that setting outside the data
dictionary: `repeating_instruments` gives the rows of its "repeating instruments"
upload, form_name and custom_form_label). Field names are our column names, prefixed
in repeating instruments (`mapping.PREFIX`: REDCap field names are unique across a
project); every field's annotation says its column (``rwestudy:table.column``), so a
raw or label export of the project imports back with no mapping.

Codes become dropdowns whose labels are our codes; yes/no columns yesno fields; dates
text fields validated date_ymd; numbers integer/number with the contract's range; the
CTCAE term a text field, or a dropdown of the CTCAE v5.0 terms; ``related_to`` a text
field, or a checkbox of the study's drugs (and "none").
"""
from __future__ import annotations

import csv
import io

from rwestudy.io.redcap.dictionary import HEADERS, format_choices
from rwestudy.io.redcap.mapping import field_name
from rwestudy.io.schema import TABLES, Column

FORM_LABELS = {t: t.replace("_", " ").capitalize() for t in TABLES}


def _label(table: str, col: Column) -> str:
    return "Patient ID" if col.name == "patient_id" else col.name.replace("_", " ").capitalize()


def _number(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


def dictionary_rows(*, ae_terms: str = "text", drugs: list[str] | None = None,
                    terms: list[str] | None = None) -> list[dict[str, str]]:
    """One dict per field (keys: `HEADERS`), in order.

    ``ae_terms="dropdown"`` makes the AE term a dropdown of ``terms`` (the CTCAE v5.0 terms:
    `rwestudy.validation.ctcae.ctcae_terms()["term"]`, given by the caller because the
    readers' layer sits below validation).
    """
    if ae_terms == "dropdown" and not terms:
        raise ValueError("ae_terms='dropdown' needs the list of terms (ctcae_terms()['term'])")
    rows = []
    for table, spec in TABLES.items():
        for col in spec.columns:
            if col.name == "patient_id" and table != "patients":
                continue  # the record id links every instrument's rows
            r = dict.fromkeys(HEADERS, "")
            r.update({"Variable / Field Name": field_name(table, col.name), "Form Name": table,
                      "Field Label": _label(table, col), "Field Annotation": f"rwestudy:{table}.{col.name}",
                      "Required Field?": "y" if col.required else "", "Field Type": "text"})
            choices: dict[str, str] = {}
            if col.kind == "code" and not col.free_text_after_colon:
                r["Field Type"] = "dropdown"
                choices = {str(i): c for i, c in enumerate(col.codes, start=1)}
            elif col.kind == "code":
                r["Field Note"] = "one of " + ", ".join(col.codes) + "; free text may follow ':'"
            elif col.kind == "yesno":
                r["Field Type"] = "yesno"
            elif col.kind == "date":
                r["Text Validation Type OR Show Slider Number"] = "date_ymd"
            elif col.kind in ("int", "float"):
                r["Text Validation Type OR Show Slider Number"] = "integer" if col.kind == "int" else "number"
                r["Text Validation Min"], r["Text Validation Max"] = _number(col.lo), _number(col.hi)
            elif col.kind == "drugs":
                if drugs:
                    r["Field Type"] = "checkbox"
                    choices = {str(i): d for i, d in enumerate(drugs, start=1)} | {"none": "none"}
                else:
                    r["Field Note"] = "none, or the drug names joined by +"
            if table == "adverse_events" and col.name == "term" and ae_terms == "dropdown":
                r["Field Type"] = "dropdown"
                choices = {str(i): t for i, t in enumerate(terms, start=1)}
            if choices:
                r["Choices, Calculations, OR Slider Labels"] = format_choices(choices)
            rows.append(r)
    return rows


def repeating_instruments() -> list[dict[str, str]]:
    return [{"form_name": t, "custom_form_label": ""} for t in TABLES if t != "patients"]


def to_csv(rows: list[dict[str, str]], header=HEADERS) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(header), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()
