"""The report's Word, Excel and HTML tables hold the numbers of results.json.

Expected strings are formatted here, in the test, straight from results.json
(not with the report's formatter), then looked up in each output file.
"""
import json

import pytest
from docx import Document
from docx.text.paragraph import Paragraph
from lxml import html as lhtml
from openpyxl import load_workbook

from rwestudy.analysis.plan import Plan
from rwestudy.analysis.run import analyze
from rwestudy.analysis.results import write_results
from rwestudy.demo.generator import make_study
from rwestudy.report.build import write_report


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    results = analyze(make_study(n_patients=96, n_centers=26, seed=20240611), Plan())
    rec = json.loads(write_results(results, out).read_text())
    html, docx, xlsx, tables = write_report(rec, out)
    return {"records": rec, "html": html, "docx": Document(docx), "xlsx": load_workbook(xlsx),
            "tables": tables, "html_tree": lhtml.fromstring(html.read_text(encoding="utf-8"))}


def _docx_table(doc, title):
    """The Word table right after the caption paragraph `title`."""
    body = doc.element.body
    children = list(body.iterchildren())
    for i, el in enumerate(children):
        # python-docx's element classes make lxml's itertext() repeat run text: use Paragraph.text.
        if el.tag.endswith("}p") and Paragraph(el, doc).text == title:
            for nxt in children[i + 1:]:
                if nxt.tag.endswith("}tbl"):
                    from docx.table import Table
                    t = Table(nxt, doc)
                    return [[c.text for c in row.cells] for row in t.rows]
    raise AssertionError(f"no table titled {title!r}")


def _xlsx_table(wb, key):
    ws = wb[key]
    return [[("" if v is None else str(v)) for v in row] for row in ws.iter_rows(min_row=2, values_only=True)]


def _html_table(tree, key):
    t = tree.xpath(f'//table[@data-key="{key}"]')[0]
    return [[c.text_content() for c in tr.xpath("./th|./td")] for tr in t.xpath(".//tr")]


def _row(rows, first):
    for r in rows:
        if r and r[0].strip() == first:
            return r
    raise AssertionError(f"no row {first!r} in {[r[0] for r in rows]}")


def _rec(records, section, **keys):
    hits = [r for r in records[section] if all(r.get(k) == v for k, v in keys.items())]
    assert len(hits) == 1, (section, keys, len(hits))
    return hits[0]


def _three_outputs(report, key):
    t = next(t for t in report["tables"] if t.key == key)
    return {"docx": _docx_table(report["docx"], t.title), "xlsx": _xlsx_table(report["xlsx"], key),
            "html": _html_table(report["html_tree"], key)}


def test_response_table_holds_results_json(report):
    rec = report["records"]
    orr = _rec(rec, "response", category="ORR (CR+PR)", assessment="best")
    final_cr = _rec(rec, "response", category="CR", assessment="final")
    want_orr = f"{orr['n']} ({100 * orr['n'] / orr['denominator']:.1f}%)"
    want_ci = f"{orr['ci_low']:.1f}-{orr['ci_high']:.1f}"
    for name, rows in _three_outputs(report, "response").items():
        row = _row(rows, "ORR (CR+PR)")
        assert row[1] == want_orr and row[2] == want_ci, name
        assert _row(rows, "Complete response")[3].startswith(f"{final_cr['n']} ("), name


def test_survival_and_cox_tables_hold_results_json(report):
    rec = report["records"]
    os_ = _rec(rec, "survival", endpoint="OS", group="all")
    want = f"{os_['median']:.1f} ({os_['median_ci_low']:.1f}-{os_['median_ci_high']:.1f})"
    lm = _rec(rec, "landmarks", endpoint="OS", group="all", time=12.0)
    want_lm = f"{100 * lm['surv']:.1f} ({100 * lm['ci_low']:.1f}-{100 * lm['ci_high']:.1f})"
    for name, rows in _three_outputs(report, "survival").items():
        row = _row(rows, "Overall survival")
        assert row[1] == str(int(os_["n"])) and row[2] == str(int(os_["events"])), name
        assert row[3] == want and want_lm in row, name
    hr = _rec(rec, "cox", endpoint="OS", model="univariate", variable="prior_asct")
    want_hr = f"{hr['hr']:.2f} ({hr['ci_low']:.2f}-{hr['ci_high']:.2f})"
    for name, rows in _three_outputs(report, "cox_OS").items():
        assert _row(rows, "Prior ASCT")[1] == want_hr, name


