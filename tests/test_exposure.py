"""Treatment exposure, subsequent therapies and causes of death against hand counts."""
import pandas as pd

from rwestudy.analysis.exposure import death_causes, subsequent_therapies, treatment_exposure


def _row(rows, **keys):
    hits = [r for r in rows if all(r.get(k) == v for k, v in keys.items())]
    assert len(hits) == 1, (keys, hits)
    return hits[0]


def test_exposure_hand_counts():
    t = pd.DataFrame({
        "patient_id": ["A", "A", "B", "B", "C", "C"],
        "drug": ["len", "tafa", "len", "tafa", "len", "tafa"],
        "cycles": [12, 20, 3, 3, 1, 1],
        "dose_reduced": pd.array([True, False, pd.NA, False, False, False], dtype="boolean"),
        "reduction_date": pd.to_datetime([None, None, "2022-01-01", None, None, None]),
        "discontinued": ["no", "no", "permanent", "permanent", "temporary", "permanent"],
        "discontinuation_reason": [None, None, "toxicity", "toxicity", None, "progression"],
    })
    rows = treatment_exposure(t, n_patients=4)  # one patient has no treatment row
    assert _row(rows, drug="len", item="patients treated")["text"] == "3 (75.0%)"
    # B's empty yes/no cell is overruled by the reduction date: 2 of 3 reduced.
    assert _row(rows, drug="len", item="dose reduced")["n"] == 2
    assert _row(rows, drug="len", item="cycles, median (range)")["text"] == "3 (1-12)"
    assert _row(rows, drug="tafa", item="discontinued, permanent")["n"] == 2
    assert _row(rows, drug="tafa", item="permanent discontinuation: progression")["n"] == 1
    mono = _row(rows, drug="all", item="monotherapy with tafa")
    assert mono["n"] == 1 and mono["value"] == 8  # A: 20 - 12 cycles


def test_subsequent_and_deaths_hand_counts():
    s = pd.DataFrame({"patient_id": ["A", "A", "B"], "start_date": pd.to_datetime(["2023-01-01", "2022-01-01", "2022-05-01"]),
                      "regimen": ["R-GemOx", "CAR-T", "R-GemOx"], "best_response": ["PD", "CR", None],
                      "car_t": pd.array([False, True, False], dtype="boolean")})
    rows = subsequent_therapies(s, n_patients=5)
    assert _row(rows, item="patients with a subsequent therapy")["text"] == "2 (40.0%)"
    assert _row(rows, group="regimen", item="R-GemOx")["n"] == 2
    # A's next line is the earlier one (CAR-T, CR); B's response is missing.
    assert _row(rows, group="best response to the next line", item="CR")["n"] == 1
    assert _row(rows, group="best response to the next line", item="PD")["n"] == 0
    assert _row(rows, group="best response to the next line", item="not assessed")["n"] == 1
    p = pd.DataFrame({"patient_id": list("ABCD"),
                      "death_date": pd.to_datetime(["2023-01-01", None, "2023-02-01", None]),
                      "death_cause": ["Progression: lymphoma", None, None, "infection"]})
    rows = death_causes(p)
    assert _row(rows, item="deaths")["text"] == "3 (75.0%)"  # D has a cause but no date: still a death
    assert _row(rows, item="progression")["denominator"] == 3
    assert _row(rows, item="not recorded")["n"] == 1
    assert not any("lymphoma" in r["item"] for r in rows)  # free text is not reported
