"""What the CLI prints from the user's data is shown as typed: no Rich markup, no terminal escapes."""
import os
import shutil
import subprocess
import sys

import pytest

from rwestudy.demo.generator import make_study
from rwestudy.io.writers import write_csv_folder

RWE = [sys.executable, "-m", "rwestudy.cli"]
ESC = "\x1b"
LINK = "[link=https://example.org/x]click[/link]"


def run(*args):
    env = {"COLUMNS": "250", "PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    return subprocess.run(RWE + [str(a) for a in args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A CSV study in a folder named like Rich markup with an escape sequence, holding such values."""
    tables = make_study(n_patients=60, n_centers=5, seed=11)
    ae = tables["adverse_events"].copy()
    ae.loc[0, "term"] = "[/bold]"
    ae.loc[1, "term"] = LINK
    ae.loc[2, "term"] = f"{ESC}[31mred{ESC}[0m"
    tables["adverse_events"] = ae
    pats = tables["patients"].copy()
    pats.loc[0, "center"] = "[/i]C9"  # a center name in the per-center table
    tables["patients"] = pats
    folder = tmp_path_factory.mktemp("hostile") / f"[/i]x{ESC}[31m"
    write_csv_folder(tables, folder)
    return folder


def _no_crash(r):
    assert r.returncode in (0, 1, 2), r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert "MarkupError" not in r.stdout + r.stderr


def test_validate_shows_markup_and_escapes_as_typed(hostile):
    r = run("validate", hostile, "--max-rows", "500")
    _no_crash(r)
    assert r.returncode in (0, 1)
    out = r.stdout
    assert ESC not in out and ESC not in r.stderr  # no live escape sequence reaches the terminal
    assert "[/i]x\\x1b[31m" in out  # the folder name, its escape made visible
    assert "'[/bold]'" in out  # the AE term, as typed
    assert LINK in out  # a link tag shows as typed, not as a hyperlink
    assert "'\\x1b[31mred\\x1b[0m'" in out  # the value's escape sequence, visible
    assert "[/i]C9" in out  # the center name in the per-center table


def test_errors_name_hostile_paths_literally(hostile, tmp_path):
    # A grade out of range is a validation error; the refusal names the folder as typed.
    bad = tmp_path / f"[/i]y{ESC}[31m"
    shutil.copytree(hostile, bad)
    ae = (bad / "adverse_events.csv").read_text(encoding="utf-8").splitlines()
    head = ae[0].split(",")
    row = ae[1].split(",")
    row[head.index("grade")] = "9"
    (bad / "adverse_events.csv").write_text("\n".join([ae[0], ",".join(row), *ae[2:]]) + "\n", encoding="utf-8")
    r = run("analyze", bad, "--out", tmp_path / "res")
    _no_crash(r)
    assert r.returncode == 2 and "--allow-errors" in r.stderr
    assert "[/i]y\\x1b[31m" in r.stderr.replace("\n", "") and ESC not in r.stderr + r.stdout
    missing = tmp_path / "[/bold][link=x]nope.xlsx"
    r = run("validate", missing)
    _no_crash(r)
    assert r.returncode == 2 and f"{missing}" in r.stderr.replace("\n", "")
