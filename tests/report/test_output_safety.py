"""What we write is safe and reproducible.

- User text that a spreadsheet would run (``=cmd|' /C calc'!A0``, ``=HYPERLINK(...)``,
  ``+1+1``, ``@SUM(A1)``) reaches tables.xlsx, findings.xlsx and findings.csv as text,
  never as a formula; numbers stay numbers.
- Control characters in user text (``\\x01``, ``\\x0b``, ESC) never stop a writer: every
  output is written and shows them escaped.
- The same results and options give byte-identical files (and zip members).

The study is the demo's, with hostile text planted where centers type free text
(AE term, center, discontinuation reason, subsequent regimen); expected values are the
planted strings themselves.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from rwestudy.analysis.plan import Plan
from rwestudy.analysis.run import analyze
from rwestudy.demo.generator import make_study
from rwestudy.io.writers import write_csv_folder
from rwestudy.report.build import build_report
from rwestudy.study import load_study
from rwestudy.validation.export import write_findings

FORMULAS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)"]
CENTER = '=HYPERLINK("http://evil","C02")'
CONTROL = "Nausea\x01\x0bX\x1b[31m"
CONTROL_SHOWN = "Nausea\\x01\\x0bX\\x1b[31m"  # how every output shows it (the escape as text)


def _hostile_tables(control: bool):
    t = make_study(n_patients=40, n_centers=4, seed=3)
    ae = t["adverse_events"]
    for i, text in enumerate(FORMULAS):
        ae.loc[i, "term"] = text
    if control:
        ae.loc[len(FORMULAS), "term"] = CONTROL
    pats = t["patients"]
    pats.loc[pats["center"] == "C02", "center"] = CENTER
    treat = t["treatment"]
    treat.loc[treat.index[0], "discontinuation_reason"] = "-2+3+cmd|' /C calc'!A0"
    sub = t["subsequent_therapies"]
    sub.loc[sub.index[0], "regimen"] = "=1\x0c+2" if control else "=1+2"
    return t


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The study read back, its analysis, and a report and findings exports written from it."""
    base = tmp_path_factory.mktemp("hostile")
    study = load_study(write_csv_folder(_hostile_tables(control=True), base / "study"))
    # Loading removes control characters (with a warning that shows them escaped). A study built
    # in Python can still carry them, so they are put back to prove every writer copes.
    ae, sub = study.tables["adverse_events"], study.tables["subsequent_therapies"]
    ae.loc[ae["term"] == "NauseaX[31m", "term"] = CONTROL
    sub.loc[sub["regimen"] == "=1+2", "regimen"] = "=1\x0c+2"
    assert (ae["term"] == CONTROL).sum() == 1
    results = analyze(study, Plan())
    files = build_report(results, study, base / "report", figures=False)
    exports = {ext: write_findings(study, base / f"findings.{ext}") for ext in ("xlsx", "csv", "json")}
    return {"study": study, "files": files, "exports": exports, "base": base}


def _formula_cells(path: Path) -> list[str]:
    wb = load_workbook(path)
    return [f"{ws.title}!{c.coordinate}={c.value!r}" for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.data_type == "f"]


def _texts(path: Path) -> set[str]:
    wb = load_workbook(path)
    return {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}


def test_tables_xlsx_has_no_formula_and_shows_the_text_as_typed(hostile):
    xlsx = hostile["files"].xlsx
    assert _formula_cells(xlsx) == []
    texts = _texts(xlsx)
    for text in FORMULAS + ["=1\\x0c+2", CONTROL_SHOWN]:
        assert text in texts, text


def test_tables_xlsx_numbers_stay_numbers():
    from openpyxl import Workbook  # noqa: F401  (the writer's library)

    from rwestudy.report.excel import write_xlsx
    from rwestudy.report.table_model import ReportTable

    import tempfile
    t = ReportTable("t", "=title", ["=h", "n"])
    t.add("=a", "-1.5")
    t.rows[0].cells[1] = -1.5  # a number from the caller stays a number
    t.footnotes.append("@foot")
    with tempfile.TemporaryDirectory() as d:
        path = write_xlsx(Path(d) / "t.xlsx", [t])
        assert _formula_cells(path) == []
        ws = load_workbook(path)["t"]
        assert [c.value for c in ws[1]][:1] == ["=title"]
        assert [c.value for c in ws[2]] == ["=h", "n"]
        assert ws["A3"].value == "=a" and ws["A3"].data_type == "s"
        assert ws["B3"].value == -1.5 and ws["B3"].data_type == "n"
        assert ws["A5"].value == "@foot"


def test_findings_xlsx_has_no_formula(hostile):
    path = hostile["exports"]["xlsx"]
    assert _formula_cells(path) == []
    texts = _texts(path)
    for text in FORMULAS + [CENTER, CONTROL_SHOWN]:
        assert text in texts, text
    wb = load_workbook(path)
    # The center's own sheet: its name from the center, cleaned (no formula, no []:*?/\).
    assert any(ws.title.startswith("=HYPERLINK(") for ws in wb.worksheets)
    # Row numbers are numbers.
    ws = wb["all findings"]
    header = [c.value for c in ws[1]]
    rows = [c.value for c in ws.iter_cols(min_col=header.index("row") + 1, max_col=header.index("row") + 1,
                                          min_row=2).__next__()]
    assert all(isinstance(r, int) for r in rows if r is not None)


