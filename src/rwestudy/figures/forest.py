"""Forest plot of Cox hazard ratios (univariate and multivariate, stacked), from the ``cox`` records.

A term with monotone likelihood (a group without events) has an infinite HR
and a CI of (0, inf): drawing it would stretch the axis until every other bar
is a dot, so it is printed as "not estimable" and, when the analysis gave a
Firth-penalised estimate, that is drawn instead with an open marker.
"""
from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.transforms import blended_transform_factory

from rwestudy.core.format import fmt_num
from rwestudy.figures import style
from rwestudy.figures.data import table
from rwestudy.figures.km import level_name

MODEL_TITLES = {"univariate": "Univariate", "multivariate": "Multivariate", "stepwise": "Backward stepwise"}
_ROW = 0.19  # inches per row


def _finite(x) -> bool:
    return x is not None and not pd.isna(x) and math.isfinite(float(x)) and float(x) > 0


def forest_rows(results, endpoint: str, models=("univariate", "multivariate")) -> pd.DataFrame:
    """One row per section header and term: kind, text, hr, ci_low, ci_high, p, estimable, firth_*."""
    cox = table(results, "cox")
    rows = []
    if cox.empty:
        return pd.DataFrame(rows)
    cox = cox[cox["endpoint"] == endpoint]
    firth = cox[cox["model"].astype(str).str.endswith("(Firth)")]
    for model in models:
        part = cox[cox["model"] == model]
        if part.empty:
            continue
        n, ev = part["n"].iloc[0], part["events"].iloc[0]
        rows.append({"kind": "header", "text": f"{MODEL_TITLES.get(model, model)} (n = {int(n)}, {int(ev)} events)"
                     if _finite(n) and _finite(ev) else MODEL_TITLES.get(model, model)})
        for r in part.itertuples():
            label = style.pretty(r.label)
            if "[" in str(r.term):  # categorical: say which level is compared
                label += f" ({level_name(r.variable, str(r.term).split('[', 1)[1].rstrip(']'))})"
            ok = (not bool(r.monotone)) and _finite(r.hr) and _finite(r.ci_low) and _finite(r.ci_high)
            f = firth[(firth["term"] == r.term) & (firth["model"].str.startswith(model))]
            rows.append({"kind": "term", "text": label, "hr": r.hr, "ci_low": r.ci_low, "ci_high": r.ci_high,
                         "p": r.p, "estimable": ok, "monotone": bool(r.monotone),
                         "firth_hr": f["hr"].iloc[0] if len(f) else None,
                         "firth_low": f["ci_low"].iloc[0] if len(f) else None,
                         "firth_high": f["ci_high"].iloc[0] if len(f) else None})
    return pd.DataFrame(rows)


def log2_ticks(lo: float, hi: float) -> tuple[tuple[float, float], list[float]]:
    """Axis limits and readable ticks (…, 0.25, 0.5, 1, 2, 4, …) covering [lo, hi] and 1."""
    lo, hi = max(min(lo, 1.0), 1 / 64), min(max(hi, 1.0), 64.0)
    a, b = math.floor(math.log2(lo) + 1e-9), math.ceil(math.log2(hi) - 1e-9)
    a, b = min(a, -1), max(b, 1)
    step = 1 if b - a <= 7 else 2
    ticks = [2.0 ** k for k in range(a, b + 1) if (k % step == 0)]
    return (2.0 ** a, 2.0 ** b), ticks


def _tick_label(t: float) -> str:
    return f"{t:g}" if t >= 0.1 else f"1/{round(1 / t):d}"


