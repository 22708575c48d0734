"""Cumulative incidence curves (competing risks), in the Kaplan-Meier figures' style.

From the ``cif_table`` records: overall, one curve per cause (progression and
death without progression); by a factor, one panel per cause with a curve per
level and Gray's p. The numbers at risk are the patients still free of both
events, i.e. the PFS risk table (``km_table`` of PFS), placed exactly like the
Kaplan-Meier risk tables (a shared x axis).
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from rwestudy.figures import style
from rwestudy.figures.data import table
from rwestudy.figures.km import _LINE, _risk_table, curve_groups, level_name, month_ticks

CAUSE_ORDER = ("progression", "death without progression")


def cif_figure(results, factor: str | None = None, *, width: float = style.SINGLE) -> Figure:
    """Overall (``factor=None``): both causes in one panel. By factor: one panel per cause."""
    cif = table(results, "cif_table")
    if cif.empty:
        raise ValueError("no cumulative incidence records (cif_table)")
    cif = cif[cif["variable"] == (factor or "all")]
    if cif.empty:
        raise ValueError(f"no cumulative incidence records by {factor}")
    risk = curve_groups(results, "PFS", factor)
    panels = [None] if factor is None else [c for c in CAUSE_ORDER if (cif["cause"] == c).any()]
    n_rows = max(len(risk), 1)
    header_h, plot_h, axis_h, bottom = 0.1 + _LINE * (3 if factor else 2), 2.2, 0.42, 0.08
    table_h = _LINE * (n_rows + 1) + 0.1
    fig = style.new_figure(width * len(panels), header_h + plot_h + axis_h + table_h + bottom)
    height = fig.get_figheight()
    t_max = float(cif["time"].max()) if len(risk) == 0 else max(float(g["time"].max()) for _, g in risk)
    ticks = month_ticks(t_max)
    gray = table(results, "gray_tests")
    with style.context():
        for k, cause in enumerate(panels):
            x_off = k * width
            if factor is None:
                curves = [(c, cif[cif["cause"] == c]) for c in CAUSE_ORDER if (cif["cause"] == c).any()]
                names = [c.capitalize() for c, _ in curves]
                title = "Competing risks after treatment start"
                stats = []
            else:
                sub = cif[cif["cause"] == cause]
                curves = [(lvl, g) for lvl, g in sub.groupby("group", sort=False)]
                names = [level_name(factor, lvl) for lvl, _ in curves]
                g = gray[(gray["variable"] == factor) & (gray["cause"] == cause)] if not gray.empty else gray
                label = g["label"].iloc[0] if len(g) and "label" in g else style.pretty(factor)
                title = f"{chr(ord('A') + k)}  {cause.capitalize()} by {label}"
                stats = [f"Gray's test p = {style.fmt_p(g['p'].iloc[0])}".replace("= <", "<")] if len(g) else []
            colors = [style.SERIES[i % len(style.SERIES)] for i in range(len(curves))]
            risk_names = ["All patients"] if factor is None else [level_name(factor, lvl) for lvl, _ in risk]
            label_w = max(style.text_width(s, style.FONT_SIZE) for s in risk_names or ["All patients"])
            left, right = max(0.62, label_w + 0.2), 0.22
            fx = lambda inches: (x_off + inches) / fig.get_figwidth()  # noqa: E731
            fy = lambda inches: inches / height  # noqa: E731
            ax = fig.add_axes((fx(left), fy(bottom + table_h + axis_h), (width - left - right) / fig.get_figwidth(),
                               fy(plot_h)))
            top = 0.0
            for (key, g), color in zip(curves, colors):
                g = g.sort_values("time")
                x = np.r_[0.0, g["time"].to_numpy(float)]
                y = np.r_[0.0, g["cif"].to_numpy(float)]
                if factor is None:   # bands of several groups hide each other (as the KM figures)
                    lo = np.r_[0.0, g["ci_low"].to_numpy(float)]
                    hi = np.r_[0.0, g["ci_high"].to_numpy(float)]
                    ax.fill_between(x, np.nan_to_num(lo), np.nan_to_num(hi), step="post", color=color,
                                    alpha=0.16, linewidth=0)
                    top = max(top, float(np.nanmax(hi)))
                ax.step(np.r_[x, ticks[-1]], np.r_[y, y[-1]], where="post", color=color, linewidth=1.4)
                top = max(top, float(y.max()))
            ymax = min(1.0, max(0.2, np.ceil(top * 5 + 0.25) / 5))
            ax.set_ylim(-0.01, ymax + 0.01)
            yt = np.linspace(0, ymax, int(round(ymax / 0.2)) + 1)
            style.fixed_ticks(ax.yaxis, yt, [f"{v:.1f}" for v in yt])
            ax.set_xlim(-0.015 * ticks[-1], ticks[-1])
            style.fixed_ticks(ax.xaxis, ticks, [f"{t:g}" for t in ticks])
            ax.spines["left"].set_bounds(0, ymax)
            ax.spines["bottom"].set_bounds(0, ticks[-1])
            ax.set_ylabel("Cumulative incidence")
            ax.set_xlabel("Months since start of treatment")
            y0 = 1 - fy(0.08)
            fig.text(fx(0.06), y0, title, ha="left", va="top", fontweight=style.HEAD_WEIGHT)
            for i, line in enumerate(stats):
                fig.text(fx(0.06), y0 - fy(_LINE * (i + 1)), line, ha="left", va="top")
            ax.legend([Line2D([], [], color=c, linewidth=1.6) for c in colors], names, loc="upper left",
                      frameon=False, handlelength=1.8, borderaxespad=0.2)
            if risk:
                _risk_table(fig, ax, risk, risk_names,
                            [style.GREY] if factor is None else colors, ticks,
                            (fx(left), fy(bottom), (width - left - right) / fig.get_figwidth(), fy(table_h - 0.1)),
                            x_off, n_rows)
    return fig
