"""The whole `analyze` pipeline on the shipped demo study, against R, for every conventions profile.

Expected numbers: tests/fixtures/r/demo_study.json, written by reference/r/demo_study.R from the
analysis-ready data that reference/r/export_demo.py exported (tests/fixtures/r/data/demo_*.csv).
`analyze` runs once per profile (module-scoped fixture) on the tables of `make_study()`; for the
default profile it also runs on the same study written to a workbook and read back with
`rwestudy.load_study`, so both inputs `analyze` accepts are checked.

The plan is the default plan with "wilcoxon" added to the survival tests, so that the profile's
meaning of "Wilcoxon" (Peto-Peto for r, Gehan otherwise) is exercised as well as Gehan.

Compared at rtol 1e-6 (the achieved agreement is ~1e-12): KM medians / quartiles with CIs (CIs not
for spss: R cannot compute SPSS's median +/- 1.96 SE), landmark survival with CIs, reverse-KM
median follow-up with CI, log-rank / Gehan / Peto-Peto statistics and p, univariate /
multivariate / stepwise Cox (HR, CI, p, coef, se, n, events, concordance) and the factors chosen
for the multivariate and stepwise models (with the p of each removal), the proportional-hazards
test of the multivariate model (cox.zph), landmark and time-dependent Cox of the post-baseline
factors, response rates with CIs, association tests (test chosen, statistic, p).
"""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwestudy.analysis.plan import load_plan
from rwestudy.analysis.run import analyze
from rwestudy.demo.generator import make_study

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "r"
FIX = json.loads((FIXTURES / "demo_study.json").read_text())
RTOL = 1e-6
ATOL = 1e-12  # only for values that are exactly 0 on one side (e.g. a CI bound of 0)
PROFILES = ["rwestudy", "r", "stata", "sas", "spss"]
RUNS = [(p, "tables") for p in PROFILES] + [("rwestudy", "workbook")]


def _vec(x) -> list:
    """R writes a length-1 vector as a scalar; always a list here."""
    return list(x) if isinstance(x, list) else [x]


def _missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


class Checker:
    """Collects every comparison; fails with all mismatches listed."""

    def __init__(self) -> None:
        self.n = 0
        self.bad: list[str] = []

    def num(self, what: str, ours, r) -> None:
        self.n += 1
        if _missing(r) or _missing(ours):
            if not (_missing(r) and _missing(ours)):
                self.bad.append(f"{what}: ours {ours!r}, R {r!r}")
            return
        if not np.isclose(float(ours), float(r), rtol=RTOL, atol=ATOL):
            self.bad.append(f"{what}: ours {float(ours)!r}, R {float(r)!r}")

    def same(self, what: str, ours, r) -> None:
        self.n += 1
        if ours != r:
            self.bad.append(f"{what}: ours {ours!r}, R {r!r}")

    def done(self, minimum: int) -> None:
        assert not self.bad, f"{len(self.bad)} of {self.n} comparisons differ:\n" + "\n".join(self.bad[:60])
        assert self.n >= minimum, f"only {self.n} comparisons made (expected >= {minimum})"


def _plan(profile: str):
    return load_plan(None, profile=profile, group_tests=["logrank", "gehan", "wilcoxon"])


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """analyze() once per (profile, input): {(profile, source): Results}."""
    from rwestudy import load_study
    from rwestudy.io.writers import write_workbook

    out = {}
    tables = make_study()
    for profile in PROFILES:
        out[(profile, "tables")] = analyze(tables, _plan(profile))
    path = write_workbook(make_study(), tmp_path_factory.mktemp("demo") / "study.xlsx")
    out[("rwestudy", "workbook")] = analyze(load_study(path), _plan("rwestudy"))
    return out


def _run(results, run):
    profile, source = run
    return results[(profile, source)], FIX["profiles"][profile]


def _id(run) -> str:
    return f"{run[0]}-{run[1]}"


