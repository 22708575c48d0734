"""Bad input never crashes: corrupted workbooks and CSVs give structured findings,
and no patient row silently vanishes."""
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rwestudy
from rwestudy.io.schema import TABLES
from rwestudy.io.writers import write_workbook
from tests.conftest import write_csvs

# Values that are wrong for any typed column (dates, numbers, codes, yes/no).
ALWAYS_WRONG = ["garbage", "31/31/31", "1e400", "9" * 60, "½", "yes-ish", "2020-02-31", "##", "0x1F"]
ANYTHING = ALWAYS_WRONG + ["", "NA", "-", "unknown", "1e308", "-1", "0", "N/A", " ", "2020-01-01", "CR", "yes"]

TYPED = {name: [c.name for c in t.columns if c.kind in ("date", "int", "float", "code", "yesno")]
         for name, t in TABLES.items()}


@st.composite
def corruptions(draw):
    n = draw(st.integers(1, 6))
    out = []
    for _ in range(n):
        table = draw(st.sampled_from(["patients", "adverse_events", "treatment", "responses", "prior_lines"]))
        column = draw(st.sampled_from(TYPED[table]))
        value = draw(st.sampled_from(ANYTHING))
        out.append((table, column, value, draw(st.integers(0, 10_000))))
    return out


def _apply(tables, edits):
    t = {k: v.copy().astype(object) for k, v in tables.items()}
    wrong = []
    for table, column, value, r in edits:
        if column not in t[table].columns:
            continue
        i = r % len(t[table])
        t[table].iat[i, t[table].columns.get_loc(column)] = value
        if value in ALWAYS_WRONG:
            wrong.append((table, i + 2, column))
        else:
            wrong = [w for w in wrong if w != (table, i + 2, column)]
    return t, wrong


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=corruptions(), as_xlsx=st.booleans())
def test_corrupted_cells_give_findings(small_tables, tmp_path_factory, edits, as_xlsx):
    tables, wrong = _apply(small_tables, edits)
    folder = tmp_path_factory.mktemp("c")
    path = write_workbook(tables, folder / "s.xlsx") if as_xlsx else write_csvs(tables, folder / "csv")
    study = rwestudy.load_study(path)
    assert study.n_patients == len(tables["patients"])  # patients in == patients reported
    for name, frame in tables.items():
        assert len(study.tables[name]) == len(frame)
    f = study.findings
    for table, row, column in wrong:
        hit = f[(f["table"] == table) & (f["row"] == row) & (f["column"] == column)]
        assert len(hit) and (hit["severity"] == "error").any(), (table, row, column)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_dups=st.integers(1, 5), seed=st.integers(0, 1000))
def test_duplicated_ids_are_errors_and_kept(small_tables, tmp_path_factory, n_dups, seed):
    p = small_tables["patients"]
    dups = p.sample(n_dups, random_state=seed)
    tables = dict(small_tables, patients=pd.concat([p, dups], ignore_index=True))
    study = rwestudy.load_study(write_csvs(tables, tmp_path_factory.mktemp("d") / "csv"))
    assert study.n_patients == len(p) + n_dups
    dup_f = study.findings[study.findings["rule"] == "duplicate-id"]
    assert set(dup_f["patient_id"]) == set(dups["patient_id"])
    assert len(dup_f) == study.patients["patient_id"].duplicated(keep=False).sum()


def test_missing_patients_sheet(small_tables, tmp_path):
    tables = {k: v for k, v in small_tables.items() if k != "patients"}
    study = rwestudy.load_study(write_csvs(tables, tmp_path / "csv"))
    assert "table-missing" in set(study.findings["rule"])
    assert study.n_patients == 0 and not study.ok


def test_empty_files_and_sheets(small_tables, tmp_path):
    folder = write_csvs(small_tables, tmp_path / "csv")
    (folder / "responses.csv").write_bytes(b"")
    (folder / "treatment.csv").write_text("\n\n")
    study = rwestudy.load_study(folder)
    empty = study.findings[study.findings["rule"] == "table-empty"]
    assert set(empty["table"]) == {"responses", "treatment"}
    assert study.n_patients == len(small_tables["patients"])


def test_header_only_table_is_fine(small_tables, tmp_path):
    folder = write_csvs(small_tables, tmp_path / "csv")
    (folder / "mutations.csv").write_text("patient_id,gene,alteration,vaf\n")
    study = rwestudy.load_study(folder)
    assert len(study.tables["mutations"]) == 0
    assert study.findings.empty


def test_non_utf8_csv(small_tables, tmp_path):
    folder = write_csvs(small_tables, tmp_path / "csv")
    text = (folder / "patients.csv").read_text().replace("C01", "Città")
    (folder / "patients.csv").write_bytes(text.encode("cp1252"))
    study = rwestudy.load_study(folder)
    enc = study.findings[study.findings["rule"] == "file-encoding"]
    assert len(enc) == 1 and "Windows-1252" in enc["message"].iloc[0]
    assert (study.patients["center"] == "Città").any()


def test_semicolon_csv(small_tables, tmp_path):
    folder = write_csvs(small_tables, tmp_path / "csv")
    frame = pd.read_csv(folder / "patients.csv", dtype=str)
    frame.to_csv(folder / "patients.csv", sep=";", index=False)
    study = rwestudy.load_study(folder)
    assert study.findings.empty and study.n_patients == len(frame)


def test_ragged_csv_is_reported(small_tables, tmp_path):
    folder = write_csvs(small_tables, tmp_path / "csv")
    with open(folder / "responses.csv", "a") as fh:
        fh.write("a,b,c,d,e,f,g\n")
    study = rwestudy.load_study(folder)
    bad = study.findings[study.findings["rule"] == "table-unreadable"]
    assert len(bad) == 1 and "line" in bad["message"].iloc[0]


def test_corrupt_workbook(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a zip")
    study = rwestudy.load_study(path)
    assert study.findings["rule"].iloc[0] == "file-unreadable"
    assert study.n_patients == 0


def test_missing_required_column(small_tables, tmp_path):
    tables = dict(small_tables, patients=small_tables["patients"].drop(columns=["center"]))
    study = rwestudy.load_study(write_csvs(tables, tmp_path / "csv"))
    miss = study.findings[study.findings["rule"] == "column-missing"]
    assert list(miss["column"]) == ["center"]


def test_unknown_sheet_and_column_are_reported(small_tables, tmp_path):
    folder = write_csvs(small_tables, tmp_path / "csv")
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    study = rwestudy.load_study(folder)
    assert "table-unknown" in set(study.findings["rule"])


REQUIRED = [(t.name, c.name) for t in TABLES.values() for c in t.columns if c.required]


@pytest.mark.parametrize("table, column", REQUIRED)
def test_any_required_column_missing(small_tables, tmp_path, table, column):
    if table not in small_tables:
        pytest.skip(f"demo has no {table}")
    tables = dict(small_tables, **{table: small_tables[table].drop(columns=[column])})
    study = rwestudy.load_study(write_csvs(tables, tmp_path / "csv"))
    miss = study.findings[study.findings["rule"] == "column-missing"]
    assert list(zip(miss["table"], miss["column"])) == [(table, column)]
    assert study.n_patients == len(small_tables["patients"])
    # one table-level error, not one per row
    assert (study.findings["rule"] == "required-value").sum() == 0


def test_required_column_empty(small_tables, tmp_path):
    tables = dict(small_tables, patients=small_tables["patients"].assign(center=None))
    study = rwestudy.load_study(write_csvs(tables, tmp_path / "csv"))
    assert list(study.findings.loc[study.findings["rule"] == "column-empty", "column"]) == ["center"]
