"""Run the hostile-input corpus (cases.py) and count what went wrong.

Each case states what a correct tool does; any failure is sorted into crash /
silent-wrong / dropped / misleading and printed as a table. The issue's bar is
0 of each. Run one case with ``RWESTUDY_CORPUS=csv-stray-quote pytest tests/corpus``.
"""
from __future__ import annotations

import math
import os
import resource
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

import rwestudy
from tests.corpus.cases import Cli, Finding, NoFinding, Rows, Value, corpus

BAD = ("crash", "silent-wrong", "dropped", "misleading")


def _rows(f: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(f["row"], errors="coerce")


def _at(f: pd.DataFrame, tables, row=None, column=None, severity=("error", "warning", "info")) -> pd.DataFrame:
    sel = f["severity"].isin(severity) & f["table"].astype(str).isin(tables)
    if row is not None:
        sel &= _rows(f) == row
    if column is not None:
        sel &= f["column"].astype(str) == column
    return f.loc[sel]


def _check_finding(study, e: Finding):
    f = study.findings
    hit = _at(f, e.tables, e.row, e.column, e.severity)
    if e.words:
        hit = hit.loc[hit["message"].str.lower().str.contains("|".join(e.words), regex=False) |
                      hit["message"].str.lower().apply(lambda m: any(w in m for w in e.words))]
    if len(hit):
        return None
    near = _at(f, e.tables, severity=e.severity)
    if len(near) and (e.row is not None or e.column is not None or e.words):
        got = near.iloc[0]
        return "misleading", (f"expected a finding at {e.tables[0]} row {e.row} column {e.column}; "
                              f"nearest: row {got['row']} column {got['column']}: {got['message'][:90]}")
    return "silent-wrong", f"no {'/'.join(e.severity)} finding at {e.tables[0]} row {e.row} column {e.column}"


def _same(a, b) -> bool:
    if a is None or (not isinstance(a, str) and pd.isna(a)):
        return False
    if isinstance(b, pd.Timestamp):
        return pd.Timestamp(a) == b
    if isinstance(b, float):
        try:
            return math.isclose(float(a), b, rel_tol=1e-9)
        except (TypeError, ValueError):
            return False
    return str(a) == str(b)


def _check_value(study, e: Value):
    frame = study.tables.get(e.table)
    at_cell = _at(study.findings, (e.table,), e.row, e.column, ("error", "warning"))
    if frame is None or e.row not in frame.index:
        return (None if len(at_cell) else
                ("dropped", f"{e.table} row {e.row} is not in the typed table ({len(study.findings)} findings)"))
    got = frame.at[e.row, e.column]
    if _same(got, e.expected):
        return None
    if e.finding_ok and len(at_cell):
        return None
    if len(at_cell):
        return "misleading", f"{e.table} row {e.row} {e.column}: read {got!r}, expected {e.expected!r}; finding instead"
    return "silent-wrong", f"{e.table} row {e.row} {e.column}: read {got!r}, expected {e.expected!r}, no finding"


def _check_rows(study, e: Rows):
    frame = study.tables.get(e.table)
    n = 0 if frame is None else len(frame)
    if n == e.n:
        return None
    if len(_at(study.findings, (e.table, f"{e.table}.csv"), severity=("error",))):
        return None  # rows lost, but an error says so
    return "dropped", f"{e.table}: {n} rows read, the source holds {e.n}, and no error says why"


def _check_no_finding(study, e: NoFinding):
    f = study.findings.loc[study.findings["severity"].isin(e.severity)]
    bad = f.loc[f["message"].str.lower().apply(lambda m: any(w in m for w in e.words))]
    if len(bad):
        return "misleading", f"unexpected finding: {bad.iloc[0]['table']}: {bad.iloc[0]['message'][:100]}"
    return None


def _limit(mb):
    def set_limits():
        resource.setrlimit(resource.RLIMIT_AS, (mb * 2**20, mb * 2**20))
    return set_limits


def _check_cli(e: Cli, study_path: Path, folder: Path, n: int):
    out = folder / f"out{n}"
    args = [a.replace("{study}", str(study_path)).replace("{out}", str(out)).replace("{folder}", str(folder))
            for a in e.args]
    env = dict(os.environ, COLUMNS="200", PYTHONPATH=os.pathsep.join(
        [str(Path(rwestudy.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]))
    out.mkdir(exist_ok=True) if "--export" in args else None
    try:
        r = subprocess.run([sys.executable, "-m", "rwestudy.cli", *args], capture_output=True, text=True,
                           env=env, timeout=300, preexec_fn=_limit(e.memory_mb) if e.memory_mb else None,
                           errors="backslashreplace")
    except subprocess.TimeoutExpired:
        return "crash", f"`rwestudy {' '.join(e.args)}` did not finish in 300 s"
    text = r.stdout + r.stderr
    cmd = f"`rwestudy {e.args[0]}`"
    if r.returncode < 0 or r.returncode == 3 or "Traceback" in text or "internal error" in text:
        return "crash", f"{cmd} exit {r.returncode}: {text.strip().splitlines()[-1][:120] if text.strip() else ''}"
    if r.returncode not in e.exit_codes:
        kind = "silent-wrong" if r.returncode == 0 else "misleading"
        return kind, f"{cmd} exit {r.returncode}, expected {e.exit_codes}: {text.strip()[-160:]}"
    for s in e.stdout_lacks:
        if s in text:
            return "silent-wrong", f"{cmd} printed {s!r}"
    for s in e.stdout_has:
        if s not in text:
            return "misleading", f"{cmd} output lacks {s!r}: {text.strip()[-160:]}"
    if e.check is not None:
        why = e.check(out)
        if why:
            kind, _, msg = why.partition(": ")
            return kind, f"{cmd}: {msg}"
    return None


CHECKS = {Finding: _check_finding, Value: _check_value, Rows: _check_rows, NoFinding: _check_no_finding}


def run_case(case, folder: Path) -> list[tuple[str, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    path = case.build(folder, BASE)
    problems = []
    in_process = [e for e in case.expect if not isinstance(e, Cli)]
    if in_process:
        try:
            study = rwestudy.load_study(path)
        except Exception as exc:  # noqa: BLE001  (any exception is the crash we count)
            return [("crash", f"load_study raised {type(exc).__name__}: {str(exc)[:120]}")]
        problems += [CHECKS[type(e)](study, e) for e in in_process]
    problems += [_check_cli(e, path, folder, i) for i, e in enumerate(case.expect) if isinstance(e, Cli)]
    return [p for p in problems if p]


BASE: dict = {}


def test_corpus_outcomes(small_tables, tmp_path, capsys):
    BASE.update(small_tables)
    only = os.environ.get("RWESTUDY_CORPUS")
    cases = [c for c in corpus(small_tables) if not only or c.id in only.split(",")]
    assert len({c.id for c in cases}) == len(cases)
    lines, counts = [], Counter()
    for case in cases:
        problems = run_case(case, tmp_path / case.id)
        outcome = problems[0][0] if problems else "ok"
        counts[outcome] += 1
        lines.append(f"{case.id:28} {outcome:13} {problems[0][1] if problems else case.what}")
        lines += [f"{'':28} {'':13} also {k}: {why}" for k, why in problems[1:]]
    summary = ", ".join(f"{k} {counts[k]}" for k in ("ok", *BAD))
    with capsys.disabled():
        print(f"\nHostile-input corpus: {len(cases)} cases: {summary}")
        print("\n".join(lines))
    assert all(counts[k] == 0 for k in BAD), summary + "\n" + "\n".join(lines)
