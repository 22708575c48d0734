"""The registry file format as data: one table drives validation, the JSON Schema and the docs.

Why a plain dict spec and not pydantic: pydantic is not a declared dependency,
and a spec that is data can be rendered into the shipped JSON Schema
(``study.schema.json``), checked by our own small validator at run time
(jsonschema is only a dev dependency), and listed in docs/registry.md.
"""
from __future__ import annotations

from dataclasses import dataclass

# Provenance tags of the literature sheet, kept verbatim so a reader can weigh each number.
SOURCE_QUALITY = {
    "P": "the study's own publication (full text or abstract)",
    "P-conf": "the study's own conference abstract",
    "S-TALOs": "secondary: quoted by the TALOs paper (Argnani 2026), not checked against the primary",
    "S-Korean": "secondary: quoted by the Korean R2 paper (Lee 2021)",
    "S-news": "secondary: news article",
    "S-review": "secondary: review article",
    "S-press": "secondary: company press release",
    "S-reg": "secondary: regulator's review",
    "user": "entered by the user (say where from in the citation)",
}
DESIGNS = ("phase II trial", "retrospective", "matched cohort", "early access programme", "not found")
ASSESSMENTS = ("best", "final", "end of induction", "not stated")
FOLLOWUP_METHODS = ("reverse Kaplan-Meier", "median observation time", "not stated")
AE_BASES = ("per patient", "per event", "not stated")

# Keys every sourced value carries (a value, an AE rate, an "other" item).
PROVENANCE_KEYS = {"source": "key of a [sources.*] table of the same file",
                   "where": "table / page / section of the source",
                   "quote": "short verbatim fragment that locates the number",
                   "note": "free text (optional)", "derived": "how the number was derived, if it was (optional)",
                   "also": "further sources for the same number: list of {source, where, quote} (optional)"}
REQUIRED_PROVENANCE = ("source", "where", "quote")

# What each kind of value may hold besides provenance. "NR" marks a bound not reached
# (TOML has no null: a missing number is simply left out).
KIND_KEYS = {
    "count": {"value": "integer >= 0"},
    "number": {"value": "number", "range": "[low, high]"},
    "percent": {"pct": "number 0-100", "n": "integer numerator", "N": "integer denominator",
                "ci": "[low, high] in %", "ci_level": "e.g. 0.95"},
    "median": {"value": "number (months or years)", "reached": "false when not reached (then no value)",
               "ci": "[low, high or \"NR\"]", "range": "[low, high]", "ci_level": "e.g. 0.95"},
    "text": {"value": "string"},
    "date": {"value": "TOML date (YYYY-MM-DD)"},
}


@dataclass(frozen=True)
class Field:
    kind: str
    label: str
    group: str
    extra: tuple[str, ...] = ()      # kind-specific keys beyond KIND_KEYS (e.g. assessment)
    required_extra: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()    # allowed text values
    unit: str = ""


FIELDS: dict[str, Field] = {
    # design and population
    "design_detail": Field("text", "Design as described", "design"),
    "setting": Field("text", "Setting (country, centres, period)", "design"),
    "eligibility": Field("text", "Key eligibility", "design"),
    "prior_lines_eligible_min": Field("count", "Eligible prior lines, minimum", "design"),
    "prior_lines_eligible_max": Field("count", "Eligible prior lines, maximum", "design"),
    "regimen_detail": Field("text", "Regimen (doses, schedule)", "design"),
    "data_cutoff": Field("date", "Data cut-off", "design"),
    "n_enrolled": Field("count", "Patients enrolled", "design"),
    "n": Field("count", "Patients analysed", "design"),
    # baseline
    "age_median": Field("median", "Median age", "baseline", unit="years"),
    "age_mean": Field("number", "Mean age", "baseline", unit="years"),
    "age_sd": Field("number", "SD of age", "baseline", unit="years"),
    "male_pct": Field("percent", "Male", "baseline"),
    "primary_refractory_pct": Field("percent", "Refractory to first line", "baseline"),
    "refractory_last_line_pct": Field("percent", "Refractory to last line", "baseline"),
    "prior_lines_median": Field("number", "Prior lines, median", "baseline"),
    "prior_lines_ge3_pct": Field("percent", ">= 3 prior lines", "baseline"),
    "stage_3_4_pct": Field("percent", "Ann Arbor stage III-IV", "baseline"),
    "ecog_ge2_pct": Field("percent", "ECOG >= 2", "baseline"),
    "ipi_ge3_pct": Field("percent", "IPI >= 3", "baseline"),
    "ldh_elevated_pct": Field("percent", "Elevated LDH", "baseline"),
    "double_hit_pct": Field("percent", "Double-hit", "baseline"),
    "prior_asct_pct": Field("percent", "Prior ASCT", "baseline"),
    "prior_car_t_pct": Field("percent", "Prior CAR-T", "baseline"),
    # response: `orr`/`cr` is the headline rate, with which response it is
    "orr": Field("percent", "ORR", "outcome", extra=("assessment",), required_extra=("assessment",),
                 choices=ASSESSMENTS),
    "cr": Field("percent", "CR rate", "outcome", extra=("assessment",), required_extra=("assessment",),
                choices=ASSESSMENTS),
    "orr_final": Field("percent", "ORR at end of treatment", "outcome"),
    "cr_final": Field("percent", "CR rate at end of treatment", "outcome"),
    "response_assessor": Field("text", "Response assessed by", "outcome"),
    "response_criteria": Field("text", "Response criteria", "outcome"),
    # time to event (months)
    "pfs_median": Field("median", "Median PFS", "outcome", unit="months"),
    "os_median": Field("median", "Median OS", "outcome", unit="months"),
    "dor_median": Field("median", "Median DoR", "outcome", unit="months"),
    "followup_median": Field("median", "Median follow-up", "outcome", extra=("method",),
                             required_extra=("method",), choices=FOLLOWUP_METHODS, unit="months"),
    "followup_minimum": Field("number", "Minimum follow-up", "outcome", unit="months"),
    # safety
    "ae_basis": Field("text", "AE rates counted", "safety", choices=AE_BASES),
}
GROUPS = ("design", "baseline", "outcome", "safety")

