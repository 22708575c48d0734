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


def test_allow_errors_does_not_make_a_report_of_nobody(tmp_path):
    folder = _write(tmp_path / "s", patients="patient_id,center,sex\n")
    out = tmp_path / "out"
    for command in ("report", "analyze"):
        args = ["--out", str(out), "--no-figures"] if command == "report" else ["--out", str(out / "r.json")]
        r = _cli(command, str(folder), *args, "--allow-errors")
        assert r.returncode == 2, r.stdout + r.stderr
        assert "has no patients" in r.stdout + r.stderr and "Traceback" not in r.stderr
    assert not out.exists() or not any(out.iterdir())


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


# ------------------------------------------------------------ analysis settings: the plan
from rwestudy.analysis.plan import Plan, PlanError, load_plan  # noqa: E402
from rwestudy.analysis.run import analyze  # noqa: E402
from tests.conftest import write_csvs  # noqa: E402


@pytest.mark.parametrize("text, words", [
    ('[endpoints]\ncutoff = "junk"\n', ['cutoff = "junk"', "YYYY-MM-DD"]),
    ('[endpoints]\ncutoff = "2024-02-30"\n', ['cutoff = "2024-02-30"', "YYYY-MM-DD"]),
    ("[endpoints]\ncutoff = 5\n", ["cutoff = 5", "date"]),
    ('[endpoints]\ndays_per_month = "30"\n', ['days_per_month = "30"', "a number"]),
    ("[endpoints]\nae_window_days = 1.5\n", ["ae_window_days = 1.5", "whole number"]),
    ('[survival]\nlandmarks = ["six"]\n', ['landmarks = ["six"]', "numbers"]),
    ("[survival]\nlandmarks = 6\n", ["landmarks = 6", "list"]),
    ('[conventions]\nprofile = "excel"\n', ["profile", "'excel'", "stata"]),
    ('[conventions]\nchisq_correction = "yes"\n', ['chisq_correction = "yes"', "true or false"]),
    ("[factors]\nstepwise_threshold = 5\n", ["stepwise_threshold = 5", "at most 1"]),
    ('[factors]\nvariables = ["sex", "ecgo"]\n', ['unknown variable "ecgo"', 'did you mean "ecog"']),
    ('[factors]\nvariables = "sex"\n', ['variables = "sex"', "list"]),
    ('[factors]\nvariables = ["patient_id"]\n', ['"patient_id" is an id column']),
    ('[baseline]\nby = "sexx"\n', ['[baseline] by', 'unknown variable "sexx"']),
    ('[response]\noutcomes = ["orr_bets"]\n', ['unknown variable "orr_bets"']),
    ('[factors]\ncuts = { age_at_start = [70, 60] }\n', ["cuts.age_at_start = [70, 60]", "increasing"]),
    ('[factors]\ncuts = { sex = [1] }\n', ["cuts.sex", "number column"]),
    ('[factors]\nvariables = ["age_at_start"]\n', ['"age_at_start" is a continuous number', "cuts = {"]),
])
def test_malformed_plan_value_is_a_plan_error_naming_key_and_value(tmp_path, text, words):
    p = tmp_path / "plan.toml"
    p.write_text(text)
    with pytest.raises(PlanError) as exc:
        load_plan(p)
    for w in words:
        assert w in str(exc.value)


def test_good_plan_values_are_accepted(tmp_path):
    p = tmp_path / "plan.toml"
    p.write_text('[endpoints]\ncutoff = 2024-01-31\n[factors]\nvariables = ["sex", "age_at_start"]\n'
                 'cuts = { age_at_start = [60, 70], ldh = "median" }\n')
    plan = load_plan(p)
    assert plan.cutoff == "2024-01-31"   # a TOML date, kept as the ISO text the plan interface uses
    assert plan.factor_cuts == {"age_at_start": [60, 70], "ldh": "median"}


@pytest.fixture(scope="module")
def valid_study(small_tables, tmp_path_factory):
    return write_csvs(small_tables, tmp_path_factory.mktemp("study") / "csv")


@pytest.mark.parametrize("text, words", [
    ('[endpoints]\ncutoff = "junk"\n', ['cutoff = "junk"', "YYYY-MM-DD"]),
    ('[survival]\nlandmarks = ["six"]\n', ['landmarks = ["six"]']),
    ('[factors]\nvariables = ["ecgo"]\n', ['unknown variable "ecgo"']),
    ('[conventions]\nprofile = "excel"\n', ["excel"]),
])
def test_cli_refuses_a_malformed_plan_with_exit_2(valid_study, tmp_path, text, words):
    plan = tmp_path / "bad.toml"
    plan.write_text(text)
    r = _cli("analyze", str(valid_study), "--plan", str(plan), "--out", str(tmp_path / "out"), "--allow-errors")
    out = " ".join((r.stdout + r.stderr).split())  # the console wraps long lines
    assert r.returncode == 2, out
    assert "internal error" not in out and "Traceback" not in out
    for w in words:
        assert w in out
    assert not (tmp_path / "out" / "results.json").exists()


# ------------------------------------------------------------ continuous variables as factors
def test_continuous_factor_without_cuts_is_not_a_96_group_test(small_tables):
    res = analyze(small_tables, Plan(factors=["age_at_start", "sex"], factor_endpoints=["OS"], post_baseline=[]))
    g = res.table("group_tests")
    assert set(g["variable"]) == {"sex"}
    assert not (res.table("cox")["variable"] == "age_at_start").any()
    assert any("continuous numbers not analysed as grouping factors" in n and "age_at_start" in n
               for n in res.notes)


