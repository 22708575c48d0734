"""The demo study validates clean; every planted error is found, and nothing else."""
import pytest

import rwestudy
from rwestudy.demo.errors import plant_errors
from rwestudy.io.writers import write_workbook
from tests.conftest import write_csvs


@pytest.fixture(scope="module")
def clean_xlsx(demo_tables, tmp_path_factory):
    return write_workbook(demo_tables, tmp_path_factory.mktemp("clean") / "study.xlsx")


@pytest.fixture(scope="module")
def planted(demo_tables):
    return plant_errors(demo_tables)


def test_clean_demo_has_no_findings(clean_xlsx, demo_tables):
    study = rwestudy.load_study(clean_xlsx)
    assert study.findings.empty, study.findings.to_string()
    assert study.ok
    # nothing lost: every row of every table is there
    for name, frame in demo_tables.items():
        assert len(study.tables[name]) == len(frame), name


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_clean_demo_other_seeds(seed, tmp_path):
    from rwestudy.demo.generator import make_study

    tables = make_study(n_patients=150, seed=seed)
    study = rwestudy.load_study(write_csvs(tables, tmp_path / "csv"))
    assert study.findings.empty, study.findings.to_string()


def test_demo_is_plausible(demo_tables):
    p = demo_tables["patients"]
    assert 80 <= len(p) <= 150
    assert 20 <= p["center"].nunique() <= 30
    # responders live longer; refractory patients progress sooner (the planted correlations)
    os_m = (p["last_contact_date"] - p["treatment_start_date"]).dt.days / 30.4375
    resp = p["best_response"].isin(["CR", "PR"])
    assert os_m[resp].median() > 2 * os_m[~resp].median()
    ae = demo_tables["adverse_events"]
    assert (ae["category"] == "hematologic").mean() > 0.5
    assert ae["related_to"].str.contains("lenalidomide").mean() > 0.5


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_every_planted_error_is_found(planted, tmp_path, fmt):
    tables, manifest = planted
    path = write_workbook(tables, tmp_path / "bad.xlsx") if fmt == "xlsx" else write_csvs(tables, tmp_path / "csv")
    study = rwestudy.load_study(path)
    f = study.findings
    for p in manifest.itertuples():
        hit = f[(f["table"] == p.table) & (f["row"] == p.row) & (f["column"] == p.column) & (f["rule"] == p.rule)]
        assert len(hit), f"planted error not found: {p}"
        assert (hit["severity"] == p.severity).all(), p
    assert not study.ok
    # no false alarms: every finding is on a planted row or about a planted patient
    planted_rows = set(zip(manifest["table"], manifest["row"]))
    pat = study.patients
    planted_patients = {pat.loc[r, "patient_id"] for t, r in planted_rows if t == "patients" and r in pat.index}
    for rec in f.itertuples():
        assert (rec.table, rec.row) in planted_rows or rec.patient_id in planted_patients, rec


def test_findings_name_sheet_row_column_value(planted, tmp_path):
    tables, _ = planted
    study = rwestudy.load_study(write_workbook(tables, tmp_path / "bad.xlsx"))
    f = study.findings
    row = f[(f["rule"] == "date-ambiguous")].iloc[0]
    assert row["table"] == "patients" and row["column"] == "last_contact_date" and row["value"] == "04/03/2024"
    assert "DD/MM/YYYY" in row["message"]
    assert row["center"].startswith("C")
    # the spreadsheet row really holds that value
    import openpyxl

    ws = openpyxl.load_workbook(tables and tmp_path / "bad.xlsx", read_only=True)["patients"]
    header = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]
    cells = list(ws.iter_rows(min_row=int(row["row"]), max_row=int(row["row"]), values_only=True))[0]
    assert cells[header.index("last_contact_date")] == "04/03/2024"


def test_center_summary_counts_match_findings(planted, tmp_path):
    tables, _ = planted
    study = rwestudy.load_study(write_csvs(tables, tmp_path / "csv"))
    cs = study.center_summary()
    assert cs["error"].sum() == (study.findings["severity"] == "error").sum()
    assert cs.loc[cs["center"] != "(no center)", "patients"].sum() == study.patients["center"].notna().sum()
