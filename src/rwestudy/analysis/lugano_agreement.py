"""How far the recorded responses agree with the Lugano 2014 classification of the time points.

For the patients with an ``assessments`` table: the cross-table of the
investigator's best (and final) response against the one derived from the
imaging time points (``endpoints.lugano``), the proportion that agree and
Cohen's kappa (unweighted; a missing recorded response is its own category).
Counts only, never a patient id: who disagrees is in the validation findings.
"""
from __future__ import annotations

import pandas as pd

from rwestudy.endpoints.lugano import patient_responses, timepoint_responses

MEASURES = ("best_response", "final_response")
ORDER = ["CR", "PR", "SD", "PD", "NE", "missing"]
NOTE = ("Lugano 2014 agreement: the recorded best and final responses against the ones derived from the "
        "imaging time points of the assessments table (Cheson et al. 2014); Cohen's kappa, unweighted.")


def cohen_kappa(table: pd.DataFrame) -> float:
    """Unweighted kappa of a square count table (rows: rater 1, columns: rater 2, same labels)."""
    n = table.to_numpy().sum()
    if n == 0:
        return float("nan")
    observed = sum(table.at[c, c] for c in table.index if c in table.columns) / n
    expected = float((table.sum(axis=1) * table.sum(axis=0).reindex(table.index, fill_value=0)).sum()) / n**2
    return float("nan") if expected == 1 else (observed - expected) / (1 - expected)


def lugano_agreement_records(tables: dict[str, pd.DataFrame]) -> dict[str, list[dict]]:
    """``lugano_agreement`` (one row per measure, recorded and derived category) and
    ``lugano_summary`` (one row per measure: n, agree, agreement, kappa)."""
    out = {"lugano_agreement": [], "lugano_summary": []}
    a, patients = tables.get("assessments"), tables.get("patients")
    if a is None or patients is None or a.empty or not {"patient_id", "date", "modality"} <= set(a.columns):
        return out
    pats = patients.dropna(subset=["patient_id"]).drop_duplicates("patient_id")
    derived = patient_responses(timepoint_responses(a, pats), pats).set_index("patient_id")
    derived = derived.loc[derived.index.isin(pats["patient_id"])]
    if derived.empty:
        return out
    recorded = pats.set_index("patient_id").reindex(derived.index)
    for m in MEASURES:
        if m not in recorded.columns:
            continue
        rec = recorded[m].astype("string").fillna("missing")
        der = derived[m].astype("string").fillna("NE")
        table = pd.crosstab(rec, der).reindex(index=ORDER, columns=ORDER, fill_value=0)
        for r in ORDER:
            for c in ORDER:
                if table.at[r, c]:
                    out["lugano_agreement"].append({"measure": m, "recorded": r, "lugano": c,
                                                    "n": int(table.at[r, c])})
        agree = int(sum(table.at[c, c] for c in ORDER))
        n = int(table.to_numpy().sum())
        out["lugano_summary"].append({"measure": m, "n": n, "agree": agree, "agreement": agree / n,
                                      "kappa": cohen_kappa(table)})
    return out
