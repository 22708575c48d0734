"""Time rwestudy's Kaplan-Meier, log-rank and Gehan against lifelines, statsmodels and R.

    .venv/bin/python benchmarks/bench_km.py            # 1e3, 1e5, 1e6 patients
    .venv/bin/python benchmarks/bench_km.py --quick    # 1e3, 1e5 only

Every tool sees the same synthetic data per size: ~60% events, two arms,
times on 1..1560 whole days (heavy ties), then the same times in months
(days / 30.4375: still tied, but not whole numbers, so rwestudy's
counting-sort path for whole-number times is off and it argsorts).  One BLAS/OpenMP thread everywhere.
Timings are the best of a few runs (wall clock); R is timed inside R with
system.time, so R's start-up and data loading are excluded.  Ratios are
other / rwestudy (> 1: rwestudy is faster).  The chi-square columns show that
the tools agree (lifelines' "wilcoxon" weights are Gehan's n at risk).
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported

import argparse  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from rwestudy.stats.group_tests import compare_survival  # noqa: E402
from rwestudy.stats.survival import kaplan_meier  # noqa: E402

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[2]); reps <- as.integer(args[3])
t <- readBin(file.path(args[1], "time.bin"), "double", n)
e <- readBin(file.path(args[1], "event.bin"), "double", n)
g <- readBin(file.path(args[1], "arm.bin"), "double", n)
best <- function(f) min(vapply(seq_len(reps), function(i) system.time(f())[["elapsed"]], 0))
km <- best(function() survfit(Surv(t, e) ~ 1))
lr <- best(function() survdiff(Surv(t, e) ~ g))
sd <- survdiff(Surv(t, e) ~ g)
cat(sprintf("km %.6f\nlogrank %.6f\nchisq %.10g\n", km, lr, sd$chisq))
"""


def make_data(n: int, seed: int = 20240611) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, n)
    # arm 1 lives a little longer, so the tests have something to find
    days = rng.integers(1, 1501, n) + np.where(arm == 1, rng.integers(0, 60, n), 0)
    return pd.DataFrame({"time": days.astype(np.float64), "event": (rng.random(n) < 0.6).astype(np.int64),
                         "arm": arm})


def best_of(fn, reps: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def bench_rwestudy(df, reps):
    km, _ = best_of(lambda: kaplan_meier(df, "time", "event"), reps)
    lr, res = best_of(lambda: compare_survival(df, "time", "event", "arm"), reps)
    gb, res_g = best_of(lambda: compare_survival(df, "time", "event", "arm", test="gehan"), reps)
    return {"km": km, "logrank": lr, "gehan": gb, "chisq_lr": res.statistic, "chisq_gehan": res_g.statistic}


def bench_lifelines(df, reps):
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    a, b = df[df["arm"] == 0], df[df["arm"] == 1]
    km, _ = best_of(lambda: KaplanMeierFitter().fit(df["time"], df["event"]), reps)

    def lr_test(weightings=None):
        return logrank_test(a["time"], b["time"], a["event"], b["event"], weightings=weightings)

    lr, res = best_of(lr_test, reps)
    gb, res_g = best_of(lambda: lr_test("wilcoxon"), reps)
    return {"km": km, "logrank": lr, "gehan": gb, "chisq_lr": res.test_statistic, "chisq_gehan": res_g.test_statistic}


def bench_statsmodels(df, reps):
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    t, e, g = df["time"].to_numpy(), df["event"].to_numpy(), df["arm"].to_numpy()
    km, _ = best_of(lambda: SurvfuncRight(t, e), reps)
    lr, res = best_of(lambda: survdiff(t, e, g), reps)
    gb, res_g = best_of(lambda: survdiff(t, e, g, weight_type="gb"), reps)
    return {"km": km, "logrank": lr, "gehan": gb, "chisq_lr": res[0], "chisq_gehan": res_g[0]}


def bench_r(df, reps):
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        for col in ("time", "event", "arm"):
            df[col].to_numpy(np.float64).tofile(Path(tmp) / f"{col}.bin")
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT)
        run = subprocess.run(["Rscript", str(script), tmp, str(len(df)), str(reps)], capture_output=True,
                             text=True, check=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    vals = dict(line.split() for line in run.stdout.strip().splitlines())
    return {"km": float(vals["km"]), "logrank": float(vals["logrank"]), "gehan": np.nan,
            "chisq_lr": float(vals["chisq"]), "chisq_gehan": np.nan}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e3 and 1e5 patients only")
    args = parser.parse_args()
    sizes = [1_000, 100_000] if args.quick else [1_000, 100_000, 1_000_000]
    warnings.simplefilter("ignore")
    kaplan_meier(make_data(100), "time", "event")  # import/first-call costs out of the way
    rows = []
    for n, unit in [(n, u) for n in sizes for u in ("days", "months")]:
        df = make_data(n)
        if unit == "months":
            df["time"] = df["time"] / 30.4375
        reps = 2 if n >= 1_000_000 else 3
        results = {"rwestudy": bench_rwestudy(df, reps), "lifelines": bench_lifelines(df, reps),
                   "statsmodels": bench_statsmodels(df, reps), "R survival": bench_r(df, reps)}
        ours = results["rwestudy"]
        for tool, res in results.items():
            if res is None:
                continue
            row = {"n": n, "time": unit, "tool": tool}
            for op in ("km", "logrank", "gehan"):
                row[f"{op} s"] = res[op]
                row[f"{op} x"] = res[op] / ours[op] if tool != "rwestudy" else 1.0
            row["chi2 logrank"] = res["chisq_lr"]
            row["chi2 gehan"] = res["chisq_gehan"]
            rows.append(row)
        print(f"done n={n} ({unit})", flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}", na_rep="n/a"))
    print("x = seconds / rwestudy seconds (best of 3 runs, 2 at 1e6); R has no built-in Gehan test")


if __name__ == "__main__":
    main()
