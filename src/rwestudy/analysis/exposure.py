"""Treatment exposure, subsequent therapies and causes of death, as tidy records.

These are counts, not models, but they are reported in every real-world
paper (TALOs Table 2 and its text) and are where hand tallies go wrong: each
record carries its denominator so a percentage can always be re-derived.

>>> import pandas as pd
>>> t = pd.DataFrame({"patient_id": ["A", "A", "B"], "drug": ["len", "tafa", "tafa"],
...                   "cycles": [12, 20, 3], "dose_reduced": [True, False, False]})
>>> rows = treatment_exposure(t, n_patients=2)
>>> [r["text"] for r in rows if r["drug"] == "len" and r["item"] == "dose reduced"]
['1 (100.0%)']
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _count(item: str, n: int, denominator: int, **keys) -> dict:
    pct = 100.0 * n / denominator if denominator else None
    text = f"{n} ({pct:.1f}%)" if pct is not None else f"{n}"
    return dict(keys, item=item, n=int(n), denominator=int(denominator), pct=pct, value=None, text=text)


def _cycles(item: str, values: pd.Series, **keys) -> dict:
    v = pd.to_numeric(values, errors="coerce").dropna()
    if len(v) == 0:
        return dict(keys, item=item, n=0, denominator=0, pct=None, value=None, text="not recorded")
    med = float(np.median(v))
    return dict(keys, item=item, n=int(len(v)), denominator=int(len(v)), pct=None, value=med,
                text=f"{med:g} ({v.min():g}-{v.max():g})")


def treatment_exposure(treatment: pd.DataFrame | None, n_patients: int) -> list[dict]:
    """Per study drug: patients exposed, cycles, dose reductions, discontinuations.

    Also the monotherapy phase: patients who kept receiving one drug for more
    cycles than another (TALOs: tafasitamab continued after lenalidomide).
    """
    if treatment is None or len(treatment) == 0:
        return []
    t = treatment.copy()
    t["drug"] = t["drug"].astype("string").str.strip()
    out: list[dict] = []
    for drug, g in t.groupby("drug", sort=True):
        drug = str(drug)
        exposed = int(g["patient_id"].nunique())
        out.append(_count("patients treated", exposed, n_patients, drug=drug))
        if "cycles" in g:
            out.append(_cycles("cycles, median (range)", g["cycles"], drug=drug))
        if "dose_reduced" in g:
            reduced = g["dose_reduced"].astype("boolean").fillna(False)
            if "reduction_date" in g:
                reduced = reduced | g["reduction_date"].notna()
            out.append(_count("dose reduced", int(g.loc[reduced.to_numpy(), "patient_id"].nunique()),
                              exposed, drug=drug))
        if "discontinued" in g:
            disc = g["discontinued"].astype("string").str.lower()
            for level in ("temporary", "permanent"):
                ids = g.loc[disc.eq(level).fillna(False).to_numpy(), "patient_id"].nunique()
                out.append(_count(f"discontinued, {level}", int(ids), exposed, drug=drug))
            if "discontinuation_reason" in g:
                reasons = g.loc[disc.eq("permanent").fillna(False).to_numpy(), "discontinuation_reason"]
                reasons = reasons.astype("string").str.strip().fillna("not recorded")
                for reason, k in reasons.value_counts().sort_index().items():
                    out.append(_count(f"permanent discontinuation: {reason}", int(k), exposed, drug=drug))
    out += _monotherapy(t, n_patients)
    return out


def _monotherapy(t: pd.DataFrame, n_patients: int) -> list[dict]:
    if "cycles" not in t or t["drug"].nunique() < 2:
        return []
    wide = (t.assign(cycles=pd.to_numeric(t["cycles"], errors="coerce"))
            .pivot_table(index="patient_id", columns="drug", values="cycles", aggfunc="max"))
    wide = wide.dropna()
    if len(wide) == 0:
        return []
    longest = wide.idxmax(axis=1)
    mono = wide.max(axis=1) > wide.min(axis=1)
    out = [_count("monotherapy phase (one drug continued after another stopped)", int(mono.sum()),
                  n_patients, drug="all")]
    for drug, k in longest[mono].value_counts().sort_index().items():
        extra = (wide.max(axis=1) - wide.min(axis=1))[mono & longest.eq(drug)]
        out.append(dict(_count(f"monotherapy with {drug}", int(k), n_patients, drug="all"),
                        value=float(extra.median()),
                        text=f"{int(k)} ({100.0 * k / n_patients:.1f}%); median {extra.median():g} extra cycles"))
    return out


def subsequent_therapies(subsequent: pd.DataFrame | None, n_patients: int) -> list[dict]:
    """Patients with a later line, regimens (patients per regimen), CAR-T, response to the next line."""
    if subsequent is None or len(subsequent) == 0:
        return [_count("patients with a subsequent therapy", 0, n_patients, group="any")]
    s = subsequent.copy()
    treated = int(s["patient_id"].nunique())
    out = [_count("patients with a subsequent therapy", treated, n_patients, group="any")]
    if "car_t" in s:
        cart = s.loc[s["car_t"].astype("boolean").fillna(False).to_numpy(), "patient_id"].nunique()
        out.append(_count("CAR-T in a subsequent line", int(cart), n_patients, group="any"))
    if "regimen" in s:
        reg = s.assign(regimen=s["regimen"].astype("string").str.strip().fillna("not recorded"))
        counts = reg.groupby("regimen")["patient_id"].nunique().sort_values(ascending=False, kind="stable")
        for regimen, k in counts.items():
            out.append(_count(str(regimen), int(k), treated, group="regimen"))
    if "best_response" in s and "start_date" in s:
        # The response to the NEXT line: the earliest later line of each patient.
        first = s.sort_values(["patient_id", "start_date"], na_position="last").groupby("patient_id").head(1)
        resp = first["best_response"].astype("string").fillna("not assessed")
        for level in ("CR", "PR", "SD", "PD", "NE", "not assessed"):
            k = int(resp.eq(level).sum())
            if k or level != "not assessed":
                out.append(_count(level, k, treated, group="best response to the next line"))
    return out


def death_causes(patients: pd.DataFrame) -> list[dict]:
    """Deaths and their causes (the text after a colon in death_cause is kept out: it may identify)."""
    if "death_date" not in patients:
        return []
    dead = patients["death_date"].notna()
    if "death_cause" in patients:
        dead = dead | patients["death_cause"].notna()
    n_dead = int(dead.sum())
    out = [_count("deaths", n_dead, len(patients), cause="any")]
    if "death_cause" in patients and n_dead:
        cause = patients.loc[dead.to_numpy(), "death_cause"].astype("string")
        cause = cause.str.split(":", n=1).str[0].str.strip().str.lower().fillna("not recorded")
        for level, k in cause.value_counts().sort_index().items():
            out.append(_count(str(level), int(k), n_dead, cause=str(level)))
    return out
