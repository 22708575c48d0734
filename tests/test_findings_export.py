"""Findings at scale: the listing is capped, the counts are not; and the findings export.

A check that fires on every row of a huge table lists its first `CAP` findings one by
one and counts the rest, one summary finding per patient, whose ``count`` says how many
rows it stands for. Expected counts come from the rows planted here (per patient and per
center, counted with plain Python), never from the code under test.
"""
from __future__ import annotations

import tracemalloc
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

import rwestudy
from rwestudy.demo.generator import make_study
from rwestudy.io.writers import write_csv_folder
from rwestudy.core import findings as fnd
from rwestudy.validation.export import ExportError, write_findings
from rwestudy.validation.findings import CAP, center_summary, combine, count_by_severity, from_mask


def _ae_frame(n: int, patients: list[str], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pid = [patients[i] for i in rng.integers(0, len(patients), n)]
    return pd.DataFrame({"patient_id": pid, "grade": "G3"}, index=pd.RangeIndex(2, n + 2))


def test_first_cap_rows_listed_the_rest_counted_per_patient():
    frame = _ae_frame(2_500, ["P1", "P2", "P3"])
    seen = []

    def message(sel):
        seen.append(len(sel))
        return "'grade' must be a number, got '" + sel["grade"] + "'"

    f = from_mask(frame, frame["grade"].eq("G3"), severity="error", rule="type-number",
                  table="adverse_events", column="grade", message=message)
    assert seen == [CAP]  # messages built for the listed rows only
    listed, summary = f[f["count"] == 1].iloc[:CAP], f.iloc[CAP:]
    assert list(listed["row"]) == list(range(2, 2 + CAP))
    assert (listed["message"] == "'grade' must be a number, got 'G3'").all()
    # One summary per patient, with exactly the rows after the first CAP.
    rest = frame.iloc[CAP:]
    expected = Counter(rest["patient_id"])
    assert dict(zip(summary["patient_id"], summary["count"])) == dict(expected)
    assert f["count"].sum() == len(frame)
    for r in summary.itertuples():
        rows = rest.index[rest["patient_id"] == r.patient_id]
        assert r.row == rows[0]
        assert f"{r.count:,} more rows" in r.message and f"rows {rows[0]} to {rows[-1]}" in r.message
        assert f"first {CAP:,} findings" in r.message
        assert r.value is None or pd.isna(r.value)


def test_under_the_cap_nothing_changes():
    frame = _ae_frame(10, ["P1"])
    f = from_mask(frame, frame["grade"].eq("G3"), severity="error", rule="type-number",
                  table="adverse_events", column="grade", message="bad")
    assert len(f) == 10 and (f["count"] == 1).all() and list(f["row"]) == list(range(2, 12))


def test_too_many_patients_are_counted_per_center(monkeypatch):
    monkeypatch.setattr(fnd, "SUMMARY_PATIENTS_CAP", 5)
    frame = pd.DataFrame({"patient_id": [f"P{i}" for i in range(40)], "center": ["A", "B"] * 20,
                          "x": 1}, index=range(2, 42))
    f = from_mask(frame, frame["x"].eq(1), severity="error", rule="r", table="patients", column="x",
                  message="bad", cap=10)
    summary = f.iloc[10:]
    assert sorted(zip(summary["center"], summary["count"])) == [("A", 15), ("B", 15)]
    assert summary["patient_id"].isna().all() and summary["message"].str.contains("in this center").all()


def test_counts_and_center_summary_count_every_row():
    patients = pd.DataFrame({"patient_id": ["P1", "P2", "P3", "P4"], "center": ["A", "A", "B", "C"]})
    centers = patients.set_index("patient_id")["center"]
    frame = _ae_frame(3_000, ["P1", "P2", "P3"], seed=4)
    parts = [from_mask(frame, frame["grade"].eq("G3"), severity="error", rule="type-number",
                       table="adverse_events", column="grade", message="bad"),
             from_mask(frame, pd.Series(True, index=frame.index), severity="warning", rule="w",
                       table="adverse_events", column="term", message="check")]
    f = combine(parts, centers)
    assert len(f) < 2 * CAP + 10
    assert count_by_severity(f) == {"error": 3_000, "warning": 3_000, "info": 0}
    per_patient = Counter(frame["patient_id"])
    cs = center_summary(f, patients).set_index("center")
    assert cs.loc["A", "error"] == per_patient["P1"] + per_patient["P2"]
    assert cs.loc["B", "warning"] == per_patient["P3"]
    assert cs.loc["C", "error"] == 0
    assert dict(cs["patients_with_errors"]) == {"A": 2, "B": 1, "C": 0}
    # Summaries are sorted after the listed rows of their table.
    assert f.loc[f["severity"] == "error", "row"].is_monotonic_increasing


@pytest.fixture(scope="module")
def big_study(tmp_path_factory):
    """The demo study with 3,000 AE rows whose grade is not a number."""
    t = make_study(n_patients=60, n_centers=5, seed=11)
    ae = t["adverse_events"]
    big = pd.concat([ae] * (3_000 // len(ae) + 1), ignore_index=True).iloc[:3_000].copy()
    big["grade"] = "G3"
    big["onset_date"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(3_000) % 300, unit="D")
    t["adverse_events"] = big
    folder = write_csv_folder(t, tmp_path_factory.mktemp("big") / "study")
    return rwestudy.load_study(folder, cutoff_date="2030-01-01"), t


def test_study_counts_stay_exact(big_study):
    study, t = big_study
    assert not study.ok
    grade = study.findings[study.findings["rule"].eq("type-number") & study.findings["column"].eq("grade")]
    assert grade["count"].sum() == 3_000 and (grade["count"] == 1).sum() == CAP
    d = study.to_dict()
    assert d["counts"]["error"] == int(study.findings.loc[study.findings["severity"] == "error", "count"].sum())
    assert d["counts"]["error"] >= 3_000
    # Per center, hand-counted from the planted rows.
    center_of = t["patients"].set_index("patient_id")["center"]
    planted = Counter(center_of[p] for p in t["adverse_events"]["patient_id"])
    by_center = grade.groupby("center")["count"].sum()
    assert dict(by_center) == dict(planted)
    cs = study.center_summary().set_index("center")
    for c, n in planted.items():
        assert cs.loc[c, "error"] >= n


def test_export_keeps_the_counts(big_study, tmp_path):
    study, t = big_study
    xlsx = write_findings(study, tmp_path / "f.xlsx")
    wb = load_workbook(xlsx, read_only=True)
    per_center = list(wb["per center"].iter_rows(values_only=True))
    header = per_center[0]
    got = {r[0]: r[header.index("error")] for r in per_center[1:]}
    assert got == dict(study.center_summary().set_index("center")["error"])
    allf = list(wb["all findings"].iter_rows(values_only=True))
    assert allf[0][-1] == "count" and sum(r[-1] for r in allf[1:]) == sum(count_by_severity(study.findings).values())
    csv = write_findings(study, tmp_path / "f.csv")
    assert len(pd.read_csv(csv)) == len(study.findings)
    with pytest.raises(ExportError, match=r"\.xlsx, \.csv or \.json"):
        write_findings(study, tmp_path / "f.txt")


def test_findings_memory_is_bounded():
    """200,000 bad rows: the findings stage stays small (listing every row took 77 MiB, now 21 MiB)."""
    frame = _ae_frame(200_000, [f"P{i}" for i in range(96)])
    tracemalloc.start()
    try:
        f = from_mask(frame, frame["grade"].eq("G3"), severity="error", rule="type-number",
                      table="adverse_events", column="grade",
                      message=lambda s: "'grade' must be a number, got '" + s["grade"] + "'")
        f = combine([f])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(f) <= CAP + 96 and f["count"].sum() == 200_000
    assert peak < 50 * 2**20, f"{peak / 2**20:.0f} MiB"
