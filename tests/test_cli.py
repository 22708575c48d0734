"""The command line: exit codes, JSON output, export, demo; sentences, not tracebacks."""
import json
import subprocess
import sys

import pandas as pd
import pytest

RWE = [sys.executable, "-m", "rwestudy.cli"]


def run(*args, cwd=None):
    return subprocess.run(RWE + [str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def demo_dirs(tmp_path_factory):
    clean = tmp_path_factory.mktemp("clean")
    bad = tmp_path_factory.mktemp("bad")
    r1 = run("demo", "--out", clean)
    r2 = run("demo", "--out", bad, "--with-errors", "--csv")
    return clean, bad, r1, r2


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("rwestudy ")


def test_demo_clean_and_with_errors(demo_dirs):
    clean, bad, r1, r2 = demo_dirs
    assert r1.returncode == 0, r1.stderr
    assert "No errors" in r1.stdout
    assert (clean / "study.xlsx").exists() and (clean / "validation.json").exists()
    assert r2.returncode == 1
    planted = pd.read_csv(bad / "planted_errors.csv")
    assert len(planted) >= 15
    assert (bad / "csv" / "patients.csv").exists()


def test_validate_exit_codes_and_json(demo_dirs):
    clean, bad, _, _ = demo_dirs
    assert run("validate", clean / "study.xlsx").returncode == 0
    r = run("validate", bad / "study.xlsx", "--format", "json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert data["counts"]["error"] > 0
    assert {"severity", "table", "row", "column", "value", "message", "center"} <= set(data["findings"][0])
    assert sum(c["error"] for c in data["centers"]) == data["counts"]["error"]
    planted = pd.read_csv(bad / "planted_errors.csv")
    found = {(f["table"], f["row"], f["column"], f["rule"]) for f in data["findings"]}
    for p in planted.itertuples():
        assert (p.table, p.row, p.column, p.rule) in found


def test_text_output_names_row_and_value(demo_dirs):
    _, bad, _, _ = demo_dirs
    r = run("validate", bad / "csv", "--max-rows", "500")
    assert r.returncode == 1
    assert "patients row" in r.stdout and "'04/03/2024'" in r.stdout
    assert "Open problems per center" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


def test_export_per_center_workbook(demo_dirs, tmp_path):
    _, bad, _, _ = demo_dirs
    out = tmp_path / "findings.xlsx"
    r = run("validate", bad / "study.xlsx", "--export", out)
    assert r.returncode == 1 and out.exists()
    sheets = pd.read_excel(out, sheet_name=None)
    assert {"per center", "all findings"} <= set(sheets)
    per_center = sheets["per center"]
    for center, n_err in zip(per_center["center"], per_center["error"]):
        if n_err and center in sheets:
            assert (sheets[center]["severity"] == "error").sum() == n_err


@pytest.mark.parametrize("args, words", [
    (("validate", "/no/such/file.xlsx"), "no such study file"),
    (("validate", "x.xlsx", "--format", "xml"), "--format must be"),
    (("validate", "x.xlsx", "--mapping", "/no/map.toml"), "mapping file not found"),
])
def test_user_errors_are_sentences(tmp_path, args, words):
    (tmp_path / "x.xlsx").write_bytes(b"")
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert words in r.stderr and "Traceback" not in r.stderr


def test_help_has_examples():
    r = run("validate", "--help")
    assert r.returncode == 0 and "Examples" in r.stdout


def test_export_with_awkward_center_names(tmp_path):
    """Center names Excel forbids as sheet titles, or that collide, still export (one sheet each)."""
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "patients.csv").write_text(
        "patient_id,center,sex\nA,Osp. [Bologna]: ematologia?,X\nB,per center,Y\n"
        "C,Osp. [Bologna]: ematologia!,Z\nD," + "x" * 40 + ",Q\nE," + "x" * 41 + ",Q\n")
    out = tmp_path / "f.xlsx"
    r = run("validate", folder, "--export", out)
    assert r.returncode == 1 and "internal error" not in r.stderr, r.stderr
    sheets = pd.read_excel(out, sheet_name=None)
    per_center = [k for k in sheets if k not in ("per center", "all findings")]
    assert len(per_center) == 5  # five distinct centers, five sheets, none lost to a name clash
    assert sum(len(sheets[k]) for k in per_center) == len(sheets["all findings"])
