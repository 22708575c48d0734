"""Forest plot with monotone / NaN terms, swimmer with missing dates, oncoprint with and without mutations."""
import copy
import math

import numpy as np
import pandas as pd
from matplotlib.text import Text

from rwestudy.analysis.run import analyze
from rwestudy.demo.generator import make_study
from rwestudy.figures import forest_figure, oncoprint_figure, plan_figures, swimmer_figure
from rwestudy.figures.forest import log2_ticks
from rwestudy.figures.oncoprint import oncoprint_matrix


def _texts(fig):
    return [t.get_text() for t in fig.findobj(Text)]


def _with_bad_terms(results):
    rec = copy.deepcopy(results.records)
    firth = None
    for r in rec["cox"]:
        if r["endpoint"] == "PFS" and r["model"] == "univariate" and r["variable"] == "double_hit":
            r.update(monotone=True, hr=3.1e9, ci_low=0.0, ci_high=math.inf, p=0.99)
            firth = dict(r, model="univariate (Firth)", monotone=False, hr=0.12, ci_low=0.004, ci_high=1.1)
        if r["endpoint"] == "PFS" and r["model"] == "univariate" and r["variable"] == "bulky":
            r.update(hr=float("nan"), ci_low=None, ci_high=None, p=None)
    rec["cox"].append(firth)
    return rec


def test_forest_monotone_and_nan_terms_not_drawn_as_bars(demo_results):
    fig = forest_figure(_with_bad_terms(demo_results), "PFS")
    texts = _texts(fig)
    assert sum("not estimable" in t for t in texts) == 2
    assert any("Firth 0.12" in t for t in texts)
    assert not any("3100000000" in t or "inf" in t.lower() for t in texts)
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert 1 / 64 <= lo < 1 < hi <= 64  # the huge HR did not stretch the axis
    for line in ax.get_lines():
        x = np.asarray(line.get_xdata(), dtype=float)
        if len(x) and line.get_linestyle() == "-":
            assert np.all((x >= lo * 0.999) & (x <= hi * 1.001))
    open_markers = [ln for ln in ax.get_lines() if ln.get_marker() == "s" and ln.get_markerfacecolor() in
                    ("white", (1.0, 1.0, 1.0, 1.0))]
    assert len(open_markers) == 1 and abs(open_markers[0].get_xdata()[0] - 0.12) < 1e-9
    arrows = [ln for ln in ax.get_lines() if ln.get_marker() == "<"]
    assert arrows  # Firth CI leaves the axis on the left: arrowhead, not a clipped bar


def test_forest_rows_match_cox_records(demo_results):
    fig = forest_figure(demo_results, "OS")
    cox = demo_results.table("cox").query("endpoint == 'OS' and model in ['univariate', 'multivariate']")
    texts = _texts(fig)
    for r in cox.itertuples():
        assert f"{r.hr:.2f} ({r.ci_low:.2f}\u2013{r.ci_high:.2f})" in texts
    squares = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "s"]
    assert len(squares) == len(cox)


def test_log2_ticks_readable():
    (lo, hi), ticks = log2_ticks(0.3, 3.0)
    assert ticks == [0.25, 0.5, 1.0, 2.0, 4.0] and lo == 0.25 and hi == 4.0


def test_swimmer_missing_dates_listed_not_crashing():
    tables = make_study(n_patients=30, n_centers=4, seed=5)
    p = tables["patients"]
    no_dx, no_end, no_contact = p["patient_id"].iloc[[2, 3, 4]]
    p.loc[p["patient_id"] == no_dx, "diagnosis_date"] = pd.NaT
    p.loc[p["patient_id"] == no_end, "treatment_end_date"] = pd.NaT
    p.loc[p["patient_id"] == no_contact, ["last_contact_date", "death_date", "death_cause"]] = [pd.NaT, pd.NaT,
                                                                                               None]
    res = analyze(tables)
    fig = swimmer_figure(res, tables, show_ids=True)
    texts = _texts(fig)
    shown = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert no_dx not in shown and any(no_dx in t and "diagnosis date" in t for t in texts)
    assert no_end in shown and no_contact in shown  # drawn up to what is known
    assert len(shown) == 29 and len(set(shown)) == 29
    # from treatment start the diagnosis date is not needed: everyone is drawn
    fig2 = swimmer_figure(res, tables, origin="treatment", show_ids=True)
    assert len(fig2.axes[0].get_yticklabels()) == 30


def test_swimmer_markers_from_records(demo_results, demo_tables):
    fig = swimmer_figure(demo_results, demo_tables)
    ax = fig.axes[0]
    deaths = [ln for ln in ax.get_lines() if ln.get_marker() == "X"]
    os_ = demo_results.endpoints.endpoint("OS")
    assert len(deaths) == 1 and len(deaths[0].get_xdata()) == int(os_["event"].sum())
    alive = [ln for ln in ax.get_lines() if ln.get_marker() == ">"]
    assert len(alive[0].get_xdata()) == int((os_["event"] == 0).sum())
    assert not ax.get_yticklabels()  # 96 patients: ids hidden by default, bars stay readable


def test_oncoprint_absent_without_mutations(demo_results, demo_tables):
    tables = {k: v for k, v in demo_tables.items() if k != "mutations"}
    assert oncoprint_figure(demo_results, tables) is None
    empty = dict(tables, mutations=demo_tables["mutations"].iloc[:0])
    assert oncoprint_figure(demo_results, empty) is None
    assert "oncoprint" not in [j.name for j in plan_figures(demo_results, empty)]
    assert "oncoprint" in [j.name for j in plan_figures(demo_results, demo_tables)]


def test_oncoprint_memo_sort_and_frequency():
    mut = pd.DataFrame({"patient_id": ["a", "b", "b", "c", "d", "d", "e"],
                        "gene": ["G2", "G1", "G2", "G1", "G1", "G3", "G2"],
                        "alteration": ["missense"] * 7})
    mat, pct = oncoprint_matrix(mut)
    assert list(mat.index) == ["G1", "G2", "G3"]  # G1 and G2 both in 3 patients: name breaks the tie
    assert list(mat.columns) == ["b", "d", "c", "a", "e"]  # G1 altered first, then G2 ...
    assert pct["G1"] == 60.0 and pct["G3"] == 20.0
