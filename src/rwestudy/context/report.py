"""The "Context" part of the report: our cohort beside the published studies the user names."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from rwestudy.core.format import fmt_p
from rwestudy.report.table_model import ReportTable


def _norm(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def resolve_studies(ids: list[str], registry_dir=None) -> list:
    """Registry entries for user-typed ids ('l-mind-5year', 'earlymind', 'TALOs').

    A name shared by several analyses (L-MIND primary, long-term, 5-year) is an
    error listing them: each analysis has its own data cut-off and numbers, and
    choosing one silently would be exactly the mismatch this command exists to avoid.
    """
    from rwestudy.registry import load_registry

    extra = [Path(registry_dir)] if registry_dir else None
    studies = load_registry(extra_dirs=extra)
    by_id = {_norm(s.id): s for s in studies}
    chosen = []
    for raw in ids:
        key = _norm(raw)
        if key in by_id:
            chosen.append(by_id[key])
            continue
        hits = [s for k, s in by_id.items() if k.startswith(key)]
        if len(hits) == 1:
            chosen.append(hits[0])
        elif hits:
            raise ValueError(f"'{raw}' matches {len(hits)} registry entries, each its own analysis with its own "
                             f"data cut-off: {', '.join(s.id for s in hits)}; name one with --with")
        else:
            raise ValueError(f"no registry entry '{raw}'; see `rwestudy registry list` (known: "
                             f"{', '.join(s.id for s in studies)})")
    return chosen


def comparison_tables(cmp) -> list[ReportTable]:
    side = cmp.table
    t = ReportTable("context", "Our cohort beside published studies", ["Characteristic"] + list(side.columns),
                    group="Context")
    for label, row in side.iterrows():
        t.add(label, *[str(v) for v in row])
    t.footnotes.append("Published values as reported (percent, n/N, [95% CI]); tags in brackets mark secondary "
                       "sources. Every published number carries its citation and quote in results.json "
                       "(comparison) and in `rwestudy registry show ID`.")
    out = [t]
    rates = cmp.rate_tests
    if len(rates):
        r = ReportTable("context_rates", "Response rates against published rates",
                        ["Study", "Rate", "Ours, % (95% CI)", "Published, % (95% CI)", "Inside published CI",
                         "Exact binomial p"], group="Context")
        for x in rates.itertuples():
            pub_ci = (f" ({x.published_ci_low:g}-{x.published_ci_high:g})"
                      if pd.notna(getattr(x, "published_ci_low", None)) else "")
            inside = {True: "yes", False: "no"}.get(getattr(x, "inside_published_ci", None), "no CI published")
            r.add(x.label, f"{x.item} ({x.assessment_published})",
                  f"{x.ours:.1f} ({x.ours_ci_low:.1f}-{x.ours_ci_high:.1f})", f"{x.published:g}{pub_ci}",
                  inside, fmt_p(x.binomial_p))
        r.footnotes.append("Exact binomial test of our responders against the published proportion taken as "
                           "fixed: it ignores the published study's own sampling error, so it overstates "
                           "significance. Best response is compared with best, end of treatment with end.")
        out.append(r)
    smd = cmp.smd
    if len(smd) and "smd" in smd:
        s = ReportTable("context_smd", "Standardized differences of baseline characteristics",
                        ["Study", "Characteristic", "Ours", "Published", "Standardized difference"], group="Context")
        for x in smd.itertuples():
            s.add(x.label, x.item, _num(getattr(x, "ours", None)), _num(getattr(x, "published", None)),
                  "not computable" if pd.isna(x.smd) else f"{x.smd:.2f}")
        s.footnotes.append("Proportions: (p1 - p2) / sqrt((p1(1-p1) + p2(1-p2)) / 2); |d| >= 0.1 is usually "
                           "taken as a meaningful imbalance. A published median is not a mean: no standardized "
                           "difference is computed for it.")
        out.append(s)
    return out


def _num(x) -> str:
    return "" if x is None or pd.isna(x) else f"{x:.1f}"


def context_part(results, ids: list[str], *, registry_dir=None, figures_dir=None) -> dict:
    """A report part (same structure as report.build.report_parts) plus records for results.json."""
    from rwestudy.context.compare import compare_cohort

    studies = resolve_studies(ids, registry_dir)
    cmp = compare_cohort(results, studies, conventions=getattr(results.plan, "conventions", None))
    items = [{"kind": "table", "title": t.title, "anchor": t.key, "table": t} for t in comparison_tables(cmp)]
    if figures_dir is not None and len(cmp.long):
        from rwestudy.context.plot import comparison_forest
        from rwestudy.figures.style import save_figure

        paths = save_figure(comparison_forest(cmp), Path(figures_dir), "context_orr_cr")
        items.append({"kind": "figure", "title": "Figure. ORR and CR rate with 95% CI: this cohort and the "
                      "published studies", "anchor": "fig-context", "png": paths.get("png")})
    return {"title": "Context: published studies", "paragraphs": list(cmp.sentences),
            "warnings": [w["message"] for w in cmp.warnings], "items": items,
            "records": cmp.to_records(), "comparison": cmp}
