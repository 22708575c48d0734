"""The command line (import redcap, --suggest-mapping, export redcap-dictionary beside export --db)."""
from __future__ import annotations

import csv
import subprocess
import sys
import tomllib
from pathlib import Path

from rwestudy.io.redcap.dictionary import read_dictionary
from rwestudy.io.redcap.suggest import suggest_mapping
from tests.redcap.make_fixtures import FIXTURES
from tests.redcap.test_bad_input import DICT, MAPPING

SRC = Path(__file__).resolve().parents[2] / "src"


def cli(*args, cwd):
    import os

    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "rwestudy.cli", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300)


def test_export_dictionary_and_import_its_export(tmp_path):
    p = cli("export", "redcap-dictionary", "--out", "dd.csv", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    header = next(csv.reader((tmp_path / "dd.csv").open(encoding="utf-8")))
    assert header[0] == "Variable / Field Name" and len(header) == 18
    reps = list(csv.DictReader((tmp_path / "dd_repeating_instruments.csv").open(encoding="utf-8")))
    assert [r["form_name"] for r in reps][:2] == ["prior_lines", "responses"]
    p = cli("import", "redcap", "--records", str(FIXTURES / "records_labels.csv"), "--dictionary",
            str(FIXTURES / "dictionary.csv"), "--out", "st", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "10 rows read (10 imported)" in p.stdout
    assert {"patients.csv", "prior_lines.csv", "adverse_events.csv"} == {f.name for f in (tmp_path / "st/csv").iterdir()}
    assert (tmp_path / "st/study.xlsx").is_file() and (tmp_path / "st/import_rows.csv").is_file()


def test_export_without_subcommand_still_wants_a_database(tmp_path):
    p = cli("export", cwd=tmp_path)
    assert p.returncode == 2 and "--db" in p.stderr and "Traceback" not in p.stderr


def test_import_with_errors_exits_1_and_says_why(tmp_path):
    (tmp_path / "dd.csv").write_text(DICT, encoding="utf-8")
    (tmp_path / "m.toml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "r.csv").write_text("record_id,redcap_data_access_group,dob\n1,a,31/12/1950\n", encoding="utf-8")
    p = cli("import", "redcap", "--records", "r.csv", "--dictionary", "dd.csv", "--mapping", "m.toml", "--out", "o",
            cwd=tmp_path)
    assert p.returncode == 1 and "not YYYY-MM-DD" in p.stdout and "Traceback" not in p.stderr
    p = cli("import", "redcap", "--records", "nope.csv", "--dictionary", "dd.csv", "--out", "o", cwd=tmp_path)
    assert p.returncode == 2 and "record export not found" in p.stderr


def test_suggested_mapping_matches_names_labels_and_choices(tmp_path):
    (tmp_path / "dd.csv").write_text(DICT, encoding="utf-8")
    d, _ = read_dictionary(tmp_path / "dd.csv")
    text = suggest_mapping(d)
    data = tomllib.loads(text)  # valid TOML
    assert data["instruments"]["patients"] == "demographics"
    assert data["fields"]["patients"]["sex"] == "gender"         # by label
    assert data["fields"]["patients"]["ecog"] == "ecog_ps"       # by name
    assert (data["fields"]["patients"]["prior_asct"], data["fields"]["patients"]["prior_car_t"]) == \
        ("prior_tx___1", "prior_tx___2")                          # checkbox choices by label
    assert data["instruments"]["adverse_events"] == "toxicity"
    assert data["fields"]["adverse_events"] == {"term": "ae_term", "grade": "ae_grade"}
    assert data["codes"]["patients.sex"] == {"F": ["1"], "M": ["2"]}  # by choice label
    assert "pt_name" not in text                                  # an identifier is never suggested
    p = cli("import", "redcap", "--dictionary", "dd.csv", "--suggest-mapping", "m.toml", cwd=tmp_path)
    assert p.returncode == 0 and tomllib.loads((tmp_path / "m.toml").read_text()) == data


def test_suggested_mapping_imports_like_the_hand_written_one(tmp_path):
    from tests.redcap.test_bad_input import GOOD, HEADER, _run

    (tmp_path / "dd.csv").write_text(DICT, encoding="utf-8")
    d, _ = read_dictionary(tmp_path / "dd.csv")
    by_hand = _run(tmp_path, [HEADER, *GOOD])
    drafted = _run(tmp_path, [HEADER, *GOOD], mapping=suggest_mapping(d))
    for name, frame in by_hand.tables.items():
        assert drafted.tables[name].equals(frame), name


def test_validate_and_analyze_read_a_redcap_export(tmp_path):
    rec, dd = str(FIXTURES / "records_raw.csv"), str(FIXTURES / "dictionary.csv")
    p = cli("validate", rec, "--redcap-dictionary", dd, "--format", "json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    import json

    data = json.loads(p.stdout)
    assert data["n_patients"] == 4 and data["source"] == rec
    # P03's patients row is line 9 of the export (P01: 2-5, P02: 6-8): the finding says so.
    rows = {(f["patient_id"], f["row"]) for f in data["findings"] if f["rule"] == "responder-without-date"}
    assert rows == {("P01", 2), ("P03", 9)}
    p = cli("analyze", rec, "--redcap-dictionary", dd, "--out", "res", "--cutoff", "2024-06-30", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (tmp_path / "res" / "results.json").is_file()
    p = cli("validate", rec, "--redcap-dictionary", "nope.csv", cwd=tmp_path)
    assert p.returncode == 2 and "no such REDCap data dictionary" in p.stderr


def test_import_with_a_maf_fills_the_mutations_table(tmp_path):
    maf = FIXTURES.parent / "maf"
    (tmp_path / "s.csv").write_text("sample_id,patient_id\nS1,P01\nS2,P02\nS3,P03\nS4,P04\nS5,P04\nS7,P04\n",
                                    encoding="utf-8")
    p = cli("import", "redcap", "--records", str(FIXTURES / "records_raw.csv"), "--dictionary",
            str(FIXTURES / "dictionary.csv"), "--mutations", str(maf / "cohort.maf"), "--samples", "s.csv",
            "--out", "st", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    import pandas as pd

    m = pd.read_csv(tmp_path / "st" / "csv" / "mutations.csv")
    # cohort.maf by hand: P01 MYD88 + TP53, P02 TP53, P03 KMT2D + MYD88, P04 TP53 (S4) + TP53 (S7: missense)
    assert sorted(zip(m["patient_id"], m["gene"])) == [("P01", "MYD88"), ("P01", "TP53"), ("P02", "TP53"),
                                                       ("P03", "KMT2D"), ("P03", "MYD88"), ("P04", "TP53")]
    assert m.set_index(["patient_id", "gene"]).loc[("P04", "TP53"), "alteration"] == "missense"
    rules = set(pd.read_csv(tmp_path / "st" / "import_findings.csv")["rule"])
    assert {"maf-rule", "maf-class-unknown"} <= rules
