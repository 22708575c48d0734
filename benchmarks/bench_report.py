"""Wall time of the whole report for the demo study, from a fresh process (import time counts).

    .venv/bin/python benchmarks/bench_report.py [--runs 3] [--patients 96]

Runs `rwestudy report demo/study.xlsx` in new processes (best and median of
--runs), then one more run with RWESTUDY_TRACE set, and prints its timeline
across the three kinds of process (the CLI, the figure helper and its
workers). The target (issue 4) is under 5 s for the demo study on a 2-core machine.
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


def timeline(trace: Path, t0: float) -> list[str]:
    """The RWESTUDY_TRACE marks of one run, merged across its processes, as printable lines."""
    lines = []
    roles: dict[str, str] = {}
    for row in sorted(trace.read_text(encoding="utf-8").splitlines()):
        t, pid, cpu, _sys, msg = row.split(" ", 4)
        role = roles.setdefault(pid, msg.split(":")[0] if ":" in msg else "worker")
        lines.append(f"  {float(t) - t0:5.2f} s  {role:<7} (cpu {float(cpu):4.2f} s)  {msg}")
    return lines


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
        print("Timeline of one run (RWESTUDY_TRACE; cli = main process, helper = figure helper, "
              "early = figures drawn during the analysis, worker = figure workers):")
        trace = tmp / "trace.txt"
        t0 = time.time()
        subprocess.run(cmd + [str(tmp / "traced")], check=True, stdout=subprocess.DEVNULL,
                       env=dict(env, RWESTUDY_TRACE=str(trace)))
        total = time.time() - t0
        print("\n".join(timeline(trace, t0)))
        print(f"  {total:5.2f} s  total (this run)")


if __name__ == "__main__":
    main()