def test_findings_csv_prefixes_formulas_with_a_quote(hostile):
    path = hostile["exports"]["csv"]
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    values = {r["value"] for r in rows}
    for text in FORMULAS:
        assert "'" + text in values, text
    assert "'" + CENTER in {r["center"] for r in rows}
    assert CONTROL_SHOWN in values
    # Nothing starts with a formula character unless it is a plain number.
    for r in rows:
        for v in r.values():
            assert not v.startswith(("=", "+", "@", "\t", "\r")), v
            if v.startswith("-"):
                float(v)
    assert all(r["row"] == "" or r["row"].isdigit() for r in rows)


def test_findings_json_keeps_the_text_exact(hostile):
    data = json.loads(hostile["exports"]["json"].read_text(encoding="utf-8"))
    values = {f["value"] for f in data["findings"]}
    assert set(FORMULAS) <= values  # JSON escapes; the value is exact
    # the control-character warning names the value escaped, so no reader sees a raw control code
    assert CONTROL_SHOWN in values and CONTROL not in values


def test_every_output_is_written_despite_control_characters(hostile):
    files = hostile["files"]
    html = files.html.read_text(encoding="utf-8")
    assert CONTROL_SHOWN in html and "\x01" not in html and "\x1b" not in html
    assert "=1\\x0c+2" in html
    doc = Document(files.docx)
    texts = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert CONTROL_SHOWN in texts and '=HYPERLINK("http://x","y")' in texts
    assert CONTROL_SHOWN in _texts(files.xlsx)


def test_cell_text_rules():
    from rwestudy.io.cell_text import clean_text, csv_text, looks_like_formula

    assert clean_text("a\tb\nc") == "a\tb\nc"
    assert clean_text("a\r\nb\rc") == "a\nb\nc"
    assert clean_text("\x00\x1f\x7f\x85\ufffe") == "\\x00\\x1f\\x7f\\x85\\ufffe"
    assert [looks_like_formula(s) for s in ("-3", "+1.5", "-1e3", "-", "-a", "=1", "@x", "\tx", "a=b")] == \
        [False, False, False, True, True, True, True, True, False]
    assert csv_text("-3") == "-3" and csv_text(-3) == -3 and csv_text("=1") == "'=1"
    assert csv_text("\tx") == "'\tx"


# --- determinism -------------------------------------------------------------------------------

def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _all_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("twice")
    study = load_study(write_csv_folder(_hostile_tables(control=False), base / "study"))
    outs = []
    for k in (1, 2):
        results = analyze(study, Plan(figure_formats=["png", "svg", "pdf"]))  # every format's bytes
        outs.append(build_report(results, study, base / f"run{k}", figures=True, workers=1))
    return base / "run1", base / "run2", outs


def test_the_same_input_gives_byte_identical_outputs(two_runs):
    one, two, (files, _) = two_runs
    a, b = _all_files(one), _all_files(two)
    assert sorted(a) == sorted(b)
    for kind in ("png", "svg", "pdf"):
        assert any(name.endswith("." + kind) for name in a), kind  # figures were drawn
    for name in ("results.json", "tables.xlsx", "report.docx", "report.html"):
        assert name in a
    for name in ("tables.xlsx", "report.docx"):
        ma, mb = _members(one / name), _members(two / name)
        assert list(ma) == list(mb)
        different = [m for m in ma if ma[m] != mb[m]]
        assert different == [], f"{name}: {different}"
    different = [name for name in a if a[name] != b[name]]
    assert different == []


def test_report_files_carry_the_data_cutoff_not_the_clock(two_runs):
    one, _, (files, _) = two_runs
    cutoff = json.loads((one / "results.json").read_text())["study"][0]["data_cutoff"]
    wb = load_workbook(one / "tables.xlsx")
    assert wb.properties.created.date().isoformat() == cutoff
    assert wb.properties.modified.date().isoformat() == cutoff
    doc = Document(one / "report.docx")
    assert doc.core_properties.created.date().isoformat() == cutoff
    with zipfile.ZipFile(one / "report.docx") as z:
        assert {i.date_time[:3] for i in z.infolist()} == {tuple(int(x) for x in cutoff.split("-"))}
    assert f"report dated {cutoff}" in (one / "report.html").read_text(encoding="utf-8")


def test_a_given_timestamp_is_used(tmp_path):
    from rwestudy.report.build import write_report

    rec = {"study": [{"data_cutoff": "2024-01-31"}]}
    write_report(rec, tmp_path, timestamp="2025-02-03T04:05:06")
    wb = load_workbook(tmp_path / "tables.xlsx")
    assert wb.properties.modified.isoformat() == "2025-02-03T04:05:06"
    with zipfile.ZipFile(tmp_path / "tables.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(2025, 2, 3, 4, 5, 6)}
    assert "report dated 2025-02-03 04:05:06" in (tmp_path / "report.html").read_text(encoding="utf-8")
