"""`rwestudy compare` and the report's Context section, end to end on the demo study."""
import json

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from rwestudy.cli import app
from rwestudy.demo.generator import make_study
from rwestudy.io.writers import write_workbook
from rwestudy.stats import kaplan_meier
from rwestudy.study import load_study
from rwestudy.analysis.run import analyze

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    return write_workbook(make_study(n_patients=96, n_centers=26, seed=20240611), d / "study.xlsx")


def test_compare_with_registry_and_maic(demo, tmp_path):
    out = tmp_path / "cmp"
    r = runner.invoke(app, ["compare", str(demo), "--with", "talos", "--with", "lmind-5year", "--maic", "talos",
                            "--boot", "50", "--out", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads((out / "comparison.json").read_text())
    # The published TALOs best ORR is 39/83 (47%); the side-by-side table shows it with its source.
    cell = next(c for c in data["comparison"] if c["study"] == "talos" and c["row"] == "orr")
    assert cell["value"] == 47 and cell["n"] == 39 and cell["N"] == 83 and cell["quote"]
    ours = next(c for c in data["comparison"] if c["study"] == "" and c["row"] == "orr")
    test = next(t for t in data["comparison_tests"] if t["study"] == "talos" and t["item"] == "ORR"
                and t["assessment_published"] == "best")
    # Hand oracle: R's binom.test two-sided p sums the probabilities no larger than P(X = x).
    from math import comb
    x, n, p0 = int(ours["n"]), int(ours["N"]), 0.47
    pk = [comb(n, k) * p0 ** k * (1 - p0) ** (n - k) for k in range(n + 1)]
    hand = sum(q for q in pk if q <= pk[x] * (1 + 1e-7))
    assert test["binomial_p"] == pytest.approx(hand, rel=1e-9)
    assert any("per event" in w["message"] for w in data["comparison_warnings"])
    summary = data["maic_summary"][0]
    w = np.array([b["after"] for b in data["maic_balance"]])
    assert np.allclose(w, [b["target"] for b in data["maic_balance"]], atol=1e-8)
    assert 0 < summary["ess"] < summary["n"] and "UNANCHORED" in summary["statement"]
    sheets = load_workbook(out / "comparison.xlsx").sheetnames
    assert {"context", "context_rates", "maic_balance", "maic_outcomes"} <= set(sheets)
    assert (out / "figures" / "context_orr_cr.png").stat().st_size > 10_000


def test_ambiguous_and_unknown_ids_are_sentences(demo, tmp_path):
    r = runner.invoke(app, ["compare", str(demo), "--with", "l-mind", "--out", str(tmp_path)])
    assert r.exit_code != 0 and "lmind-5year" in str(r.exception) + r.output
    r = runner.invoke(app, ["compare", str(demo), "--with", "no-such-trial", "--out", str(tmp_path)])
    assert r.exit_code != 0 and "no registry entry" in str(r.exception) + r.output


def test_reconstructed_curve_of_our_own_data_gives_hr_near_one(demo, tmp_path):
    # Digitise our own PFS curve (every step) with numbers at risk every 3 months: the
    # reconstructed arm is then our cohort again, so HR ~ 1 and the log-rank p is large.
    ep = analyze(load_study(demo)).endpoints.endpoint("PFS")
    km = kaplan_meier(ep, "time", "event").table
    curve = pd.DataFrame({"time": np.r_[0.0, km["time"]], "surv": np.r_[1.0, km["surv"]]})
    ticks = np.arange(0, ep["time"].max(), 3.0)
    risk = pd.DataFrame({"time": ticks, "n_risk": [(ep["time"] >= t).sum() for t in ticks]})
    curve.to_csv(tmp_path / "curve.csv", index=False)
    risk.to_csv(tmp_path / "risk.csv", index=False)
    out = tmp_path / "rec"
    r = runner.invoke(app, ["compare", str(demo), "--curve", str(tmp_path / "curve.csv"), "--risk",
                            str(tmp_path / "risk.csv"), "--events", str(int(ep["event"].sum())),
                            "--label", "self", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rec = json.loads((out / "comparison.json").read_text())["reconstruction"][0]
    assert rec["events"] == int(ep["event"].sum()) and rec["max_abs_diff"] < 0.02
    assert 0.9 < rec["hr"] < 1.1 and rec["p_logrank"] > 0.5
    assert len(pd.read_csv(out / "reconstructed_ipd.csv")) == len(ep)


def test_curve_without_risk_is_refused(demo, tmp_path):
    r = runner.invoke(app, ["compare", str(demo), "--curve", str(tmp_path / "c.csv"), "--out", str(tmp_path)])
    assert r.exit_code != 0 and "--risk" in str(r.exception) + r.output


def test_plan_context_puts_a_context_section_in_the_report(demo, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text('[context]\nstudies = ["talos"]\n')
    out = tmp_path / "rep"
    r = runner.invoke(app, ["report", str(demo), "--plan", str(plan), "--no-figures", "--out", str(out)])
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text()
    assert "Context: published studies" in html and "TALOs (Argnani 2026)" in html
    res = json.loads((out / "results.json").read_text())
    assert any(c["study"] == "talos" for c in res["comparison"])
    assert "context" in load_workbook(out / "tables.xlsx").sheetnames


def test_missing_curve_file_is_a_sentence(demo, tmp_path):
    r = runner.invoke(app, ["compare", str(demo), "--curve", str(tmp_path / "no.csv"), "--risk",
                            str(tmp_path / "no_risk.csv"), "--out", str(tmp_path / "o")])
    assert r.exit_code != 0 and "cannot read" in str(r.exception) and "no.csv" in str(r.exception)
