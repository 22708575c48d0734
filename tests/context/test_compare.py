"""Our cohort beside published studies: hand-checked tests, SMDs, warnings, sentences, forest plot."""
import io
import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy.stats import beta

from rwestudy.analysis.run import Results
from rwestudy.context.compare import OURS, ROWS, compare_cohort, smd_proportions
from rwestudy.context.plot import comparison_forest
from rwestudy.registry import load_registry

PUBLISHED = '''
id = "{id}"
label = "{label}"
study = "Test"
analysis = "primary"
design = "phase II trial"
regimen = "tafasitamab + lenalidomide"
citation = "Doe J. J Test 2025."
doi = "10.0000/test"

[sources.A]
citation = "Doe J. J Test 2025"
doi = "10.0000/test"
source_quality = "P"

[values.male_pct]
pct = 62.7
source = "A"
where = "Table 1"
quote = "male 62.7%"

[values.age_median]
value = 70
source = "A"
where = "Table 1"
quote = "median age 70"

[values.prior_lines_eligible_min]
value = 1
source = "A"
where = "Methods"
quote = "one to three prior lines"

[values.prior_lines_eligible_max]
value = 3
source = "A"
where = "Methods"
quote = "one to three prior lines"

[values.orr]
pct = {orr}
ci = [{lo}, {hi}]
assessment = "best"
source = "A"
where = "Results"
quote = "ORR {orr}%"

[values.followup_median]
value = 10
method = "not stated"
source = "A"
where = "Results"
quote = "median follow-up 10 months"

[values.ae_basis]
value = "per event"
source = "A"
where = "Table 4"
quote = "percentages refer to all events"
{extra}'''


def _fake_results():
    """10 patients: 4 men, 3 with >= 3 prior lines, best ORR 45/80 and CR 20/80 from the records."""
    pats = pd.DataFrame({
        "age_at_start": [60.0, 62, 64, 66, 68, 70, 72, 74, 76, 78],
        "sex": ["M"] * 4 + ["F"] * 6,
        "n_prior_lines": pd.array([1, 1, 2, 2, 2, 2, 2, 3, 4, 5], dtype="Int64"),
        "primary_refractory": pd.array([True, False] * 5, dtype="boolean"),
    })
    records = {
        "study": [{"data_cutoff": "2025-06-30"}],
        "response": [{"category": "ORR (CR+PR)", "assessment": "best", "n": 45, "denominator": 80},
                     {"category": "CR rate", "assessment": "best", "n": 20, "denominator": 80}],
        "survival": [{"endpoint": "PFS", "group": "all", "median": 5.0, "median_ci_low": 3.0,
                      "median_ci_high": 8.0, "reached": True, "n": 80}],
        "follow_up": [{"method": "reverse Kaplan-Meier (OS, censoring as event)", "median": 30.0,
                       "ci_low": 25.0, "ci_high": None, "n": 80}],
    }
    return Results(records=records, endpoints=SimpleNamespace(patients=pats))


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    d = tmp_path_factory.mktemp("reg")
    (d / "trial-a.toml").write_text(PUBLISHED.format(id="trial-a", label="Trial A", orr=60, lo=48.1, hi=71.3,
                                                     extra=""), encoding="utf-8")
    extra = ('\n[values.age_mean]\nvalue = 71.0\nsource = "A"\nwhere = "T1"\nquote = "mean 71.0"\n'
             '\n[values.age_sd]\nvalue = 8.0\nsource = "A"\nwhere = "T1"\nquote = "SD 8.0"\n')
    (d / "trial-b.toml").write_text(PUBLISHED.format(id="trial-b", label="Trial B", orr=70, lo=60.2, hi=78.9,
                                                     extra=extra), encoding="utf-8")
    studies = [s for s in load_registry(extra_dirs=[d]) if not s.shipped]
    return compare_cohort(_fake_results(), studies)


def test_binomial_test_matches_a_hand_calculation(fake):
    t = fake.rate_tests.set_index(["study", "item"]).loc[("trial-a", "ORR")]
    x, n, p0 = 45, 80, 0.60
    pmf = [math.comb(n, k) * p0 ** k * (1 - p0) ** (n - k) for k in range(n + 1)]
    # two-sided exact p: every outcome at most as likely as the observed one
    p_hand = sum(q for q in pmf if q <= pmf[x] * (1 + 1e-7))
    assert t["binomial_p"] == pytest.approx(p_hand, rel=1e-9)
    assert t["ours"] == pytest.approx(56.25)
    # Clopper-Pearson from the beta distribution
    assert t["ours_ci_low"] == pytest.approx(100 * beta.ppf(0.025, x, n - x + 1), rel=1e-6)
    assert t["ours_ci_high"] == pytest.approx(100 * beta.ppf(0.975, x + 1, n - x), rel=1e-6)
    assert bool(t["inside_published_ci"]) is True  # 56.25 in 48.1-71.3
    b = fake.rate_tests.set_index(["study", "item"]).loc[("trial-b", "ORR")]
    assert bool(b["inside_published_ci"]) is False  # below 60.2