def _patients_as_analysed(tables):
    from rwestudy.analysis.run import plan_endpoints
    return plan_endpoints(tables).patients


def test_continuous_factor_grouped_by_the_plans_cut_points(small_tables):
    age = _patients_as_analysed(small_tables)["age_at_start"].astype(float)  # from birth_date in this fixture
    expected = {"< 60": int((age < 60).sum()), "60 to < 70": int(((age >= 60) & (age < 70)).sum()),
                ">= 70": int((age >= 70).sum())}
    assert min(expected.values()) > 0   # the fixture has patients in each group
    res = analyze(small_tables, Plan(factors=["age_at_start"], factor_cuts={"age_at_start": [60, 70]},
                                     factor_endpoints=["OS"], post_baseline=[], multivariate="all"))
    g = res.table("group_tests")
    assert set(g["df"]) == {2}   # three groups
    s = res.table("survival")
    by_level = s[(s["group"] == "age_at_start")].set_index("level")["n"].to_dict()
    assert by_level == expected
    rule = res.table("factor_groups").iloc[0]
    assert rule["levels"] == ["< 60", "60 to < 70", ">= 70"] and "grouped at 60, 70" in rule["rule"]
    assert any("grouped at 60, 70" in n for n in res.notes)
    cox = res.table("cox")
    uni = cox[cox["model"] == "univariate"]
    assert list(uni["term"]) == ["age_at_start[60 to < 70]", "age_at_start[>= 70]"]  # reference: < 60


def test_median_split_states_the_median(small_tables):
    ldh = small_tables["patients"]["ldh"].astype(float)
    med = float(ldh.median())
    res = analyze(small_tables, Plan(factors=["ldh"], factor_cuts={"ldh": "median"}, factor_endpoints=["OS"],
                                     post_baseline=[]))
    s = res.table("survival")
    by_level = s[(s["group"] == "ldh")].set_index("level")["n"].to_dict()
    assert by_level == {f"< {med:g}": int((ldh < med).sum()), f">= {med:g}": int((ldh >= med).sum())}
    assert f"median ({med:g}, over {int(ldh.notna().sum())} patients" in res.table("factor_groups")["rule"].iloc[0]


def test_derived_variables_are_the_ones_the_endpoints_produce(small_tables):
    from rwestudy.analysis.run import plan_endpoints
    from rwestudy.analysis.variables import DERIVED
    from rwestudy.io.schema import PATIENTS

    produced = set(plan_endpoints(small_tables).patients.columns) - set(PATIENTS.by_name)
    assert produced == set(DERIVED)


# ------------------------------------------------------------ missing grouping values
@pytest.fixture(scope="module")
def ecog_missing(small_tables):
    tables = {k: v.copy() for k, v in small_tables.items()}
    p = tables["patients"].astype({"ecog": "float64"})
    p.loc[p.index[:3], "ecog"] = float("nan")
    tables["patients"] = p
    return tables


def test_missing_group_value_is_dropped_with_a_note(ecog_missing):
    n = len(ecog_missing["patients"])
    res = analyze(ecog_missing, Plan(factors=["ecog_2_3", "sex"], factor_endpoints=["OS"], post_baseline=[],
                                     multivariate="all"))
    g = res.table("group_tests")
    e = g[g["variable"] == "ecog_2_3"]
    assert (e["n_missing"] == 3).all() and (e["n"] == n - 3).all()
    assert (g.loc[g["variable"] == "sex", "n_missing"] == 0).all()
    flow = res.table("patient_flow")
    scope = flow[flow["scope"] == "OS by ecog_2_3"].set_index("step")
    assert scope.loc["in", "n"] == n and scope.loc["excluded", "n"] == 3 and scope.loc["analysed", "n"] == n - 3
    assert scope.loc["excluded", "reason"] == "missing ecog_2_3"
    assert any(x.startswith("3 patients with missing ECOG 2-3 excluded") for x in res.notes)
    cox = res.table("cox")
    assert (cox.loc[cox["variable"] == "ecog_2_3", "n_excluded"] == 3).all()
    assert (cox.loc[cox["model"] == "stepwise", "n_excluded"] == 3).all()   # complete cases of all candidates
    assoc = res.table("associations")
    assert (assoc.loc[assoc["variable"] == "ecog_2_3", "n_excluded"] == 3).all()


def test_missing_group_value_via_the_cli(small_tables, tmp_path):
    tables = {k: v.copy() for k, v in small_tables.items()}
    p = tables["patients"].astype(object)
    p.iloc[:3, p.columns.get_loc("sex")] = None
    tables["patients"] = p
    folder = write_csvs(tables, tmp_path / "csv")
    r = _cli("analyze", str(folder), "--out", str(tmp_path / "out"), "--allow-errors")
    assert r.returncode == 0, r.stdout + r.stderr
    import json
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    rows = [x for x in data["group_tests"] if x["variable"] == "sex"]
    assert rows and all(x["n_missing"] == 3 for x in rows)
    assert any(x["scope"] == "OS by sex" and x["step"] == "excluded" and x["n"] == 3 for x in data["patient_flow"])


def test_baseline_by_a_variable_also_listed_in_table_one(ecog_missing):
    # Table 1 by sex, with sex among its rows: sex is the columns, not a row (this crashed)
    res = analyze(ecog_missing, Plan(baseline=["sex", "ecog", "age_at_start"], baseline_by="sex",
                                     factors=["sex"], factor_endpoints=["OS"], post_baseline=[]))
    b = res.table("baseline")
    assert {"F", "M"} <= set(b["group"]) and "sex" not in set(b["variable"])
    t = res.table("baseline_tests")
    assert set(t["variable"]) == {"ecog", "age_at_start"}
