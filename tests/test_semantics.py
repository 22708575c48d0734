"""Silent wrong values in meaning: what a cell means is read as the spec says, or a
finding says why not. Each study here is written by hand, so the expected counts
are read off the file, not computed by the code under test."""
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import rwestudy
from rwestudy.io.schema import NA_TOKENS
from rwestudy.stats.adverse_events import ae_tables


SRC = Path(rwestudy.__file__).resolve().parents[1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200", PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "rwestudy.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def _write(folder: Path, **tables: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text.lstrip("\n"), encoding="utf-8")
    return folder


PATIENTS = """
patient_id,center,sex
P1,Bologna,F
P2,Bologna,M
P3,Milano,F
P4,Milano,M
"""


# ------------------------------------------------------------ related_to = none
def test_none_is_not_an_na_token():
    assert "none" not in NA_TOKENS
    assert {"", "na", "n/a", "nd", "unknown", "-"} <= NA_TOKENS  # the spec's list


def test_related_to_none_counts_as_not_related(tmp_path):
    # 7 events: 3 "none" (any case), 2 attribution not recorded (empty, NA), 2 drug-related.
    folder = _write(tmp_path / "s", patients=PATIENTS, treatment="""
patient_id,drug
P1,lenalidomide
P1,tafasitamab
""", adverse_events="""
patient_id,term,grade,related_to
P1,Neutrophil count decreased,3,none
P2,Neutrophil count decreased,2,None
P3,Fatigue,1,NONE
P4,Fatigue,1,
P1,Fatigue,2,NA
P2,Diarrhea,2,lenalidomide
P3,Diarrhea,3,tafasitamab + lenalidomide
""")
    study = rwestudy.load_study(folder)
    assert list(study.adverse_events["related_to"].iloc[:3]) == ["none"] * 3
    assert study.adverse_events["related_to"].iloc[3:5].isna().all()
    # "none" is a known attribution, not an unknown drug
    assert not (study.findings["rule"] == "unknown-drug").any()
    t = ae_tables(study.adverse_events, study.patients, window=False)
    overall = t.by_drug[(t.by_drug["term"] == "any AE") & (t.by_drug["grade_band"] == "any")]
    events = overall.set_index("attribution")["events"]
    assert events["none"] == 3
    assert events["attribution NA"] == 2
    assert events["lenalidomide"] == 2 and events["tafasitamab"] == 1 and events["any drug"] == 2
    patients = overall.set_index("attribution")["patients"]
    assert patients["none"] == 3  # P1, P2, P3


def test_none_in_a_yes_no_column_is_reported_not_na(tmp_path):
    folder = _write(tmp_path / "s", patients=PATIENTS.replace("sex\n", "sex,b_symptoms\n")
                    .replace("P1,Bologna,F", "P1,Bologna,F,none").replace(",M\n", ",M,no\n")
                    .replace("P3,Milano,F", "P3,Milano,F,yes"))
    study = rwestudy.load_study(folder)
    bad = study.findings[(study.findings["column"] == "b_symptoms")]
    assert list(bad["row"]) == [2] and list(bad["value"]) == ["none"] and (bad["severity"] == "error").all()


# ------------------------------------------------------------ no patients
@pytest.mark.parametrize("header", ["patient_id,center,sex\n", "patient_id,center,sex\n,,\n\n"])
def test_header_only_patients_is_an_error(tmp_path, header):
    folder = _write(tmp_path / "s", patients=header)
    study = rwestudy.load_study(folder)
    err = study.errors
    assert study.n_patients == 0 and not study.ok
    assert list(err["rule"]) == ["no-patients"] and list(err["table"]) == ["patients"]
    assert "no rows" in err["message"].iloc[0]


def test_report_refuses_a_study_without_patients(tmp_path):
    folder = _write(tmp_path / "s", patients="patient_id,center,sex\n")
    out = tmp_path / "out"
    r = _cli("report", str(folder), "--out", str(out), "--no-figures")
    assert r.returncode in (1, 2), r.stdout + r.stderr
    assert "no rows" in r.stdout + r.stderr
    assert not (out / "report.html").exists() and not (out / "results.json").exists()


# ------------------------------------------------------------ one center, two spellings
def test_center_spelled_two_ways_is_one_center_and_a_warning(tmp_path):
    # rows 2-4 "Bologna"; row 5 "bologna  " (case, trailing spaces); row 6 "Bologna" with a
    # double space inside "Milano  Nord" vs "Milano Nord" on rows 7-8.
    folder = _write(tmp_path / "s", patients="""
patient_id,center,sex
P1,Bologna,F
P2,Bologna,M
P3,Bologna,F
P4,bologna  ,M
P5,Milano Nord,F
P6,Milano  Nord,M
P7,Milano Nord,F
""")
    study = rwestudy.load_study(folder)
    f = study.findings[study.findings["rule"] == "center-spelling"]
    assert list(f["row"]) == [5, 7] and (f["severity"] == "warning").all()
    assert list(f["value"]) == ["bologna", "Milano  Nord"]
    msg = f["message"].iloc[0]
    assert "'Bologna' rows 2, 3, 4" in msg and "'bologna' row 5" in msg and "counted as one center" in msg
    # normalised: two centers, not four
    assert sorted(study.patients["center"].unique()) == ["Bologna", "Milano Nord"]
    assert study.patients["center"].value_counts().to_dict() == {"Bologna": 4, "Milano Nord": 3}
    summary = study.center_summary().set_index("center")
    assert summary.loc["Bologna", "patients"] == 4 and "bologna" not in summary.index


def test_distinct_centers_are_not_merged(tmp_path):
    folder = _write(tmp_path / "s", patients="""
patient_id,center,sex
P1,Bologna,F
P2,Bologna Sud,M
""")
    study = rwestudy.load_study(folder)
    assert not (study.findings["rule"] == "center-spelling").any()
    assert study.patients["center"].nunique() == 2


# ------------------------------------------------------------ control characters
def test_control_characters_are_a_warning_and_removed(tmp_path):
    ae = ("patient_id,term,grade,outcome\n"
          "P1,Fatigue,1,resolved\n"
          "P2,Fatigue,2,resolved\n"
          "P3,Fatigue,1,resol\x01ved\x0b\n"
          "P4,Fati\x7fgue,1,ongoing\n"
          '"P1","Nausea\tmild",1,resolved\n')
    folder = _write(tmp_path / "s", patients=PATIENTS)
    (folder / "adverse_events.csv").write_text(ae, encoding="utf-8")
    study = rwestudy.load_study(folder)
    f = study.findings[study.findings["rule"] == "control-character"]
    assert list(zip(f["table"], f["row"], f["column"])) == [("adverse_events", 4, "outcome"),
                                                           ("adverse_events", 5, "term")]
    assert (f["severity"] == "warning").all()
    assert list(f["value"]) == ["resol\\x01ved\\x0b", "Fati\\x7fgue"]   # escaped, not raw
    assert not any("\x01" in str(v) or "\x0b" in str(v) for v in f["value"])
    # the rest of the cell is read: the code is valid once the characters are gone
    assert study.adverse_events.loc[4, "outcome"] == "resolved"
    assert not ((study.findings["rule"] == "code-unknown") & (study.findings["row"] == 4)).any()
    assert study.adverse_events.loc[5, "term"] == "Fatigue"
    assert not (f["row"] == 6).any()   # a tab is not a control character to report
