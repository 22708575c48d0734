"""The pipeline from Python; output folders that appear whole or not at all; one data cut-off."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

import rwestudy
from rwestudy.demo.generator import make_study
from rwestudy.io.writers import write_workbook
from rwestudy.pipeline import OutputBusy, PipelineError

RWE = [sys.executable, "-m", "rwestudy.cli"]
DAYS_PER_MONTH = 30.4375
REPORT_FILES = {"report.html", "report.docx", "tables.xlsx", "results.json"}


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    """Study A (with mutations: it has an oncoprint) and study B (no mutations table: no oncoprint)."""
    d = tmp_path_factory.mktemp("studies")
    a = make_study(n_patients=60, n_centers=5, seed=11)
    b = {k: v for k, v in make_study(n_patients=60, n_centers=5, seed=12).items() if k != "mutations"}
    return write_workbook(a, d / "a.xlsx"), write_workbook(b, d / "b.xlsx"), a


def _env():
    return {"PATH": "/usr/bin:/bin", "COLUMNS": "200", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}


def run(*args, **kw):
    return subprocess.run(RWE + [str(a) for a in args], capture_output=True, text=True, env=_env(), timeout=600,
                          **kw)


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.") and
                  not p.name.endswith(".lock"))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a folder (relative path -> bytes): two runs' folders compare exactly."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- the pipeline from Python -------------------------------------------------------------------------------

def test_run_report_from_python(studies, tmp_path):
    a, _, _ = studies
    out = tmp_path / "rep"
    seen = []
    run_ = rwestudy.run_report(a, out, figures=False, progress=seen.append)
    assert {p.name for p in out.iterdir()} == REPORT_FILES
    assert run_.files.html == out / "report.html" and run_.files.results_json == out / "results.json"
    assert run_.results_json.exists() and run_.cutoff.source == "data"
    assert "Writing results.json" in seen  # progress reaches the caller (no console in the pipeline)
    from rwestudy.analysis.results import results_schema
    jsonschema.validate(json.loads(run_.files.results_json.read_text()), results_schema())
    assert leftovers(out) == []
    res = rwestudy.run_analysis(a, tmp_path / "an")
    assert json.loads((tmp_path / "an" / "results.json").read_text())["study"][0]["n_analysed"] == 60
    assert res.results_json == tmp_path / "an" / "results.json"


def test_a_new_report_leaves_no_file_of_the_earlier_one(studies, tmp_path):
    a, b, _ = studies
    out = tmp_path / "rep"
    first = rwestudy.run_report(a, out)
    assert (out / "figures" / "oncoprint.png").exists()  # study A has mutations
    assert {f.paths["png"] for f in first.files.figures} == set((out / "figures").glob("*.png"))
    rwestudy.run_report(a, out, figures=False)
    assert {p.name for p in out.iterdir()} == REPORT_FILES  # no figures/ left from the first run
    second = rwestudy.run_report(b, out)
    drawn = {f"{f.name}.{k}" for f in second.files.figures for k in ("png", "svg")}  # the default formats
    assert {p.name for p in (out / "figures").iterdir()} == drawn
    assert not (out / "figures" / "oncoprint.png").exists()  # study B has no mutations
    assert json.loads((out / "results.json").read_text())["study"][0]["source"] == str(b)
    assert leftovers(out) == []


def test_figure_formats_are_chosen_by_option_or_plan_and_checked(studies, tmp_path):
    a, _, _ = studies
    run = rwestudy.run_report(a, tmp_path / "pdf", figure_formats="png, PDF")
    kinds = {p.suffix for p in (tmp_path / "pdf" / "figures").iterdir()}
    assert kinds == {".png", ".pdf"}  # no SVG asked for, none written
    assert run.plan.figure_formats == ["png", "pdf"]
    with pytest.raises(PipelineError, match=r'--figure-formats = "svg": must include "png"'):
        rwestudy.run_report(a, tmp_path / "x", figure_formats="svg")
    with pytest.raises(PipelineError, match=r'unknown figure format; expected one of "png", "svg", "pdf"'):
        rwestudy.run_report(a, tmp_path / "x", figure_formats="png,tiff")
    plan = tmp_path / "plan.toml"
    plan.write_text('[figures]\nformats = ["png", "svg", "pdf"]\ndpi = 150\n')
    rwestudy.run_report(a, tmp_path / "all", plan=plan)
    from PIL import Image
    with Image.open(tmp_path / "all" / "figures" / "km_OS.png") as im:
        assert abs(im.info["dpi"][0] - 150) < 0.5
    assert (tmp_path / "all" / "figures" / "km_OS.pdf").read_bytes()[:5] == b"%PDF-"
    assert not (tmp_path / "x").exists()


def test_a_folder_with_other_files_or_the_input_is_never_replaced(studies, tmp_path):
    a, _, _ = studies
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(PipelineError, match="notes.txt"):
        rwestudy.run_report(a, out, figures=False)
    assert (out / "notes.txt").read_text() == "mine" and leftovers(out) == []
    inside = tmp_path / "d"
    inside.mkdir()
    study = write_workbook(make_study(n_patients=60, n_centers=5, seed=11), inside / "study.xlsx")
    with pytest.raises(PipelineError, match="reads"):
        rwestudy.run_report(study, inside, figures=False)
    assert study.exists()


def test_the_current_folder_is_never_replaced_and_our_own_lock_files_are_not_foreign(studies, tmp_path,
                                                                                     monkeypatch):
    a, _, _ = studies
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    with pytest.raises(PipelineError, match="current folder"):
        rwestudy.run_report(a, ".", figures=False)
    assert here.is_dir() and list(here.iterdir()) == []
    rwestudy.run_analysis(a, "res")  # leaves res/.results.json.lock beside results.json
    rwestudy.run_report(a, "res", figures=False)  # an earlier rwestudy output: replaced
    assert {p.name for p in (here / "res").iterdir()} == REPORT_FILES


# --- one run at a time --------------------------------------------------------------------------------------

def _hold_lock(lock: Path, seconds: float, released: Path) -> subprocess.Popen:
    code = ("import fcntl, sys, time\n"
            f"f = open({str(lock)!r}, 'w'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True)\n"
            f"time.sleep({seconds}); open({str(released)!r}, 'w').write(repr(time.time())); f.close()\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def test_a_second_run_waits_for_the_first_or_refuses(studies, tmp_path):
    a, _, _ = studies
    out = tmp_path / "rep"
    holder = _hold_lock(tmp_path / ".rep.lock", 60, tmp_path / "never")
    try:
        t = time.monotonic()
        with pytest.raises(OutputBusy, match="another rwestudy run is writing"):
            rwestudy.run_report(a, out, figures=False, lock_wait_s=0.5)
        assert time.monotonic() - t < 30 and not out.exists() and leftovers(out) == []
    finally:
        holder.kill()
        holder.wait()
    # Held for 3 s, then released: the CLI waits and writes after the release.
    holder = _hold_lock(tmp_path / ".rep.lock", 3, tmp_path / "released")
    r = run("report", a, "--out", out, "--no-figures")
    holder.wait()
    assert r.returncode == 0, r.stderr
    assert min(p.stat().st_mtime for p in out.iterdir()) >= float((tmp_path / "released").read_text()) - 0.05


def test_two_concurrent_reports_never_interleave(studies, tmp_path):
    a, b, _ = studies
    out = tmp_path / "rep"
    pa = subprocess.Popen(RWE + ["report", str(a), "--out", str(out)], env=_env(), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    pb = subprocess.Popen(RWE + ["report", str(b), "--out", str(out), "--no-figures"], env=_env(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ea, eb = pa.communicate(timeout=600)[1], pb.communicate(timeout=600)[1]
    assert pa.returncode == 0 and pb.returncode == 0, ea + eb
    source = json.loads((out / "results.json").read_text())["study"][0]["source"]
    names = {p.name for p in out.iterdir()}
    if source == str(b):  # B finished last: its folder, without figures
        assert names == REPORT_FILES
    else:  # A finished last: its folder with its figures, the oncoprint among them
        assert source == str(a) and names == REPORT_FILES | {"figures"}
        assert (out / "figures" / "oncoprint.png").exists()
    assert leftovers(out) == []


# --- killed at any moment -----------------------------------------------------------------------------------

def _kill_at(args: list, delay: float) -> int:
    """Start a CLI run, SIGKILL it after ``delay`` s; then end its orphans (figure helper, workers)."""
    p = subprocess.Popen(RWE + [str(x) for x in args], env=_env(), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.wait()
    return p.pid


def _end_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the killed run's own process group (start_new_session)
    except ProcessLookupError:
        pass
    time.sleep(0.2)


def test_a_killed_report_leaves_the_old_report_or_the_new_one(studies, tmp_path):
    a, b, _ = studies
    out = tmp_path / "rep"
    assert run("report", b, "--out", out, "--no-figures").returncode == 0
    old = snapshot(out)
    new_dir = tmp_path / "reference"
    assert run("report", a, "--out", new_dir).returncode == 0
    new = snapshot(new_dir)
    for delay in (0.8, 2.5, 5.0):
        pid = _kill_at(["report", a, "--out", out], delay)
        state = snapshot(out) if out.exists() else None
        _end_group(pid)
        assert state in (None, old) or state.keys() == new.keys(), f"killed at {delay} s: a mixed folder"
        if state is not None and state != old:
            assert state["results.json"] == new["results.json"]
            old = state
        for name in leftovers(out):  # what a killed run leaves is named by its pid
            assert name in (f".rep.tmp-{pid}", f".rep.old-{pid}"), name
    assert run("report", a, "--out", out).returncode == 0
    assert snapshot(out).keys() == new.keys() and leftovers(out) == []


def test_killed_analyze_and_compare_leave_old_or_new_files(studies, tmp_path):
    a, _, _ = studies
    res = tmp_path / "res"
    assert run("analyze", a, "--out", res, "--profile", "stata").returncode == 0
    old = (res / "results.json").read_bytes()
    ref = tmp_path / "ref"
    assert run("analyze", a, "--out", ref).returncode == 0
    new = (ref / "results.json").read_bytes()
    for delay in (1.0, 3.0):
        pid = _kill_at(["analyze", a, "--out", res], delay)
        assert (res / "results.json").read_bytes() in (old, new)
        _end_group(pid)
    assert run("analyze", a, "--out", res).returncode == 0
    assert (res / "results.json").read_bytes() == new and leftovers(res / "results.json") == []
    assert sorted(p.name for p in res.iterdir()) == [".results.json.lock", "results.json"]

    cmp_ = tmp_path / "cmp"
    assert run("compare", a, "--with", "talos", "--out", cmp_).returncode == 0
    old = snapshot(cmp_)
    pid = _kill_at(["compare", a, "--with", "talos", "--with", "lmind-5year", "--out", cmp_], 2.5)
    state = snapshot(cmp_) if cmp_.exists() else None
    _end_group(pid)
    assert state in (None, old) or "lmind-5year" in state["comparison.json"].decode()
    assert run("compare", a, "--with", "talos", "--out", cmp_).returncode == 0
    assert snapshot(cmp_).keys() == old.keys() and leftovers(cmp_) == []


# --- one data cut-off ---------------------------------------------------------------------------------------

def _os_by_hand(patients: pd.DataFrame, cutoff: str) -> pd.DataFrame:
    """OS censored at the cut-off, from the raw table: end = death or last contact, capped at the cut-off."""
    cut = pd.Timestamp(cutoff)
    p = patients.dropna(subset=["treatment_start_date"])
    end = p["death_date"].fillna(p["last_contact_date"])
    event = p["death_date"].notna() & (end <= cut)
    end = end.where(end <= cut, cut)
    return pd.DataFrame({"patient_id": p["patient_id"], "time": (end - p["treatment_start_date"]).dt.days
                         / DAYS_PER_MONTH, "event": event.astype(int)}).set_index("patient_id")


def test_the_option_wins_over_the_plan_and_reaches_validation_and_analysis(studies, tmp_path):
    a, _, tables = studies
    plan = tmp_path / "plan.toml"
    plan.write_text('[endpoints]\ncutoff = "2023-06-30"\n')
    run_ = rwestudy.run_analysis(a, tmp_path / "res", plan=plan, cutoff="2024-06-30", allow_errors=True)
    study_rec = json.loads((tmp_path / "res" / "results.json").read_text())["study"][0]
    assert (study_rec["data_cutoff"], study_rec["data_cutoff_source"]) == ("2024-06-30", "option")
    # Validation: exactly the last contacts after the cut-off are errors (spreadsheet row = index + 2).
    pats = tables["patients"]
    late = set((pats.index[pats["last_contact_date"] > "2024-06-30"] + 2).tolist())
    f = run_.study.findings
    flagged = f.loc[(f["rule"] == "date-future") & (f["column"] == "last_contact_date"), "row"]
    assert late and set(flagged.astype(int)) == late
    assert f.loc[f["rule"] == "date-future", "message"].str.contains("2024-06-30").all()
    # Analysis: OS censored at the same date.
    got = run_.results.endpoints.endpoint("OS").set_index("patient_id")
    hand = _os_by_hand(pats, "2024-06-30").loc[got.index]
    assert (got["event"].astype(int).to_numpy() == hand["event"].to_numpy()).all()
    assert got["time"].to_numpy() == pytest.approx(hand["time"].to_numpy(), abs=1e-9)
    # Without the option the plan's date is used, and said so.
    run_ = rwestudy.run_analysis(a, plan=plan, allow_errors=True)
    assert run_.results.records["study"][0]["data_cutoff_source"] == "plan"
    assert run_.cutoff.iso == "2023-06-30"


def test_the_mapping_cutoff_is_the_one_stated(studies, tmp_path):
    a, _, tables = studies
    mapping = tmp_path / "map.toml"
    mapping.write_text('[study]\ncutoff_date = "2024-06-30"\n')
    r = run("analyze", a, "--mapping", mapping, "--allow-errors", "--out", tmp_path / "res")
    assert r.returncode == 0, r.stderr
    rec = json.loads((tmp_path / "res" / "results.json").read_text())
    assert (rec["study"][0]["data_cutoff"], rec["study"][0]["data_cutoff_source"]) == ("2024-06-30", "mapping")
    hand = _os_by_hand(tables["patients"], "2024-06-30")
    assert next(s for s in rec["survival"] if s["endpoint"] == "OS" and s["group"] == "all")["events"] \
        == hand["event"].sum()


def test_without_a_cutoff_the_latest_last_contact_is_stated(studies, tmp_path):
    a, _, tables = studies
    run_ = rwestudy.run_analysis(a)
    rec = run_.results.to_json_dict()["study"][0]
    assert rec["data_cutoff"] == tables["patients"]["last_contact_date"].max().strftime("%Y-%m-%d")
    assert rec["data_cutoff_source"] == "data"
    assert not (run_.study.findings["rule"] == "date-future").any()  # checked against today


def test_a_loaded_study_is_checked_again_with_another_cutoff(studies):
    a, _, _ = studies
    study = rwestudy.load_study(a)
    assert study.ok and not study.findings["rule"].eq("date-future").any()
    # Dates after an earlier cut-off are warnings (the analysis censors there), found again for
    # the new cut-off: a study loaded without one is not trusted as checked.
    again = rwestudy.validate_study(a, cutoff="2024-06-30")
    later = again.findings[again.findings["rule"] == "date-future"]
    assert len(later) > 0 and later["severity"].eq("warning").all()
    assert "after the data cut-off 2024-06-30" in later["message"].iloc[0]
    run = rwestudy.run_analysis(study, cutoff="2024-06-30")
    assert run.results.records["study"][0]["data_cutoff"] == "2024-06-30"


@pytest.mark.parametrize("command", ["validate", "analyze", "report", "compare"])
@pytest.mark.parametrize("value", ["junk", "2025-02-30", "2025"])
def test_a_malformed_cutoff_is_one_line(studies, tmp_path, command, value):
    a, _, _ = studies
    r = run(command, a, "--cutoff", value, *(["--out", tmp_path / "o"] if command != "validate" else []))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "YYYY-MM-DD" in r.stderr and repr(value) in r.stderr
    assert not (tmp_path / "o").exists()


def test_a_malformed_plan_cutoff_is_one_line(studies, tmp_path):
    a, _, _ = studies
    plan = tmp_path / "plan.toml"
    plan.write_text('[endpoints]\ncutoff = "junk"\n')
    for command in ("validate", "analyze"):
        r = run(command, a, "--plan", plan, *(["--out", tmp_path / "o"] if command != "validate" else []))
        assert r.returncode == 2 and r.stderr.strip().count("\n") == 0, r.stderr
        assert "cutoff" in r.stderr and '"junk"' in r.stderr