# --------------------------------------------------------------------------- inputs
def test_exported_data_is_the_demo_study():
    """The CSVs R read are what export_demo.py makes of make_study() today (no stale fixture)."""
    spec = importlib.util.spec_from_file_location("export_demo", ROOT / "reference" / "r" / "export_demo.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    endpoints, factors = mod.demo_frames()
    on_disk_e = pd.read_csv(FIXTURES / "data" / "demo_endpoints.csv", dtype=str, keep_default_na=False)
    on_disk_f = pd.read_csv(FIXTURES / "data" / "demo_factors.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(endpoints.astype(str), on_disk_e)
    pd.testing.assert_frame_equal(factors.astype(str), on_disk_f)
    assert len(on_disk_e) > 300 and len(on_disk_f) == 96


def test_factors_match(results):
    res, _ = _run(results, ("rwestudy", "tables"))
    analysed = sorted(set(res.table("group_tests")["variable"]))
    assert analysed == sorted(FIX["factors"])


# ------------------------------------------------------------------------ survival
@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_km_medians_and_quartiles(results, run):
    res, ref = _run(results, run)
    ours = res.table("survival")
    ours = ours.assign(level=ours["level"].where(ours["level"].notna(), "all"))
    ours = ours.set_index(["endpoint", "group", "level"])
    c = Checker()
    for row in ref["survival"]:
        key = (row["endpoint"], row["group"], row["level"])
        o = ours.loc[key]
        what = "/".join(key)
        c.num(f"{what} n", o["n"], row["n"])
        c.num(f"{what} events", o["events"], row["events"])
        for i, name in enumerate(("q25", "median", "q75")):
            c.num(f"{what} {name}", o[name], _vec(row["quantile"])[i])
            if ref["settings"]["median_ci"]:
                c.num(f"{what} {name} ci_low", o[f"{name}_ci_low"], _vec(row["lower"])[i])
                c.num(f"{what} {name} ci_high", o[f"{name}_ci_high"], _vec(row["upper"])[i])
    c.same("number of KM rows", len(ours), len(ref["survival"]))
    c.done(minimum=len(ref["survival"]) * 5)


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_landmark_survival(results, run):
    res, ref = _run(results, run)
    ours = res.table("landmarks").set_index(["endpoint", "time"])
    c = Checker()
    for block in ref["landmarks"]:
        e = block["endpoint"]
        for i, t in enumerate(_vec(block["time"])):
            o = ours.loc[(e, float(t))]
            for col, rcol in (("surv", "surv"), ("std_err", "std_err"), ("ci_low", "lower"),
                              ("ci_high", "upper"), ("n_risk", "n_risk")):
                c.num(f"{e} S({t}) {col}", o[col], _vec(block[rcol])[i])
    c.same("landmark rows", len(ours), sum(len(_vec(b["time"])) for b in ref["landmarks"]))
    c.done(minimum=5 * 3 * 5)


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_median_follow_up(results, run):
    res, ref = _run(results, run)
    fu = res.table("follow_up").set_index("method")
    r = ref["follow_up"]
    c = Checker()
    rk = fu.loc["reverse Kaplan-Meier (OS, censoring as event)"]
    c.num("reverse KM median", rk["median"], r["median"])
    c.num("reverse KM ci_low", rk["ci_low"], r["lower"])
    c.num("reverse KM ci_high", rk["ci_high"], r["upper"])
    c.num("reverse KM n", rk["n"], r["n"])
    c.num("median observation, all", fu.loc["median observation time, all patients", "median"],
          r["median_observation_all"])
    c.num("median observation, alive", fu.loc["median observation time, patients alive", "median"],
          r["median_observation_alive"])
    c.done(minimum=6)


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_group_tests(results, run):
    res, ref = _run(results, run)
    ours = res.table("group_tests")
    # "gehan" appears twice when the profile's Wilcoxon is Gehan (asked as gehan and as wilcoxon)
    ours = ours.drop_duplicates(["endpoint", "variable", "test"]).set_index(["endpoint", "variable", "test"])
    c = Checker()
    for row in ref["group_tests"]:
        key = (row["endpoint"], row["variable"], row["test"])
        what = "/".join(key)
        if key not in ours.index:
            c.bad.append(f"{what}: missing from analyze's group_tests")
            continue
        o = ours.loc[key]
        c.num(f"{what} chi2", o["statistic"], row["statistic"])
        c.num(f"{what} df", o["df"], row["df"])
        c.num(f"{what} p", o["p"], row["p"])
        c.num(f"{what} n", o["n"], row["n"])
    c.same("tests run", sorted(set(ours.index)), sorted({(r["endpoint"], r["variable"], r["test"])
                                                         for r in ref["group_tests"]}))
    c.done(minimum=2 * 15 * 2 * 4)


# ----------------------------------------------------------------------------- Cox
def _r_term(term: str) -> str:
    return term.replace("[", "").replace("]", "")  # sex[M] -> sexM (R's treatment-coded name)


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_cox_models(results, run):
    res, ref = _run(results, run)
    ours = res.table("cox")
    ours = ours.assign(r_term=ours["term"].map(_r_term))
    c = Checker()
    seen = set()
    for model in ref["cox"]:
        e, kind = model["endpoint"], model["model"]
        terms = _vec(model["terms"])
        sub = ours.loc[(ours["endpoint"] == e) & (ours["model"] == kind)]
        if kind == "univariate":
            sub = sub.loc[sub["r_term"] == terms[0]]
        seen.add((e, kind) if kind != "univariate" else (e, kind, terms[0]))
        c.same(f"{e} {kind} terms", list(sub["r_term"]), terms)
        if list(sub["r_term"]) != terms:
            continue
        c.same(f"{e} {kind} ties", set(sub["ties"]), {ref["settings"]["ties"]})
        for i, (_, o) in enumerate(sub.iterrows()):
            what = f"{e} {kind} {terms[i]}"
            for col in ("hr", "ci_low", "ci_high", "p", "coef", "se"):
                c.num(f"{what} {col}", o[col], _vec(model[col])[i])
            c.num(f"{what} n", o["n"], model["n"])
            c.num(f"{what} events", o["events"], model["events"])
            c.num(f"{what} concordance", o["concordance"], model["concordance"])
    # no extra models on our side (the Firth rows appear only with monotone likelihood: none here)
    ours_models = {(r.endpoint, r.model) if r.model != "univariate" else (r.endpoint, r.model, r.r_term)
                   for r in ours.itertuples()}
    c.same("models fitted", sorted(map(str, ours_models)), sorted(map(str, seen)))
    c.done(minimum=2 * 15 * 9)


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_model_selection(results, run):
    """The multivariate model holds the factors with univariate Wald p < 0.05; stepwise keeps R's set."""
    res, ref = _run(results, run)
    cox = res.table("cox")
    hist = res.table("stepwise_history")
    for e in ("OS", "PFS"):
        multi = list(cox.loc[(cox["endpoint"] == e) & (cox["model"] == "multivariate"), "variable"])
        assert multi == _vec(ref["multivariate_factors"][e])
        kept = list(cox.loc[(cox["endpoint"] == e) & (cox["model"] == "stepwise"), "variable"])
        assert kept == _vec(ref["stepwise"][e]["kept"])
        h = hist.loc[hist["endpoint"] == e] if len(hist) else pd.DataFrame(columns=["removed", "p"])
        assert list(h["removed"]) == _vec(ref["stepwise"][e]["removed"])
        np.testing.assert_allclose(h["p"].to_numpy(float), np.asarray(_vec(ref["stepwise"][e]["removed_p"]), float),
                                   rtol=RTOL)


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_ph_tests(results, run):
    """cox.zph(multivariate fit, transform = "km", terms = TRUE), per factor and GLOBAL."""
    res, ref = _run(results, run)
    ours = res.table("ph_tests").set_index(["endpoint", "term"])
    c = Checker()
    for block in ref["ph_tests"]:
        for i, term in enumerate(_vec(block["terms"])):
            o = ours.loc[(block["endpoint"], term)]
            for col in ("chisq", "df", "p"):
                c.num(f"{block['endpoint']} zph {term} {col}", o[col], _vec(block[col])[i])
    c.same("PH test rows", len(ours), sum(len(_vec(b["terms"])) for b in ref["ph_tests"]))
    c.done(minimum=3 * 8)


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_post_baseline(results, run):
    res, ref = _run(results, run)
    ours = res.table("post_baseline")
    names = {"landmark": "landmark at 3 months", "time-dependent": "time-dependent Cox (counting process)"}
    ours = ours.set_index(["endpoint", "variable", "analysis"])
    c = Checker()
    for row in ref["post_baseline"]:
        key = (row["endpoint"], row["variable"], names[row["analysis"]])
        o = ours.loc[key]
        what = "/".join(key)
        for col in ("hr", "ci_low", "ci_high", "p", "n", "events"):
            c.num(f"{what} {col}", o[col], row[col])
        if row["analysis"] == "landmark":
            c.num(f"{what} logrank p", o["logrank_p"], row["logrank_p"])
    c.same("post-baseline rows", len(ours), len(ref["post_baseline"]))
    c.done(minimum=8 * 6)


# ------------------------------------------------------------------------- response
@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_response_rates(results, run):
    res, ref = _run(results, run)
    ours = res.table("response").set_index(["assessment", "category"])
    c = Checker()
    for row in ref["response"]:
        o = ours.loc[(row["assessment"], row["category"])]
        what = f"{row['assessment']} {row['category']}"
        for col in ("n", "denominator", "pct", "ci_low", "ci_high"):
            c.num(f"{what} {col}", o[col], row[col])
        c.same(f"{what} method", o["ci_method"], ref["settings"]["binomial"])
    c.same("response rows", len(ours), len(ref["response"]))
    c.done(minimum=16 * 6)


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_associations(results, run):
    res, ref = _run(results, run)
    ours = res.table("associations").set_index(["outcome", "variable"])
    c = Checker()
    for row in ref["associations"]:
        o = ours.loc[(row["outcome"], row["variable"])]
        what = f"{row['outcome']} x {row['variable']}"
        kind = "chisq" if "chi-square" in o["test"] else "fisher" if "Fisher" in o["test"] else o["test"]
        c.same(f"{what} test", kind, row["test"])
        if row["test"] == "chisq":
            c.same(f"{what} Yates", "Yates" in o["test"], bool(ref["settings"]["correct"]))
            c.num(f"{what} statistic", o["statistic"], row["statistic"])
            c.num(f"{what} df", o["df"], row["df"])
        c.num(f"{what} p", o["p"], row["p"])
        c.num(f"{what} n", o["n"], row["n"])
    c.same("association rows", len(ours), len(ref["associations"]))
    c.done(minimum=30 * 3)


def test_workbook_and_tables_give_the_same_results(results):
    """load_study(workbook) and the dict of tables are the same study to analyze."""
    a, b = results[("rwestudy", "tables")], results[("rwestudy", "workbook")]
    for section in ("survival", "landmarks", "group_tests", "cox", "post_baseline", "response", "associations"):
        ta, tb = a.table(section), b.table(section)
        assert len(ta) == len(tb) > 0, section
        num = ta.select_dtypes("number").columns
        np.testing.assert_allclose(ta[num].to_numpy(float), tb[num].to_numpy(float), rtol=1e-12, equal_nan=True)
