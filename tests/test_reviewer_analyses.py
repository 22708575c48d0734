"""Competing risks, center effects and RMST in the standard analysis (results sections).

Independent checks: the cause coding against the source columns, the
Aalen-Johansen identity CIF(progression) + CIF(death) = 1 - KM(PFS), RMST as
the area under the analysis' own Kaplan-Meier steps summed here, the sandwich
leaving the HRs alone.
"""
import numpy as np
import pandas as pd
import pytest

import rwestudy
from rwestudy.analysis.competing import pfs_with_cause
from rwestudy.analysis.run import analyze
from rwestudy.figures.cif import cif_figure
from rwestudy.figures.km import risk_counts
from tests.conftest import write_csvs


@pytest.fixture(scope="module")
def results(demo_tables, tmp_path_factory):
    study = rwestudy.load_study(write_csvs(demo_tables, tmp_path_factory.mktemp("rv") / "csv"))
    return analyze(study)


def test_cause_coding_follows_the_source(results, demo_tables):
    d = pfs_with_cause(results.endpoints).set_index("patient_id")
    p = demo_tables["patients"].set_index("patient_id")
    for pid, row in d.iterrows():
        src = p.loc[pid]
        if row["event"] == 0:
            assert row["cause"] == 0
        elif row["reason"] == "progression" or str(src["death_cause"]).lower() == "progression":
            assert row["cause"] == 1, pid
        else:
            assert row["cause"] == 2, pid   # died first, not of lymphoma: non-relapse mortality


def test_cif_of_both_causes_is_one_minus_pfs_km(results):
    cif = results.table("cif")
    km = results.table("landmarks")
    km = km[(km["endpoint"] == "PFS") & (km["group"] == "all")].set_index("time")["surv"]
    total = cif.groupby("time")["cif"].sum()
    np.testing.assert_allclose(total.to_numpy(), 1 - km.loc[total.index].to_numpy(), rtol=1e-12)
    assert ((cif["ci_low"] <= cif["cif"]) & (cif["cif"] <= cif["ci_high"])).all()


def test_gray_test_for_every_factor_of_the_logrank_table(results):
    gray = results.table("gray_tests")
    logrank = results.table("group_tests")
    factors = set(logrank.loc[(logrank["endpoint"] == "PFS") & (logrank["test"] == "logrank"), "variable"])
    assert set(gray["variable"]) == factors
    assert set(gray["cause"]) == {"progression", "death without progression"}
    assert gray["p"].between(0, 1).all()


def test_rmst_is_the_area_under_the_km_steps(results):
    r = results.table("rmst")
    os_all = r[(r["endpoint"] == "OS") & (r["variable"] == "all")].iloc[0]
    km = results.table("km_table")
    km = km[(km["endpoint"] == "OS") & (km["group"] == "all")].sort_values("time")
    tau = os_all["tau"]
    t = np.r_[0.0, km["time"].to_numpy()]
    s = np.r_[1.0, km["surv"].to_numpy()]
    keep = t < tau
    widths = np.diff(np.r_[t[keep], tau])
    assert os_all["rmst"] == pytest.approx(float((widths * s[keep]).sum()), rel=1e-12)
    c = results.table("rmst_contrasts")
    sex = c[(c["endpoint"] == "OS") & (c["variable"] == "sex")].iloc[0]
    lv = r[(r["endpoint"] == "OS") & (r["variable"] == "sex")].set_index("level")["rmst"]
    assert sex["difference"] == pytest.approx(lv[sex["level"]] - lv[sex["reference"]], rel=1e-12)


def test_center_effects_keep_the_hr_and_move_the_se(results):
    ce = results.table("center_effects")
    assert set(ce["method"]) == {"model-based", "stratified by center", "cluster-robust (center)",
                                 "shared gamma frailty (center)"}
    for (e, term), g in ce.groupby(["endpoint", "term"]):
        g = g.set_index("method")
        assert g.loc["cluster-robust (center)", "hr"] == pytest.approx(g.loc["model-based", "hr"], rel=1e-12)
        assert g.loc["cluster-robust (center)", "se_ratio"] == pytest.approx(
            g.loc["cluster-robust (center)", "se"] / g.loc["model-based", "se"], rel=1e-12)
    notes = " ".join(results.table("notes")["note"])
    assert "cluster-robust" in notes and "Competing risks from PFS" in notes


def test_cif_figure_risk_table_is_the_pfs_risk_set(results):
    fig = cif_figure(results)
    counts = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "risk"]
    km = results.table("km_table")
    km = km[(km["endpoint"] == "PFS") & (km["group"] == "all")]
    ticks = fig.axes[0].get_xticks()
    assert counts == [str(k) for k in risk_counts(km, ticks)]
