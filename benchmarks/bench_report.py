"""Wall time of the whole report for the demo study, from a cold process, beside a cold pandas + matplotlib import.

    .venv/bin/python benchmarks/bench_report.py [--runs 5] [--patients 96] [--trace]

Runs `rwestudy report demo/study.xlsx` in new processes, interleaved with new
processes running `python -c "import pandas, matplotlib"` (the floor any
report pays before its first line of work), and prints both medians and their
ratio. The ratio is the number to compare between machines and between
commits: on a shared or busy machine both times move together. The target
(issue 11) is a report under 5 s for the demo study on a 2-core machine.
``--trace``: one more run with RWESTUDY_TRACE set, and its timeline across the
report's processes (the CLI, the figure helper and its workers).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 5.0
IMPORT_FLOOR = [sys.executable, "-c", "import pandas, matplotlib"]


def timeline(trace: Path, t0: float) -> list[str]:
    """The RWESTUDY_TRACE marks of one run, merged across its processes, as printable lines."""
    lines = []
    roles: dict[str, str] = {}
    for row in sorted(trace.read_text(encoding="utf-8").splitlines()):
        t, pid, cpu, _sys, msg = row.split(" ", 4)
        role = roles.setdefault(pid, msg.split(":")[0] if ":" in msg else "worker")
        lines.append(f"  {float(t) - t0:5.2f} s  {role:<8} (cpu {float(cpu):4.2f} s)  {msg}")
    return lines


def _wall(cmd: list[str], env: dict, cpu: list | None = None) -> float:
    """Wall seconds of one run; its CPU seconds (all its processes, user + system) appended to ``cpu``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--patients", type=int, default=96)
    ap.add_argument("--trace", action="store_true", help="also print the timeline of one traced run")
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
        _wall(IMPORT_FLOOR, env)
        report, floor, cpu_r, cpu_f = [], [], [], []
        for i in range(args.runs):  # interleaved: a load change on the machine hits both series alike
            floor.append(_wall(IMPORT_FLOOR, env, cpu_f))
            report.append(_wall(cmd + [str(tmp / f"r{i}")], env, cpu_r))
        n_fig = len(list((tmp / "r0" / "figures").glob("*.png")))
        med_r, med_f = statistics.median(report), statistics.median(floor)
        print(f"rwestudy report, demo study ({args.patients} patients, {n_fig} figures x PNG/SVG/PDF, "
              f"HTML + Word + Excel), {args.runs} cold runs each, interleaved:")
        print(f"  report                          median {med_r:5.2f} s  (runs: "
              + ", ".join(f"{t:.2f}" for t in report) + ")")
        print(f"  python -c 'import pandas, matplotlib'  median {med_f:5.2f} s  (runs: "
              + ", ".join(f"{t:.2f}" for t in floor) + ")")
        print(f"  CPU seconds (all processes): report median {statistics.median(cpu_r):.2f} s, import "
              f"median {statistics.median(cpu_f):.2f} s (less sensitive to a busy machine than wall time)")
        print(f"  ratio report / import floor: {med_r / med_f:.2f}; target {TARGET_S:.1f} s -> the median is "
              f"{med_r / TARGET_S:.2f} x the target")
        if args.trace:
            print("Timeline of one run (RWESTUDY_TRACE; cli = main process, pipeline = its pipeline steps, "
                  "helper = figure helper, early = figures drawn during the analysis, worker = figure workers):")
            trace = tmp / "trace.txt"
            t0 = time.time()
            subprocess.run(cmd + [str(tmp / "traced")], check=True, stdout=subprocess.DEVNULL,
                           env=dict(env, RWESTUDY_TRACE=str(trace)))
            total = time.time() - t0
            print("\n".join(timeline(trace, t0)))
            print(f"  {total:5.2f} s  total (this run)")


if __name__ == "__main__":
    main()
