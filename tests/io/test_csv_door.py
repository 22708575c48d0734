"""The CSV door: what a center's CSV export really contains (duplicate headers,
two files for one table, stray quotes, UTF-16, Excel's `sep=` line, blank
lines) is read correctly or reported with the line in the file.

Every expected line number below is counted by hand in the text written."""
import codecs

import pandas as pd

import rwestudy

HEADER = "patient_id,center,sex,diagnosis_date"


def _study(tmp_path, files: dict[str, str | bytes]):
    folder = tmp_path / "csv"
    folder.mkdir(parents=True)
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return rwestudy.load_study(folder)


def _rule(study, rule):
    return study.findings[study.findings["rule"] == rule]


# 1. duplicate headers -------------------------------------------------------

def test_duplicate_header_is_an_error_naming_file_column_and_positions(tmp_path):
    study = _study(tmp_path, {"patients.csv": "patient_id,center,sex,age_at_diagnosis,sex\n"
                                              "P01,C01,M,50,F\nP02,C01,F,60,F\n"})
    dup = _rule(study, "column-duplicate")
    assert len(dup) == 1 and dup["severity"].iloc[0] == "error"
    msg = dup["message"].iloc[0]
    assert "patients.csv" in msg and dup["column"].iloc[0] == "sex"
    assert "column 3 (C" in msg and "column 5 (E" in msg
    assert "differ in 1 rows" in msg          # P01: M vs F
    assert not study.ok
    # pandas' hidden rename never surfaces as a column
    assert "sex.1" not in study.patients.columns
    assert list(study.patients["sex"]) == ["M", "F"]


def test_header_literally_named_sex_dot_1_is_not_a_duplicate(tmp_path):
    study = _study(tmp_path, {"patients.csv": "patient_id,center,sex,sex.1\nP01,C01,M,x\n"})
    assert _rule(study, "column-duplicate").empty
    unknown = _rule(study, "column-unknown")
    assert list(unknown["column"]) == ["sex.1"]
    assert list(study.patients["sex.1"]) == ["x"]


def test_headers_differing_only_in_case_are_duplicates(tmp_path):
    study = _study(tmp_path, {"patients.csv": "patient_id,center,Sex,sex\nP01,C01,M,M\n"})
    dup = _rule(study, "column-duplicate")
    assert len(dup) == 1 and "identical" in dup["message"].iloc[0]


# 2. two files, one table ----------------------------------------------------

def test_two_files_for_one_table_neither_wins(tmp_path):
    ae = "patient_id,term,grade\nP01,Anemia,2\n"
    study = _study(tmp_path, {"patients.csv": "patient_id,center\nP01,C01\n",
                              "adverse events.csv": ae, "adverse_events.csv": ae.replace("2", "3"),
                              "Adverse_Events.csv": ae})
    dup = _rule(study, "table-duplicate")
    assert len(dup) == 1 and dup["severity"].iloc[0] == "error"
    msg = dup["message"].iloc[0]
    for name in ("'adverse events.csv'", "'adverse_events.csv'", "'Adverse_Events.csv'"):
        assert name in msg
    assert "adverse_events" not in study.tables
    assert not study.ok


def test_duplicated_patients_file_is_not_called_missing(tmp_path):
    p = "patient_id,center\nP01,C01\n"
    study = _study(tmp_path, {"patients.csv": p, "Patients.csv": p})
    assert len(_rule(study, "table-duplicate")) == 1
    assert _rule(study, "table-missing").empty
    assert not study.ok


# 3. stray quotes ------------------------------------------------------------

def test_unclosed_quote_is_reported_at_its_line(tmp_path):
    text = (f"{HEADER}\n"
            "P01,C01,M,2020-01-01\n"
            'P02,"Bologna,F,2020-02-01\n'      # line 3: quote never closed
            "P03,C02,F,2020-03-01\n"
            "P04,C02,M,2020-04-01\n")
    study = _study(tmp_path, {"patients.csv": text})
    bad = _rule(study, "csv-stray-quote")
    assert len(bad) == 1 and bad["severity"].iloc[0] == "error"
    assert bad["row"].iloc[0] == 3 and bad["column"].iloc[0] == "center"
    assert "end of the file" in bad["message"].iloc[0]
    assert not study.ok


def test_stray_quote_closed_later_merges_rows_and_is_reported(tmp_path):
    text = (f"{HEADER}\n"
            "P01,C01,M,2020-01-01\n"
            'P02,"Bologna,F,2020-02-01\n'      # line 3 opens ...
            'P03,C02",F,2020-03-01\n'          # ... line 4 closes
            "P04,C02,X,2020-04-01\n")          # line 5: bad sex code
    study = _study(tmp_path, {"patients.csv": text})
    bad = _rule(study, "csv-stray-quote")
    assert len(bad) == 1 and bad["row"].iloc[0] == 3
    assert "line 4" in bad["message"].iloc[0]
    code = _rule(study, "code-unknown")
    assert list(code["row"]) == [5]           # the line after the merge keeps its number


def test_line_break_inside_a_date_is_an_error_even_without_delimiters(tmp_path):
    text = f'{HEADER}\nP01,C01,M,"2020-01-01\n"\nP02,C01,F,2020-02-01\n'
    study = _study(tmp_path, {"patients.csv": text})
    bad = _rule(study, "csv-stray-quote")
    assert list(bad["row"]) == [2] and list(bad["column"]) == ["diagnosis_date"]


