"""MAF in: the variant rule, one row per patient and gene, frequencies over the patients tested,
the oncoprint, OS by mutated vs wild-type (log-rank and BH q-values checked against R)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwestudy.analysis.mutation_survival import benjamini_hochberg
from rwestudy.io.maf import read_maf
from rwestudy.commands.mutations import analyse_mutations

HERE = Path(__file__).resolve().parent
MAF = HERE.parent / "fixtures" / "maf"
R_BH = HERE.parent / "fixtures" / "r" / "p_adjust.json"  # Rscript reference/r/p_adjust.R


@pytest.mark.parametrize("case", sorted(json.loads(R_BH.read_text())))
def test_bh_q_values_agree_with_r_p_adjust(case):
    ref = json.loads(R_BH.read_text())[case]
    p = np.array([np.nan if x is None else x for x in ref["p"]])
    bh = np.array([np.nan if x is None else x for x in ref["bh"]])
    np.testing.assert_allclose(benjamini_hochberg(p), bh, rtol=1e-12, equal_nan=True)


def test_variants_kept_and_one_row_per_patient_and_gene():
    mutations, variants, tested, findings = read_maf(MAF / "cohort.maf", MAF / "samples.csv")
    # By hand from cohort.maf: silent, 3'UTR and intron variants dropped; S1's two TP53 variants are one
    # truncating row (nonsense beats missense) with the higher VAF 30/100.
    got = mutations.set_index(["patient_id", "gene"])[["alteration", "vaf"]]
    assert got.to_dict("index") == {
        ("P1", "MYD88"): {"alteration": "missense", "vaf": 0.5},
        ("P1", "TP53"): {"alteration": "truncating", "vaf": 0.3},
        ("P2", "TP53"): {"alteration": "truncating", "vaf": 0.4},
        ("P3", "KMT2D"): {"alteration": "truncating", "vaf": 0.1},
        ("P3", "MYD88"): {"alteration": "missense", "vaf": 0.25},
        ("P4", "TP53"): {"alteration": "other", "vaf": 0.25}}
    assert tested == ["P1", "P2", "P3", "P4", "P5", "P6"]  # P6: sequenced, no variant
    f = findings.set_index("rule")
    assert (f.loc["maf-sample-unknown", "severity"], f.loc["maf-sample-unknown", "row"]) == ("error", 14)
    assert f.loc["maf-class-unknown", "value"] == "Weird_Class"
    assert "Silent: 1" in f.loc["maf-class-dropped", "message"]


def test_frequencies_survival_and_oncoprint(tmp_path):
    r = analyse_mutations(MAF / "cohort.maf", MAF / "samples.csv", clinical=MAF / "data_clinical_patient.txt",
                          out=tmp_path)
    freq = r["frequencies"].set_index("gene")
    assert freq.loc["TP53", ["n_mutated", "n_tested"]].tolist() == [3, 6]
    assert freq.loc["MYD88", "percent"] == pytest.approx(100 * 2 / 6)
    s = r["survival_by_gene"].set_index("gene")
    tp53 = s.loc["TP53"]
    assert (tp53.n_mutated, tp53.events_mutated, tp53.n_wild_type, tp53.events_wild_type) == (3, 3, 3, 1)
    # R: survdiff(Surv(t, e) ~ g) with t = 5, 8, 20, 3, 15, 30; e = 1, 1, 0, 1, 1, 0; g = 1, 1, 0, 1, 0, 0
    assert tp53.logrank_p == pytest.approx(0.024602349953641744, rel=1e-9)
    assert tp53.q_bh == pytest.approx(tp53.logrank_p)  # the only gene with >= 3 per group
    assert not s.loc["MYD88", "tested"] and np.isnan(s.loc["MYD88", "logrank_p"])
    assert (tmp_path / "oncoprint.png").stat().st_size > 1000 and (tmp_path / "oncoprint.svg").is_file()
    assert "Missense_Mutation" in (tmp_path / "variant_rule.txt").read_text()


def test_maf_missing_required_columns_is_a_finding(tmp_path):
    (tmp_path / "bad.maf").write_text("Hugo_Symbol\tSample\nTP53\tS1\n", encoding="utf-8")
    mutations, _, _, findings = read_maf(tmp_path / "bad.maf")
    f = findings[findings["rule"] == "maf-columns"].iloc[0]
    assert f["severity"] == "error" and "Tumor_Sample_Barcode, Variant_Classification" in f["message"]
    assert mutations.empty


def test_demo_study_mutations_through_a_maf(tmp_path):
    from rwestudy.demo.generator import make_study
    from rwestudy.io.writers import write_csv_folder

    tables = make_study()
    write_csv_folder(tables, tmp_path / "study")
    m = tables["mutations"]
    cls = {"missense": "Missense_Mutation", "truncating": "Nonsense_Mutation"}
    keep = m[m["alteration"].isin(list(cls))]
    maf = pd.DataFrame({"Hugo_Symbol": keep["gene"], "Tumor_Sample_Barcode": "T-" + keep["patient_id"],
                        "Variant_Classification": keep["alteration"].map(cls)})
    maf.to_csv(tmp_path / "demo.maf", sep="\t", index=False)
    pd.DataFrame({"sample_id": "T-" + tables["patients"]["patient_id"],
                  "patient_id": tables["patients"]["patient_id"]}).to_csv(tmp_path / "samples.csv", index=False)
    r = analyse_mutations(tmp_path / "demo.maf", tmp_path / "samples.csv", study=tmp_path / "study")
    expected = keep.groupby("gene")["patient_id"].nunique()
    got = r["frequencies"].set_index("gene")["n_mutated"]
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()
    assert set(r["survival_by_gene"]["endpoint"]) == {"OS", "PFS"}
    assert (r["survival_by_gene"]["n_mutated"] + r["survival_by_gene"]["n_wild_type"] <= 96).all()


def test_mutations_command(tmp_path):
    import os

    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1] / "src")}
    p = subprocess.run([sys.executable, "-m", "rwestudy.cli", "mutations", "--maf", str(MAF / "cohort.maf"),
                        "--samples", str(MAF / "samples.csv"), "--clinical", str(MAF / "data_clinical_patient.txt"),
                        "--out", "m"], cwd=tmp_path, env=env, text=True, capture_output=True, timeout=300)
    assert p.returncode == 1, p.stderr  # S7 is not in the sample table: an error, said
    assert "sample 'S7'" in p.stdout and "OS TP53: mutated 3 (3 events) vs wild-type 3 (1 events)" in p.stdout
    assert "Traceback" not in p.stderr and (tmp_path / "m" / "gene_frequencies.csv").is_file()
