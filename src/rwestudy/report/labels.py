"""Human labels for variables, endpoints and codes used in tables and text."""
from __future__ import annotations

from rwestudy.analysis.run import FACTOR_LABELS

VARIABLE_LABELS = {
    **FACTOR_LABELS,
    "age_at_start": "Age at start of treatment, years", "age_at_diagnosis": "Age at diagnosis, years",
    "histology": "Histology", "cell_of_origin": "Cell of origin", "ann_arbor_stage": "Ann Arbor stage",
    "ecog": "ECOG performance status", "n_prior_lines": "Number of prior lines",
    "prior_car_t": "Prior CAR-T", "months_from_last_therapy": "Months from last therapy",
    "cns_involvement": "CNS involvement", "bone_marrow_involvement": "Bone marrow involvement",
    "ipi": "IPI", "first_line_outcome": "Outcome of first line", "measurable_disease": "Measurable disease",
    "orr_best": "Best overall response (CR+PR)", "cr_best": "Best complete response",
}

ENDPOINT_LABELS = {
    "OS": "Overall survival", "PFS": "Progression-free survival", "DoR": "Duration of response",
    "DFS": "Disease-free survival", "TTNT": "Time to next treatment",
}

RESPONSE_LABELS = {"CR": "Complete response", "PR": "Partial response", "SD": "Stable disease",
                   "PD": "Progressive disease", "NE": "Not evaluable", "not assessed": "Not assessed"}


def label(variable: str) -> str:
    return VARIABLE_LABELS.get(variable, variable.replace("_", " ").capitalize())
