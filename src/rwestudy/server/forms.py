"""Forms generated from the input contract (rwestudy.io.schema.TABLES).

One Django form per contract table, made at import from the schema: a column
added to the contract is a field here with no second definition. Every field
takes text, as a spreadsheet cell does: whether the text is a valid value is
decided by the contract's checks (checks.py), which may be overridden with a
reason. The widgets carry the contract's hints (choices, date, number range).
"""
from __future__ import annotations

import re
from functools import lru_cache

from django import forms

from rwestudy.io.schema import TABLES, YES_NO, Column

# Set by the server from the record, never typed by a user.
KEY_FIELDS = ("patient_id", "center")
MAX_LENGTH = 500
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _widget(col: Column) -> forms.Widget:
    if col.kind in ("code", "yesno"):
        codes = col.codes if col.kind == "code" else YES_NO
        return forms.Select(choices=[("", "")] + [(c, c) for c in codes])
    if col.kind == "date":
        return forms.DateInput(attrs={"type": "date"})
    if col.kind in ("int", "float"):
        attrs = {"inputmode": "numeric" if col.kind == "int" else "decimal"}
        attrs.update({k: f"{v:g}" for k, v in (("min", col.lo), ("max", col.hi)) if v is not None})
        return forms.TextInput(attrs=attrs)
    return forms.TextInput()


def _help(col: Column) -> str:
    parts = [{"id": "identifier", "text": "text", "yesno": "yes or no", "date": "date (YYYY-MM-DD)",
              "int": "whole number", "float": "number", "drugs": "none, or drug names joined by +",
              "code": "one of " + ", ".join(col.codes)}[col.kind]]
    if col.lo is not None and col.hi is not None:
        parts.append(f"{col.lo:g} to {col.hi:g}")
    if col.required:
        parts.append("required")
    return "; ".join(parts)


@lru_cache(maxsize=None)
def form_class(table: str) -> type[forms.Form]:
    """The form for one contract table (without the key fields the server sets)."""
    fields = {c.name: forms.CharField(required=False, max_length=MAX_LENGTH, label=c.name.replace("_", " "),
                                      help_text=_help(c), widget=_widget(c))
              for c in TABLES[table].columns if c.name not in KEY_FIELDS}
    return type(f"{table.title().replace('_', '')}Form", (forms.Form,), fields)


def row_form(table: str, saved: dict[str, str], posted: dict[str, str] | None = None, prefix: str = "",
             readonly: bool = False) -> forms.Form:
    """The form of one row for a page: the saved values (or what was just posted) in the contract's widgets.

    A saved value that a widget cannot show as it is (an imported "01/02/2024"
    in a date picker, "Male" in the sex list) would be shown blank and then
    saved blank by the next save of the row; such a field gets a plain text
    box, or its value as an extra choice, so what is stored is what is seen.
    """
    form = form_class(table)(data=posted, initial=saved, prefix=prefix or None)
    shown = posted if posted is not None else saved
    for name, f in form.fields.items():
        value = (shown.get(prefix + "-" + name if prefix and posted is not None else name) or "")
        w = f.widget
        if isinstance(w, forms.Select) and value and value not in {c for c, _ in w.choices}:
            w.choices = list(w.choices) + [(value, value)]
        if isinstance(w, forms.DateInput) and value and not _ISO_DATE.fullmatch(value):
            f.widget = forms.TextInput()
        if table == "adverse_events" and name == "term":
            f.widget.attrs["list"] = "ctcae-terms"  # the page holds the CTCAE v5.0 terms as a <datalist>
        if readonly:
            f.widget.attrs["disabled"] = True
    return form


@lru_cache(maxsize=1)
def ctcae_term_list() -> tuple[str, ...]:
    from rwestudy.validation.ctcae import ctcae_terms

    return tuple(sorted(ctcae_terms()["term"]))
