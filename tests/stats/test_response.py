"""response_table / response_by_group: counts by hand, CIs and tests from R
(reference/r/response_ae.R -> tests/fixtures/r/response_ae.json)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwestudy.stats.conventions import get_conventions
from rwestudy.stats.response import (
    CR_LABEL, NOT_ASSESSED, ORR_LABEL, response_by_group, response_table,
)

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures/r/response_ae.json").read_text())
RTOL = 1e-6
R_CI = {(c["x"], c["n"], c["conf_level"]): (c["low"], c["high"]) for c in FIXTURE["binom_test"]}

# 83 treated patients (the fixture's counts): group A 45, group B 36, 2 without group.
_COUNTS = {
    "A": {"CR": 12, "PR": 13, "SD": 5, "PD": 10, "NE": 3, None: 2},
    "B": {"CR": 5, "PR": 8, "SD": 5, "PD": 13, "NE": 3, None: 2},
    None: {"PR": 1, "PD": 1},
}


def _patients() -> pd.DataFrame:
    rows = [(g, r) for g, by_resp in _COUNTS.items() for r, k in by_resp.items() for _ in range(k)]
    df = pd.DataFrame(rows, columns=["arm", "best_response"])
    # shuffle so nothing depends on row order
    return df.sample(frac=1, random_state=3).reset_index(drop=True)


def _r_ci(x, n, conf=0.95):
    return np.array(R_CI[(x, n, conf)]) * 100


def test_counts_by_hand():
    t = response_table(_patients()).set_index("category")
    # totals over both groups and the 2 ungrouped patients:
    # CR 12+5 = 17, PR 13+8+1 = 22, SD 10, PD 10+13+1 = 24, NE 6, missing 4 -> 83
    assert t["n"].to_dict() == {"CR": 17, "PR": 22, "SD": 10, "PD": 24, "NE": 6, NOT_ASSESSED: 4,
                                ORR_LABEL: 39, CR_LABEL: 17}
    assert (t["denominator"] == 83).all()  # NE and missing stay in the denominator
    assert t.loc[ORR_LABEL, "pct"] == pytest.approx(100 * 39 / 83)
    assert t.loc[CR_LABEL, "pct"] == pytest.approx(100 * 17 / 83)
    assert list(t["row_type"]) == ["category"] * 5 + ["missing", "rate", "rate"]
    assert (t["ci_method"] == "exact").all()


@pytest.mark.parametrize("label,x", [("CR", 17), ("PR", 22), ("SD", 10), ("PD", 24), ("NE", 6),
                                     (NOT_ASSESSED, 4), (ORR_LABEL, 39), (CR_LABEL, 17)])
def test_ci_matches_r_binom_test(label, x):
    row = response_table(_patients()).set_index("category").loc[label]
    np.testing.assert_allclose([row.ci_low, row.ci_high], _r_ci(x, 83), rtol=RTOL)


def test_conf_level_from_conventions():
    conv = get_conventions(conf_level=0.90)
    t = response_table(_patients(), conventions=conv).set_index("category")
    np.testing.assert_allclose(t.loc[ORR_LABEL, ["ci_low", "ci_high"]].astype(float), _r_ci(39, 83, 0.90), rtol=RTOL)
    np.testing.assert_allclose(t.loc[CR_LABEL, ["ci_low", "ci_high"]].astype(float), _r_ci(17, 83, 0.90), rtol=RTOL)
    assert (t["conf_level"] == 0.90).all()


def test_method_override_is_reported():
    t = response_table(_patients(), method="wilson")
    assert (t["ci_method"] == "wilson").all()


def test_not_assessed_row_always_present():
    t = response_table(pd.DataFrame({"best_response": ["CR", "PD"]})).set_index("category")
    assert t.loc[NOT_ASSESSED, "n"] == 0
    assert t.loc[ORR_LABEL, "n"] == 1 and t.loc[ORR_LABEL, "denominator"] == 2


def test_unknown_code_raises_and_names_column():
    with pytest.raises(ValueError, match="final_response"):
        response_table(pd.DataFrame({"final_response": ["CR", "VGPR"]}), "final_response")


def test_by_group_counts_and_cis():
    r = response_by_group(_patients(), "best_response", "arm")
    t = r.table.set_index(["endpoint", "group"])
    # A: ORR 12+13 = 25 of 45, CR 12 of 45; B: ORR 5+8 = 13 of 36, CR 5 of 36; no group: ORR 1 of 2, CR 0 of 2
    expected = {(ORR_LABEL, "A"): (25, 45), (ORR_LABEL, "B"): (13, 36), (ORR_LABEL, "NA"): (1, 2),
                (CR_LABEL, "A"): (12, 45), (CR_LABEL, "B"): (5, 36), (CR_LABEL, "NA"): (0, 2)}
    for key, (x, n) in expected.items():
        assert (t.loc[key, "n"], t.loc[key, "denominator"]) == (x, n)
        np.testing.assert_allclose([t.loc[key, "ci_low"], t.loc[key, "ci_high"]], _r_ci(x, n), rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("endpoint,key", [(ORR_LABEL, "orr_by_group"), (CR_LABEL, "cr_by_group")])
def test_by_group_test_matches_r_chisq(endpoint, key):
    ref = FIXTURE[key]
    # our crosstab of responder by arm must be R's matrix (rows A, B; columns yes, no)
    t = response_by_group(_patients(), "best_response", "arm").table.set_index(["endpoint", "group"])
    for i, g in enumerate("AB"):
        x, n = t.loc[(endpoint, g), ["n", "denominator"]]
        assert [x, n - x] == ref["uncorrected"]["table"][i]
    tests = response_by_group(_patients(), "best_response", "arm").tests.set_index("endpoint")
    row = tests.loc[endpoint]
    assert row.test == "Pearson's chi-square test"
    assert row.statistic == pytest.approx(ref["uncorrected"]["statistic"], rel=RTOL)
    assert row.p == pytest.approx(ref["uncorrected"]["p"], rel=RTOL)
    assert row.n_used == 81 and row.n_excluded == 2  # the 2 ungrouped patients
    yates = response_by_group(_patients(), "best_response", "arm", conventions=get_conventions("r"))
    yrow = yates.tests.set_index("endpoint").loc[endpoint]
    assert "Yates" in yrow.test
    assert yrow.p == pytest.approx(ref["yates"]["p"], rel=RTOL)


def test_by_group_small_table_uses_fisher():
    ref = FIXTURE["cr_small_fisher"]  # A: CR 3 of 5, B: CR 0 of 5; smallest expected 1.5
    p = pd.DataFrame({"best_response": ["CR"] * 3 + ["PD"] * 2 + ["PD", "SD", "NE", "PD", None],
                      "arm": ["A"] * 5 + ["B"] * 5})
    r = response_by_group(p, "best_response", "arm")
    assert r.cr_test.test == "Fisher's exact test"
    assert r.cr_test.p == pytest.approx(ref["p"], rel=RTOL)
    assert "Fisher" in r.tests.set_index("endpoint").loc[CR_LABEL, "rule"]
    np.testing.assert_allclose(r.table.set_index(["endpoint", "group"]).loc[(CR_LABEL, "A"), ["ci_low", "ci_high"]]
                               .astype(float), _r_ci(3, 5), rtol=RTOL)


def test_demo_study_final_and_best():
    from rwestudy.demo.generator import make_study

    pts = make_study(n_patients=83, seed=5)["patients"]
    for col in ("best_response", "final_response"):
        t = response_table(pts, col).set_index("category")
        # invariants, not values: categories + not assessed add up to all patients
        assert t.loc[["CR", "PR", "SD", "PD", "NE", NOT_ASSESSED], "n"].sum() == 83
        assert t.loc[ORR_LABEL, "n"] == t.loc["CR", "n"] + t.loc["PR", "n"]
