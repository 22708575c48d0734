"""`rwestudy serve import`: a center's workbook through validation into the server, then `rwestudy export`."""
from __future__ import annotations

import sqlite3

import pandas as pd

from tests.server.conftest import cli


def _center_tables(study, center):
    """The typed rows of `center`'s patients, per table, in file order within a patient."""
    ids = set(study.patients.loc[study.patients["center"] == center, "patient_id"])
    out = {}
    for name, frame in study.tables.items():
        rows = frame.loc[frame["patient_id"].isin(ids)]
        out[name] = rows.sort_values("patient_id", kind="stable").reset_index(drop=True)
    return out


def test_import_one_center_then_export_gives_the_same_rows(tmp_path):
    from rwestudy.demo.generator import make_study
    from rwestudy.io.writers import write_workbook
    from rwestudy.study import load_study

    source = write_workbook(make_study(), tmp_path / "bologna.xlsx")
    center = "C07"
    db = f"sqlite:///{tmp_path / 'import.sqlite'}"
    cli("serve", "init", "--db", db)
    out = cli("serve", "import", str(source), "--db", db, "--center", center).stdout
    original = _center_tables(load_study(source), center)
    n_rows = sum(len(t) for t in original.values())
    assert f"{n_rows} rows of {center} imported from bologna.xlsx ({len(original['patients'])} patients" in out
    assert "left out, other centers' rows: patients" in out

    cli("export", "--db", db, "--out", str(tmp_path / "snapshot"))
    exported = load_study(tmp_path / "snapshot")
    assert set(exported.patients["center"]) == {center}
    again = _center_tables(exported, center)
    for name, frame in original.items():
        if len(frame):
            pd.testing.assert_frame_equal(again[name][frame.columns], frame, check_dtype=False, obj=name)
        else:
            assert name not in again or again[name].empty

    con = sqlite3.connect(tmp_path / "import.sqlite")
    trail = con.execute("select action, reason, count(*) from rwe_auditentry group by 1, 2").fetchall()
    assert trail == [("import", "import from bologna.xlsx", n_rows)]
    assert cli("audit", "verify", "--db", db, check=False).returncode == 0
    # The same file again: refused whole, nothing doubled.
    again = cli("serve", "import", str(source), "--db", db, "--center", center, check=False)
    assert again.returncode == 2 and "already in the server" in again.stderr
    assert con.execute("select count(*) from rwe_record").fetchone()[0] == n_rows


def test_import_refuses_a_center_with_validation_errors_and_an_unknown_center(tmp_path):
    from rwestudy.demo.generator import make_study
    from rwestudy.io.writers import write_workbook

    tables = make_study()
    p = tables["patients"]
    bad_center, clean_center = "C07", "C10"
    victim = p.index[p["center"] == bad_center][0]
    p["ecog"] = p["ecog"].astype(object)
    p.loc[victim, "ecog"] = "seven"
    source = write_workbook(tables, tmp_path / "centers.xlsx")
    db = f"sqlite:///{tmp_path / 'refuse.sqlite'}"
    cli("serve", "init", "--db", db)
    bad = cli("serve", "import", str(source), "--db", db, "--center", bad_center, check=False)
    message = " ".join(bad.stderr.split())
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    # Spreadsheet row = DataFrame position + 2 (header is row 1).
    row = list(p.index).index(victim) + 2
    assert f"1 validation error(s) in the rows of {bad_center} in centers.xlsx, nothing imported" in message
    assert f"patients, row {row}, column ecog: 'ecog' must be a number" in message
    assert sqlite3.connect(tmp_path / "refuse.sqlite").execute("select count(*) from rwe_record").fetchone()[0] == 0
    # Another center's error does not block this one.
    assert cli("serve", "import", str(source), "--db", db, "--center", clean_center).returncode == 0
    unknown = cli("serve", "import", str(source), "--db", db, "--center", "Atlantis", check=False)
    assert unknown.returncode == 2 and "no patient of center 'Atlantis' in centers.xlsx" in " ".join(unknown.stderr.split())