TOP_LEVEL = {
    "id": "unique slug, e.g. lmind-5year (letters, digits, hyphens)",
    "label": "short name for tables, e.g. \"L-MIND final 5-year (Duell 2024)\"",
    "study": "the study this analysis belongs to, e.g. \"L-MIND\" (entries of one study share it)",
    "analysis": "which analysis / data cut, e.g. \"final 5-year\"",
    "design": "one of: " + ", ".join(DESIGNS),
    "regimen": "short regimen name, e.g. \"tafasitamab + lenalidomide\"",
    "citation": "full reference of the publication this entry describes",
    "doi": "DOI of that publication (optional)",
    "url": "URL of that publication (optional)",
    "year": "publication year of that publication (integer; sorts the registry)",
    "caveats": "list of strings: what a reader must know (optional)",
}
REQUIRED_TOP = ("id", "label", "study", "analysis", "design", "regimen", "citation", "sources")
SOURCE_KEYS = {"citation": "reference", "doi": "DOI (doi or url required)", "url": "URL (doi or url required)",
               "source_quality": "one of: " + ", ".join(SOURCE_QUALITY), "read": "what of it could be read (optional)"}
AE_KEYS = {"term": "AE term", "grade": "\"any\", \">=3\", \"3-4\" ...", "basis": "one of: " + ", ".join(AE_BASES)}
OTHER_KEYS = {"label": "what the number is", "value": "number or text", "unit": "unit (optional)",
              "n": "numerator (optional)", "N": "denominator (optional)", "ci": "[low, high] (optional)",
              "p": "p value as printed (optional, text)"}


