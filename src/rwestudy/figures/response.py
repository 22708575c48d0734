"""Best and final response side by side (% of the response denominator), from the ``response`` records."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from rwestudy.figures import style
from rwestudy.figures.data import table

CATEGORIES = ["CR", "PR", "SD", "PD", "NE"]
SERIES = {"best": ("Best response", style.OKABE_ITO["blue"]),
          "final": ("Final response", style.OKABE_ITO["sky_blue"])}


def response_figure(results, width: float = style.ONE_HALF) -> Figure:
    """Grouped bars per category (best vs final), each labelled with n and %; ORR and CR rate above."""
    r = table(results, "response")
    if r.empty:
        raise ValueError("no response records")
    assessments = [a for a in SERIES if (r["assessment"] == a).any()]
    cats = list(CATEGORIES)
    missing = r[(r["row_type"] == "missing") & (r["n"] > 0)]
    if len(missing):  # a 'not assessed' bar only when someone is not assessed
        cats.append("not assessed")
    head = []
    for a in assessments:
        rates = r[(r["assessment"] == a) & (r["row_type"] == "rate")].set_index("category")
        parts = [f"{k.split(' (')[0]} {row.pct:.1f}% (95% CI {row.ci_low:.1f}\u2013{row.ci_high:.1f})"
                 for k, row in rates.iterrows()]
        if parts:
            head.append(f"{SERIES[a][0]}: " + "; ".join(parts))
    denom = int(r["denominator"].max())
    head.append(f"Denominator: {denom} patients (not evaluable and missing count as non-responders)")
    top = 0.12 + 0.16 * len(head) + 0.22
    plot_h, bottom = 2.2, 0.45
    height = top + plot_h + bottom
    fig = style.new_figure(width, height)
    W, H = width, height
    with style.context():
        ax = fig.add_axes((0.6 / W, bottom / H, (W - 0.75) / W, plot_h / H))
        x = np.arange(len(cats), dtype=float)
        bw = 0.8 / max(len(assessments), 1)
        ymax = 0.0
        for k, a in enumerate(assessments):
            rows = r[(r["assessment"] == a) & (r["row_type"].isin(["category", "missing"]))].set_index("category")
            pct = np.array([float(rows.loc[c, "pct"]) if c in rows.index else 0.0 for c in cats])
            n = [int(rows.loc[c, "n"]) if c in rows.index else 0 for c in cats]
            xs = x + (k - (len(assessments) - 1) / 2) * bw
            ax.bar(xs, pct, width=bw * 0.92, color=SERIES[a][1], linewidth=0)
            for xi, p, ni in zip(xs, pct, n):
                ax.text(xi, p + 1.0, f"{ni}\n{p:.0f}%", ha="center", va="bottom", fontsize=style.SMALL,
                        linespacing=1.0)
            ymax = max(ymax, float(pct.max()))
        style.fixed_ticks(ax.xaxis, x, cats)
        ax.set_xlim(-0.6, len(cats) - 0.4)
        ax.set_ylim(0, min(100.0, ymax * 1.12 + 10))
        ax.set_ylabel("Patients (%)")
        ax.tick_params(axis="x", length=0)
        y = 1 - 0.08 / H
        for i, line in enumerate(head):
            fig.text(0.06 / W, y, line, ha="left", va="top", fontsize=style.FONT_SIZE if i < len(head) - 1
                     else style.SMALL)
            y -= 0.16 / H
        fig.legend(handles=[Patch(color=SERIES[a][1], label=SERIES[a][0]) for a in assessments],
                   loc="upper right", bbox_to_anchor=(1 - 0.1 / W, (bottom + plot_h + 0.2) / H), ncol=2,
                   borderaxespad=0, borderpad=0, handlelength=1.2)
    return fig
