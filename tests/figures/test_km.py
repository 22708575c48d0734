"""Kaplan-Meier figure: the numbers-at-risk table sits exactly under the ticks, and its counts
are the hand count of patients still followed at each tick."""
import numpy as np
import pytest
from matplotlib.text import Text

from rwestudy.figures.km import km_figure, km_panels, month_ticks, risk_counts


def _risk_texts(fig):
    return [t for t in fig.findobj(Text) if t.get_gid() == "risk"]


def _check_alignment(fig, n_panels):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    curve_axes = [ax for ax in fig.axes if ax.get_gid() != "risk_table"]
    tables = [ax for ax in fig.axes if ax.get_gid() == "risk_table"]
    assert len(curve_axes) == len(tables) == n_panels
    for ax, axr in zip(curve_axes, tables):
        ticks = ax.get_xticks()
        texts = [t for t in axr.texts if t.get_gid() == "risk"]
        assert len(texts) % len(ticks) == 0 and texts
        tick_x = {float(t): ax.transData.transform((t, 0))[0] for t in ticks}
        # the tick marks themselves, as drawn
        drawn = {float(tk.get_loc()): tk.tick1line.get_window_extent(renderer).x0 + 0.5 *
                 tk.tick1line.get_window_extent(renderer).width for tk in ax.xaxis.get_major_ticks()}
        for text in texts:
            x_data = float(text.get_position()[0])
            bbox = text.get_window_extent(renderer)
            centre = 0.5 * (bbox.x0 + bbox.x1)
            assert abs(centre - tick_x[x_data]) < 0.5, (text.get_text(), centre, tick_x[x_data])
            assert abs(centre - drawn[x_data]) < 0.5
        labels = {float(lab.get_position()[0]): lab for lab in ax.get_xticklabels()}
        for t, lab in labels.items():  # tick labels are centred on the same x as the counts
            bb = lab.get_window_extent(renderer)
            assert abs(0.5 * (bb.x0 + bb.x1) - tick_x[t]) < 0.5


@pytest.mark.parametrize("factor", [None, "sex"])
def test_risk_table_columns_align_with_ticks(demo_results, factor):
    _check_alignment(km_figure(demo_results, "OS", factor), 1)


def test_risk_tables_align_in_side_by_side_panels(demo_results):
    _check_alignment(km_panels(demo_results, ["OS", "PFS"], "prior_asct"), 2)


def test_risk_counts_equal_hand_count(demo_results):
    os_ = demo_results.endpoints.endpoint("OS")
    fig = km_figure(demo_results, "OS")
    ticks = fig.axes[0].get_xticks()
    expected = [int((os_["time"] >= t).sum()) for t in ticks]
    shown = [int(t.get_text()) for t in fig.axes[1].texts if t.get_gid() == "risk"]
    assert shown == expected
    assert expected[0] == len(os_) and expected[-1] == 0  # everyone at 0; the axis ends after the last time
    km = demo_results.table("km_table")
    rows = km[(km["endpoint"] == "OS") & (km["group"] == "all")]
    odd = np.array([0.0, 0.5, 6.0, 12.7, float(os_["time"].max()), 500.0])
    assert list(risk_counts(rows, odd)) == [int((os_["time"] >= t).sum()) for t in odd]


def test_risk_counts_by_factor_equal_hand_count(demo_results):
    os_ = demo_results.endpoints.endpoint("OS")
    sex = os_["patient_id"].map(demo_results.endpoints.patients.set_index("patient_id")["sex"])
    fig = km_figure(demo_results, "OS", "sex")
    ticks = fig.axes[0].get_xticks()
    texts = [int(t.get_text()) for t in fig.axes[1].texts if t.get_gid() == "risk"]
    expected = [int(((os_["time"] >= t) & (sex == lvl)).sum()) for lvl in ("F", "M") for t in ticks]
    assert texts == expected


def test_month_ticks_every_3_or_6_months():
    assert list(month_ticks(20)) == [0, 3, 6, 9, 12, 15, 18, 21]
    assert list(month_ticks(47.2))[:3] == [0, 6, 12] and month_ticks(47.2)[-1] == 48
    assert month_ticks(47.2)[-1] >= 47.2


def test_header_reports_median_and_tests(demo_results):
    fig = km_figure(demo_results, "OS", "sex", label="Sex")
    text = " ".join(t.get_text() for t in fig.findobj(Text))
    gt = demo_results.table("group_tests").query("endpoint == 'OS' and variable == 'sex'")
    logrank = float(gt.loc[gt["test"] == "logrank", "p"].iloc[0])
    assert f"Log-rank p = {logrank:.2f}" in text
    cox = demo_results.table("cox").query("endpoint == 'OS' and variable == 'sex' and model == 'univariate'")
    assert f"{cox['hr'].iloc[0]:.2f} (95% CI {cox['ci_low'].iloc[0]:.2f}" in text
    med = demo_results.table("survival").query("endpoint == 'OS' and group == 'sex' and level == 'F'")
    assert f"median {med['median'].iloc[0]:.1f} mo" in text
