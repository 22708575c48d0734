"""Adverse-event terms against CTCAE v5.0.

Charts say "neutropenia", "Neutropenia ", "NEUTROPENIA" or "Neutrophil count
decreased" for the same event; tables must count them as one. Each distinct
raw term is resolved once (the number of distinct terms is small even for a
large study) and the result mapped back onto the rows. Every change of
spelling is reported as a finding, never merged silently.
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache
from importlib.resources import files

import pandas as pd

HEMATOLOGIC_SOC = "Blood and lymphatic system disorders"
# Count-decreased terms of "Investigations" are hematologic toxicity too.
HEMATOLOGIC_INVESTIGATIONS = frozenset({
    "Neutrophil count decreased", "Platelet count decreased", "White blood cell decreased",
    "Lymphocyte count decreased", "CD4 lymphocytes decreased",
})


def _key(term: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(term).strip().lower())


@lru_cache(maxsize=1)
def ctcae_terms() -> pd.DataFrame:
    """The CTCAE v5.0 term list: term, soc, meddra_code, category, grade_1..grade_5 defined."""
    with files("rwestudy.data").joinpath("ctcae_v5.csv").open(encoding="utf-8") as fh:
        raw = pd.read_csv(fh, dtype=str, keep_default_na=False)
    out = pd.DataFrame({
        "term": raw["ctcae_term"],
        "soc": raw["meddra_soc"],
        "meddra_code": raw["meddra_code"],
    })
    hem = (out["soc"] == HEMATOLOGIC_SOC) | out["term"].isin(HEMATOLOGIC_INVESTIGATIONS)
    out["category"] = hem.map({True: "hematologic", False: "extra-hematologic"})
    for g in range(1, 6):
        out[f"grade_{g}"] = raw[f"grade_{g}"].str.strip().ne("")
    return out


@lru_cache(maxsize=1)
def _lookup() -> tuple[dict[str, str], dict[str, str]]:
    terms = ctcae_terms()
    canonical = {_key(t): t for t in terms["term"]}
    with files("rwestudy.data").joinpath("ae_synonyms.csv").open(encoding="utf-8") as fh:
        syn = pd.read_csv(fh, dtype=str)
    unknown = set(syn["ctcae_term"]) - set(terms["term"])
    if unknown:  # a packaging error, not a data error
        raise RuntimeError(f"ae_synonyms.csv maps to non-CTCAE terms: {sorted(unknown)}")
    synonyms = {_key(s): t for s, t in zip(syn["synonym"], syn["ctcae_term"])}
    return canonical, synonyms


def resolve_terms(raw_terms: pd.Series) -> pd.DataFrame:
    """Resolve distinct raw terms.

    Returns one row per distinct non-missing raw term with columns ``raw``,
    ``term`` (CTCAE term, or the raw text when unknown), ``status``
    (exact/variant/synonym/unknown), ``suggestion``.

    >>> resolve_terms(pd.Series(["Neutropenia", "platelet count  decreased", "Anemia"]))[["term", "status"]].values.tolist()
    [['Neutrophil count decreased', 'synonym'], ['Platelet count decreased', 'variant'], ['Anemia', 'exact']]
    """
    canonical, synonyms = _lookup()
    rows = []
    for raw in pd.unique(raw_terms.dropna()):
        text = str(raw).strip()
        k = _key(text)
        if k in canonical:
            term = canonical[k]
            status = "exact" if text == term else "variant"
            suggestion = None
        elif k in synonyms:
            term, status, suggestion = synonyms[k], "synonym", None
        else:
            close = difflib.get_close_matches(k, list(canonical) + list(synonyms), n=1, cutoff=0.85)
            suggestion = (canonical.get(close[0]) or synonyms.get(close[0])) if close else None
            term, status = text, "unknown"
        rows.append((raw, term, status, suggestion))
    return pd.DataFrame(rows, columns=["raw", "term", "status", "suggestion"])
