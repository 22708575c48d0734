"""The checks run at every save (server/checks.py) are `rwestudy validate`'s, and cheap.

The oracle is `rwestudy validate`'s engine reading files: the same rows written
as CSV files by this test (its own writer) and read by `load_study`. The
server's findings for a patient must equal what it reports, field for field
and in the same order, for bad values of every kind, and again after each of
a series of edits (the memo must never answer with a stale result).
"""
from __future__ import annotations

import csv
import datetime as dt
import statistics
import time
from pathlib import Path

import pandas as pd
import pytest

from rwestudy.demo.generator import CUTOFF, make_study
from rwestudy.io.schema import TABLES
from rwestudy.io.writers import write_csv_folder
from rwestudy.server import checks
from rwestudy.study import Steps, load_study

CUT = CUTOFF.date()


@pytest.fixture(scope="module")
def demo_rows(tmp_path_factory) -> dict[str, list[tuple[str, int, dict[str, str]]]]:
    """The demo study as the server stores it (text rows), per patient: [(table, record id, row)]."""
    d = tmp_path_factory.mktemp("demo")
    write_csv_folder(make_study(), d)
    by_patient: dict[str, list] = {}
    rid = 0
    for table in TABLES:
        path = d / f"{table}.csv"
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                rid += 1
                by_patient.setdefault(row["patient_id"], []).append((table, rid, row))
    return by_patient


def validate_rows(rows, folder: Path, cutoff=CUT) -> list[dict]:
    """`rwestudy validate` on `rows` written as one CSV file per table, findings as the server words them."""
    folder.mkdir(parents=True, exist_ok=True)
    by_table: dict[str, list] = {}
    for table, rid, values in rows:
        by_table.setdefault(table, []).append((rid, values))
    for table, items in by_table.items():
        cols = [c.name for c in TABLES[table].columns]
        with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(cols)
            for _, values in items:
                w.writerow([values.get(c) or "" for c in cols])
    study = load_study(folder, cutoff_date=cutoff.isoformat())
    out = []
    for f in study.findings.astype(object).where(study.findings.notna(), None).to_dict(orient="records"):
        if f["table"] not in TABLES:
            continue
        items = by_table.get(f["table"], [])
        row = f["row"]
        rid = items[int(row) - 2][0] if row is not None and 0 <= int(row) - 2 < len(items) else None
        out.append({"severity": f["severity"], "rule": f["rule"], "table": f["table"], "record_id": rid,
                    "field": f["column"], "value": f["value"], "message": f["message"]})
    return out


def edited(rows, table: str, changes: dict[str, str], which: int = 0):
    """`rows` with `changes` applied to the `which`-th row of `table`."""
    out, seen = [], 0
    for t, rid, values in rows:
        if t == table:
            if seen == which:
                values = {**values, **changes}
            seen += 1
        out.append((t, rid, values))
    return out


def with_table(rows, table: str, values: dict[str, str], rid: int = 999_001):
    pid = rows[0][2]["patient_id"]
    return rows + [(table, rid, {"patient_id": pid, **values})]


def test_bad_values_of_every_kind_give_validates_findings(demo_rows, tmp_path):
    pid = sorted(demo_rows)[3]
    rows = edited(demo_rows[pid], "patients", {
        "albumin_g_dl": "abc",                 # not a number
        "hb_g_dl": "1.250",                    # a dot that may be a thousands separator
        "ecog": "9",                           # out of range
        "sex": "Male?",                        # unknown code
        "birth_date": "31/02/2020",            # not a date
        "histology": "DLBCL\x01",              # a control character
        "progression_date": "1990-01-01",      # before the treatment started
        "last_contact_date": "2099-01-01",     # in the future
    })
    rows = with_table(rows, "adverse_events", {"term": "Neutropenia typo", "grade": "7", "onset_date": "2024-13-01"})
    expected = validate_rows(rows, tmp_path / "v")
    got = checks.check_rows(rows, CUT)
    assert got == expected
    # ... and they are the findings a data manager expects here (not an empty agreement).
    fired = {(f["rule"], f["field"]) for f in got}
    for rule_field in [("type-number", "albumin_g_dl"), ("range", "ecog"), ("code-unknown", "sex"),
                       ("control-character", "histology"), ("date-order", "progression_date"),
                       ("date-future", "last_contact_date"), ("ae-term-unknown", "term")]:
        assert rule_field in fired, rule_field
    main = next(rid for t, rid, _ in rows if t == "patients")
    assert all(f["record_id"] == main for f in got if f["table"] == "patients" and f["field"] == "albumin_g_dl")


