"""AE terms against CTCAE v5.0 (the shipped copy of the NCI list)."""
import pandas as pd

from rwestudy.validation.ctcae import ctcae_terms, resolve_terms


def test_term_list_is_complete():
    t = ctcae_terms()
    assert len(t) == 837  # NCI CTCAE v5.0 has 837 terms
    assert t["term"].is_unique
    cat = t.set_index("term")["category"]
    assert cat["Neutrophil count decreased"] == "hematologic"  # Investigations, count decreased
    assert cat["Febrile neutropenia"] == "hematologic"  # Blood and lymphatic system disorders
    assert cat["Diarrhea"] == "extra-hematologic"
    grades = t.set_index("term")
    assert not grades.loc["Febrile neutropenia", "grade_1"] and grades.loc["Febrile neutropenia", "grade_3"]


def test_synonyms_variants_and_unknown():
    r = resolve_terms(pd.Series(["neutropenia", "THROMBOCYTOPENIA", "Anaemia", "Neutrophil count decreased",
                                 "neutrophil  count decreased", "Rash maculo papular", "Nuetropenia", None]))
    got = dict(zip(r["raw"], zip(r["term"], r["status"])))
    assert got["neutropenia"] == ("Neutrophil count decreased", "synonym")
    assert got["THROMBOCYTOPENIA"] == ("Platelet count decreased", "synonym")
    assert got["Anaemia"] == ("Anemia", "synonym")
    assert got["Neutrophil count decreased"] == ("Neutrophil count decreased", "exact")
    assert got["neutrophil  count decreased"] == ("Neutrophil count decreased", "variant")
    assert got["Rash maculo papular"] == ("Rash maculo-papular", "variant")
    assert got["Nuetropenia"][1] == "unknown"
    assert r.set_index("raw").loc["Nuetropenia", "suggestion"] == "Neutrophil count decreased"
    assert len(r) == 7  # NA is not a term
