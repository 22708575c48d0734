"""Synthetic REDCap exports of a study, written as REDCap writes them (docs/redcap.md
lists the sources): the record export of a project built from a data dictionary, raw
or with labels, with raw or label headers, classic or longitudinal, DAGs as centers.

It reads the dictionary with the csv module on its own (not with rwestudy's reader),
so the import is tested against this independent writer of the format.

    python tests/redcap/make_fixtures.py      # rewrites tests/fixtures/redcap/
"""
from __future__ import annotations

import csv
import io
import math
import re
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "redcap"
EVENTS = {"baseline": ("baseline_arm_1", "Baseline (Arm 1: Arm 1)"),
          "follow_up": ("follow_up_arm_1", "Follow-up (Arm 1: Arm 1)")}


def parse_dictionary(text: str) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    for r in rows:
        r["_choices"] = {}
        for piece in (r.get("Choices, Calculations, OR Slider Labels") or "").split("|"):
            if "," in piece:
                code, label = piece.split(",", 1)
                r["_choices"][code.strip()] = label.strip()
        if r["Field Type"] == "yesno":
            r["_choices"] = {"1": "Yes", "0": "No"}
    return rows


def _text(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _column_of(r) -> tuple[str, str]:
    table, col = r["Field Annotation"].split(":", 1)[1].split(".")
    return table, col


def _box(code: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", code.lower())


def record_export(tables: dict[str, pd.DataFrame], dictionary_csv: str, *, labels: bool = False,
                  label_headers: bool = False, longitudinal: bool = False, dags: bool = True) -> str:
    """The CSV REDCap writes for a project of ``dictionary_csv`` holding ``tables``."""
    fields = parse_dictionary(dictionary_csv)
    forms = list(dict.fromkeys(r["Form Name"] for r in fields))
    cols, heads = [fields[0]["Variable / Field Name"]], [fields[0]["Field Label"]]
    if longitudinal:
        cols.append("redcap_event_name")
        heads.append("Event Name")
    cols += ["redcap_repeat_instrument", "redcap_repeat_instance"]
    heads += ["Repeat Instrument", "Repeat Instance"]
    if dags:
        cols.append("redcap_data_access_group")
        heads.append("Data Access Group")
    for form in forms:
        for r in fields[1:] if form == forms[0] else fields:
            if r["Form Name"] != form:
                continue
            if r["Field Type"] == "checkbox":
                for code, lab in r["_choices"].items():
                    cols.append(f"{r['Variable / Field Name']}___{_box(code)}")
                    heads.append(f"{r['Field Label']} (choice={lab})")
            else:
                cols.append(r["Variable / Field Name"])
                heads.append(r["Field Label"])
        cols.append(f"{form}_complete")
        heads.append("Complete?")

    def cells(r, value) -> dict[str, str]:
        name, ftype, choices = r["Variable / Field Name"], r["Field Type"], r["_choices"]
        v = _text(value)
        if r["Text Validation Type OR Show Slider Number"] == "integer" and v.endswith(".0"):
            v = v[:-2]  # a whole number held in a float column (it has blanks)
        if ftype == "checkbox":
            ticked = set(v.split("+")) if v else set()
            return {f"{name}___{_box(c)}": ("Checked" if lab in ticked else "Unchecked") if labels
                    else ("1" if lab in ticked else "0") for c, lab in choices.items()}
        if ftype == "yesno" and v:
            v = {"yes": "1", "no": "0"}[v.lower()]
            return {name: choices[v] if labels else v}
        if choices and v:
            code = next(c for c, lab in choices.items() if lab == v)
            return {name: v if labels else code}
        return {name: v}

    by_form = {f: [r for r in fields if r["Form Name"] == f] for f in forms}
    out = []
    patients = tables["patients"]
    for _, p in patients.iterrows():
        pid = p["patient_id"]
        dag = p["center"] if labels else re.sub(r"[^a-z0-9]+", "_", str(p["center"]).lower()).strip("_")
        base = dict.fromkeys(cols, "")
        base[cols[0]] = pid
        if longitudinal:
            base["redcap_event_name"] = EVENTS["baseline"][1 if labels else 0]
        if dags:
            base["redcap_data_access_group"] = dag
        for r in by_form["patients"][1:]:
            base.update(cells(r, p.get(_column_of(r)[1])))
        base["patients_complete"] = "Complete" if labels else "2"
        out.append(base)
        for form in forms[1:]:
            rows = tables.get(form)
            if rows is None:
                continue
            for i, (_, rec) in enumerate(rows[rows["patient_id"] == pid].iterrows(), start=1):
                row = dict.fromkeys(cols, "")
                row[cols[0]] = pid
                if longitudinal:
                    row["redcap_event_name"] = EVENTS["follow_up"][1 if labels else 0]
                row["redcap_repeat_instrument"] = form.replace("_", " ").capitalize() if labels else form
                row["redcap_repeat_instance"] = str(i)
                if dags:
                    row["redcap_data_access_group"] = dag
                for r in by_form[form]:
                    row.update(cells(r, rec.get(_column_of(r)[1])))
                row[f"{form}_complete"] = "Complete" if labels else "2"
                out.append(row)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(heads if label_headers else cols)
    for row in out:
        w.writerow([row[c] for c in cols])
    return buf.getvalue()


def small_study() -> dict[str, pd.DataFrame]:
    """Four patients in two centers: every kind of column, repeating rows, an accent."""
    d = pd.Timestamp
    patients = pd.DataFrame({
        "patient_id": ["P01", "P02", "P03", "P04"], "center": ["Milano INT", "Milano INT", "Köln Uni", "Köln Uni"],
        "sex": ["F", "M", "M", None], "birth_date": [d("1950-01-02"), d("1961-12-31"), pd.NaT, d("1970-07-07")],
        "histology": ["DLBCL", "HGBL", "tFL", "DLBCL"], "double_hit": ["no", "yes", None, "no"],
        "ann_arbor_stage": [4, 2, 3, 1], "ecog": [1, 0, 2, None], "ldh": [310.5, 190.0, None, 250.0],
        "treatment_start_date": [d("2022-01-10"), d("2022-03-01"), d("2022-05-20"), d("2023-02-02")],
        "best_response": ["CR", "PD", "PR", None], "death_date": [pd.NaT, d("2022-09-01"), pd.NaT, pd.NaT],
        "death_cause": [None, "other: pneumonia", None, None],
        "last_contact_date": [d("2024-01-01"), d("2022-09-01"), d("2023-12-01"), d("2024-02-01")],
    })
    adverse_events = pd.DataFrame({
        "patient_id": ["P01", "P01", "P03"], "term": ["Fatigue", "Neutrophil count decreased", "Diarrhea"],
        "grade": [2, 3, 1], "onset_date": [d("2022-02-01"), d("2022-02-15"), d("2022-06-01")],
        "related_to": ["tafasitamab+lenalidomide", "lenalidomide", "none"], "serious": ["no", "yes", "no"],
    })
    prior_lines = pd.DataFrame({"patient_id": ["P01", "P02", "P02"], "line": [1, 1, 2],
                                "regimen": ["R-CHOP", "R-CHOP", "R-DHAP"], "best_response": ["CR", "PR", "PD"]})
    return {"patients": patients, "prior_lines": prior_lines, "adverse_events": adverse_events}


def write_fixtures(folder: Path = FIXTURES) -> list[Path]:
    sys.path.insert(0, str(HERE.parents[1] / "src"))
    from rwestudy.io.redcap.export_dictionary import dictionary_rows, to_csv

    folder.mkdir(parents=True, exist_ok=True)
    study = small_study()
    dictionary = to_csv(dictionary_rows(drugs=["tafasitamab", "lenalidomide"]))
    files = {"dictionary.csv": dictionary}
    for kind, kw in {"raw": {}, "labels": {"labels": True, "label_headers": True},
                     "labels_raw_headers": {"labels": True},
                     "longitudinal_raw": {"longitudinal": True},
                     "longitudinal_labels": {"longitudinal": True, "labels": True, "label_headers": True}}.items():
        files[f"records_{kind}.csv"] = record_export(study, dictionary, **kw)
    out = []
    for name, text in files.items():
        p = folder / name
        # REDCap writes its CSV files in UTF-8 with a byte-order mark.
        p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        out.append(p)
    return out


if __name__ == "__main__":
    for p in write_fixtures():
        print(p)
