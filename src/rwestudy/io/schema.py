"""The input contract as data: tables, columns, types, codes and ranges.

This mirrors ``docs/study-data.md`` (the canonical format). Validation of
types, codes and ranges is driven entirely by this table; adding a column
means adding one line here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

RESPONSES = ("CR", "PR", "SD", "PD", "NE")
YES_NO = ("yes", "no")

# Tokens that mean "not available" in any column (case-insensitive), unless
# the column lists the token among its own codes (cell_of_origin "unknown").
# "none" is deliberately not one of them: in related_to it is a value ("not
# related", the spec), and elsewhere it is read as written (a yes/no or number
# column reports it, so a center's "none" is never silently turned into NA).
NA_TOKENS_SHOWN = ("NA", "N/A", "ND", "unknown", "-", "nan", "null")  # as docs/study-data.md lists them
NA_TOKENS = frozenset({""} | {t.lower() for t in NA_TOKENS_SHOWN})


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    kind: id | text | code | yesno | date | int | float | drugs
    codes: canonical codes for kind="code" (matched case-insensitively)
    lo/hi: hard range (outside = error); warn_lo/warn_hi: plausibility (warning)
    """

    name: str
    kind: str
    codes: tuple[str, ...] = ()
    required: bool = False
    lo: float | None = None
    hi: float | None = None
    warn_lo: float | None = None
    warn_hi: float | None = None
    free_text_after_colon: bool = False
    aliases: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    description: str = ""
    required: bool = False
    key: tuple[str, ...] = field(default=())

    @property
    def by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}


C = Column
_STAGE_ALIASES = (("i", "1"), ("ii", "2"), ("iii", "3"), ("iv", "4"))

PATIENTS = Table("patients", (
    C("patient_id", "id", required=True),
    C("center", "text", required=True),
    C("sex", "code", ("M", "F")),
    C("birth_date", "date"),
    C("age_at_diagnosis", "float", lo=0, hi=120, warn_lo=18, warn_hi=100),
    C("age_at_start", "float", lo=0, hi=120, warn_lo=18, warn_hi=100),
    C("diagnosis_date", "date"),
    C("histology", "code", ("DLBCL", "HGBL", "tFL", "PMBL", "other")),
    C("cell_of_origin", "code", ("GCB", "non-GCB", "ABC", "unknown")),
    C("double_hit", "yesno"),
    C("ann_arbor_stage", "int", lo=1, hi=4, aliases=_STAGE_ALIASES),
    C("b_symptoms", "yesno"),
    C("bulky", "yesno"),
    C("extranodal", "yesno"),
    C("measurable_disease", "yesno"),
    C("cns_involvement", "yesno"),
    C("bone_marrow_involvement", "yesno"),
    C("ecog", "int", lo=0, hi=5),
    C("ldh_increased", "yesno"),
    C("ldh", "float", lo=0, hi=100000, warn_hi=10000),
    C("ldh_uln", "float", lo=0, hi=10000, warn_lo=100, warn_hi=1000),
    C("ipi", "int", lo=0, hi=5),
    C("hb_g_dl", "float", lo=0, hi=30, warn_lo=4, warn_hi=20),
    C("platelets_10e9_l", "float", lo=0, hi=5000, warn_hi=1500),
    C("albumin_g_dl", "float", lo=0, hi=10, warn_lo=1, warn_hi=6),
    C("creatinine_mg_dl", "float", lo=0, hi=30, warn_hi=10),
    C("first_line_outcome", "code", ("refractory", "relapsed")),
    C("prior_asct", "yesno"),
    C("prior_car_t", "yesno"),
    C("treatment_start_date", "date"),
    C("treatment_end_date", "date"),
    C("final_response", "code", RESPONSES),
    C("best_response", "code", RESPONSES),
    C("first_response_date", "date"),
    C("cr_date", "date"),
    C("progression_date", "date"),
    C("next_treatment_date", "date"),
    C("death_date", "date"),
    C("death_cause", "code", ("progression", "toxicity", "infection", "other", "unknown"),
      free_text_after_colon=True),
    C("last_contact_date", "date"),
), "one row per patient", required=True, key=("patient_id",))

PRIOR_LINES = Table("prior_lines", (
    C("patient_id", "id", required=True),
    C("line", "int", required=True, lo=1, hi=20),
    C("regimen", "text"),
    C("start_date", "date"),
    C("end_date", "date"),
    C("best_response", "code", RESPONSES),
    C("relapse_date", "date"),
    C("asct", "yesno"),
    C("car_t", "yesno"),
), "one row per earlier line of therapy", key=("patient_id", "line"))

RESPONSES_TABLE = Table("responses", (
    C("patient_id", "id", required=True),
    C("date", "date", required=True),
    C("response", "code", RESPONSES, required=True),
    C("method", "code", ("PET-CT", "CT", "MRI", "clinical")),
), "one row per response assessment")

TREATMENT = Table("treatment", (
    C("patient_id", "id", required=True),
    C("drug", "text", required=True),
    C("cycles", "int", lo=0, hi=500, warn_hi=100),
    C("starting_dose_mg", "float", lo=0, hi=10000),
    C("median_dose_mg", "float", lo=0, hi=10000),
    C("dose_reduced", "yesno"),
    C("reduction_date", "date"),
    C("reduced_dose_cycles", "int", lo=0, hi=500),
    C("discontinued", "code", ("no", "temporary", "permanent")),
    C("discontinuation_reason", "text"),
), "one row per patient and study drug", key=("patient_id", "drug"))

