"""Numbers with thousands separators and decimal commas (shared by the CSV and
workbook doors): read right when the column tells which convention it uses,
a finding when it does not, and every reinterpretation visible.

Expected values are the numbers a reader of the text would write down."""
import math

import pandas as pd
import pytest

import rwestudy
from rwestudy.io.coerce import coerce_table
from rwestudy.io.schema import TABLES
from rwestudy.io.writers import write_workbook


def _coerce(column, values, table="patients"):
    raw = pd.DataFrame({"patient_id": [f"P{i:02d}" for i in range(len(values))], column: values},
                       index=pd.RangeIndex(2, 2 + len(values), name="row"), dtype=object)
    typed, findings = coerce_table(raw, TABLES[table], codes={}, date_format="iso", partial_dates="none")
    return typed[column].tolist(), findings


def _rows(findings, rule, severity=None):
    f = findings[findings["rule"] == rule]
    if severity:
        f = f[f["severity"] == severity]
    return f["row"].tolist()


def _same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if w is None:
            assert g is None or pd.isna(g), (got, want)
        else:
            assert g == pytest.approx(w), (got, want)


def test_lone_comma_thousands_value_is_an_error_not_a_guess():
    # 1,250 U/L or 1.25 U/L: both within ldh's range, nothing else in the column tells
    got, f = _coerce("ldh", ["1,250", "300"])
    _same(got, [None, 300])
    assert _rows(f, "number-ambiguous", "error") == [2]
    msg = f.loc[f["rule"] == "number-ambiguous", "message"].iloc[0]
    assert "1250" in msg and "1.25" in msg
    assert _rows(f, "type-number") == []          # one finding for the cell, not two


def test_comma_thousands_read_when_the_column_shows_a_decimal_dot():
    got, f = _coerce("ldh", ["1,250", "245.5", "12,500", "2,400.5"])
    _same(got, [1250, 245.5, 12500, 2400.5])
    assert sorted(_rows(f, "number-separator-inferred", "info")) == [2, 4]   # 1,250 and 12,500
    assert _rows(f, "number-thousands", "info") == [5]                       # 2,400.5 has one reading
    assert "2400.5" in f.loc[f["rule"] == "number-thousands", "message"].iloc[0]
    assert not (f["severity"] == "error").any()


def test_decimal_commas_read_as_decimals_with_one_note_per_column():
    got, f = _coerce("hb_g_dl", ["12,5", "11,25", "9,8", None, "NA", "13"])
    _same(got, [12.5, 11.25, 9.8, None, None, 13])
    note = f[f["rule"] == "number-decimal-comma"]
    assert len(note) == 1 and note["severity"].iloc[0] == "info"
    assert "3 values" in note["message"].iloc[0] and "rows 2, 3, 4" in note["message"].iloc[0]
    assert len(f) == 1


def test_comma_value_in_a_decimal_comma_column_is_a_decimal():
    got, f = _coerce("ldh", ["1,250", "12,75", "300"])
    _same(got, [1.25, 12.75, 300])
    assert _rows(f, "number-separator-inferred", "info") == [2]
    assert _rows(f, "number-ambiguous") == []


def test_dot_thousands_european_style():
    got, f = _coerce("ldh", ["1.250", "12,5", "1.250,5", "22.000"])
    _same(got, [1250, 12.5, 1250.5, 22000])
    assert sorted(_rows(f, "number-separator-inferred")) == [2, 5]
    assert _rows(f, "number-thousands") == [4]


def test_several_groups_have_one_reading_each():
    got, f = _coerce("starting_dose_mg", ["1,250,000", "1.250.000", "1 250", "1\u00a0250,5"], table="treatment")
    assert got[2] == 1250 and got[3] == pytest.approx(1250.5)
    assert sorted(_rows(f, "number-thousands")) == [2, 3, 4, 5]
    # 1,250,000 mg and 1.250.000 mg are read (as 1250000) and then out of range, not "not a number"
    assert sorted(_rows(f, "range")) == [2, 3] and _rows(f, "type-number") == []


def test_range_settles_a_value_only_one_reading_allows():
    got, f = _coerce("age_at_diagnosis", ["1,250", "63"])        # 1250 years is impossible
    _same(got, [1.25, 63])
    assert _rows(f, "number-separator-inferred") == [2]
    assert _rows(f, "implausible", "warning") == [2]             # 1.25 years is still flagged
    got, f = _coerce("platelets_10e9_l", ["250.000", "180"])      # 250000 > 5000: it is 250
    _same(got, [250, 180])
    assert len(f) == 0                                            # plain reading: nothing to report


def test_lone_dot_three_decimals_is_read_as_decimal_with_a_warning():
    got, f = _coerce("ldh", ["1.250", "300"])
    _same(got, [1.25, 300])
    assert _rows(f, "number-ambiguous", "warning") == [2]


def test_whole_number_column_refuses_both_readings():
    got, f = _coerce("cycles", ["1,250", "6"], table="treatment")   # 1250 > 500 and 1.25 is not whole
    assert pd.isna(got[0]) and got[1] == 6
    assert _rows(f, "number-ambiguous", "error") == [2]


def test_plain_numbers_and_junk_unchanged():
    got, f = _coerce("ldh", ["245", "245.5", "1e3", "garbage", "0x1F"])
    _same(got, [245, 245.5, 1000, None, None])
    assert sorted(_rows(f, "type-number")) == [5, 6]
    assert len(f) == 2


def test_csv_end_to_end(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "patients.csv").write_text(
        'patient_id,center,ldh,hb_g_dl\nP01,C01,"1,250","12,5"\nP02,C01,300,"9,75"\n', encoding="utf-8")
    study = rwestudy.load_study(folder)
    assert math.isnan(study.patients.loc[2, "ldh"]) and study.patients.loc[3, "ldh"] == 300
    assert list(study.patients["hb_g_dl"]) == [12.5, 9.75]
    amb = study.findings[study.findings["rule"] == "number-ambiguous"]
    assert list(amb["row"]) == [2] and list(amb["value"]) == ["1,250"] and not study.ok


def test_workbook_text_cells_use_the_same_rules_and_number_cells_are_left_alone(tmp_path):
    patients = pd.DataFrame({"patient_id": ["P01", "P02", "P03"], "center": ["C01"] * 3,
                             "ldh": pd.Series(["1,250", 1.234, "2,400.5"], dtype=object)})
    study = rwestudy.load_study(write_workbook({"patients": patients}, tmp_path / "s.xlsx"))
    # the number cell 1.234 is a number (no "1234?" doubt); the text cells show comma thousands
    assert list(study.patients["ldh"]) == [1250, 1.234, 2400.5]
    assert list(study.findings.loc[study.findings["rule"] == "number-ambiguous", "row"]) == []
    assert list(study.findings.loc[study.findings["rule"] == "number-separator-inferred", "row"]) == [2]
