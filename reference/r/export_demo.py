"""Export the demo study's analysis-ready data for reference/r/demo_study.R.

Run from the repository root:
    .venv/bin/python reference/r/export_demo.py

Writes (inputs for R, not expected values):

* tests/fixtures/r/data/demo_endpoints.csv: one row per patient and endpoint,
  patient_id, endpoint, time (months = days / 30.4375), event (0/1), exactly the
  rows `rwestudy.endpoints.derive_endpoints` hands to `analyze`.
* tests/fixtures/r/data/demo_factors.csv: patient_id and every factor `analyze`
  uses, coded as `analyze` codes them: sex as "F"/"M" (categorical, F the
  reference level), every yes/no factor as 0/1 (a numeric Cox covariate);
  orr_best / cr_best (0/1), best_response, final_response; and for the
  post-baseline analyses reduction_months / grade3_ae_months, the months from
  treatment start to reduction_date / first_grade3_ae_date (empty when none).
  NA is an empty cell.

Numbers are written with 17 significant digits, so R reads the same doubles.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rwestudy.analysis.plan import Plan
from rwestudy.demo.generator import make_study
from rwestudy.endpoints import derive_endpoints

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "fixtures" / "r" / "data"
# The post-baseline factors and the date that makes each true (as analysis.run.FACTOR_DATES).
EVENT_DATES = {"reduction_months": "reduction_date", "grade3_ae_months": "first_grade3_ae_date"}


def _num(s: pd.Series) -> pd.Series:
    """Floats as 17-significant-digit strings, NA as empty."""
    v = pd.to_numeric(s, errors="raise").astype("float64")
    return pd.Series(np.where(v.isna(), "", [f"{x:.17g}" for x in v.fillna(0.0)]), index=s.index)


def _zero_one(s: pd.Series) -> pd.Series:
    b = s.astype("boolean")
    return pd.Series(np.where(b.isna(), "", np.where(b.fillna(False), "1", "0")), index=s.index)


def demo_frames(plan: Plan | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(endpoints, factors) tables of the shipped demo study, as written to CSV (all strings)."""
    plan = plan or Plan()
    ep = derive_endpoints(make_study(), days_per_month=plan.days_per_month, cutoff=plan.cutoff,
                          ae_window_days=plan.ae_window_days)
    tte = ep.time_to_event
    endpoints = pd.DataFrame({
        "patient_id": tte["patient_id"].astype(str), "endpoint": tte["endpoint"].astype(str),
        "time": _num(tte["time"]), "event": tte["event"].astype(int).astype(str),
    })
    p = ep.patients
    factors = pd.DataFrame({"patient_id": p["patient_id"].astype(str)})
    for f in plan.factors:
        if f == "sex":
            factors[f] = p[f].astype("string").fillna("")
        else:
            factors[f] = _zero_one(p[f])
    for col in ("orr_best", "cr_best"):
        factors[col] = _zero_one(p[col])
    for col in ("best_response", "final_response"):
        factors[col] = p[col].astype("string").fillna("")
    for name, date_col in EVENT_DATES.items():
        factors[name] = _num((p[date_col] - p["treatment_start_date"]).dt.days / plan.days_per_month)
    return endpoints.reset_index(drop=True), factors.reset_index(drop=True)


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    endpoints, factors = demo_frames()
    endpoints.to_csv(DATA / "demo_endpoints.csv", index=False)
    factors.to_csv(DATA / "demo_factors.csv", index=False)
    print(f"wrote {DATA / 'demo_endpoints.csv'} ({len(endpoints)} rows) and "
          f"{DATA / 'demo_factors.csv'} ({len(factors)} patients)")


if __name__ == "__main__":
    main()
