"""Our dictionary -> synthetic REDCap exports (tests/redcap/make_fixtures.py, written from
REDCap's documented format) -> import -> the study we started from, cell for cell."""
from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from rwestudy.io.redcap.convert import import_redcap
from rwestudy.io.redcap.export_dictionary import dictionary_rows, to_csv
from rwestudy.validation.ctcae import ctcae_terms
from rwestudy.io.redcap.output import write_import
from rwestudy.io.schema import TABLES
from rwestudy.io.writers import write_csv_folder
from rwestudy.study import load_study
from tests.redcap.make_fixtures import FIXTURES, record_export, small_study, write_fixtures

# REDCap's 18 data dictionary columns, in order, as its Data Dictionary page writes them.
REDCAP_HEADER = ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
                 "Choices, Calculations, OR Slider Labels", "Field Note",
                 "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
                 "Identifier?", "Branching Logic (Show field only if...)", "Required Field?", "Custom Alignment",
                 "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?", "Field Annotation"]
VARIANTS = ["raw", "labels", "labels_raw_headers", "longitudinal_raw", "longitudinal_labels"]


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_dictionary_has_redcaps_columns_and_our_fields():
    text = to_csv(dictionary_rows())
    assert next(csv.reader(io.StringIO(text))) == REDCAP_HEADER
    rows = _rows(text)
    assert rows[0]["Variable / Field Name"] == "patient_id" and rows[0]["Form Name"] == "patients"
    forms = list(dict.fromkeys(r["Form Name"] for r in rows))
    assert forms == list(TABLES)
    by = {r["Variable / Field Name"]: r for r in rows}
    assert by["sex"]["Field Type"] == "dropdown" and by["sex"]["Choices, Calculations, OR Slider Labels"] == "1, M | 2, F"
    assert by["double_hit"]["Field Type"] == "yesno"
    assert by["birth_date"]["Text Validation Type OR Show Slider Number"] == "date_ymd"
    assert (by["ecog"]["Text Validation Type OR Show Slider Number"], by["ecog"]["Text Validation Min"],
            by["ecog"]["Text Validation Max"]) == ("integer", "0", "5")
    assert by["ae_term"]["Field Type"] == "text"
    assert len(by) == len(rows)  # REDCap field names are unique across a project


def test_ctcae_term_as_dropdown():
    rows = {r["Variable / Field Name"]: r for r in _rows(to_csv(dictionary_rows(ae_terms="dropdown", terms=list(ctcae_terms()["term"]))))}
    choices = rows["ae_term"]["Choices, Calculations, OR Slider Labels"]
    assert rows["ae_term"]["Field Type"] == "dropdown" and "Neutrophil count decreased" in choices


def test_committed_fixtures_are_what_the_script_writes(tmp_path):
    for p in write_fixtures(tmp_path):
        assert p.read_bytes() == (FIXTURES / p.name).read_bytes(), p.name


def _typed(path):
    s = load_study(path)
    return {k: v.reset_index(drop=True) for k, v in s.tables.items()}, s


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    folder = write_csv_folder(small_study(), tmp_path_factory.mktemp("orig") / "study")
    return _typed(folder)[0]


@pytest.mark.parametrize("variant", VARIANTS)
def test_round_trip_cell_for_cell(variant, original, tmp_path):
    result = import_redcap(FIXTURES / f"records_{variant}.csv", FIXTURES / "dictionary.csv")
    assert result.findings.empty, result.findings.to_string()
    assert set(result.accounting["outcome"]) == {"imported"} and len(result.accounting) == 4 + 3 + 3
    paths = write_import(result, tmp_path / "out")
    for source in (paths["xlsx"], paths["csv"]):
        got, _ = _typed(source)
        assert set(got) == set(original)
        for name, frame in original.items():
            pd.testing.assert_frame_equal(got[name][frame.columns], frame, check_dtype=False, obj=f"{variant} {name}")


def test_checkbox_choices_are_the_studys_drugs():
    rows = {r["Variable / Field Name"]: r for r in _rows((FIXTURES / "dictionary.csv").read_text("utf-8-sig"))}
    assert rows["ae_related_to"]["Field Type"] == "checkbox"
    header = (FIXTURES / "records_raw.csv").read_text("utf-8-sig").splitlines()[0].split(",")
    assert {"ae_related_to___1", "ae_related_to___2", "ae_related_to___none"} <= set(header)


def test_demo_study_round_trip_gives_the_same_results(tmp_path):
    from rwestudy.demo.generator import make_study
    from rwestudy.pipeline import run_analysis

    tables = make_study()
    orig = write_csv_folder(tables, tmp_path / "orig")
    drugs = sorted(tables["treatment"]["drug"].unique())
    dictionary = to_csv(dictionary_rows(drugs=drugs))
    (tmp_path / "dictionary.csv").write_text(dictionary, encoding="utf-8")
    (tmp_path / "records.csv").write_text(record_export(tables, dictionary), encoding="utf-8")
    result = import_redcap(tmp_path / "records.csv", tmp_path / "dictionary.csv")
    assert result.findings.empty, result.findings.head().to_string()
    n_rows = sum(len(v) for k, v in tables.items())
    assert len(result.accounting) == n_rows and set(result.accounting["outcome"]) == {"imported"}
    paths = write_import(result, tmp_path / "imported")
    a = run_analysis(orig, tmp_path / "ra", cutoff="2025-01-01").results_json.read_text()
    b = run_analysis(paths["xlsx"], tmp_path / "rb", cutoff="2025-01-01").results_json.read_text()
    import json

    ja, jb = json.loads(a), json.loads(b)
    for key in ("source", "study", "provenance", "input"):
        ja.pop(key, None), jb.pop(key, None)
    assert len(_numbers(ja)) > 500 and _numbers(ja) == _numbers(jb)


def _numbers(obj, path=""):
    """Every number in results.json with where it is (paths and file names differ, numbers must not)."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(_numbers(v, f"{path}/{k}"))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.update(_numbers(v, f"{path}[{i}]"))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        out[path] = obj
    return out
