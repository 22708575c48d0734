"""Malformed REDCap input: each problem a precise finding (rule, line, column, value), never a traceback."""
from __future__ import annotations

import pandas as pd

from rwestudy.io.redcap.convert import import_redcap
from rwestudy.io.redcap.mapping import load_redcap_mapping

DICT = """\ufeffVariable / Field Name,Form Name,Section Header,Field Type,Field Label,"Choices, Calculations, OR Slider Labels",Field Note,Text Validation Type OR Show Slider Number,Text Validation Min,Text Validation Max,Identifier?,Branching Logic (Show field only if...),Required Field?,Custom Alignment,Question Number (surveys only),Matrix Group Name,Matrix Ranking?,Field Annotation
record_id,demographics,,text,Record ID,,,,,,,,,,,,,
pt_name,demographics,,text,Name,,,,,,y,,,,,,,
gender,demographics,,radio,Gender,"1, Female | 2, Male",,,,,,,,,,,,
dob,demographics,,text,Date of birth,,,date_dmy,,,,,,,,,,
ldh_value,demographics,,text,LDH,,,number_comma_decimal,,,,,,,,,,
ecog_ps,demographics,,dropdown,ECOG,"0, 0 | 1, 1 | 2, 2 | 3, 3 | 4, 4",,,,,,,,,,,,
prior_tx,demographics,,checkbox,Prior therapy,"1, ASCT | 2, CAR-T",,,,,,,,,,,,
ae_term,toxicity,,text,Adverse event,,,,,,,,,,,,,
ae_grade,toxicity,,dropdown,Grade,"1, 1 | 2, 2 | 3, 3 | 4, 4 | 5, 5",,,,,,,,,,,,
"""
MAPPING = """
[redcap]
center = "dag"
[instruments]
patients = "demographics"
adverse_events = "toxicity"
[fields.patients]
sex = "gender"
birth_date = "dob"
ldh = "ldh_value"
ecog = "ecog_ps"
prior_asct = "prior_tx___1"
prior_car_t = "prior_tx___2"
[fields.adverse_events]
term = "ae_term"
grade = "ae_grade"
[codes."patients.sex"]
F = ["1"]
M = ["2"]
"""
HEADER = ("record_id,redcap_repeat_instrument,redcap_repeat_instance,redcap_data_access_group,pt_name,gender,dob,"
          "ldh_value,ecog_ps,prior_tx___1,prior_tx___2,demographics_complete,ae_term,ae_grade,toxicity_complete")