def test_a_series_of_edits_always_matches_validate(demo_rows, tmp_path):
    """Row-local edits (memoised rules), cross-form edits (rules re-run), and values going back
    to earlier ones (memo hits), on two patients that share values: every answer is validate's."""
    a, b = sorted(demo_rows)[10:12]
    steps = [
        ("patients", {"albumin_g_dl": "3.4"}),
        ("patients", {"albumin_g_dl": "x3.4"}),          # row-local column, now an error
        ("patients", {"progression_date": "1999-01-01"}),  # a date: the rules across forms change
        ("patients", {"albumin_g_dl": "3.4"}),           # back: typing memo hit, rules as they now are
        ("patients", {"progression_date": ""}),
        ("patients", {"sex": "X"}),
        ("patients", {"center": "Elsewhere"}),
    ]
    for pid in (a, b):
        rows = demo_rows[pid]
        for i, (table, change) in enumerate(steps):
            rows = edited(rows, table, change)
            assert checks.check_rows(rows, CUT) == validate_rows(rows, tmp_path / f"{pid}-{i}"), (pid, change)
    # A table-level change: a patient with no responses at all, and an extra AE row.
    rows = [r for r in demo_rows[a] if r[0] != "responses"]
    rows = with_table(rows, "adverse_events", {"term": "Fatigue", "grade": "2"})
    assert checks.check_rows(rows, CUT) == validate_rows(rows, tmp_path / "tables")
    # Another cut-off (an earlier one turns late dates into warnings).
    early = dt.date(2021, 1, 1)
    assert checks.check_rows(rows, early) == validate_rows(rows, tmp_path / "cut", cutoff=early)


def test_row_local_columns_are_not_read_by_the_rules_across_forms(tmp_path):
    """Dropping every row-local column before the rules leaves their findings unchanged (demo study,
    93 patients, with bad values put in the row-local columns too)."""
    local = checks.row_local_columns()
    assert "albumin_g_dl" in local["patients"]            # the benchmark's field: rules re-used
    for table, column in [("patients", "progression_date"), ("patients", "ldh"), ("patients", "center"),
                          ("adverse_events", "grade"), ("adverse_events", "term"),
                          ("assessments", "target2_ldi_mm"), ("treatment", "drug")]:
        assert column not in local[table], (table, column)
    write_csv_folder(make_study(), tmp_path)
    study = load_study(tmp_path, cutoff_date=CUT.isoformat())
    tables = {t: f.copy() for t, f in study.tables.items()}
    # Wrong data in the forms the rules compare, so that they have findings to lose.
    p, ae, a = tables["patients"], tables["adverse_events"], tables["assessments"]
    p.loc[p.index[:8], "progression_date"] = p.loc[p.index[:8], "treatment_start_date"] - pd.Timedelta(days=9)
    p.loc[p.index[8:20], "best_response"] = "CR"
    p.loc[p.index[:30], "albumin_g_dl"] = 99.0
    ae.loc[ae.index[:10], "grade"] = 5
    a.loc[a.index[:40], "target1_ldi_mm"] = a.loc[a.index[:40], "target1_ldi_mm"] * 3
    _, full = Steps().check_tables(dict(tables), CUTOFF)
    _, dropped = Steps().check_tables({t: f.drop(columns=[c for c in local[t] if c in f.columns])
                                       for t, f in tables.items()}, CUTOFF)

    def rows(parts):
        return sorted(tuple(map(str, r)) for p in parts for r in p.itertuples(index=False))
    assert {r[1] for r in rows(full)} >= {"date-order", "lugano-best-response-mismatch", "grade5-not-fatal"}, {r[1] for r in rows(full)}
    assert rows(full) == rows(dropped)


def test_a_save_that_changes_a_lab_value_costs_a_small_part_of_validate(demo_rows, tmp_path):
    pid = sorted(demo_rows)[20]
    rows = demo_rows[pid]
    checks.check_rows(rows, CUT)  # the patient as saved before (the server has checked it at every page view)
    t = time.process_time()
    validate_rows(rows, tmp_path / "once")
    full = time.process_time() - t
    saves = []
    for k in range(7):
        changed = edited(rows, "patients", {"albumin_g_dl": f"2.{k}7"})
        t = time.process_time()
        checks.check_rows(changed, CUT)
        saves.append(time.process_time() - t)
    assert statistics.median(saves) < full / 15, (saves, full)