def json_schema() -> dict:
    """JSON Schema (draft 2020-12) of one registry file, generated from the spec above."""
    num = {"type": "number"}
    bound = {"anyOf": [num, {"const": "NR"}]}
    pair = {"type": "array", "items": bound, "minItems": 2, "maxItems": 2}
    prov = {"source": {"type": "string"}, "where": {"type": "string", "minLength": 1},
            "quote": {"type": "string", "minLength": 3}, "note": {"type": "string"},
            "derived": {"type": "string"},
            "also": {"type": "array", "items": {"type": "object", "required": list(REQUIRED_PROVENANCE),
                                                "properties": {k: {"type": "string"} for k in REQUIRED_PROVENANCE},
                                                "additionalProperties": False}}}
    kinds = {
        "count": {"value": {"type": "integer", "minimum": 0}},
        "number": {"value": num, "range": pair},
        "percent": {"pct": {"type": "number", "minimum": 0, "maximum": 100}, "n": {"type": "integer", "minimum": 0},
                    "N": {"type": "integer", "minimum": 1}, "ci": pair, "ci_level": num},
        "median": {"value": num, "reached": {"type": "boolean"}, "ci": pair, "range": pair, "ci_level": num},
        "text": {"value": {"type": "string"}},
        "date": {"value": {"type": "string", "format": "date"}},
    }
    values = {}
    for name, f in FIELDS.items():
        props = dict(prov, **kinds[f.kind])
        for e in f.extra:
            props[e] = {"enum": list(f.choices)}
        if f.kind == "text" and f.choices:
            props["value"] = {"enum": list(f.choices)}
        values[name] = {"type": "object", "title": f.label, "properties": props, "additionalProperties": False,
                        "required": list(REQUIRED_PROVENANCE) + list(f.required_extra)}
    ae = {"type": "object", "additionalProperties": False,
          "required": ["term", "grade", "basis", *REQUIRED_PROVENANCE],
          "properties": dict(prov, **kinds["percent"], term={"type": "string"}, grade={"type": "string"},
                             basis={"enum": list(AE_BASES)})}
    other = {"type": "object", "additionalProperties": False, "required": ["label", "value", *REQUIRED_PROVENANCE],
             "properties": dict(prov, label={"type": "string"}, value={"type": ["number", "string", "boolean"]},
                                unit={"type": "string"}, n={"type": "integer"}, N={"type": "integer"}, ci=pair,
                                p={"type": "string"})}
    source = {"type": "object", "additionalProperties": False, "required": ["citation", "source_quality"],
              "anyOf": [{"required": ["doi"]}, {"required": ["url"]}],
              "properties": {"citation": {"type": "string"}, "doi": {"type": "string"}, "url": {"type": "string"},
                             "source_quality": {"enum": list(SOURCE_QUALITY)}, "read": {"type": "string"}}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://rwestudy/registry/study.schema.json",
        "title": "rwestudy registry entry: published aggregate results of one study analysis",
        "type": "object", "additionalProperties": False, "required": list(REQUIRED_TOP),
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
            "label": {"type": "string"}, "study": {"type": "string"}, "analysis": {"type": "string"},
            "design": {"enum": list(DESIGNS)}, "regimen": {"type": "string"}, "citation": {"type": "string"},
            "doi": {"type": "string"}, "url": {"type": "string"}, "year": {"type": "integer"},
            "caveats": {"type": "array", "items": {"type": "string"}},
            "sources": {"type": "object", "minProperties": 1, "additionalProperties": source},
            "values": {"type": "object", "properties": values, "additionalProperties": False},
            "adverse_events": {"type": "array", "items": ae},
            "other": {"type": "array", "items": other},
        },
    }


def fields_markdown() -> str:
    """The field reference of docs/registry.md (generated, so the docs cannot drift from the code)."""
    lines = ["| field | kind | meaning | unit | extra keys |", "|---|---|---|---|---|"]
    for group in GROUPS:
        for name, f in FIELDS.items():
            if f.group != group:
                continue
            extra = "; ".join(f"`{e}`{' (required)' if e in f.required_extra else ''}: " + ", ".join(f.choices)
                              for e in f.extra)
            if f.kind == "text" and f.choices:
                extra = "value: " + ", ".join(f.choices)
            lines.append(f"| `{name}` | {f.kind} | {f.label} | {f.unit} | {extra} |")
    kinds = ["| kind | keys |", "|---|---|"] + [
        f"| {k} | " + "; ".join(f"`{key}`: {what}" for key, what in keys.items()) + " |" for k, keys in KIND_KEYS.items()]
    prov = ["| key | meaning |", "|---|---|"] + [f"| `{k}` | {v}{' (required)' if k in REQUIRED_PROVENANCE else ''} |"
                                               for k, v in PROVENANCE_KEYS.items()]
    top = ["| key | meaning |", "|---|---|"] + [f"| `{k}` | {v}{' (required)' if k in REQUIRED_TOP else ''} |"
                                              for k, v in TOP_LEVEL.items()]
    src = ["| key | meaning |", "|---|---|"] + [f"| `{k}` | {v} |" for k, v in SOURCE_KEYS.items()]
    qual = ["| tag | meaning |", "|---|---|"] + [f"| `{k}` | {v} |" for k, v in SOURCE_QUALITY.items()]
    ae = ["| key | meaning |", "|---|---|"] + [f"| `{k}` | {v} |" for k, v in AE_KEYS.items()]
    other = ["| key | meaning |", "|---|---|"] + [f"| `{k}` | {v} |" for k, v in OTHER_KEYS.items()]
    return "\n".join([
        "### Top level", *top, "", "### `[sources.KEY]`", *src, "", "### Source quality tags", *qual, "",
        "### `[values.FIELD]`: the fields", *lines, "", "### What each kind holds", *kinds, "",
        "### Provenance keys (every value, AE rate and other item)", *prov, "",
        "### `[[adverse_events]]` (plus the percent keys and provenance)", *ae, "",
        "### `[[other]]` (plus provenance)", *other])