def test_ae_and_baseline_tables_hold_results_json(report):
    rec = report["records"]
    ae = _rec(rec, "adverse_events", table="by_term", term="Neutrophil count decreased", grade="any")
    want = f"{ae['patients']} ({100 * ae['patients'] / ae['denominator_patients']:.1f}%)"
    for name, rows in _three_outputs(report, "ae_patients").items():
        assert _row(rows, "Neutrophil count decreased")[1] == want, name
    male = _rec(rec, "baseline", variable="sex", level="M", group="Overall")
    for name, rows in _three_outputs(report, "baseline").items():
        assert _row(rows, "M")[1] == f"{int(male['n'])} ({male['pct']:.1f}%)", name


def test_every_table_is_identical_in_the_three_outputs(report):
    assert len(report["tables"]) >= 15
    for t in report["tables"]:
        out = _three_outputs(report, t.key)
        header = out["docx"][0]
        assert header == t.header == out["html"][0] == out["xlsx"][0][:len(t.header)], t.key
        body_docx = [r for r in out["docx"][1:]]
        body_html = [r if len(r) == len(t.header) else r + [""] * (len(t.header) - len(r))
                     for r in out["html"][1:]]
        # Word repeats a merged section label in every cell; compare first cells and data rows.
        assert [r[0] for r in body_docx] == [r[0] for r in body_html], t.key
        data = [i for i, r in enumerate(t.rows) if not r.section]
        body_xlsx = [r[:len(t.header)] for r in out["xlsx"][1:1 + len(t.rows)]]
        assert [r[0].strip() for r in body_xlsx] == [r[0] for r in body_html], t.key
        assert ([body_docx[i] for i in data] == [body_html[i] for i in data]
                == [[body_xlsx[i][0].strip()] + body_xlsx[i][1:] for i in data]
                == [r.cells for r in t.rows if not r.section]), t.key


def test_word_tables_have_three_rules(report):
    from docx.oxml.ns import qn
    doc = report["docx"]
    table = doc.tables[2]
    def edges(cell):
        b = cell._tc.tcPr.find(qn("w:tcBorders"))
        return set() if b is None else {child.tag.split("}")[1] for child in b}
    assert all(edges(c) == {"top", "bottom"} for c in table.rows[0].cells)
    assert all(edges(c) == {"bottom"} for c in table.rows[-1].cells)
    assert all(edges(c) == set() for row in table.rows[1:-1] for c in row.cells)


def test_results_text_numbers_come_from_results_json(report):
    rec = report["records"]
    cr = _rec(rec, "response", category="CR", assessment="final")
    orr = _rec(rec, "response", category="ORR (CR+PR)", assessment="final")
    text = report["html_tree"].text_content()
    assert (f"CR was achieved by {cr['n']} patients ({cr['pct']:.1f}%)") in text
    assert f"final ORR of {orr['pct']:.1f}% (95% CI {orr['ci_low']:.1f}-{orr['ci_high']:.1f})" in text
    fu = rec["follow_up"][0]
    assert f"median follow-up of {fu['median']:.1f} months (reverse Kaplan-Meier)" in text
    study = rec["study"][0]
    assert study["software_versions"] in text and "'rwestudy' conventions profile" in text


def test_methods_follow_the_profile(tmp_path):
    from rwestudy.report.text import methods_paragraphs
    results = analyze(make_study(n_patients=60, n_centers=5, seed=3), Plan(profile="stata"))
    rec = json.loads(write_results(results, tmp_path).read_text())
    text = " ".join(methods_paragraphs(rec))
    assert "Breslow method for ties" in text and "'stata' conventions profile" in text
    assert "with continuity correction" not in text  # Stata's tabulate chi2 is uncorrected


def test_html_is_self_contained_with_contents(report):
    tree = report["html_tree"]
    links = tree.xpath('//nav[@class="toc"]//a/@href')
    ids = set(tree.xpath("//@id"))
    assert links and all(href[1:] in ids for href in links)
    assert not tree.xpath('//img[not(starts-with(@src, "data:"))]')
    assert not tree.xpath("//script") and not tree.xpath('//link[@rel="stylesheet"]')
