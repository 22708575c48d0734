"""Adverse events: % of patients per term (most frequent first), stacked by each patient's worst grade.

Drawn from the ``adverse_events`` by_term records, whose grade bands count a
patient once at the worst grade of that term, so the stacked segments add up
to the patients with the term (any grade), never double-counting.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from rwestudy.figures import style
from rwestudy.figures.data import table

BANDS = ["1-2", "3", "4", "5", "grade NA"]
BAND_LABELS = {"1-2": "1\u20132", "3": "3", "4": "4", "5": "5", "grade NA": "unknown"}


def ae_figure(results, top: int = 15, width: float = style.ONE_HALF) -> Figure:
    """Horizontal stacked bars for the ``top`` terms by patients with any grade."""
    ae = table(results, "adverse_events")
    if ae.empty or not (ae["table"] == "by_term").any():
        raise ValueError("no adverse event records")
    t = ae[(ae["table"] == "by_term") & (ae["drug"].fillna("any") == "any")]
    anyg = t[t["grade"] == "any"].sort_values(["patients", "term"], ascending=[False, True], kind="stable")
    anyg = anyg[anyg["patients"] > 0].head(top)
    terms = list(anyg["term"])
    denom = int(anyg["denominator_patients"].max()) if len(anyg) else 0
    wide = t[t["term"].isin(terms)].pivot_table(index="term", columns="grade", values="pct_patients",
                                                aggfunc="first").reindex(terms)
    counts = wide.reindex(columns=BANDS).fillna(0.0)
    bands = [b for b in BANDS if (counts[b] > 0).any() or b in ("1-2", "3", "4")]
    label_w = max([style.text_width(s) for s in terms] + [0.5])
    ends = [f"{int(r.patients)} ({r.pct_patients:.0f}%)" for r in anyg.itertuples()]
    end_w = max([style.text_width(s, style.SMALL) for s in ends] + [0.3]) + 0.12
    row, top_h, bottom = 0.2, 0.42, 0.45
    height = top_h + row * max(len(terms), 1) + bottom
    fig = style.new_figure(width, height)
    W, H = width, height
    with style.context():
        left = label_w + 0.15
        ax = fig.add_axes((left / W, bottom / H, (W - left - end_w) / W, row * max(len(terms), 1) / H))
        y = np.arange(len(terms), dtype=float)
        acc = np.zeros(len(terms))
        for b in bands:
            v = counts[b].to_numpy(float)
            ax.barh(y, v, left=acc, height=0.72, color=style.GRADE_COLORS[b], linewidth=0)
            acc += v
        for yi, pct, text in zip(y, anyg["pct_patients"], ends):
            ax.annotate(text, (pct, yi), xytext=(2, 0), textcoords="offset points", va="center", ha="left",
                        fontsize=style.SMALL, annotation_clip=False)
        style.fixed_ticks(ax.yaxis, y, terms)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(len(terms) - 0.5, -0.6)
        ax.set_xlim(0, max(10.0, float(anyg["pct_patients"].max()) * 1.05 if len(anyg) else 10.0))
        ax.set_xlabel(f"Patients with the event (% of {denom})")
        ax.spines["left"].set_visible(False)
        fig.legend(handles=[Patch(color=style.GRADE_COLORS[b], label=BAND_LABELS[b]) for b in bands],
                   title="Worst CTCAE grade", loc="upper left", bbox_to_anchor=(left / W, 1 - 0.04 / H),
                   ncol=len(bands), borderaxespad=0, borderpad=0, handlelength=1.2, columnspacing=1.0,
                   alignment="left")
    return fig
