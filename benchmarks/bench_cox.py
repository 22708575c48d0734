"""Time rwestudy's Cox fit against lifelines, statsmodels and R coxph.

Same synthetic data for every tool: 10 normal covariates, event and censoring
times rounded to whole months (many tied times), one BLAS thread.

    .venv/bin/python benchmarks/bench_cox.py          # 1e3, 1e5, 1e6 patients
    .venv/bin/python benchmarks/bench_cox.py --quick  # 1e3, 1e5

R is timed inside R (system.time around coxph only; reading the CSV is
excluded). R's coxph always computes the concordance; ours is timed without
and with it (``concordance=False`` / default).
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"   # before numpy is imported

import argparse  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from rwestudy.stats.cox import cox  # noqa: E402

P = 10
COVS = [f"x{i}" for i in range(P)]


def make_data(n: int, seed: int = 20240611) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, P))
    beta = np.linspace(-0.3, 0.3, P)
    event_t = rng.exponential(12 / np.exp(x @ beta))           # months
    cens_t = rng.uniform(0, 60, n)
    t = np.ceil(np.minimum(event_t, cens_t))                   # whole months: tied times
    df = pd.DataFrame(x, columns=COVS)
    df["time"] = t
    df["event"] = (event_t <= cens_t).astype(int)
    return df


def timed(fn, repeat: int = 1) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run_ours(df, ties, concordance):
    return cox(df, "time", "event", COVS, ties=ties, concordance=concordance)


def run_lifelines(df):
    from lifelines import CoxPHFitter
    CoxPHFitter().fit(df, "time", "event")   # Efron only


def run_statsmodels(df, ties):
    from statsmodels.duration.hazard_regression import PHReg
    PHReg(df["time"].to_numpy(), df[COVS].to_numpy(), status=df["event"].to_numpy(), ties=ties).fit()


R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
f <- as.formula(paste("Surv(time, event) ~", paste(grep("^x", names(d), value = TRUE), collapse = " + ")))
for (ties in c("breslow", "efron")) {
  tm <- system.time(fit <- coxph(f, data = d, ties = ties))[["elapsed"]]
  cat(ties, tm, "\n")
}
"""


def run_r(df) -> dict[str, float]:
    if shutil.which("Rscript") is None:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        csv, script = os.path.join(tmp, "d.csv"), os.path.join(tmp, "b.R")
        df.to_csv(csv, index=False)
        with open(script, "w") as fh:
            fh.write(R_SCRIPT)
        out = subprocess.run(["Rscript", script, csv], capture_output=True, text=True, check=True,
                             env={**os.environ})
    return {line.split()[0]: float(line.split()[1]) for line in out.stdout.strip().splitlines()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="only 1e3 and 1e5 patients")
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args()
    sizes = [1_000, 100_000] if args.quick else [1_000, 100_000, 1_000_000]
    rows = []
    warnings.simplefilter("ignore")
    for n in sizes:
        df = make_data(n)
        rep = 3 if n <= 1_000 else 2  # best of 2: the first large fit pays page faults, not arithmetic
        res = {"n": n, "tied_times": df.loc[df.event == 1, "time"].nunique()}
        for ties in ("breslow", "efron"):
            res[f"ours_{ties}"] = timed(lambda: run_ours(df, ties, False), rep)
            res[f"ours_{ties}+C"] = timed(lambda: run_ours(df, ties, True), rep)
            res[f"statsmodels_{ties}"] = timed(lambda: run_statsmodels(df, ties), rep)
        res["lifelines_efron"] = timed(lambda: run_lifelines(df), rep)
        if not args.no_r:
            for ties, sec in run_r(df).items():
                res[f"R_{ties}"] = sec
        rows.append(res)
        print(f"n = {n:>9,}: " + ", ".join(f"{k} {v:.3f}s" for k, v in res.items()
                                           if k not in ("n", "tied_times")), flush=True)

    table = pd.DataFrame(rows).set_index("n")
    print("\nSeconds (one BLAS thread; +C = with concordance, which R's coxph always computes)")
    print(table.drop(columns="tied_times").to_string(float_format=lambda v: f"{v:.3f}"))
    print("\nRatio: other tool / ours (same ties, ours without concordance)")
    ratios = pd.DataFrame(index=table.index)
    for ties in ("breslow", "efron"):
        base = table[f"ours_{ties}"]
        for other in [c for c in table.columns if c.endswith(ties) and not c.startswith("ours")]:
            ratios[f"{other}/ours"] = table[other] / base
    print(ratios.to_string(float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