ADVERSE_EVENTS = Table("adverse_events", (
    C("patient_id", "id", required=True),
    C("term", "text", required=True),
    C("category", "code", ("hematologic", "extra-hematologic")),
    C("grade", "int", lo=1, hi=5),
    C("onset_date", "date"),
    C("related_to", "drugs"),
    C("serious", "yesno"),
    C("outcome", "code", ("resolved", "ongoing", "fatal", "unknown")),
), "one row per adverse event")

SUBSEQUENT = Table("subsequent_therapies", (
    C("patient_id", "id", required=True),
    C("start_date", "date"),
    C("regimen", "text"),
    C("best_response", "code", RESPONSES),
    C("car_t", "yesno"),
), "one row per later line")

MUTATIONS = Table("mutations", (
    C("patient_id", "id", required=True),
    C("gene", "text", required=True),
    C("alteration", "code", ("missense", "truncating", "amplification", "deletion", "fusion", "other")),
    C("vaf", "float", lo=0, hi=1),
), "one row per patient and altered gene", key=("patient_id", "gene"))

# Lugano 2014 time points (rwestudy.endpoints.lugano derives the response from them).
# Target lesions 1-6 keep their number at every time point; 0 x 0 when no longer visible.
_TARGETS = tuple(C(f"target{k}_{d}_mm", "float", lo=0, hi=1000, warn_hi=300)
                 for k in range(1, 7) for d in ("ldi", "sdi"))
ASSESSMENTS = Table("assessments", (
    C("patient_id", "id", required=True),
    C("date", "date", required=True),
    C("modality", "code", ("PET-CT", "CT"), required=True),
    C("timepoint", "code", ("baseline", "interim", "end-of-treatment", "follow-up")),
    C("deauville", "code", ("1", "2", "3", "4", "5", "X")),
    C("uptake_vs_baseline", "code", ("decreased", "unchanged", "increased")),
    *_TARGETS,
    C("spd_mm2", "float", lo=0, hi=1e6),
    C("extranodal_disease", "yesno"),
    C("nontarget", "code", ("absent", "present", "progression")),
    C("new_lesions", "yesno"),
    C("bone_marrow", "code", ("negative", "reduced", "positive", "new")),
), "one row per imaging time point (Lugano 2014), baseline included")

TABLES: dict[str, Table] = {t.name: t for t in (
    PATIENTS, PRIOR_LINES, RESPONSES_TABLE, TREATMENT, ADVERSE_EVENTS, SUBSEQUENT, MUTATIONS, ASSESSMENTS)}


_KIND_TEXT = {"id": "text (unique, pseudonymised code)", "text": "text", "yesno": "yes/no",
              "date": "date", "int": "whole number", "float": "number",
              "drugs": "`none` or drug names joined by `+`"}


def _columns_keeping(token: str) -> list[str]:
    return [f"{t.name}.{c.name}" for t in TABLES.values() for c in t.columns if token in c.codes]


def schema_markdown() -> str:
    """The contract as Markdown (docs/study-data.md is generated from this)."""
    lines = ["# Study data format (generated from `src/rwestudy/io/schema.py`)", "",
             "A study is one workbook (one sheet per table) or one folder of `<table>.csv` files.",
             "Only `patients` is required. Empty cells and "
             + ", ".join(f"`{t}`" for t in NA_TOKENS_SHOWN) + " (any case) mean",
             "not available (NA), except where a column lists `unknown` among its codes",
             "(" + ", ".join(_columns_keeping("unknown")) + "): there it is that code.",
             "`none` is not an NA token: in `related_to` it means \"not related to any drug\";",
             "in a yes/no, code or number column it is reported as an unreadable value (map it in",
             "the study mapping if your centers use it); in a text column it is kept as written.",
             "Cells are trimmed of leading and trailing spaces. Yes/no columns accept yes/no,",
             "y/n, 1/0, true/false in any case.",
             "Codes are matched case-insensitively; other spellings go in the study mapping",
             "(see [mapping.md](mapping.md)). Regenerate with",
             "`python -c \"from rwestudy.io.schema import schema_markdown; print(schema_markdown())\"`.", ""]
    for t in TABLES.values():
        lines += [f"## {t.name}{' (required)' if t.required else ''}", "", t.description + ".", "",
                  "| column | type | codes / range | required |", "|---|---|---|---|"]
        for c in t.columns:
            if c.kind == "code":
                rng = ", ".join(c.codes) + ("; free text may follow `:`" if c.free_text_after_colon else "")
                kind = "code"
            else:
                kind = _KIND_TEXT[c.kind]
                parts = []
                if c.lo is not None or c.hi is not None:
                    parts.append(f"{c.lo:g} to {c.hi:g}" if c.lo is not None and c.hi is not None else "")
                if c.warn_lo is not None or c.warn_hi is not None:
                    lo = "" if c.warn_lo is None else f"{c.warn_lo:g}"
                    hi = "" if c.warn_hi is None else f"{c.warn_hi:g}"
                    parts.append(f"warning outside {lo}-{hi}".replace(" -", " up to ").rstrip("-"))
                rng = "; ".join(p for p in parts if p)
            lines.append(f"| {c.name} | {kind} | {rng} | {'yes' if c.required else ''} |")
        lines.append("")
    return "\n".join(lines)
