"""MAIC targets from a registry entry, and our patients as the matching data.

Only what a publication gives can be matched: proportions (male, refractory,
stage III-IV, ECOG >= 2, prior ASCT, >= 3 prior lines) and a median age. A
median is matched the standard way for aggregate data: the weighted share of
our patients older than the published median is set to one half (a median is
not a mean, so matching our mean age to it would be wrong).
"""
from __future__ import annotations

import pandas as pd

# registry field -> (our matching column, how it is built from endpoints.patients)
PROPORTIONS = {
    "male_pct": ("male", lambda p: p["sex"].map({"M": 1.0, "F": 0.0})),
    "primary_refractory_pct": ("primary_refractory", lambda p: _float(p["primary_refractory"])),
    "refractory_last_line_pct": ("refractory_last_line", lambda p: _float(p["refractory_last_line"])),
    "stage_3_4_pct": ("stage_3_4", lambda p: _float(p["stage_3_4"])),
    "ecog_ge2_pct": ("ecog_2_3", lambda p: _float(p["ecog_2_3"])),
    "prior_asct_pct": ("prior_asct", lambda p: _float(p["prior_asct"])),
    "prior_lines_ge3_pct": ("prior_lines_ge3", lambda p: (pd.to_numeric(p["n_prior_lines"], errors="coerce") >= 3)
                            .astype(float).where(p["n_prior_lines"].notna())),
}


def _float(s: pd.Series) -> pd.Series:
    return pd.Series(pd.array(s, dtype="boolean"), index=s.index).astype("Float64").astype(float)


def maic_inputs(study, patients: pd.DataFrame, variables: list[str] | None = None
                ) -> tuple[pd.DataFrame, dict[str, float], list[str]]:
    """(ipd, targets, notes): our patients with 0/1 matching columns and the published proportions.

    ``variables``: registry fields to match (default: every one the study publishes
    and we have). Unknown names are an error listing the choices.
    """
    choices = list(PROPORTIONS) + ["age_median"]
    if variables:
        unknown = [v for v in variables if v not in choices]
        if unknown:
            raise ValueError(f"cannot match {', '.join(unknown)}; choose from {', '.join(choices)}")
    wanted = variables or choices
    ipd = patients[["patient_id"]].copy()
    targets, notes = {}, []
    for field in wanted:
        v = study.get(field)
        if v is None or v.number is None:
            if variables:
                raise ValueError(f"{study.label} does not publish {field}: it cannot be matched")
            continue
        if field == "age_median":
            if "age_at_start" not in patients or patients["age_at_start"].notna().sum() == 0:
                continue
            ipd["age_above_published_median"] = (patients["age_at_start"] > v.number).astype(float).where(
                patients["age_at_start"].notna())
            targets["age_above_published_median"] = 0.5
            notes.append(f"age: the published median {v.number:g} is matched as 50% of patients above it")
            continue
        column, build = PROPORTIONS[field]
        source = {"male": "sex", "prior_lines_ge3": "n_prior_lines"}.get(column, column)
        if source not in patients:
            continue
        ipd[column] = build(patients)
        targets[column] = float(v.number) / 100.0
    if not targets:
        raise ValueError(f"{study.label} publishes no baseline characteristic that we can match")
    return ipd, targets, notes
