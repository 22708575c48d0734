"""`rwestudy compare`: the Context parts (registry comparison, MAIC, reconstructed curve) and their files."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pandas as pd

from rwestudy.core.format import fmt_median
from rwestudy.report.table_model import ReportTable


def maic_part(results, study_id: str, *, variables=None, registry_dir=None, n_boot: int = 1000) -> dict:
    """Weights, balance and weighted outcomes of our cohort in a published study's population."""
    from rwestudy.context.maic import maic_outcomes, maic_weights
    from rwestudy.context.maic_inputs import maic_inputs
    from rwestudy.context.report import resolve_studies

    study = resolve_studies([study_id], registry_dir)[0]
    ep = results.endpoints
    ipd, targets, notes = maic_inputs(study, ep.patients, variables)
    ipd = ipd.join(ep.patients[["orr_best", "cr_best"]].astype("Float64").astype(float))
    ipd.index = ep.patients["patient_id"].to_numpy()
    w = maic_weights(ipd, targets)
    survival = {e: ep.endpoint(e) for e in ("OS", "PFS") if len(ep.endpoint(e))}
    out = maic_outcomes(w, ipd.rename_axis("idx").reset_index(drop=True).set_index(ipd.index), id_col="patient_id",
                        survival=survival, n_boot=n_boot)
    t1 = ReportTable("maic_balance", f"MAIC: balance before and after weighting to {study.label}",
                     ["Matched characteristic", "Published", "Ours before", "Ours after", "Std. diff. before",
                      "Std. diff. after"], group="Context")
    for b in w.balance.itertuples():
        t1.add(b.variable.replace("_", " "), f"{b.target:.3f}", f"{b.before:.3f}", f"{b.after:.3f}",
               f"{b.smd_before:.2f}", f"{b.smd_after:.2f}")
    d = w.distribution
    t1.footnotes.append(f"n = {w.n}" + (f" ({w.n_excluded} excluded for missing values)" if w.n_excluded else "")
                        + f"; effective sample size {w.ess:.1f} ({100 * w.ess / w.n:.0f}%). Weights (sum = n): "
                        f"min {d['min']:.2f}, quartiles {d['q25']:.2f}/{d['median']:.2f}/{d['q75']:.2f}, max "
                        f"{d['max']:.2f}; the top 10% of patients carry {100 * d['top10_share']:.0f}% of the weight.")
    t1.footnotes += notes
    t2 = ReportTable("maic_outcomes", f"MAIC: our outcomes reweighted to {study.label}",
                     ["Outcome", "Ours, unweighted", "Ours, weighted (95% CI)", "Published"], group="Context")
    pub = {"orr_best": study.get("orr"), "cr_best": study.get("cr"), "OS": study.get("os_median"),
           "PFS": study.get("pfs_median")}
    for b in out.binary.itertuples():
        p = pub.get(b.outcome)
        t2.add({"orr_best": "Best ORR, %", "cr_best": "Best CR rate, %"}.get(b.outcome, b.outcome),
               f"{100 * b.rate:.1f}", f"{100 * b.rate_weighted:.1f} ({100 * b.ci_low:.1f}-{100 * b.ci_high:.1f})",
               "" if p is None or p.number is None else f"{p.number:g}")
    for m in out.medians.itertuples():
        p = pub.get(m.endpoint)
        t2.add(f"Median {m.endpoint}, months", fmt_median(m.median),
               f"{fmt_median(m.median_weighted)} ({fmt_median(m.ci_low)}-{fmt_median(m.ci_high)})",
               "" if p is None or p.number is None else f"{p.number:g}")
    t2.footnotes.append(f"Percentile bootstrap CI, {out.n_boot} resamples (seed {out.seed}), weights re-estimated "
                        "in each" + (f"; {out.n_boot_failed} resamples could not reach the targets and were left "
                                     "out" if out.n_boot_failed else "") + ". Weighted Kaplan-Meier medians.")
    t2.footnotes += list(out.notes)
    records = {"maic_balance": _records(w.balance.assign(study=study.id)),
               "maic_outcomes": _records(out.binary.assign(study=study.id)) + _records(
                   out.medians.assign(study=study.id)),
               "maic_summary": [{"study": study.id, "n": w.n, "ess": w.ess, "n_excluded": w.n_excluded,
                                 **{f"weight_{k}": float(v) for k, v in d.items()},
                                 "n_boot": out.n_boot, "n_boot_failed": out.n_boot_failed, "seed": out.seed,
                                 "statement": out.statement}]}
    return {"title": f"MAIC against {study.label}", "paragraphs": [], "warnings": [out.statement],
            "items": [_item(t1), _item(t2)], "records": records}


