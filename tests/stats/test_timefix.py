"""R's timefix: noise-level time differences are ties in the r profile (reference/r/timefix.R)."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwestudy.stats.conventions import get_conventions
from rwestudy.stats.cox import cox
from rwestudy.stats.group_tests import compare_survival
from rwestudy.stats.survival import kaplan_meier

R = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "r" / "timefix.json").read_text())
DATA = pd.DataFrame({
    "time": [0.1 * 3, 0.3, 0.7, 0.7 + 1e-12, 1.1, 1.1 * (1 + 2e-9), 2, 2.5, 3, 3 + 1e-7],
    "event": [1, 1, 1, 0, 1, 1, 0, 1, 1, 1],
    "x": [1, 0, 1, 0, 0, 1, 1, 0, 1, 0],
})


def test_km_r_profile_ties_noise_as_r():
    km = kaplan_meier(DATA, "time", "event", conventions=get_conventions("r"))
    np.testing.assert_allclose(km.table["time"], R["km_time"], rtol=1e-15)
    np.testing.assert_allclose(km.table["surv"], R["km_surv"], rtol=1e-12)
    np.testing.assert_allclose(km.table["n_risk"], R["km_n_risk"])


def test_other_profiles_compare_exactly():
    km = kaplan_meier(DATA, "time", "event", conventions=get_conventions("stata"))
    assert len(km.table) == R["n_times_raw"]


def test_cox_and_logrank_r_profile():
    r = get_conventions("r")
    assert cox(DATA, "time", "event", ["x"], conventions=r).table["coef"].iloc[0] == pytest.approx(R["cox_coef"], rel=1e-8)
    assert cox(DATA, "time", "event", ["x"], conventions=get_conventions("sas"), ties="efron").table["coef"].iloc[0] \
        == pytest.approx(R["cox_coef_nofix"], rel=1e-8)
    assert compare_survival(DATA, "time", "event", "x", test="logrank", conventions=r).statistic \
        == pytest.approx(R["logrank_chisq"], rel=1e-10)


def test_timefix_is_stated():
    assert any("timefix" in s for s in get_conventions("r").describe())
    assert not any("timefix" in s for s in get_conventions("rwestudy").describe())