def _run(tmp_path, lines, dictionary=DICT, mapping=MAPPING):
    (tmp_path / "dd.csv").write_text(dictionary, encoding="utf-8")
    (tmp_path / "rec.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "m.toml").write_text(mapping, encoding="utf-8")
    return import_redcap(tmp_path / "rec.csv", tmp_path / "dd.csv", load_redcap_mapping(tmp_path / "m.toml"))


def _one(f: pd.DataFrame, rule: str) -> dict:
    hits = f[f["rule"] == rule]
    assert len(hits) == 1, f[["rule", "message"]].to_string()
    return hits.iloc[0].to_dict()


GOOD = ["1,,,center_a,Mario Rossi,2,1950-03-04,\"312,5\",1,1,0,2,,,",
        "1,toxicity,1,center_a,,,,,,,,,Fatigue,2,2"]


def test_a_clean_foreign_project_imports_with_its_mapping(tmp_path):
    r = _run(tmp_path, [HEADER, *GOOD])
    p = r.tables["patients"].iloc[0]
    assert (p["patient_id"], p["center"], p["sex"], p["birth_date"], p["ldh"], p["ecog"]) == \
        ("1", "center_a", "M", "1950-03-04", "312.5", "1")
    assert (p["prior_asct"], p["prior_car_t"]) == ("yes", "no")
    assert r.tables["adverse_events"][["term", "grade"]].values.tolist() == [["Fatigue", "2"]]
    assert set(r.findings["severity"]) <= {"info"}
    assert _one(r.findings, "redcap-decimal-comma")["column"] == "ldh_value"


def test_identifier_fields_never_reach_any_output(tmp_path):
    r = _run(tmp_path, [HEADER, *GOOD])
    assert _one(r.findings, "redcap-identifier-dropped")["column"] == "pt_name"
    everything = pd.concat([*(t.astype(str) for t in r.tables.values()), r.findings.astype(str),
                            r.accounting.astype(str)], axis=0).to_csv()
    assert "Rossi" not in everything


def test_date_in_the_wrong_format_is_an_error_not_a_guess(tmp_path):
    r = _run(tmp_path, [HEADER, GOOD[0].replace("1950-03-04", "04/03/1950"), GOOD[1]])
    f = _one(r.findings, "redcap-date-format")
    assert (f["severity"], f["row"], f["column"], f["value"]) == ("error", 2, "dob", "04/03/1950")
    assert pd.isna(r.tables["patients"].iloc[0]["birth_date"])


def test_repeat_instance_for_an_unknown_record(tmp_path):
    r = _run(tmp_path, [HEADER, *GOOD, "7,toxicity,1,center_a,,,,,,,,,Nausea,1,2"])
    f = _one(r.findings, "redcap-record-unknown")
    assert (f["severity"], f["row"], f["patient_id"]) == ("error", 4, "7")
    row = r.accounting[r.accounting["line"] == 4].iloc[0]
    assert (row["outcome"], row["detail"]) == ("not imported", "repeat instance for an unknown record")
    assert len(r.tables["adverse_events"]) == 1


def test_checkbox_code_missing_from_choices(tmp_path):
    header = HEADER.replace("prior_tx___2,", "prior_tx___2,prior_tx___9,")
    first = GOOD[0].replace("1,0,2,,,", "1,0,1,2,,,")
    r = _run(tmp_path, [header, first, GOOD[1].replace(",,,,Fatigue", ",,,,,Fatigue")])
    f = _one(r.findings, "redcap-checkbox-code")
    assert (f["severity"], f["column"]) == ("error", "prior_tx___9")
    assert "no choice '9'" in f["message"] and "1 ticked" in f["message"]


def test_dictionary_not_matching_the_records(tmp_path):
    header = HEADER + ",smoking_status"
    r = _run(tmp_path, [header, GOOD[0] + ",1", GOOD[1] + ","])
    f = _one(r.findings, "redcap-column-unknown")
    assert (f["severity"], f["column"]) == ("error", "smoking_status")


def test_value_not_among_the_choices(tmp_path):
    r = _run(tmp_path, [HEADER, GOOD[0].replace("Rossi,2,", "Rossi,3,"), GOOD[1]])
    f = _one(r.findings, "redcap-choice-unknown")
    assert (f["row"], f["column"], f["value"]) == (2, "gender", "3") and "1 = Female, 2 = Male" in f["message"]


def test_missing_data_codes_are_not_available_and_counted(tmp_path):
    r = _run(tmp_path, [HEADER, GOOD[0].replace("1950-03-04", "UNK").replace("\"312,5\"", "NASK"), GOOD[1]])
    p = r.tables["patients"].iloc[0]
    assert pd.isna(p["birth_date"]) and pd.isna(p["ldh"])
    msgs = r.findings.loc[r.findings["rule"] == "redcap-missing-code", "message"].tolist()
    assert len(msgs) == 2 and any("UNK: 1" in m for m in msgs) and any("NASK: 1" in m for m in msgs)
    assert "redcap-date-format" not in set(r.findings["rule"])


def test_api_headers_and_no_bom_read_the_same(tmp_path):
    api = DICT.lstrip("\ufeff").split("\n", 1)
    api_header = ("field_name,form_name,section_header,field_type,field_label,select_choices_or_calculations,"
                  "field_note,text_validation_type_or_show_slider_number,text_validation_min,text_validation_max,"
                  "identifier,branching_logic,required_field,custom_alignment,question_number,matrix_group_name,"
                  "matrix_ranking,field_annotation")
    a = _run(tmp_path, [HEADER, *GOOD])
    b = _run(tmp_path, [HEADER, *GOOD], dictionary=api_header + "\n" + api[1])
    pd.testing.assert_frame_equal(a.tables["patients"], b.tables["patients"])


def test_dictionary_that_is_not_one(tmp_path):
    r = _run(tmp_path, [HEADER, *GOOD], dictionary="name,type\nx,text\n")
    f = _one(r.findings, "redcap-dictionary-columns")
    assert f["severity"] == "error" and "field_name" in f["message"] and r.tables == {}


def test_bad_mapping_is_one_sentence(tmp_path):
    import pytest

    from rwestudy.io.redcap.mapping import RedcapMappingError

    (tmp_path / "m.toml").write_text('[fields.patients]\nsexx = "gender"\n', encoding="utf-8")
    with pytest.raises(RedcapMappingError, match="'sexx' is not a column of patients"):
        load_redcap_mapping(tmp_path / "m.toml")


def test_no_record_id_column_and_empty_export(tmp_path):
    r = _run(tmp_path, ["gender,dob", "1,1950-01-01"])
    f = _one(r.findings, "redcap-record-id-missing")
    assert f["severity"] == "error" and "no record id column 'record_id'" in f["message"]
    assert r.accounting["detail"].tolist() == ["no record id column"]
    r = _run(tmp_path, [""])
    assert _one(r.findings, "redcap-records-empty")["severity"] == "error"
    from rwestudy.io.redcap.output import write_import

    paths = write_import(r, tmp_path / "out")  # nothing imported: still a study to open
    assert paths["xlsx"].is_file() and (tmp_path / "out" / "csv" / "patients.csv").is_file()


def test_longitudinal_events_disagreeing_on_a_patient_value(tmp_path):
    header = "record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,gender,demographics_complete"
    r = _run(tmp_path, [header, "1,baseline_arm_1,,,1,2", "1,follow_up_arm_1,,,2,2"],
             mapping=MAPPING.replace('center = "dag"', 'center = "auto"'))
    f = _one(r.findings, "redcap-event-conflict")
    assert (f["row"], f["column"], f["value"]) == (3, "sex", "M") and "follow_up_arm_1" in f["message"]
    assert r.tables["patients"]["sex"].tolist() == ["F"]
