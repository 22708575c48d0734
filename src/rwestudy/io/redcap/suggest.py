"""A first draft of the REDCap mapping from a project's data dictionary: instruments,
fields and choices matched to our tables, columns and codes by name and label; what
could not be matched is listed in comments, for the data manager to finish."""
from __future__ import annotations

import difflib
import re

from rwestudy.io.redcap.dictionary import Dictionary
from rwestudy.io.redcap.mapping import PREFIX, field_name
from rwestudy.io.redcap.records import _plain
from rwestudy.io.schema import TABLES


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _plain(text)).strip("_")


def _best(word: str, options: list[str], cutoff: float = 0.75) -> str | None:
    hit = difflib.get_close_matches(word, options, n=1, cutoff=cutoff)
    return hit[0] if hit else None


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Common names of our columns that neither spelling nor similarity finds.
SYNONYMS = {"gender": "sex", "dob": "birth_date", "date_of_birth": "birth_date", "birthdate": "birth_date",
            "site": "center", "centre": "center", "hospital": "center", "ps": "ecog", "ecog_ps": "ecog",
            "stage": "ann_arbor_stage", "date_of_death": "death_date", "dod": "death_date"}

FORM_SYNONYMS = {"demographics": "patients", "baseline": "patients", "enrollment": "patients",
                 "toxicity": "adverse_events", "toxicities": "adverse_events", "ae": "adverse_events",
                 "prior_therapy": "prior_lines", "prior_therapies": "prior_lines", "prior_treatment": "prior_lines",
                 "response": "responses", "response_assessment": "responses", "imaging": "assessments",
                 "therapy": "treatment", "study_drug": "treatment", "subsequent_therapy": "subsequent_therapies",
                 "later_lines": "subsequent_therapies", "ngs": "mutations", "molecular": "mutations"}


def _checkbox_choices(f, cols, table) -> list[tuple[str, str]]:
    """(column, field___code) for checkbox choices naming a yes/no column (ASCT -> prior_asct)."""
    from rwestudy.io.redcap.records import checkbox_column

    spec = TABLES[table].by_name
    out = []
    for code, lab in f.choices.items():
        key = _key(lab)
        hit = [c for c in cols if spec[c].kind == "yesno" and (c == key or c.endswith("_" + key))]
        if len(hit) == 1:
            out.append((hit[0], checkbox_column(f.name, code)))
    return out


def _our_code(label: str, code: str, codes: tuple[str, ...]) -> str | None:
    """Our code for a REDCap choice: same label or code, or the initial when our codes are letters (F, M)."""
    canon = {c.lower(): c for c in codes}
    hit = canon.get(label.strip().lower()) or canon.get(code.lower())
    if hit is None and all(len(c) == 1 for c in codes) and label.strip():
        hit = canon.get(label.strip()[0].lower())
    return hit


def _by_choices(f, cols, table) -> str | None:
    """The one coded column whose codes every choice of ``f`` matches."""
    if not f.choices or f.type in ("yesno", "truefalse"):
        return None
    spec = TABLES[table].by_name
    hits = [c for c in cols if spec[c].kind == "code"
            and all(_our_code(lab, code, spec[c].codes) for code, lab in f.choices.items())]
    return hits[0] if len(hits) == 1 else None


def suggest_mapping(d: Dictionary) -> str:
    lines = ["# REDCap mapping drafted by `rwestudy import redcap --suggest-mapping` from",
             f"# {d.source or 'the data dictionary'}. Check every line; finish the ones marked TODO.",
             "", "[redcap]", '# missing_codes = ["UNK", "NASK", "NA"]  # the project\'s missing-data codes',
             'center = "auto"   # the field `center`, else the Data Access Group', ""]
    forms = {}
    for form in d.forms:
        fk = _key(form)
        table = (next((t for t in TABLES if fk in (t, PREFIX.get(t))), None) or FORM_SYNONYMS.get(fk)
                 or _best(fk, list(TABLES), 0.6))
        if form == d.fields[0].form:
            table = "patients"
        if table and table not in forms.values():
            forms[form] = table
    lines.append("[instruments]   # table = instrument")
    lines += [f"{t} = {_q(f)}" for f, t in forms.items()]
    lines += [f"# TODO instrument {_q(f)}: no table matched" for f in d.forms if f not in forms]
    unmatched_fields: list[str] = []
    codes: list[str] = []
    for form, table in forms.items():
        lines += ["", f"[fields.{table}]   # column = field"]
        cols = [c.name for c in TABLES[table].columns if c.name != "patient_id"]
        taken = set()
        for f in d.form_fields(form):
            if f.name == d.record_id or f.identifier:
                continue
            if f.type == "checkbox" and TABLES[table].by_name.get(_key(f.name), None) is None:
                pairs = [(c, src) for c, src in _checkbox_choices(f, cols, table) if c not in taken]
                lines += [f"{c} = {_q(src)}" for c, src in pairs]
                taken.update(c for c, _ in pairs)
                if not pairs:
                    unmatched_fields.append(f"{form}.{f.name} ({f.label})")
                continue
            names = [_key(f.name), _key(f.name).removeprefix(f"{PREFIX.get(table, '')}_"), _key(f.label)]
            col = (next((n for n in names if n in cols), None)
                   or next((SYNONYMS[n] for n in names if SYNONYMS.get(n) in cols), None)
                   or _best(names[1], cols) or _best(names[2], cols) or _by_choices(f, cols, table))
            if col is None or col in taken:
                unmatched_fields.append(f"{form}.{f.name} ({f.label})")
                continue
            taken.add(col)
            if f.name != field_name(table, col) or f.form != table:
                lines.append(f"{col} = {_q(f.name)}")
            else:
                lines.append(f"# {col} = {_q(f.name)}   (matches by itself)")
            spec = TABLES[table].by_name[col]
            if spec.kind == "code" and f.choices:
                entries, todo = [], []
                for code, lab in f.choices.items():
                    hit = _our_code(lab, code, spec.codes)
                    (entries if hit else todo).append((hit, code, lab))
                if any(h != lab for h, _, lab in entries) or todo:
                    codes += ["", f'[codes."{table}.{col}"]   # our code = [REDCap codes]']
                    by_code: dict[str, list[str]] = {}
                    for hit, code, _ in entries:
                        by_code.setdefault(hit, []).append(code)
                    codes += [f"{_q(h)} = [{', '.join(_q(c) for c in cs)}]" for h, cs in by_code.items()]
                    codes += [f"# TODO choice {_q(code)} ({lab}): none of {', '.join(spec.codes)}"
                              for _, code, lab in todo]
    lines += codes
    if unmatched_fields:
        lines += ["", "# Fields with no column matched (not imported unless you add them above):"]
        lines += [f"#   {u}" for u in unmatched_fields]
    return "\n".join(lines) + "\n"