def reconstruction_part(results, curve_csv, risk_csv, *, endpoint: str = "PFS", label: str = "published arm",
                        total_events: int | None = None, figures_dir=None) -> dict:
    """Guyot pseudo-patients from a digitised curve, checked against it, and compared with our cohort."""
    from rwestudy.context.reconstruct import compare_with_reconstructed, read_digitised, reconstruct_ipd

    rec = reconstruct_ipd(read_digitised(curve_csv, risk_csv), total_events=total_events)
    ours = results.endpoints.endpoint(endpoint)
    cmp = compare_with_reconstructed(ours, rec, conventions=getattr(results.plan, "conventions", None))
    t = ReportTable("reconstruction", f"{endpoint}: our cohort against the reconstructed {label}",
                    ["Item", "Value"], group="Context")
    t.add("Pseudo-patients reconstructed", str(len(rec.ipd)))
    t.add("Events reconstructed" + (" (published)" if rec.total_events is not None else ""),
          f"{rec.events}" + (f" ({rec.total_events})" if rec.total_events is not None else ""))
    t.add("Curve fit: RMSE / max |difference|", f"{rec.rmse:.4f} / {rec.max_abs_diff:.4f}")
    gap = (rec.risk_check["n_risk_reconstructed"] - rec.risk_check["n_risk"]).abs().max()
    t.add("Numbers at risk: largest gap", f"{int(gap)}")
    t.add(f"HR, ours vs {label} (95% CI)", f"{cmp.hr:.2f} ({cmp.ci_low:.2f}-{cmp.ci_high:.2f})")
    t.add("Log-rank p", f"{cmp.p_logrank:.3g}")
    t.footnotes.append("Guyot et al. 2012 algorithm on the digitised curve and published numbers at risk. "
                       "HR > 1: our patients fare worse.")
    items = [_item(t)]
    if figures_dir is not None:
        from rwestudy.context.plot import km_overlay
        from rwestudy.figures.style import save_figure
        from rwestudy.stats import kaplan_meier

        curves = {"This cohort": kaplan_meier(ours, "time", "event").table,
                  f"{label} (reconstructed)": kaplan_meier(rec.ipd, "time", "event").table}
        fig = km_overlay(curves, endpoint, digitised=rec.fit[["time", "surv_digitised"]])
        paths = save_figure(fig, Path(figures_dir), f"context_reconstructed_{endpoint}")
        items.append({"kind": "figure", "title": f"Figure. {endpoint}: our cohort and the reconstructed {label} "
                      "(digitised points shown)", "anchor": "fig-reconstruction", "png": paths.get("png")})
    records = {"reconstruction": [{"endpoint": endpoint, "label": label, "n": len(rec.ipd), "events": rec.events,
                                   "total_events": rec.total_events, "rmse": rec.rmse,
                                   "max_abs_diff": rec.max_abs_diff, "hr": cmp.hr, "ci_low": cmp.ci_low,
                                   "ci_high": cmp.ci_high, "p_logrank": cmp.p_logrank}]}
    return {"title": f"Reconstructed {label}", "paragraphs": list(rec.notes), "warnings": [cmp.caveats],
            "items": items, "records": records, "ipd": rec.ipd}


def _item(t: ReportTable) -> dict:
    return {"kind": "table", "title": t.title, "anchor": t.key, "table": t}


def _records(frame: pd.DataFrame) -> list[dict]:
    from rwestudy.analysis.run import _clean, _records as records

    return _clean(records(frame))


def run_compare(results, ids: list[str], out: Path, *, registry_dir=None, maic: str | None = None,
                maic_vars=None, curve=None, risk=None, endpoint="PFS", label="published arm", total_events=None,
                n_boot: int = 1000, progress: Callable[[str], None] | None = None) -> dict[str, Path]:
    """comparison.html/.docx/.xlsx/.json and figures/ for `rwestudy compare`."""
    from rwestudy.context.report import context_part
    from rwestudy.report.excel import write_xlsx
    from rwestudy.report.build import embed_figures
    from rwestudy.report.html import render_html
    from rwestudy.report.word import write_docx

    say = progress or (lambda m: None)
    out = Path(out)
    figures = out / "figures"
    parts = []
    if ids:
        say("Comparing with the registry")
        parts.append(context_part(results, ids, registry_dir=registry_dir, figures_dir=figures))
    if maic:
        say(f"MAIC against {maic}")
        parts.append(maic_part(results, maic, variables=maic_vars, registry_dir=registry_dir, n_boot=n_boot))
    if curve is not None:
        say("Reconstructing the published curve")
        part = reconstruction_part(results, curve, risk, endpoint=endpoint, label=label, total_events=total_events,
                                   figures_dir=figures)
        out.mkdir(parents=True, exist_ok=True)
        part.pop("ipd").to_csv(out / "reconstructed_ipd.csv", index=False)
        parts.append(part)
    if not parts:
        raise ValueError("nothing to compare: name a study with --with, --maic, or a curve with --curve/--risk")
    for p in parts:
        p["anchor"] = "".join(c if c.isalnum() else "-" for c in p["title"].lower())
    say("Writing comparison files")
    out.mkdir(parents=True, exist_ok=True)
    records = {}
    for p in parts:
        records.update(p.get("records", {}))
    paths = {"json": out / "comparison.json"}
    paths["json"].write_text(json.dumps(records, indent=1, default=str), encoding="utf-8")
    html_parts = embed_figures(parts)
    meta = "Our cohort beside published studies. Unadjusted comparisons across different populations."
    paths["html"] = out / "comparison.html"
    paths["html"].write_text(render_html("Context: published studies", meta, html_parts), encoding="utf-8")
    paths["docx"] = write_docx(out / "comparison.docx", "Context: published studies", meta, parts)
    paths["xlsx"] = write_xlsx(out / "comparison.xlsx",
                               [it["table"] for p in parts for it in p["items"] if it["kind"] == "table"])
    return paths
