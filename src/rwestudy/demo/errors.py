"""Realistic data errors planted into the demo study (``rwestudy demo --with-errors``).

Each planted error is the kind a coordinating center meets in real center
spreadsheets, and records where it is (table, spreadsheet row, column) and
which rule must find it, so the test suite can check that validation finds
every one.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

PLANTED_COLUMNS = ["table", "row", "column", "rule", "severity", "what"]


def _row(i: int) -> int:
    """Spreadsheet row of the i-th data row (header = row 1)."""
    return int(i) + 2


def plant_errors(tables: dict[str, pd.DataFrame], seed: int = 7) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Return a copy of ``tables`` with errors planted, and the list of them."""
    rng = np.random.default_rng(seed)
    t = {k: v.copy().astype(object) for k, v in tables.items()}
    p = t["patients"]
    n = len(p)
    # Distinct patients for distinct errors, so one error does not hide another.
    died = np.nonzero(p["death_date"].notna().to_numpy() & p["progression_date"].notna().to_numpy())[0]
    alive = np.nonzero(p["death_date"].isna().to_numpy())[0]
    partial_resp = np.nonzero((p["best_response"] == "PR").to_numpy())[0]
    crs = np.nonzero((p["best_response"] == "CR").to_numpy() & (p["final_response"] == "CR").to_numpy())[0]
    used: set[int] = set()

    def pick(pool) -> int:
        pool = [int(i) for i in pool if int(i) not in used]
        if not pool:
            raise ValueError("demo study too small to plant every error; use at least 60 patients")
        i = int(rng.choice(pool))
        used.add(i)
        return i

    planted = []

    def plant(table, i, column, value, rule, severity, what):
        t[table].iat[i, t[table].columns.get_loc(column)] = value
        planted.append((table, _row(i), column, rule, severity, what))

    everyone = range(n)
    i = pick(everyone)
    plant("patients", i, "progression_date", "2022-02-30", "date-impossible", "error", "30 February")
    i = pick(everyone)
    plant("patients", i, "last_contact_date", "04/03/2024", "date-ambiguous", "error",
          "day-first date without a declared format")
    i = pick(everyone)
    plant("patients", i, "sex", "X", "code-unknown", "error", "unknown sex code")
    i = pick(everyone)
    plant("patients", i, "final_response", "RC", "code-unknown", "error", "Italian 'risposta completa' code")
    i = pick(everyone)
    plant("patients", i, "ecog", 7, "range", "error", "ECOG out of 0-5")
    i = pick(died)
    prog = pd.Timestamp(p.iat[i, p.columns.get_loc("progression_date")])
    plant("patients", i, "death_date", prog - pd.Timedelta(days=20), "date-order", "error",
          "death 20 days before progression")
    # keep last contact equal to death so only the planted order error fires
    t["patients"].iat[i, p.columns.get_loc("last_contact_date")] = prog - pd.Timedelta(days=20)
    i = pick(crs)
    plant("patients", i, "best_response", "PD", "response-order", "error", "best response worse than final")
    i = pick(alive)
    plant("patients", i, "death_cause", "infection", "death-cause-without-death", "error",
          "cause of death for a patient alive")
    i = pick(partial_resp)
    start = pd.Timestamp(p.iat[i, p.columns.get_loc("first_response_date")])
    plant("patients", i, "cr_date", start + pd.Timedelta(days=1), "cr-date-without-cr", "error",
          "CR date but best response PR")
    i = pick(everyone)
    plant("patients", i, "birth_date", pd.Timestamp("1905-05-05"), "age-implausible", "warning",
          "born in 1905: age over 100")
    i = pick(everyone)
    plant("patients", i, "center", None, "required-value", "error", "center left empty")
    i = pick(everyone)
    plant("patients", i, "diagnosis_date", "2019-05", "date-partial", "error", "partial date, no imputation rule")
    # A duplicated patient row, appended at the end (a center sent a patient twice).
    j = pick(everyone)
    dup = t["patients"].iloc[[j]].copy()
    t["patients"] = pd.concat([t["patients"], dup], ignore_index=True)
    planted.append(("patients", _row(j), "patient_id", "duplicate-id", "error", "patient sent twice (first copy)"))
    planted.append(("patients", _row(len(t["patients"]) - 1), "patient_id", "duplicate-id", "error",
                    "patient sent twice (second copy)"))

    ae = t["adverse_events"]
    k = int(rng.integers(len(ae)))
    plant("adverse_events", k, "grade", "G3", "type-number", "error", "grade written as 'G3'")
    k2 = int((k + len(ae) // 3) % len(ae))
    plant("adverse_events", k2, "term", "Thrombocytopenya", "ae-term-unknown", "warning", "misspelled term")
    k3 = int((k + 2 * len(ae) // 3) % len(ae))
    plant("adverse_events", k3, "patient_id", "RW-999", "unknown-patient", "error", "AE of an unknown patient")
    copy = t["adverse_events"].iloc[[(k + 1) % len(ae)]]
    t["adverse_events"] = pd.concat([t["adverse_events"], copy], ignore_index=True)
    planted.append(("adverse_events", _row(len(t["adverse_events"]) - 1), "term", "duplicate-row", "warning",
                    "AE row pasted twice"))
    # AE onset long after the last dose: outside the treatment-emergent window.
    pid = t["adverse_events"]["patient_id"]
    end = pid.map(tables["patients"].set_index("patient_id")["treatment_end_date"])
    death = pid.map(tables["patients"].set_index("patient_id")["last_contact_date"])
    room = np.nonzero(((death - end).dt.days > 120).to_numpy())[0]
    room = [r for r in room if r not in (k, (k + 1) % len(ae), k2, k3)]
    if room:
        r = int(room[0])
        plant("adverse_events", r, "onset_date", end.iloc[r] + pd.Timedelta(days=90), "date-order", "warning",
              "AE onset 90 days after the last dose")
    tr = t["treatment"]
    m = int(rng.integers(len(tr)))
    plant("treatment", m, "cycles", "six", "type-number", "error", "cycles written in words")
    return t, pd.DataFrame(planted, columns=PLANTED_COLUMNS)
