"""Forest plot of ORR and CR: our cohort beside the published studies.

Built on matplotlib.figure.Figure (no pyplot: no global state, safe in servers
and tests). Colours are Okabe-Ito, distinguishable with colour-blindness, and
shapes repeat the colour's meaning so the figure survives greyscale printing.
"""
from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from rwestudy.context.compare import OURS
from rwestudy.stats.proportions import proportion_ci

OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7"}
STYLE = {  # design -> (colour, marker)
    OURS: (OKABE_ITO["vermillion"], "D"),
    "phase II trial": (OKABE_ITO["blue"], "s"),
    "matched cohort": (OKABE_ITO["reddish purple"], "^"),
    "retrospective": (OKABE_ITO["bluish green"], "o"),
    "early access programme": (OKABE_ITO["orange"], "v"),
    "not found": (OKABE_ITO["sky blue"], "o"),
}


def _rows(comparison, measure: str) -> dict:
    """column -> (design, value, low, high, ci_kind, not_best) for the columns that have the rate."""
    lg = comparison.long
    rows = lg.loc[lg["row"] == measure]
    design = lg.loc[lg["row"] == "design"].set_index("column")["text"].to_dict()
    out = {}
    for r in rows.itertuples():
        if _missing(r.value):
            continue
        low, high, kind = r.ci_low, r.ci_high, "published"
        if r.column == OURS:
            kind = "ours"
        elif _missing(low) or _missing(high):
            if not _missing(r.N) and r.N > 0:
                # No published CI: an exact CI from the published counts, drawn dashed to show it is ours.
                x = int(r.n) if not _missing(r.n) else round(r.value * r.N / 100)
                ci = proportion_ci(x, int(r.N), method="exact")
                low, high, kind = 100 * ci.low, 100 * ci.high, "computed"
            else:
                low, high, kind = None, None, "none"
        out[r.column] = (OURS if r.column == OURS else design.get(r.column, "not found"), float(r.value),
                         low, high, kind, r.column != OURS and bool(r.detail) and r.detail != "best")
    return out


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def comparison_forest(comparison, measures=(("orr", "ORR, %"), ("cr", "CR rate, %")), width: float = 11.0) -> Figure:
    """ORR and CR with CIs across studies, this cohort on top and highlighted; one row per study."""
    panels = [(title, _rows(comparison, m)) for m, title in measures]
    names = list(dict.fromkeys(c for c in comparison.long["column"] if any(c in p for _, p in panels)))
    fig = Figure(figsize=(width, 1.6 + 0.3 * len(names)), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True, sharex=True, squeeze=False)[0]
    for ax, (title, rows) in zip(axes, panels):
        for i, name in enumerate(names):
            if name not in rows:
                continue
            design, value, low, high, kind, not_best = rows[name]
            colour, marker = STYLE.get(design, STYLE["not found"])
            if low is not None:
                ax.plot([low, high], [-i, -i], color=colour, lw=2.5 if kind == "ours" else 1.5,
                        ls="--" if kind == "computed" else "-")
            ax.plot(value, -i, marker=marker, color=colour, ms=9 if kind == "ours" else 6, ls="",
                    mfc="white" if not_best else colour, mec=colour)
        if OURS in rows:
            ax.axvline(rows[OURS][1], color=STYLE[OURS][0], lw=0.8, ls=":")
        ax.axhspan(-0.5, 0.5, color=STYLE[OURS][0], alpha=0.08, lw=0)
        ax.set_xlim(0, 100)
        ax.set_title(title)
        ax.set_xlabel("% of patients (95% CI)")
        ax.grid(axis="x", color="#dddddd", lw=0.6)
    axes[0].set_yticks([-i for i in range(len(names))], names)
    for tick in axes[0].get_yticklabels():
        if tick.get_text() == OURS:
            tick.set_fontweight("bold")
    designs = {r[0] for _, rows in panels for r in rows.values()}
    handles = [Line2D([], [], color=c, marker=m, ls="", label=d) for d, (c, m) in STYLE.items() if d in designs]
    handles += [Line2D([], [], color="grey", ls="-", label="published CI"),
                Line2D([], [], color="grey", ls="--", label="exact CI from published counts"),
                Line2D([], [], color="grey", marker="o", mfc="white", ls="", label="not best response (or not stated)")]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False, fontsize=8)
    return fig


def km_overlay(curves: dict, endpoint: str, digitised=None, width: float = 6.0) -> Figure:
    """Kaplan-Meier step curves of our cohort and a reconstructed arm (digitised points as dots).

    ``curves``: label -> Kaplan-Meier table with ``time`` and ``surv`` columns (months).
    """
    from rwestudy.figures.style import SERIES, context, new_figure

    with context():
        fig = new_figure(width, 3.8)
        ax = fig.add_axes((0.11, 0.14, 0.86, 0.8))
        t_max = 0.0
        for (name, km), color in zip(curves.items(), SERIES):
            t = [0.0, *km["time"].tolist()]
            s = [1.0, *km["surv"].tolist()]
            ax.step(t, s, where="post", color=color, label=name)
            t_max = max(t_max, max(t))
        if digitised is not None:
            ax.plot(digitised.iloc[:, 0], digitised.iloc[:, 1], "o", ms=2.5, color="#8C8C8C",
                    label="digitised points", zorder=1)
        ax.set_xlim(0, t_max * 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("Months")
        ax.set_ylabel(f"{endpoint} probability")
        ax.legend(loc="upper right")
    return fig