def test_line_break_in_free_text_is_a_warning_and_rows_keep_their_lines(tmp_path):
    treatment = ("patient_id,drug,cycles,discontinuation_reason\n"
                 'P01,R-CHOP,6,"patient refused\nafter cycle 6"\n'   # lines 2-3
                 "P02,R-CHOP,x,\n")                                  # line 4
    study = _study(tmp_path, {"patients.csv": "patient_id,center\nP01,C01\nP02,C01\n",
                              "treatment.csv": treatment})
    warn = _rule(study, "csv-multiline-value")
    assert list(warn["row"]) == [2] and list(warn["column"]) == ["discontinuation_reason"]
    assert _rule(study, "csv-stray-quote").empty
    assert study.treatment.loc[2, "discontinuation_reason"] == "patient refused\nafter cycle 6"
    assert list(_rule(study, "type-integer")["row"]) + list(_rule(study, "type-number")["row"]) == [4]


# 4. encodings ---------------------------------------------------------------

PATIENTS_TAB = "patient_id\tcenter\tsex\nP01\tCittà di Castello\tM\nP02\tKöln\tX\n"


def test_utf16_le_and_be_with_bom_are_read(tmp_path):
    for i, (bom, codec) in enumerate([(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]):
        text = PATIENTS_TAB.replace("\n", "\r\n")           # Excel writes CRLF
        study = _study(tmp_path / str(i), {"patients.csv": bom + text.encode(codec)})
        assert list(study.patients["center"]) == ["Città di Castello", "Köln"]
        note = _rule(study, "file-encoding")
        assert len(note) == 1 and note["severity"].iloc[0] == "info" and "UTF-16" in note["message"].iloc[0]
        assert list(_rule(study, "code-unknown")["row"]) == [3]


def test_utf16_without_bom_is_recognised(tmp_path):
    study = _study(tmp_path, {"patients.csv": PATIENTS_TAB.encode("utf-16-le")})
    assert list(study.patients["center"]) == ["Città di Castello", "Köln"]
    assert "without a byte-order mark" in _rule(study, "file-encoding")["message"].iloc[0]


def test_utf8_with_bom(tmp_path):
    study = _study(tmp_path, {"patients.csv": codecs.BOM_UTF8 + "patient_id,center\nP01,Città\n".encode()})
    assert list(study.patients.columns[:2]) == ["patient_id", "center"]
    assert study.findings.empty


def test_cp1252_fallback_still_warns(tmp_path):
    study = _study(tmp_path, {"patients.csv": "patient_id,center\nP01,Città\n".encode("cp1252")})
    enc = _rule(study, "file-encoding")
    assert len(enc) == 1 and enc["severity"].iloc[0] == "warning" and enc["row"].iloc[0] == 2
    assert list(study.patients["center"]) == ["Città"]


# 5. Excel's sep= line --------------------------------------------------------

def test_excel_sep_line_sets_the_delimiter_and_lines_still_match(tmp_path):
    for sep in (";", ","):
        text = f"sep={sep}\n" + f"{HEADER}\nP01,C01,M,2020-01-01\nP02,C01,X,2020-02-01\n".replace(",", sep)
        study = _study(tmp_path / ("semi" if sep == ";" else "comma"), {"patients.csv": text})
        assert _rule(study, "column-missing").empty
        assert list(study.patients["patient_id"]) == ["P01", "P02"]
        assert list(_rule(study, "code-unknown")["row"]) == [4]   # sep=1, header=2, P01=3, P02=4


# 6. line numbers ------------------------------------------------------------

def test_rows_after_blank_lines_keep_their_file_line(tmp_path):
    text = (f"{HEADER}\n"               # 1
            "P01,C01,M,2020-01-01\n"    # 2
            "\n"                        # 3
            "\n"                        # 4
            "P02,C01,X,2020-02-01\n"    # 5
            ",,,\n"                     # 6
            "P03,C01,Y,2020-03-01\n")   # 7
    study = _study(tmp_path, {"patients.csv": text})
    assert list(study.patients.index) == [2, 5, 7]
    assert list(_rule(study, "code-unknown")["row"]) == [5, 7]


def test_rows_after_blank_lines_with_crlf_and_quoted_newline(tmp_path):
    text = ('patient_id,center,sex,death_cause\r\n'         # 1
            'P01,C01,M,"other: fell\r\non stairs"\r\n'     # 2-3 (free text after the colon)
            '\r\n'                                          # 4
            'P02,C01,X,\r\n')                               # 5
    study = _study(tmp_path, {"patients.csv": text})
    assert list(study.patients.index) == [2, 5]
    assert list(_rule(study, "code-unknown")["row"]) == [5]
    assert list(_rule(study, "csv-multiline-value")["row"]) == [2]
    assert study.patients.loc[2, "death_cause"] == "other: fell\r\non stairs"


def test_big_clean_csv_takes_the_fast_path(tmp_path, monkeypatch):
    """A clean file is parsed once by pandas; the record-by-record reader is not used."""
    from rwestudy.io import csv_read

    def boom(*a, **k):
        raise AssertionError("slow path used for a clean file")

    monkeypatch.setattr(csv_read, "_parse_records", boom)
    lines = [HEADER] + [f"P{i:05d},C{i % 7},{'MF'[i % 2]},2020-01-{1 + i % 28:02d}" for i in range(20_000)]
    text = "\n".join(lines[:100]) + "\n\n" + "\n".join(lines[100:]) + "\n"
    study = _study(tmp_path, {"patients.csv": text})
    assert study.n_patients == 20_000
    # header = line 1, patients 1-99 on lines 2-100, blank line 101, patient 100 on line 102
    assert study.patients.index[98] == 100 and study.patients.index[99] == 102
    assert study.patients.index[-1] == 20_002
    pd.testing.assert_index_equal(study.patients.index[:3], pd.Index([2, 3, 4], name="row"))
