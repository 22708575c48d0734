"""Swimmer plot: one bar per patient, from diagnosis (or treatment start) to death or last contact.

Segments follow the usual relapsed-lymphoma layout: diagnosis to first
relapse/progression after the first line, then to the start of the study
treatment, the treatment itself, and follow-up after it; markers show the
first CR and PR, progression and death; an arrow marks patients alive at
last contact. Bars are PolyCollections (one per segment kind), not one patch
per bar, so 1,000 patients draw as fast as 10. Only the pseudonymised
patient_id is ever shown.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rwestudy.figures import style
from rwestudy.figures.data import days_per_month, patients as patient_frame, study_tables
from rwestudy.figures.km import month_ticks

SEGMENTS = {  # kind: (legend label, colour)
    "to_relapse": ("Diagnosis to first relapse/progression", style.OKABE_ITO["blue"]),
    "to_start": ("First relapse/progression to treatment start", style.LIGHT_GREY),
    "to_start_unknown": ("Diagnosis to treatment start (relapse date unknown)", "#BFD6E6"),
    "treatment": ("Study treatment", style.OKABE_ITO["orange"]),
    "after": ("After end of treatment", style.OKABE_ITO["green"]),
}
MARKERS = {  # kind: (legend label, marker kwargs)
    "CR": ("First complete response", dict(marker="o", color="black", markerfacecolor="black")),
    "PR": ("First partial response", dict(marker="o", color="black", markerfacecolor="white")),
    "PD": ("Progression", dict(marker="D", color="black", markerfacecolor=style.OKABE_ITO["vermillion"])),
    "death": ("Death", dict(marker="X", color="black", markerfacecolor="black", markeredgewidth=0)),
    "alive": ("Alive at last contact", dict(marker=">", color=style.GREY, markerfacecolor=style.GREY)),
}


def swimmer_data(results, study, origin: str = "diagnosis") -> tuple[pd.DataFrame, list[str]]:
    """Per-patient dates in months from the origin, and the patients that cannot be drawn (with why).

    Columns: patient_id, relapse, start, end_treatment, end, died, alive, cr, pr, pd.
    """
    tables = study_tables(study)
    pats = patient_frame(results, study)
    dpm = days_per_month(results)
    p = pats.set_index("patient_id")
    col = lambda c: pd.to_datetime(p[c]) if c in p else pd.Series(pd.NaT, index=p.index)  # noqa: E731
    dx, start, t_end = col("diagnosis_date"), col("treatment_start_date"), col("treatment_end_date")
    death, last = col("death_date"), col("last_contact_date")
    end = death.fillna(last)
    ep = getattr(results, "endpoints", None)
    if ep is not None and hasattr(ep, "endpoint"):  # OS end respects the data cut-off
        os_ = ep.endpoint("OS").set_index("patient_id")
        end = pd.to_datetime(os_["end_date"]).reindex(p.index).fillna(end)
        died = os_["event"].reindex(p.index).fillna(death.notna().astype(int)).astype(bool)
    else:
        died = death.notna()
    relapse = _first_relapse(tables.get("prior_lines"), p.index)
    first = _first_responses(tables.get("responses"), start)
    cr = first["CR"].fillna(col("cr_date"))
    pr = first["PR"]
    prog = col("progression_date").where(lambda d: d >= start)

    origin_date = dx if origin == "diagnosis" else start
    missing = []
    for pid in p.index:
        why = [name for name, d in (("diagnosis date", dx), ("treatment start date", start)) if
               (name != "diagnosis date" or origin == "diagnosis") and pd.isna(d[pid])]
        if why:
            missing.append(f"{pid} ({', '.join(why)})")
    ok = origin_date.notna() & start.notna()
    # Without death/last contact, the latest date known still bounds the bar.
    latest = pd.concat([t_end, prog, cr, pr, start], axis=1).max(axis=1)
    end = end.fillna(latest)
    months = lambda d: (d - origin_date).dt.days / dpm  # noqa: E731
    relapse = relapse.reindex(p.index).where((relapse.reindex(p.index) >= dx) & (relapse.reindex(p.index) <= start))
    t_end = t_end.where(t_end >= start)
    out = pd.DataFrame({
        "patient_id": p.index, "relapse": months(relapse), "start": months(start),
        "end_treatment": months(t_end.fillna(end)), "treatment_ongoing": t_end.isna(),
        "end": months(end), "died": died, "cr": months(cr), "pr": months(pr), "pd": months(prog),
        "death": months(death.where(died)),
    }).loc[ok.to_numpy()].reset_index(drop=True)
    out["end"] = out[["end", "end_treatment", "start"]].max(axis=1)
    out["end_treatment"] = out[["end_treatment", "end"]].min(axis=1)
    return out.sort_values(["end", "patient_id"], ascending=[False, True]).reset_index(drop=True), missing


def _first_relapse(lines: pd.DataFrame | None, ids) -> pd.Series:
    """Relapse/progression after line 1: its relapse_date, else the start of line 2."""
    if lines is None or len(lines) == 0 or "line" not in lines:
        return pd.Series(pd.NaT, index=ids, dtype="datetime64[ns]")
    ln = lines.assign(line=pd.to_numeric(lines["line"], errors="coerce"))
    one = ln[ln["line"] == 1].drop_duplicates("patient_id").set_index("patient_id")
    two = ln[ln["line"] == 2].drop_duplicates("patient_id").set_index("patient_id")
    rel = pd.to_datetime(one["relapse_date"]) if "relapse_date" in one else pd.Series(dtype="datetime64[ns]")
    nxt = pd.to_datetime(two["start_date"]) if "start_date" in two else pd.Series(dtype="datetime64[ns]")
    return rel.reindex(ids).fillna(nxt.reindex(ids))


def _first_responses(resp: pd.DataFrame | None, start: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame({"CR": pd.NaT, "PR": pd.NaT}, index=start.index, dtype="datetime64[ns]")
    if resp is None or len(resp) == 0:
        return out
    r = resp.assign(date=pd.to_datetime(resp["date"]))
    r = r[r["date"] >= r["patient_id"].map(start)]
    for cat in ("CR", "PR"):
        out[cat] = r[r["response"] == cat].groupby("patient_id")["date"].min().reindex(start.index)
    return out


def swimmer_figure(results, study, *, origin: str = "diagnosis", show_ids: bool | None = None,
                   width: float = style.DOUBLE) -> Figure:
    """Swimmer plot; ``origin`` "diagnosis" or "treatment"; ``show_ids`` default: only up to 40 patients."""
    if origin not in ("diagnosis", "treatment"):
        raise ValueError("origin must be 'diagnosis' or 'treatment'")
    d, missing = swimmer_data(results, study, origin)
    n = len(d)
    show_ids = n <= 40 if show_ids is None else show_ids
    row = 0.16 if n <= 40 else max(0.05, min(0.16, 6.5 / max(n, 1)))
    notes = []
    if missing:
        notes.append(f"Not shown ({len(missing)}, date missing): " + "; ".join(missing[:8])
                     + (f"; and {len(missing) - 8} more" if len(missing) > 8 else ""))
    segs = _segments(d, origin)
    used = [k for k in SEGMENTS if k in segs]
    mk_used = [k for k in MARKERS if _marker_points(d, k)[0].size]
    n_leg = len(used) + len(mk_used)
    leg_rows = -(-n_leg // 3)
    top = 0.12 + 0.17 * leg_rows
    bottom = 0.5 + 0.16 * len(notes)
    label_w = max([style.text_width(str(x), style.SMALL) for x in d["patient_id"]] + [0]) if show_ids else 0
    left = 0.35 + label_w + 0.08
    height = top + row * max(n, 1) + bottom
    fig = style.new_figure(width, height)
    W, H = width, height
    with style.context():
        ax = fig.add_axes((left / W, bottom / H, (W - left - 0.25) / W, row * max(n, 1) / H))
        ys = np.arange(n, dtype=float)
        for kind in used:
            ax.add_collection(PolyCollection(segs[kind], facecolors=SEGMENTS[kind][1], edgecolors="none",
                                             linewidths=0))
        ms = 4.0 if row >= 0.1 else 3.0
        for kind in mk_used:
            x, y = _marker_points(d, kind)
            kw = dict(MARKERS[kind][1])
            ax.plot(x + (0.012 * d["end"].max() if kind == "alive" else 0), y, linestyle="none",
                    markersize=ms * (1.15 if kind == "death" else 1), markeredgewidth=kw.pop("markeredgewidth", 0.6),
                    zorder=3, clip_on=False, **kw)
        x_max = max(float(d["end"].max()) if n else 1.0, 1.0)
        ticks = month_ticks(x_max * 1.03)
        ax.set_xlim(-0.01 * ticks[-1], ticks[-1])
        style.fixed_ticks(ax.xaxis, ticks, [f"{t:g}" for t in ticks])
        ax.set_ylim(n - 0.5, -0.5)
        if show_ids:
            style.fixed_ticks(ax.yaxis, ys, list(d["patient_id"]), fontsize=style.SMALL)
            ax.tick_params(axis="y", length=0, pad=2)
        else:
            style.fixed_ticks(ax.yaxis, [])
        ax.set_ylabel(f"Patients (n = {n}), longest follow-up at top" if not show_ids else f"Patient (n = {n})")
        ax.set_xlabel("Months from diagnosis" if origin == "diagnosis" else "Months from start of treatment")
        ax.spines["left"].set_visible(show_ids)
        handles = [Patch(facecolor=SEGMENTS[k][1], label=SEGMENTS[k][0]) for k in used]
        handles += [Line2D([], [], linestyle="none", markersize=4.5, label=MARKERS[k][0],
                           **{a: b for a, b in MARKERS[k][1].items() if a != "markeredgewidth"}) for k in mk_used]
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.06 / W, 1 - 0.06 / H), ncol=3,
                   borderaxespad=0, borderpad=0, handlelength=1.4, columnspacing=1.2, labelspacing=0.35)
        for k, note in enumerate(notes):
            fig.text(0.06 / W, (0.12 + 0.16 * (len(notes) - 1 - k)) / H, note, fontsize=style.SMALL, va="bottom")
    return fig


def _segments(d: pd.DataFrame, origin: str) -> dict[str, list]:
    """Rectangles (as vertex arrays) per segment kind; bar height 0.7 of a row."""
    out: dict[str, list] = {}
    h = 0.35

    def add(kind, x0, x1, y):
        keep = x0.notna() & x1.notna() & (x1 > x0)
        a, b, yy = x0[keep].to_numpy(float), x1[keep].to_numpy(float), y[keep.to_numpy()]
        if len(a):
            v = np.stack([np.c_[a, yy - h], np.c_[a, yy + h], np.c_[b, yy + h], np.c_[b, yy - h]], axis=1)
            out.setdefault(kind, []).extend(v)

    y = np.arange(len(d), dtype=float)
    zero = pd.Series(0.0, index=d.index)
    if origin == "diagnosis":
        add("to_relapse", zero, d["relapse"], y)
        add("to_start", d["relapse"], d["start"], y)
        add("to_start_unknown", zero.where(d["relapse"].isna()), d["start"], y)
    add("treatment", d["start"], d["end_treatment"], y)
    add("after", d["end_treatment"], d["end"], y)
    return out


def _marker_points(d: pd.DataFrame, kind: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(len(d), dtype=float)
    if kind == "alive":
        keep = ~d["died"].astype(bool).to_numpy()
        return d["end"].to_numpy(float)[keep], y[keep]
    col = {"CR": "cr", "PR": "pr", "PD": "pd", "death": "death"}[kind]
    x = d[col].to_numpy(float)
    keep = ~np.isnan(x)
    return x[keep], y[keep]
