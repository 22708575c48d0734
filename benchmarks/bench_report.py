"""Wall time of the whole report for the demo study, from a fresh process (import time counts).

    .venv/bin/python benchmarks/bench_report.py [--runs 3] [--patients 96]

Runs `rwestudy report demo/study.xlsx` in new processes (best and median of
--runs) and prints the share of each stage from one in-process run. The target
(issue 4) is under 5 s for the demo study on a 2-core machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 5.0
STAGES = """
import time, sys
t0 = time.perf_counter()
from rwestudy.study import load_study
from rwestudy.analysis.run import analyze
from rwestudy.report.build import build_report
t1 = time.perf_counter()
s = load_study(sys.argv[1]); t2 = time.perf_counter()
r = analyze(s); t3 = time.perf_counter()
marks = []
build_report(r, s, sys.argv[2], progress=lambda m: marks.append((time.perf_counter(), m)))
t4 = time.perf_counter()
print(f"  imports             {t1 - t0:6.2f} s")
print(f"  read + validate     {t2 - t1:6.2f} s")
print(f"  analysis            {t3 - t2:6.2f} s")
points = [(t3, "start")] + marks + [(t4, "end")]
for (a, msg), (b, _) in zip(points[1:], points[2:]):
    print(f"  {msg[:34]:<34}{b - a:6.2f} s")
print(f"  report total        {t4 - t3:6.2f} s")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--patients", type=int, default=96)
    args = ap.parse_args()
    exe = Path(sys.executable).with_name("rwestudy")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run([sys.executable, "-c", "from rwestudy.demo.generator import make_study;"
                        "from rwestudy.io.writers import write_workbook;"
                        f"write_workbook(make_study(n_patients={args.patients}), r'{tmp / 'study.xlsx'}')"],
                       check=True)
        # As after an install: bytecode cached (pip compiles it; PYTHONDONTWRITEBYTECODE, set in
        # some sandboxes, would make every run recompile the package) and the figure font built.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cmd = [str(exe), "report", str(tmp / "study.xlsx"), "--out"]
        subprocess.run(cmd + [str(tmp / "warm")], check=True, stdout=subprocess.DEVNULL, env=env)
        times = []
        for i in range(args.runs):
            t = time.perf_counter()
            subprocess.run(cmd + [str(tmp / f"r{i}")], check=True, stdout=subprocess.DEVNULL, env=env)
            times.append(time.perf_counter() - t)
        n_fig = len(list((tmp / "r0" / "figures").glob("*.png")))
        print(f"rwestudy report, demo study ({args.patients} patients, {n_fig} figures x PNG/SVG/PDF, "
              "HTML + Word + Excel), fresh process:")
        print(f"  best {min(times):.2f} s, median {statistics.median(times):.2f} s over {args.runs} runs; "
              f"target {TARGET_S:.1f} s -> best is {min(times) / TARGET_S:.2f} x the target")
        print("Stages (one in-process run):")
        subprocess.run([sys.executable, "-c", STAGES, str(tmp / "study.xlsx"), str(tmp / "stages")], check=True,
                       env=env)


if __name__ == "__main__":
    main()