def forest_figure(results, endpoint: str = "OS", models=("univariate", "multivariate"),
                  width: float | None = None) -> Figure:
    """Hazard ratios with 95% CI per term, one section per Cox model, log x axis with a line at 1."""
    rows = forest_rows(results, endpoint, models)
    if rows.empty or not (rows["kind"] == "term").any():
        raise ValueError(f"no Cox records for {endpoint}")
    terms = rows[rows["kind"] == "term"].astype({"estimable": bool, "monotone": bool})
    hr_text = []
    for r in terms.itertuples():
        if r.estimable:
            hr_text.append(f"{r.hr:.2f} ({r.ci_low:.2f}\u2013{r.ci_high:.2f})")
        elif _finite(r.firth_hr):
            hr_text.append(f"not estimable\u2020; Firth {r.firth_hr:.2f} "
                           f"({fmt_num(r.firth_low, 2)}\u2013{fmt_num(r.firth_high, 2)})")
        else:
            hr_text.append("not estimable\u2020")
    shown = terms[terms["estimable"]]
    lows = list(shown["ci_low"]) + [v for v in terms["firth_low"] if _finite(v)]
    highs = list(shown["ci_high"]) + [v for v in terms["firth_high"] if _finite(v)]
    (xlo, xhi), ticks = log2_ticks(min(lows, default=0.5), max(highs, default=2.0))

    label_w = max(style.text_width(t, style.FONT_SIZE, style.HEAD_WEIGHT) for t in rows["text"]) + 0.15
    hr_w = max([style.text_width(t) for t in hr_text] + [style.text_width("HR (95% CI)", weight=style.HEAD_WEIGHT)]) + 0.2
    p_w, plot_w = 0.5, 2.3
    width = width or (0.1 + label_w + plot_w + 0.15 + hr_w + p_w)
    notes = []
    if (~terms["estimable"]).any():
        notes.append("\u2020 Not estimable: monotone likelihood (a group without events) or no finite estimate"
                     + ("; open marker: Firth-penalised HR." if terms["firth_hr"].map(_finite).any() else "."))
    n = len(rows)
    top, axis_h, note_h = 0.3, 0.5, 0.18 * len(notes) + 0.05
    height = top + _ROW * n + axis_h + note_h
    fig = style.new_figure(width, height)
    W, H = width, height

    with style.context():
        x_plot = 0.1 + label_w
        ax = fig.add_axes((x_plot / W, (axis_h + note_h) / H, plot_w / W, _ROW * n / H))
        ax.set_xscale("log")
        ax.set_xlim(xlo, xhi)
        ax.set_ylim(n - 0.5, -0.5)
        style.fixed_ticks(ax.xaxis, ticks, [_tick_label(t) for t in ticks])
        ax.minorticks_off()
        style.fixed_ticks(ax.yaxis, [])
        ax.spines["left"].set_visible(False)
        ax.axvline(1.0, color=style.GREY, linewidth=0.8, linestyle=(0, (4, 2)), zorder=1)
        ax.set_xlabel("Hazard ratio (95% CI, log scale)")
        tf = blended_transform_factory(fig.transFigure, ax.transData)
        x_label, x_hr, x_p = 0.1 / W, (x_plot + plot_w + 0.15) / W, (x_plot + plot_w + 0.15 + hr_w) / W
        for x, head, ha in ((x_label, "Variable", "left"), (x_hr, "HR (95% CI)", "left"), (x_p, "p", "left")):
            ax.text(x, -1.1, head, transform=tf, ha=ha, va="center", fontweight=style.HEAD_WEIGHT, clip_on=False)
        it = iter(hr_text)
        for i, r in enumerate(rows.itertuples()):
            if r.kind == "header":
                ax.text(x_label, i, r.text, transform=tf, ha="left", va="center", fontweight=style.HEAD_WEIGHT,
                        color=style.OKABE_ITO["blue"])
                continue
            if i % 2 == 0:  # zebra rows: the eye follows a row across the wide gap
                ax.add_patch(Rectangle((0.05 / W, i - 0.5), 1 - 0.1 / W, 1, transform=tf, color="#F2F2F2",
                                       zorder=0, linewidth=0, clip_on=False))
            ax.text(x_label + 0.12 / W, i, r.text, transform=tf, ha="left", va="center")
            ax.text(x_hr, i, next(it), transform=tf, ha="left", va="center")
            ax.text(x_p, i, style.fmt_p(r.p) if r.estimable else "", transform=tf, ha="left", va="center")
            if r.estimable:
                _bar(ax, r.hr, r.ci_low, r.ci_high, i, xlo, xhi, filled=True)
            elif _finite(r.firth_hr):
                _bar(ax, r.firth_hr, r.firth_low, r.firth_high, i, xlo, xhi, filled=False)
        for k, note in enumerate(notes):
            fig.text(0.1 / W, (note_h - 0.05 - 0.18 * k) / H, note, ha="left", va="top", fontsize=style.SMALL)
    return fig


def _bar(ax, hr, lo, hi, y, xlo, xhi, filled: bool):
    """CI line with an arrowhead where it leaves the axis, and the point estimate."""
    color = style.OKABE_ITO["black"]
    lo_c = max(lo, xlo) if _finite(lo) else xlo
    hi_c = min(hi, xhi) if _finite(hi) else xhi
    ax.plot([lo_c, hi_c], [y, y], color=color, linewidth=1.0, solid_capstyle="butt", zorder=2)
    for end, inside, marker in ((lo_c, _finite(lo) and lo >= xlo, "<"), (hi_c, _finite(hi) and hi <= xhi, ">")):
        if not inside:
            ax.plot([end], [y], marker=marker, color=color, markersize=3.5, zorder=3, clip_on=False)
    if xlo <= hr <= xhi:
        ax.plot([hr], [y], marker="s", markersize=4.5, zorder=4, color=color,
                markerfacecolor=color if filled else "white", markeredgewidth=1.0)