def test_smd_of_proportions_matches_hand_calculation(fake):
    assert smd_proportions(0.4, 0.627) == pytest.approx((0.4 - 0.627) / math.sqrt((0.24 + 0.627 * 0.373) / 2))
    assert smd_proportions(0.4, 0.627) == pytest.approx(-0.46635, abs=1e-4)
    row = fake.smd.set_index(["study", "item"]).loc[("trial-a", "male_pct")]
    assert row["ours"] == pytest.approx(40.0) and row["smd"] == pytest.approx(-0.46635, abs=1e-4)
    assert smd_proportions(0.0, 0.0) == 0.0


def test_continuous_smd_only_with_mean_and_sd(fake):
    smd = fake.smd.set_index(["study", "item"])
    a = smd.loc[("trial-a", "age (mean)")]
    assert pd.isna(a["smd"]) and "median is not a mean" in a["note"]
    ages = np.array([60.0, 62, 64, 66, 68, 70, 72, 74, 76, 78])
    expected = (ages.mean() - 71.0) / math.sqrt((ages.std(ddof=1) ** 2 + 8.0 ** 2) / 2)
    assert smd.loc[("trial-b", "age (mean)"), "smd"] == pytest.approx(expected)


def test_warnings_name_each_definition_difference(fake):
    topics = {(w["study"], w["topic"]): w["message"] for w in fake.warnings}
    assert "per event" in topics[("trial-a", "adverse events")]
    assert "not stated" in topics[("trial-a", "follow-up")]
    assert "30.0 months vs 10 months" in topics[("trial-a", "maturity")]
    assert topics[("trial-a", "eligibility")].startswith("2 of 10 (20.0%)")  # 4 and 5 prior lines


def test_table_and_sentences_use_the_computed_values(fake):
    assert list(fake.table.columns) == [OURS, "Trial A", "Trial B"]
    labels = [label for _, label, _ in ROWS]
    assert list(fake.table.index) == [lab for lab in labels if lab in fake.table.index]
    assert fake.table.loc["Male, %", OURS] == "40.0 (4/10)"
    t = fake.rate_tests.set_index(["study", "item"]).loc[("trial-a", "ORR")]
    s = next(s for s in fake.sentences if "Trial A" in s and "ORR" in s)
    assert f"{t['ours']:.1f}% (95% CI {t['ours_ci_low']:.1f}-{t['ours_ci_high']:.1f}; 45/80)" in s
    assert "lies within the 95% CI published for Trial A (48.1-71.3" in s
    assert any("lies below the 95% CI published for Trial B" in s for s in fake.sentences)
    long = fake.long.set_index(["row", "column"])
    assert long.loc[("orr", "Trial A"), "quote"] == "ORR 60%" and long.loc[("orr", "Trial A"), "ci_low"] == 48.1


def test_to_records_is_json_safe(fake):
    rec = fake.to_records()
    assert set(rec) == {"comparison", "comparison_tests", "comparison_warnings", "comparison_sentences"}
    json.dumps(rec, allow_nan=False)
    assert all(isinstance(r, dict) for v in rec.values() for r in v)


@pytest.fixture(scope="module")
def real():
    from rwestudy.analysis.run import analyze
    from rwestudy.demo.generator import make_study

    return compare_cohort(analyze(make_study(n_patients=60, n_centers=8, seed=11)), load_registry())


def test_real_cohort_against_the_shipped_registry(real):
    tests = real.rate_tests.set_index(["study", "item", "assessment_published"])
    # Qualls published final rates: compared with our final response, and said so
    q = tests.loc[("qualls", "ORR", "final")]
    assert q["assessment_ours"] == "final"
    assert any(w["study"] == "qualls" and w["topic"] == "response" for w in real.warnings)
    assert any(w["study"] == "talos" and "per event" in w["message"] for w in real.warnings)
    # the 5-year L-MIND CI is used; the primary analysis publishes none
    assert tests.loc[("lmind-5year", "ORR", "best"), "published_ci_low"] == 45.9
    assert tests.loc[("lmind-primary", "ORR", "best"), "inside_published_ci"] is None
    assert real.table.columns[0] == OURS and len(real.table.columns) == 1 + len(load_registry())


def test_forest_plot(real):
    fig = comparison_forest(real)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[0] == OURS and "L-MIND final 5-year (Duell 2024)" in labels
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getbuffer().nbytes > 10_000
