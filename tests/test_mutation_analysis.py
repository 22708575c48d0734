"""A study with a mutations table gets per-gene frequencies and OS/PFS mutated vs wild-type in
results.json and the report (the log-rank and BH q themselves are checked against R in
tests/redcap/test_maf.py)."""
import pandas as pd
import pytest

from rwestudy.analysis.plan import Plan
from rwestudy.analysis.run import analyze
from rwestudy.report.build import report_tables


@pytest.fixture(scope="module")
def analysed(demo_tables):
    return demo_tables, analyze(demo_tables, Plan())


def test_frequencies_are_the_hand_count_of_the_mutations_table(analysed):
    tables, results = analysed
    mut = tables["mutations"].dropna(subset=["patient_id", "gene"])
    freq = pd.DataFrame(results.records["mutation_frequencies"]).set_index("gene")
    tested = mut["patient_id"].nunique()
    assert (freq["n_tested"] == tested).all()
    for gene, rows in mut.groupby("gene"):
        assert freq.loc[gene, "n_mutated"] == rows["patient_id"].nunique()
        assert freq.loc[gene, "percent"] == pytest.approx(100 * rows["patient_id"].nunique() / tested)
    assert list(freq["n_mutated"]) == sorted(freq["n_mutated"], reverse=True)  # most frequent first


def test_survival_rows_count_patients_and_events_of_each_group(analysed):
    tables, results = analysed
    mut = tables["mutations"].dropna(subset=["patient_id", "gene"])
    tested = set(mut["patient_id"])
    surv = pd.DataFrame(results.records["mutation_survival"])
    assert set(surv["endpoint"]) == {"OS", "PFS"}
    os_ = results.endpoints.endpoint("OS").set_index("patient_id")
    os_ = os_[os_.index.isin(tested)]
    for r in surv[surv["endpoint"] == "OS"].itertuples():
        carriers = set(mut.loc[mut["gene"] == r.gene, "patient_id"])
        is_mut = os_.index.isin(carriers)
        assert (r.n_mutated, r.n_wild_type) == (is_mut.sum(), (~is_mut).sum())
        assert (r.events_mutated, r.events_wild_type) == (os_["event"][is_mut].sum(), os_["event"][~is_mut].sum())
        assert r.tested == (min(r.n_mutated, r.n_wild_type) >= 3)
        assert (0 <= r.logrank_p <= r.q_bh + 1e-12 <= 1 + 1e-12) if r.tested else pd.isna(r.logrank_p)


def test_the_report_has_the_mutation_table_and_a_study_without_mutations_has_none(analysed, demo_tables):
    _, results = analysed
    tables = {t.key: t for part in report_tables(results.records).values() for t in part}
    assert "mutations" in tables
    first_gene = results.records["mutation_frequencies"][0]["gene"]
    assert tables["mutations"].rows[0].cells[0] == first_gene
    without = analyze({k: v for k, v in demo_tables.items() if k != "mutations"}, Plan())
    assert without.records["mutation_frequencies"] == [] and without.records["mutation_survival"] == []
    assert "mutations" not in {t.key for part in report_tables(without.records).values() for t in part}
