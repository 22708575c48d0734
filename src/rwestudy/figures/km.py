"""Kaplan-Meier curves with a numbers-at-risk table, from the ``km_table`` records.

The risk table is a second axes that *shares the x axis* of the curves, and
each count is a text placed at the tick's data x: both go through the same
x transform, so the columns sit exactly under the ticks at any size or dpi
(a table laid out in figure fractions drifts as soon as margins change).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

from rwestudy.core.format import fmt_median, fmt_num
from rwestudy.figures import style
from rwestudy.figures.data import table

ENDPOINT_NAMES = {"OS": "overall survival", "PFS": "progression-free survival", "DoR": "duration of response",
                  "DFS": "disease-free survival", "TTNT": "time to next treatment"}
Y_LABELS = {"OS": "Overall survival probability", "PFS": "Progression-free survival probability",
            "DoR": "Probability of remaining in response", "DFS": "Disease-free survival probability",
            "TTNT": "Probability free of next treatment"}
X_LABELS = {"DoR": "Months since first response", "DFS": "Months since complete response"}
TEST_NAMES = {"logrank": "Log-rank", "gehan": "Gehan-Breslow", "peto-peto": "Peto-Peto",
              "tarone-ware": "Tarone-Ware"}
LEVEL_NAMES = {"yes": "Yes", "no": "No", "sex": {"F": "Female", "M": "Male"}}

_LINE = 0.165  # inches per text line at 8 pt


def month_ticks(t_max: float) -> np.ndarray:
    """Ticks every 3 months up to 2 years of follow-up, every 6 up to 6 years, then 12."""
    t_max = max(float(t_max), 1.0)
    step = 3 if t_max <= 24 else 6 if t_max <= 72 else 12
    return np.arange(0, step * math.ceil(t_max / step - 1e-9) + step / 2, step, dtype=float)


def risk_counts(rows: pd.DataFrame, ticks) -> np.ndarray:
    """Number at risk at each tick: n_risk of the first step at or after it (every
    event and censoring time has a row, so that is the count with time >= tick)."""
    rows = rows.sort_values("time")
    times = rows["time"].to_numpy(dtype=float)
    n_risk = rows["n_risk"].to_numpy(dtype=float)
    idx = np.searchsorted(times, np.asarray(ticks, dtype=float), side="left")
    return np.where(idx < len(times), n_risk[np.minimum(idx, len(times) - 1)], 0).astype(int)


def level_name(factor: str | None, level) -> str:
    names = LEVEL_NAMES.get(factor or "", {})
    s = str(level)
    return names.get(s, LEVEL_NAMES.get(s, s)) if isinstance(names, dict) else s


def curve_groups(results, endpoint: str, factor: str | None = None) -> list[tuple[str, pd.DataFrame]]:
    """(level, step rows) per curve, in the order the analysis wrote them."""
    km = table(results, "km_table")
    if km.empty:
        return []
    km = km[(km["endpoint"] == endpoint) & (km["group"] == (factor or "all"))]
    if factor is None or "level" not in km:
        return [("all", km)] if len(km) else []
    return [(lvl, g) for lvl, g in km.groupby("level", sort=False)]


def _medians(results, endpoint, factor) -> dict:
    s = table(results, "survival")
    if s.empty:
        return {}
    s = s[(s["endpoint"] == endpoint) & (s["group"] == (factor or "all"))]
    key = s["level"] if factor and "level" in s else pd.Series("all", index=s.index)
    return {k: r for k, (_, r) in zip(key, s.iterrows())}


def _stats_lines(results, endpoint, factor, levels) -> list[str]:
    """'Log-rank p = ...; Gehan-Breslow p = ...' and the univariate HR line(s)."""
    lines = []
    gt = table(results, "group_tests")
    if not gt.empty:
        gt = gt[(gt["endpoint"] == endpoint) & (gt["variable"] == factor)]
        parts = [f"{TEST_NAMES.get(r.test, r.test)} p = {style.fmt_p(r.p)}".replace("= <", "<")
                 for r in gt.itertuples()]
        if parts:
            lines.append("; ".join(parts))
    cox = table(results, "cox")
    if not cox.empty:
        uni = cox[(cox["endpoint"] == endpoint) & (cox["variable"] == factor) & (cox["model"] == "univariate")]
        firth = cox[(cox["endpoint"] == endpoint) & (cox["variable"] == factor)
                    & (cox["model"] == "univariate (Firth)")].set_index("term")
        ref = level_name(factor, levels[0]) if levels else ""
        for r in uni.itertuples():
            lvl = r.term.split("[", 1)[1].rstrip("]") if "[" in r.term else "yes"
            contrast = f"{level_name(factor, lvl)} vs {ref}"
            if bool(r.monotone) or not _finite(r.hr, r.ci_low, r.ci_high):
                text = f"HR ({contrast}) not estimable (monotone likelihood)"
                if r.term in firth.index and _finite(firth.loc[r.term, "hr"]):
                    f = firth.loc[r.term]
                    text += f"; Firth {f.hr:.2f} (95% CI {f.ci_low:.2f}\u2013{f.ci_high:.2f})"
            else:
                text = f"HR ({contrast}) {r.hr:.2f} (95% CI {r.ci_low:.2f}\u2013{r.ci_high:.2f})"
            lines.append(text)
    return lines


def _finite(*xs) -> bool:
    return all(x is not None and not pd.isna(x) and math.isfinite(float(x)) for x in xs)


def _panel(results, endpoint, factor, label, ci, width) -> dict:
    """Everything one panel draws, and the header lines it needs (so panels can share a layout)."""
    groups = curve_groups(results, endpoint, factor)
    if not groups:
        raise ValueError(f"no Kaplan-Meier records for {endpoint}" + (f" by {factor}" if factor else ""))
    medians = _medians(results, endpoint, factor)
    levels = [lvl for lvl, _ in groups]
    p = dict(endpoint=endpoint, factor=factor, label=label, groups=groups, medians=medians,
             ci=len(groups) == 1 if ci is None else ci,
             colors=[style.SERIES[i % len(style.SERIES)] for i in range(len(groups))],
             names=["All patients"] if factor is None else [level_name(factor, lvl) for lvl in levels],
             ticks=month_ticks(max(float(g["time"].max()) for _, g in groups)), head=[], stats=[],
             legend_rows=0, ncol=1)
    entries = []
    for (lvl, g), name in zip(groups, p["names"]):
        m = medians.get(lvl)
        n = int(m["n"]) if m is not None and _finite(m["n"]) else int(g["n_risk"].max())
        med = f"median {m['median']:.1f} mo" if m is not None and _finite(m["median"]) else "median NR"
        entries.append(f"{name} (n = {n}; {med})")
    p["entries"] = entries
    if factor is None:  # header: n, events, median with CI
        m = medians.get("all")
        n = int(m["n"]) if m is not None and _finite(m["n"]) else int(groups[0][1]["n_risk"].max())
        ev = f", {int(m['events'])} events" if m is not None and _finite(m["events"]) else ""
        p["head"] = [f"{ENDPOINT_NAMES.get(endpoint, endpoint).capitalize()}: n = {n}{ev}"]
        if m is not None and _finite(m["median"]):
            lo, hi = fmt_num(m["median_ci_low"], 1), fmt_median(m["median_ci_high"], 1)
            p["head"].append(f"Median {m['median']:.1f} months (95% CI {lo}\u2013{hi})")
        else:
            p["head"].append("Median not reached")
    else:  # header: legend with n and medians, then tests and HR
        p["stats"] = _stats_lines(results, endpoint, factor, levels)
        entry_w = [style.text_width(e) + 0.45 for e in entries]
        p["ncol"] = len(entries) if sum(entry_w) < width - 0.5 else 1
        p["legend_rows"] = 1 + math.ceil(len(entries) / p["ncol"])
    p["header_h"] = 0.1 + _LINE * (len(p["head"]) + len(p["stats"]) + p["legend_rows"]) + (
        0.04 if p["legend_rows"] else 0)
    return p


def km_figure(results, endpoint: str = "OS", factor: str | None = None, *, ci: bool | None = None,
              percent: bool = False, risk_table: bool = True, label: str | None = None,
              width: float = style.SINGLE) -> Figure:
    """Kaplan-Meier curve(s) of ``endpoint``, overall (``factor=None``) or one curve per level.

    ``ci``: shaded 95% CI band (default: on for a single curve, off for
    groups, where overlapping bands hide the curves). ``percent``: y axis in
    % instead of probability. ``label``: display name of the factor.
    """
    return km_panels(results, [endpoint], factor, ci=ci, percent=percent, risk_table=risk_table,
                     label=label, panel_width=width, letters=False)


def km_panels(results, endpoints=("OS", "PFS"), factor: str | None = None, *, ci: bool | None = None,
              percent: bool = False, risk_table: bool = True, label: str | None = None,
              panel_width: float = style.SINGLE, letters: bool = True) -> Figure:
    """One panel per endpoint side by side (e.g. OS and PFS by a factor), lettered A, B, ...

    Panels share one vertical layout (tallest header wins), so their axes and
    risk tables line up across the figure.
    """
    panels = [_panel(results, e, factor, label, ci, panel_width) for e in endpoints]
    header_h = max(p["header_h"] for p in panels) + (0.2 if letters and len(panels) > 1 else 0)
    n_rows = max(len(p["groups"]) for p in panels)
    plot_h, axis_h, bottom = 2.2, 0.42, 0.08
    table_h = (_LINE * (n_rows + 1) + 0.1) if risk_table else 0.0
    width, height = panel_width * len(panels), header_h + plot_h + axis_h + table_h + bottom
    fig = style.new_figure(width, height)
    with style.context():
        for k, p in enumerate(panels):
            letter = chr(ord("A") + k) if letters and len(panels) > 1 else None
            _draw_panel(fig, p, k * panel_width, panel_width, height, header_h, plot_h, axis_h, table_h,
                        bottom, percent, risk_table, letter, n_rows)
    return fig


def _draw_panel(fig, p, x_off, width, height, header_h, plot_h, axis_h, table_h, bottom, percent,
                risk_table, letter, n_rows):
    W = fig.get_figwidth()
    fx = lambda inches: (x_off + inches) / W  # noqa: E731  (panel inches -> figure fraction)
    fy = lambda inches: inches / height  # noqa: E731
    groups, colors, ticks, medians = p["groups"], p["colors"], p["ticks"], p["medians"]
    label_w = max(style.text_width(s, style.FONT_SIZE) for s in p["names"])
    left, right = max(0.62, label_w + 0.2), 0.22
    ax = fig.add_axes((fx(left), fy(bottom + table_h + axis_h), (width - left - right) / W, fy(plot_h)))
    for (lvl, g), color in zip(groups, colors):
        g = g.sort_values("time")
        x = np.r_[0.0, g["time"].to_numpy(float)]
        y = np.r_[1.0, g["surv"].to_numpy(float)]
        if p["ci"]:
            lo = np.r_[1.0, g["ci_low"].to_numpy(float)]
            hi = np.r_[1.0, g["ci_high"].to_numpy(float)]
            ax.fill_between(x, lo, hi, step="post", color=color, alpha=0.18, linewidth=0)
        ax.step(x, y, where="post", color=color, linewidth=1.4, solid_joinstyle="miter")
        cens = g[g["n_censor"] > 0]
        ax.plot(cens["time"], cens["surv"], linestyle="none", marker="+", markersize=5,
                markeredgewidth=0.9, color=color)
        m = medians.get(lvl)
        if m is not None and _finite(m["median"]):
            ax.plot([0, m["median"], m["median"]], [0.5, 0.5, 0], linestyle=(0, (3, 2)),
                    linewidth=0.7, color=color if len(groups) > 1 else style.GREY, zorder=1)
    ax.set_ylim(-0.02, 1.02)
    yt = np.linspace(0, 1, 6)
    style.fixed_ticks(ax.yaxis, yt, [f"{v * 100:.0f}%" if percent else f"{v:.1f}" for v in yt])
    ax.set_xlim(-0.015 * ticks[-1], ticks[-1])
    style.fixed_ticks(ax.xaxis, ticks, [f"{t:g}" for t in ticks])
    ax.spines["left"].set_bounds(0, 1)
    ax.spines["bottom"].set_bounds(0, ticks[-1])
    ylabel = Y_LABELS.get(p["endpoint"], f"{p['endpoint']} probability")
    ax.set_ylabel(ylabel.replace(" probability", " (%)") if percent else ylabel)
    ax.set_xlabel(X_LABELS.get(p["endpoint"], "Months since start of treatment"))

    # Header, top down, in figure coordinates (never over the curves).
    y = 1 - fy(0.08)
    x0 = fx(0.06)
    if letter:
        fig.text(x0, y, letter, ha="left", va="top", fontsize=style.LARGE + 2, fontweight=style.HEAD_WEIGHT)
        y -= fy(0.2)
    for line in p["head"]:
        fig.text(x0, y, line, ha="left", va="top", fontweight=style.HEAD_WEIGHT)
        y -= fy(_LINE)
    if p["legend_rows"]:
        handles = [Line2D([], [], color=c, linewidth=1.6) for c in colors]
        title = style.pretty(p["label"] or p["factor"])
        if letter:  # the panels differ by endpoint: say which
            title = f"{p['endpoint']} by {title}"
        leg = fig.legend(handles, p["entries"], loc="upper left", bbox_to_anchor=(x0, y), ncol=p["ncol"],
                         title=title, alignment="left", borderpad=0, borderaxespad=0, handlelength=1.8,
                         columnspacing=1.4, labelspacing=0.25)
        leg.get_title().set_fontweight(style.HEAD_WEIGHT)
        y -= fy(_LINE * p["legend_rows"] + 0.04)
    for line in p["stats"]:
        fig.text(x0, y, style.pretty(line), ha="left", va="top")
        y -= fy(_LINE)
    if risk_table:
        _risk_table(fig, ax, groups, p["names"], colors, ticks,
                    (fx(left), fy(bottom), (width - left - right) / W, fy(table_h - 0.1)), x_off, n_rows)
    return ax


def _risk_table(fig, ax, groups, names, colors, ticks, rect, x_off=0.0, n_rows=None):
    """Counts under the ticks; rows labelled in their curve's colour."""
    axr = fig.add_axes(rect, sharex=ax)
    axr.set_ylim((n_rows or len(groups)) + 0.5, -0.5)  # row 0 = title line; rows shared across panels
    axr.axis("off")  # no ticks to lay out: the shared x scale is all we need
    # Row labels end 0.1 in left of the axes, whatever its width (the margin is sized for them).
    label_tf = blended_transform_factory(axr.transAxes, axr.transData) + ScaledTranslation(
        -0.1, 0, fig.dpi_scale_trans)
    title_tf = blended_transform_factory(fig.transFigure, axr.transData)
    axr.text((x_off + 0.06) / fig.get_figwidth(), 0, "Number at risk", transform=title_tf, ha="left", va="center",
             fontweight=style.HEAD_WEIGHT, fontsize=style.FONT_SIZE)
    for i, ((_, g), name, color) in enumerate(zip(groups, names, colors), start=1):
        axr.text(0, i, name, transform=label_tf, ha="right", va="center", color=color,
                 fontweight=style.HEAD_WEIGHT, fontsize=style.FONT_SIZE)
        for t, k in zip(ticks, risk_counts(g, ticks)):
            axr.text(t, i, str(k), ha="center", va="center", fontsize=style.FONT_SIZE, gid="risk")
    axr.set_gid("risk_table")
    return axr
