"""Oncoprint: genes (rows, most frequent first) x patients (columns, memo-sorted), from the mutations table.

Memo sort (as in cBioPortal): columns ordered by the binary alteration
pattern read gene by gene from the most frequent, so co-occurrence and
mutual exclusivity show as staircases. Best response and cell of origin
sit on top as annotation rows. Only the pseudonymised patient_id is shown.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from rwestudy.figures import style
from rwestudy.figures.data import patients as patient_frame, study_tables

ALTERATION_COLORS = {  # cBioPortal's conventions, mapped onto Okabe-Ito
    "missense": style.OKABE_ITO["green"], "truncating": style.OKABE_ITO["black"],
    "amplification": style.OKABE_ITO["vermillion"], "deletion": style.OKABE_ITO["blue"],
    "fusion": style.OKABE_ITO["purple"], "other": style.OKABE_ITO["orange"],
}
COO_COLORS = {"GCB": style.OKABE_ITO["yellow"], "non-GCB": style.OKABE_ITO["sky_blue"], "ABC": "#5B2C6F",
              "unknown": "white"}
# Response as a grey ramp (darker = better): ordinal, and no hue shared with the alteration classes.
RESPONSE_GREYS = {"CR": "#1A1A1A", "PR": "#5E5E5E", "SD": "#9A9A9A", "PD": "#C8C8C8", "NE": "white"}
NOT_ALTERED = "#EDEDED"
_ROW = 0.17


def oncoprint_matrix(mutations: pd.DataFrame, all_patients=None) -> tuple[pd.DataFrame, pd.Series]:
    """Gene x patient matrix of alteration classes ('' = none), memo-sorted; and % altered per gene.

    ``all_patients``: patient ids to use as columns and denominator (default:
    the patients with at least one alteration, the only ones known to be tested).
    """
    m = mutations.dropna(subset=["patient_id", "gene"]).copy()
    m["alteration"] = m["alteration"].astype("object").fillna("other") if "alteration" in m else "other"
    cols = list(dict.fromkeys(all_patients)) if all_patients is not None else sorted(m["patient_id"].unique())
    m = m[m["patient_id"].isin(cols)]
    freq = m.groupby("gene")["patient_id"].nunique().sort_values(ascending=False, kind="stable")
    genes = sorted(freq.index, key=lambda g: (-freq[g], g))
    mat = (m.drop_duplicates(["patient_id", "gene"]).pivot(index="gene", columns="patient_id", values="alteration")
           .reindex(index=genes, columns=cols).fillna(""))
    altered = (mat != "").to_numpy()
    # lexsort: last key is primary -> gene 1 altered first, then gene 2, ...; then more alterations; then id.
    keys = [np.array(cols, dtype=object).astype(str), -altered.sum(axis=0)] + [~altered[i] for i in
                                                                                 range(len(genes) - 1, -1, -1)]
    order = np.lexsort(keys) if len(cols) else np.array([], dtype=int)
    mat = mat.iloc[:, order]
    pct = 100.0 * freq.reindex(genes) / max(len(cols), 1)
    return mat, pct


def oncoprint_figure(results, study, *, max_genes: int = 25, show_ids: bool | None = None,
                     width: float = style.DOUBLE) -> Figure | None:
    """The oncoprint, or None when the study has no mutations table rows (nothing to draw)."""
    mut = study_tables(study).get("mutations")
    if mut is None or len(mut) == 0 or mut["patient_id"].notna().sum() == 0:
        return None
    mat, pct = oncoprint_matrix(mut)
    mat, pct = mat.iloc[:max_genes], pct.iloc[:max_genes]
    genes, pids = list(mat.index), list(mat.columns)
    n_g, n_p = len(genes), len(pids)
    show_ids = n_p <= 60 if show_ids is None else show_ids
    pats = patient_frame(results, study).drop_duplicates("patient_id").set_index("patient_id")
    annots = {}
    if "best_response" in pats:
        annots["Best response"] = (pats["best_response"].reindex(pids).astype("object"), RESPONSE_GREYS)
    if "cell_of_origin" in pats:
        annots["Cell of origin"] = (pats["cell_of_origin"].reindex(pids).astype("object"), COO_COLORS)

    labels = [*annots, *genes]
    left = max(style.text_width(s) for s in labels) + 0.2
    right = 0.5
    id_h = (max(style.text_width(p, style.SMALL - 1) for p in pids) + 0.1) if show_ids else 0.1
    legend_h = 0.3 + 0.16 * 3
    n_ann = len(annots)
    grid_h = _ROW * (n_g + n_ann) + (0.08 if n_ann else 0)
    top = 0.25  # room for the "% of n patients" header
    height = top + grid_h + id_h + legend_h
    fig = style.new_figure(width, height)
    W, H = width, height
    with style.context():
        ax = fig.add_axes((left / W, (legend_h + id_h) / H, (W - left - right) / W, grid_h / H))
        gap = 0.08 / _ROW if n_ann else 0.0
        y_ann = {name: i for i, name in enumerate(annots)}
        y_gene = {g: n_ann + gap + i for i, g in enumerate(genes)}
        ax.set_xlim(-0.5, n_p - 0.5)
        ax.set_ylim(n_ann + gap + n_g - 0.5, -0.5)
        cells: dict[str, list] = {}

        def cell(color, x, y, h=0.42, w=0.42):
            cells.setdefault(color, []).append([(x - w, y - h), (x - w, y + h), (x + w, y + h), (x + w, y - h)])

        for j, pid in enumerate(pids):
            for g in genes:
                cls = mat.at[g, pid]
                cell(NOT_ALTERED if cls == "" else ALTERATION_COLORS.get(cls, ALTERATION_COLORS["other"]),
                     j, y_gene[g])
            for name, (values, colors) in annots.items():
                v = values.get(pid)
                cell(colors.get(str(v), "white") if pd.notna(v) else "white", j, y_ann[name])
        for color, verts in cells.items():
            white = color == "white"  # NE / unknown: outlined, so an empty cell still reads as a cell
            ax.add_collection(PolyCollection(verts, facecolors=color, edgecolors=style.GREY if white else "none",
                                             linewidths=0.5 if white else 0))
        style.fixed_ticks(ax.yaxis, [*y_ann.values(), *y_gene.values()], [*annots, *genes])
        for lab in ax.get_yticklabels()[n_ann:]:
            lab.set_fontstyle("italic")  # gene symbols are italic by convention (HGNC)
        ax.tick_params(axis="y", length=0, pad=3)
        if show_ids:
            style.fixed_ticks(ax.xaxis, range(n_p), pids, rotation=90, fontsize=style.SMALL - 1)
            ax.tick_params(axis="x", length=0, pad=2)
        else:
            style.fixed_ticks(ax.xaxis, [])
        for s in ax.spines.values():
            s.set_visible(False)
        for g in genes:
            ax.text(n_p - 0.3, y_gene[g], f"{pct[g]:.0f}%", ha="left", va="center", fontsize=style.SMALL)
        fig.text(1 - 0.06 / W, (legend_h + id_h + grid_h + 0.02) / H, f"% of {n_p} patients", ha="right",
                 va="bottom", fontsize=style.SMALL)
        # Legends side by side under the grid.
        groups = [("Alteration", {k: v for k, v in ALTERATION_COLORS.items()
                                  if (mat == k).to_numpy().any()})]
        for name, (values, colors) in annots.items():
            present = {str(v) for v in values.dropna()}
            groups.append((name, {k: v for k, v in colors.items() if k in present}))
        x = 0.06
        for title, colors in groups:
            if not colors:
                continue
            handles = [Patch(facecolor=c, edgecolor=style.GREY if c == "white" else c, linewidth=0.5, label=k)
                       for k, c in colors.items()]
            ncol = -(-len(handles) // 3)  # at most 3 rows
            leg = fig.legend(handles=handles, title=title, loc="upper left", ncol=ncol,
                             bbox_to_anchor=(x / W, (legend_h - 0.05) / H), borderaxespad=0, borderpad=0,
                             handlelength=1.0, handleheight=0.9, columnspacing=0.8, labelspacing=0.25,
                             alignment="left", fontsize=style.SMALL, title_fontsize=style.FONT_SIZE)
            leg.get_title().set_fontweight(style.HEAD_WEIGHT)
            x += ncol * (max(style.text_width(k, style.SMALL) for k in colors) + 0.35) + 0.3
    return fig
