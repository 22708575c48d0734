"""A study keeps its own sheet names, column names, codes and date format."""
import pandas as pd
import pytest

import rwestudy
from rwestudy.io.mapping import MappingError, load_mapping
from rwestudy.io.writers import write_workbook

ITALIAN = """
[study]
date_format = "DD/MM/YYYY"
partial_dates = "mid"

[sheets]
patients = "Pazienti"
adverse_events = "Tossicita"

[columns.patients]
patient_id = "Codice"
center = "Centro"
sex = "Sesso"
final_response = "Risposta finale"
best_response = "Migliore risposta"
treatment_start_date = "Inizio terapia"
last_contact_date = "Ultimo contatto"
bulky = "Bulky"

[columns.adverse_events]
patient_id = "Codice"
term = "Evento"
grade = "Grado"

[codes.sex]
M = ["maschio"]
F = ["femmina"]

[codes.responses]
CR = ["RC"]
PR = ["RP"]
SD = ["MS"]
PD = ["PM", "progressione"]

[codes.yesno]
yes = ["si", "sì"]
"""


@pytest.fixture
def italian_workbook(tmp_path):
    patients = pd.DataFrame({
        "Codice": ["IT-01", "IT-02", "IT-03"],
        "Centro": ["Bologna", "Bologna", "Roma"],
        "Sesso": ["maschio", "Femmina", "M"],
        "Migliore risposta": ["RC", "RP", "PM"],
        "Risposta finale": ["RC", "MS", "progressione"],
        "Inizio terapia": ["04/03/2022", "13/05/2022", "2022-06"],
        "Ultimo contatto": ["01/02/2024", "13/05/2023", "01/12/2022"],
        "Bulky": ["sì", "no", "SI"],
    })
    ae = pd.DataFrame({"Codice": ["IT-01", "IT-02"], "Evento": ["Neutropenia", "anemia"], "Grado": [3, 2]})
    path = write_workbook({"Pazienti": patients, "Tossicita": ae}, tmp_path / "studio.xlsx")
    mapping = tmp_path / "studio.toml"
    mapping.write_text(ITALIAN, encoding="utf-8")
    return path, mapping


def test_italian_workbook_through_mapping(italian_workbook):
    path, mapping = italian_workbook
    study = rwestudy.load_study(path, mapping)
    p = study.patients.set_index("patient_id")
    assert list(p["sex"]) == ["M", "F", "M"]
    assert list(p["best_response"]) == ["CR", "PR", "PD"]
    assert list(p["final_response"]) == ["CR", "SD", "PD"]
    assert list(p["bulky"]) == [True, False, True]
    assert p.loc["IT-01", "treatment_start_date"] == pd.Timestamp("2022-03-04")  # day first, as declared
    assert p.loc["IT-03", "treatment_start_date"] == pd.Timestamp("2022-06-15")  # imputed mid-month
    f = study.findings
    assert study.ok, f.to_string()
    imputed = f[f["rule"] == "date-imputed"]
    assert list(imputed["patient_id"]) == ["IT-03"] and imputed["severity"].iloc[0] == "warning"
    # synonyms are normalised and reported as notes
    assert set(study.adverse_events["term"]) == {"Neutrophil count decreased", "Anemia"}
    assert set(f.loc[f["table"] == "adverse_events", "rule"]) == {"ae-term-synonym", "ae-term-variant"}
    assert study.sheet_names["patients"] == "Pazienti"


def test_without_mapping_the_same_workbook_is_refused(italian_workbook):
    path, _ = italian_workbook
    study = rwestudy.load_study(path)
    assert "table-missing" in set(study.findings["rule"])


def test_cli_override_wins(italian_workbook):
    path, mapping = italian_workbook
    study = rwestudy.load_study(path, mapping, partial_dates="none")
    assert "date-partial" in set(study.errors["rule"])


@pytest.mark.parametrize("text, words", [
    ("[study]\ndate_format = 'YYYY/MM/DD'\n", "date_format"),
    ("[sheets]\npazienti = 'X'\n", "unknown table"),
    ("[columns.patients]\nsesso = 'Sesso'\n", "not a column"),
    ("[studio]\n", "unknown section"),
    ("this is = = not toml", "not valid TOML"),
    ("[study]\ncutoff_date = 'soon'\n", "cutoff_date"),
    ("[codes.sex]\nX = ['x']\n", "not a code of sex"),
    ("[codes.regimen]\nA = ['a']\n", "no coded column"),
])
def test_bad_mapping_is_a_clear_error(tmp_path, text, words):
    p = tmp_path / "m.toml"
    p.write_text(text)
    with pytest.raises(MappingError, match=words):
        load_mapping(p)


def test_mapped_column_absent_is_reported(italian_workbook, tmp_path):
    path, mapping = italian_workbook
    m = tmp_path / "m2.toml"
    m.write_text(mapping.read_text().replace('bulky = "Bulky"', 'bulky = "Massa bulky"'))
    study = rwestudy.load_study(path, m)
    assert "mapping-column-missing" in set(study.errors["rule"])
