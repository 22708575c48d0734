"""Validation speed: read + type + validate a study of 100, 10,000 and 1,000,000 patients.

The study is the demo generator's, with the AE and response tables expanded to
~6 and ~5 rows per patient. Each size is written as a CSV folder (and, up to
10,000 patients, as an .xlsx workbook) and loaded with `rwestudy.load_study`
from a fresh call; we report seconds and rows per second. For the workbook we
also time pandas' openpyxl reader on the same file (the peer we replaced).

    python benchmarks/bench_validate.py            # 100, 10,000, 1,000,000
    python benchmarks/bench_validate.py --quick    # 100, 10,000
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import rwestudy
from rwestudy.demo.generator import make_study
from rwestudy.io.writers import write_csv_folder, write_workbook
from rwestudy.validation.ctcae import ctcae_terms


def expand(tables: dict[str, pd.DataFrame], per_patient: int, table: str) -> pd.DataFrame:
    """Repeat rows so the table has ~per_patient rows per patient, keeping it valid:
    AE copies get another CTCAE term (grades 1-5 defined) so they are not duplicates."""
    t = tables[table]
    n_pat = len(tables["patients"])
    k = max(1, int(round(per_patient * n_pat / max(len(t), 1))))
    rep = t.loc[t.index.repeat(k)].reset_index(drop=True)
    if table == "adverse_events":
        terms = ctcae_terms()
        ok = terms[terms[["grade_1", "grade_2", "grade_3", "grade_4", "grade_5"]].all(axis=1)]
        copy = np.arange(len(rep)) % k
        pick = ok.iloc[(np.arange(len(rep)) * 7919) % len(ok)]
        rep.loc[copy > 0, "term"] = pick["term"].to_numpy()[copy > 0]
        rep.loc[copy > 0, "category"] = pick["category"].to_numpy()[copy > 0]
        rep = rep.drop_duplicates(["patient_id", "term", "grade", "onset_date"])
    return rep


def build(n: int) -> dict[str, pd.DataFrame]:
    tables = make_study(n_patients=n, n_centers=min(30, n), seed=n)
    tables["adverse_events"] = expand(tables, 6, "adverse_events")
    tables["responses"] = expand(tables, 5, "responses")
    return tables


def timed(fn, repeat=1):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip 1,000,000 patients")
    args = ap.parse_args()
    sizes = [100, 10_000] if args.quick else [100, 10_000, 1_000_000]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            tables = build(n)
            total_rows = sum(len(v) for v in tables.values())
            csv = write_csv_folder(tables, Path(tmp) / f"csv{n}")
            sec, study = timed(lambda: rwestudy.load_study(csv), repeat=3 if n < 1_000_000 else 1)
            assert study.n_patients == n
            rows.append(dict(patients=n, format="csv", rows=total_rows, seconds=sec,
                             rows_per_s=total_rows / sec, findings=len(study.findings), peer="", peer_ratio=""))
            if n <= 10_000:
                xlsx = write_workbook(tables, Path(tmp) / f"s{n}.xlsx")
                sec, study = timed(lambda: rwestudy.load_study(xlsx), repeat=3)
                peer, _ = timed(lambda: pd.read_excel(xlsx, sheet_name=None, engine="openpyxl"), repeat=1)
                rows.append(dict(patients=n, format="xlsx", rows=total_rows, seconds=sec,
                                 rows_per_s=total_rows / sec, findings=len(study.findings),
                                 peer="pandas+openpyxl read only", peer_ratio=f"{peer / sec:.1f}x"))
            print(pd.DataFrame(rows[-2:] if n <= 10_000 else rows[-1:]).to_string(index=False, header=len(rows) <= 2),
                  flush=True)
    print()
    out = pd.DataFrame(rows)
    out["seconds"] = out["seconds"].round(3)
    out["rows_per_s"] = out["rows_per_s"].round(0).astype(int)
    print("rwestudy validate: read + type + validate (seconds, best of 3; 1 run at 1e6)")
    print(out.to_string(index=False))
    print("peer_ratio = peer seconds / rwestudy seconds (the peer only reads; rwestudy also validates)")


if __name__ == "__main__":
    main()
