"""report.docx: editable Word tables in journal style (three horizontal rules) and the figures.

python-docx has no API for cell borders, so the three rules are set in the
cell XML (w:tcBorders): top and bottom of the header row, bottom of the last row.
"""
from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt

from rwestudy.report.table_model import ReportTable

_TABLE_PT = 8.5


def _border(cell, *, top: int = 0, bottom: int = 0) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    for edge, size in (("top", top), ("bottom", bottom)):
        if size:
            el = OxmlElement(f"w:{edge}")
            el.set(qn("w:val"), "single")
            el.set(qn("w:sz"), str(size))  # eighths of a point
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
            borders.append(el)


def _write_cell(cell, text: str, style, *, bold: bool = False, right: bool = False, indent: int = 0) -> None:
    # One paragraph style carries font size and zero spacing: setting them per cell costs 3x the time.
    p = cell.paragraphs[0]
    p._p.get_or_add_pPr().style = style.style_id  # the public setter looks the style up by name each time
    if indent:
        p.paragraph_format.left_indent = Pt(10 * indent)
    if right:
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = p.add_run(text)
    if bold:
        run.bold = True


def _table_style(doc):
    styles = doc.styles
    if "Table text" in [s.name for s in styles]:
        return styles["Table text"]
    st = styles.add_style("Table text", WD_STYLE_TYPE.PARAGRAPH)
    st.base_style = styles["Normal"]
    st.font.size = Pt(_TABLE_PT)
    st.paragraph_format.space_after = Pt(0)
    st.paragraph_format.space_before = Pt(0)
    return st


def _widths(table: ReportTable, total: int) -> list[int]:
    """First column wide enough for labels; the rest share what is left, by their longest text."""
    ncol = len(table.header)
    if ncol == 1:
        return [total]
    # A header may wrap between words, never inside one ("Events" must not become "Even/ts").
    longest = [max([max(len(w) for w in (table.header[j] or " ").split()) + 1, len(table.header[j]) // 2]
                   + [len(r.cells[j]) for r in table.rows if not r.section and j < len(r.cells)])
               for j in range(ncol)]
    first = min(0.45, max(0.22, longest[0] / max(sum(longest), 1))) * total
    rest = [max(x, 4) for x in longest[1:]]
    return [int(first)] + [int((total - first) * x / sum(rest)) for x in rest]


def add_table(doc, table: ReportTable, total_width: int) -> None:
    cap = doc.add_paragraph(table.title, style="Caption")
    cap.paragraph_format.keep_with_next = True  # a title never sits alone at the foot of a page
    style = _table_style(doc)
    ncol = len(table.header)
    t = doc.add_table(rows=1 + len(table.rows), cols=ncol)
    t.autofit = False
    widths = _widths(table, total_width)
    for col, w in zip(t.columns, widths):
        col.width = w
    rows = t.rows
    header_flag = OxmlElement("w:tblHeader")  # repeat the header row on each page
    rows[0]._tr.get_or_add_trPr().append(header_flag)
    for j, (cell, text) in enumerate(zip(rows[0].cells, table.header)):
        _write_cell(cell, text, style, bold=True, right=j > 0)
        _border(cell, top=12, bottom=6)
        cell.width = widths[j]
    for i, r in enumerate(table.rows, start=1):
        cells = rows[i].cells
        if r.section:
            merged = cells[0].merge(cells[-1]) if ncol > 1 else cells[0]
            _write_cell(merged, r.cells[0], style, bold=True)
            cells = [merged]
        else:
            for j, (cell, text) in enumerate(zip(cells, r.cells)):
                _write_cell(cell, text, style, right=j > 0, indent=r.indent if j == 0 else 0)
                cell.width = widths[j]
        if i == len(table.rows):
            for cell in cells:
                _border(cell, bottom=12)
    if not table.rows:
        for cell in rows[0].cells:
            _border(cell, bottom=12)
    for f in table.footnotes:
        p = doc.add_paragraph()
        p.paragraph_format.space_after = Pt(0)
        run = p.add_run(f)
        run.font.size = Pt(7.5)
    doc.add_paragraph()


def _png_width_inches(path) -> float:
    from PIL import Image

    with Image.open(path) as im:
        dpi = (im.info.get("dpi") or (300, 300))[0] or 300
        return im.width / float(dpi)


def write_docx(path: Path, title: str, meta: str, parts: list[dict], before_figures=None) -> Path:
    """Same parts as the HTML report; figures from their PNG files.

    ``before_figures``: called once before the first figure is placed (the
    figures may still be being drawn by another process while the tables are written).
    """
    doc = Document()
    section = doc.sections[0]
    section.left_margin = section.right_margin = Inches(0.8)
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10)
    doc.add_heading(title, level=0)
    doc.add_paragraph(meta).runs[0].font.size = Pt(9)
    width = section.page_width - section.left_margin - section.right_margin
    for part in parts:
        doc.add_heading(part["title"], level=1)
        for para in part.get("paragraphs", []):
            doc.add_paragraph(para)
        for w in part.get("warnings", []):
            doc.add_paragraph(w).runs[0].italic = True
        for item in part.get("items", []):
            if item["kind"] == "table":
                wide = len(item["table"].header) > 7
                if wide:  # wide tables get a landscape section so nothing is squeezed
                    section = doc.add_section()
                    section.orientation = WD_ORIENT.LANDSCAPE
                    section.page_width, section.page_height = section.page_height, section.page_width
                add_table(doc, item["table"], section.page_width - section.left_margin - section.right_margin)
                if wide:
                    section = doc.add_section()
                    section.orientation = WD_ORIENT.PORTRAIT
                    section.page_width, section.page_height = section.page_height, section.page_width
            elif item.get("png"):
                if before_figures is not None:
                    before_figures()
                    before_figures = None
                if not Path(item["png"]).exists():
                    continue
                # At its print size (a single-column figure stays single-column), never wider than the text.
                natural = Inches(_png_width_inches(item["png"]))
                doc.add_picture(str(item["png"]), width=int(min(natural, width)))
                doc.add_paragraph(item["title"], style="Caption")
    doc.save(path)
    return path
