"""Assemble the report: tables and text from results.json records, figures, and the three outputs.

>>> # rwestudy report study.xlsx --out report/   is   build_report(analyze(load_study(...)), study, "report/")
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rwestudy.report import tables_efficacy as te
from rwestudy.report import tables_reviewer as tr
from rwestudy.report import tables_safety as ts
from rwestudy.report.table_model import ReportTable
from rwestudy.report.text import methods_paragraphs, results_paragraphs


@dataclass
class ReportFiles:
    html: Path
    docx: Path
    xlsx: Path
    results_json: Path
    figures: list = field(default_factory=list)
    tables: list[ReportTable] = field(default_factory=list)


def report_tables(records: dict) -> dict[str, list[ReportTable]]:
    """Every table of the report, by part, built from results.json records only."""
    endpoints = list(dict.fromkeys(r["endpoint"] for r in records.get("cox") or []))
    parts = {
        "Patients": [te.patient_flow(records), te.baseline(records)],
        "Treatment": [te.exposure(records), ts.subsequent(records)],
        "Efficacy": [te.response(records), te.survival_summary(records)]
        + [te.survival_by_factor(records, e) for e in endpoints]
        + [te.cox_table(records, e) for e in endpoints]
        + [te.post_baseline(records), te.associations(records)]
        + [tr.competing_risks(records), tr.center_effects(records), tr.rmst(records),
           tr.lugano_agreement(records), tr.mutations(records)],
        "Safety": [ts.ae_by_term(records, "patients"), ts.ae_by_term(records, "events"), ts.ae_by_drug(records),
                   ts.serious(records), ts.deaths(records)],
        "Appendix": [ts.findings(records), ts.conventions(records)],
    }
    return {k: [t for t in v if t is not None] for k, v in parts.items()}


def _anchor(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def report_parts(records: dict, figures: list | None = None, context: list[dict] | None = None) -> list[dict]:
    """The report as parts for the renderers (HTML and Word read the same structure)."""
    tables = report_tables(records)
    notes = [n["note"] for n in records.get("notes") or []]
    parts = [
        {"title": "Results (draft text)", "paragraphs": results_paragraphs(records), "items": []},
        {"title": "Methods (draft text)", "paragraphs": methods_paragraphs(records), "items": []},
    ]
    for title, group in tables.items():
        if title == "Appendix":
            continue
        part = {"title": title, "paragraphs": [], "items": [
            {"kind": "table", "title": t.title, "anchor": t.key, "table": t} for t in group]}
        if title == "Efficacy":
            part["warnings"] = [n for n in notes if "immortal" in n.lower()]
        parts.append(part)
    if figures:
        parts.append({"title": "Figures", "paragraphs": [], "items": [
            {"kind": "figure", "title": f.title, "anchor": f"fig-{f.name}", "png": f.paths.get("png"),
             "width": getattr(f, "width", 1.0)} for f in figures if f.paths.get("png")]})
    for c in context or []:
        parts.append({k: v for k, v in c.items() if k not in ("records", "comparison")})
    appendix = {"title": "Appendix", "paragraphs": [n for n in notes if "immortal" not in n.lower()],
                "items": [{"kind": "table", "title": t.title, "anchor": t.key, "table": t}
                          for t in tables["Appendix"]]}
    parts.append(appendix)
    for p in parts:
        p["anchor"] = _anchor(p["title"])
        p.setdefault("warnings", [])
    return parts


def embed_figures(parts: list[dict]) -> list[dict]:
    """Parts for the HTML renderer: figures as data URIs at print size; figures not drawn are left out."""
    from rwestudy.report.html import embed
    from rwestudy.report.word import _png_width_inches

    return [dict(p, items=[dict(it, src=embed(it["png"]), width_in=_png_width_inches(it["png"]))
                           if it["kind"] == "figure" else it
                           for it in p["items"] if it["kind"] != "figure" or Path(it["png"]).exists()])
            for p in parts]


def report_timestamp(records: dict, timestamp=None) -> _dt.datetime:
    """The date the report's files carry: ``timestamp`` if given, else the data cut-off.

    Not the clock: the same results then give byte-identical files (document
    properties, zip entries, the report's header). Without a cut-off in the
    results, today (the files then differ from day to day).
    """
    from rwestudy.io.stable_zip import as_datetime

    if timestamp is None:
        timestamp = (records.get("study") or [{}])[0].get("data_cutoff")
    try:
        return as_datetime(timestamp) if timestamp is not None else as_datetime(_dt.date.today())
    except (TypeError, ValueError):
        raise ValueError(f"report timestamp must be a date or date-time (YYYY-MM-DD[THH:MM:SS]), "
                         f"got {timestamp!r}") from None


def _meta(records: dict, when: _dt.datetime) -> str:
    study = (records.get("study") or [{}])[0]
    conv = (records.get("conventions") or [{}])[0]
    dated = when.date().isoformat() if when.time() == _dt.time() else when.isoformat(sep=" ")
    return (f"{study.get('n_analysed')} patients, {study.get('n_centers')} centers; data cut-off "
            f"{study.get('data_cutoff')}; conventions profile '{conv.get('profile')}'; "
            f"{study.get('software')}; report dated {dated}.")


from rwestudy._trace import mark


def write_report(records: dict, out: Path, figures: list | None = None, context: list[dict] | None = None,
                 title: str = "Study report", wait=None, timestamp=None) -> tuple[Path, Path, Path, list[ReportTable]]:
    """HTML, Word and Excel from records and figures (``wait``: blocks until the figure files exist).

    ``timestamp``: see `report_timestamp` (default: the data cut-off).
    """
    # The writers' libraries (python-docx, openpyxl, Jinja2) are imported here, after build_report
    # has handed the results to the figure helper.
    from rwestudy.report.excel import write_xlsx
    from rwestudy.report.html import render_html
    from rwestudy.report.word import write_docx

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    parts = report_parts(records, figures, context)
    when = report_timestamp(records, timestamp)
    meta = _meta(records, when)
    all_tables = [it["table"] for p in parts for it in p["items"] if it["kind"] == "table"]
    mark("report: tables built")
    xlsx = write_xlsx(out / "tables.xlsx", all_tables, timestamp=when)
    mark("report: tables.xlsx written")
    waited = []

    def _wait():
        if wait is not None and not waited:
            waited.append(True)
            wait()

    docx = write_docx(out / "report.docx", title, meta, parts, before_figures=_wait, timestamp=when)
    mark("report: report.docx written")
    _wait()
    html_parts = embed_figures(parts)
    html = out / "report.html"
    html.write_text(render_html(title, meta, html_parts), encoding="utf-8")
    mark("report: report.html written")
    return html, docx, xlsx, all_tables


def build_report(results, study, out: Path, *, figures: bool = True, context: list[dict] | None = None,
                 title: str | None = None, progress: Callable[[str], None] | None = None,
                 workers: int = 2, figure_worker=None, timestamp=None) -> ReportFiles:
    """results.json, figures/, report.html, report.docx and tables.xlsx for an analysed study.

    ``figure_worker``: a started `report.figure_worker.FigureWorker` (the CLI starts
    one before reading the study); without it the figures are drawn here.
    ``timestamp``: the date the files carry (default: the data cut-off; see `report_timestamp`).
    """
    from rwestudy.analysis.results import write_results

    say = progress or (lambda msg: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for c in context or []:  # the comparison's numbers and sources go into results.json too
        results.records.update(c.get("records", {}))
    figs = []
    wait: Callable[[], None] | None = None
    plan = getattr(results, "plan", None)
    formats = tuple(getattr(plan, "figure_formats", None) or ("png", "svg"))
    dpi = getattr(plan, "figure_dpi", None) or 300
    if figures and figure_worker is not None:
        say("Drawing figures (in the background)")
        figure_worker.render(results, study, out / "figures", formats=formats, dpi=dpi)
        mark("report: results sent to the figure helper")
        figs = figure_worker.plan()
        done = []

        def wait() -> None:
            say("Waiting for the figures")
            mark("report: tables written, waiting for figures")
            done.extend(figure_worker.wait())
            mark("report: figures received")
    elif figures:
        say("Drawing figures")
        from rwestudy.figures import render_all
        figs = render_all(results, study, out / "figures", formats=formats, dpi=dpi, progress=say, workers=workers)
    elif figure_worker is not None:
        figure_worker.close()
    say("Writing results.json")
    results_json = write_results(results, out)
    records = json.loads(results_json.read_text(encoding="utf-8"))  # the report reads what the user gets
    mark("report: results.json written and read")
    say("Writing report.html, report.docx and tables.xlsx")
    name = Path(str(getattr(study, "source", "") or "study")).stem
    html, docx, xlsx, tables = write_report(records, out, figs, context, title or f"Study report: {name}",
                                            wait=wait, timestamp=timestamp)
    if wait is not None:
        figs = [f for f in figs if f.paths.get("png") and Path(f.paths["png"]).exists()]
    return ReportFiles(html=html, docx=docx, xlsx=xlsx, results_json=results_json, figures=figs, tables=tables)
