"""report.docx: editable Word tables in journal style (three horizontal rules) and the figures.

Every text goes through `io.cell_text.clean_text` first: Word's XML cannot hold control
characters (lxml refuses them), so a stray ``\x0b`` in an AE term is shown escaped, not a crash.

python-docx has no API for cell borders, and its cell-by-cell API takes 0.5 s
for the demo's tables, so each table is written as WordprocessingML (see _table_xml).
"""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.shared import Inches, Pt

from rwestudy.io.cell_text import clean_text
from rwestudy.io.stable_zip import save_document
from rwestudy.report.table_model import ReportTable

_TABLE_PT = 8.5


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


_CHAR_EMU = int(_TABLE_PT * 0.62 * 12700)  # character width of the table font, bold digits included
_PAD_EMU = int(0.22 * 914400)              # left + right cell margins (Word 0.16 in, LibreOffice 0.21 in)


def _widths(table: ReportTable, total: int) -> list[int]:
    """Columns as wide as their longest text (headers may wrap between words, never inside one);
    the first column takes what is left, and everything shrinks in proportion if the page is too narrow."""
    ncol = len(table.header)
    if ncol == 1:
        return [total]
    longest = [max([max(len(w) for w in (table.header[j] or " ").split()), len(table.header[j]) // 2]
                   + [len(r.cells[j]) for r in table.rows if not r.section and j < len(r.cells)])
               for j in range(ncol)]
    need = [x * _CHAR_EMU + _PAD_EMU for x in longest]
    rest = sum(need[1:])
    if rest + need[0] <= total:
        return [total - rest] + need[1:]
    # Too wide: labels in the first column wrap first (down to 22% of the width), numbers last.
    first = max(int(0.22 * total), total - rest)
    if first + rest <= total:
        return [first] + need[1:]
    scale = (total - first) / rest
    return [first] + [int(w * scale) for w in need[1:]]


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RULE = '<w:{edge} w:val="single" w:sz="{size}" w:space="0" w:color="000000"/>'


def _cell_xml(text: str, width: int, style_id: str, *, span: int = 1, bold: bool = False, right: bool = False,
              indent: int = 0, top: int = 0, bottom: int = 0) -> str:
    borders = "".join(_RULE.format(edge=e, size=z) for e, z in (("top", top), ("bottom", bottom)) if z)
    return ("<w:tc><w:tcPr>"
            f'<w:tcW w:w="{width}" w:type="dxa"/>'
            + (f'<w:gridSpan w:val="{span}"/>' if span > 1 else "")
            + (f"<w:tcBorders>{borders}</w:tcBorders>" if borders else "")
            + f'</w:tcPr><w:p><w:pPr><w:pStyle w:val="{style_id}"/>'
            + (f'<w:ind w:left="{200 * indent}"/>' if indent else "")
            + ('<w:jc w:val="right"/>' if right else "")
            + "</w:pPr><w:r>" + ("<w:rPr><w:b/></w:rPr>" if bold else "")
            + f'<w:t xml:space="preserve">{escape(clean_text(text))}</w:t></w:r></w:p></w:tc>')


def _table_xml(table: ReportTable, widths: list[int], style_id: str) -> str:
    """The whole w:tbl as one string, parsed once: ~10x faster than python-docx's cell-by-cell API.

    Three rules: top and bottom of the header row, bottom of the last row; the header row
    repeats on each page (w:tblHeader); a section label spans the row (w:gridSpan).
    """
    ncol, last = len(table.header), len(table.rows)
    head_rule = 6 if last else 12  # a table without rows closes under its header
    rows = ['<w:tr><w:trPr><w:tblHeader/></w:trPr>' + "".join(
        _cell_xml(h, widths[j], style_id, bold=True, right=j > 0, top=12, bottom=head_rule)
        for j, h in enumerate(table.header)) + "</w:tr>"]
    for i, r in enumerate(table.rows, start=1):
        rule = 12 if i == last else 0
        if r.section:
            cells = _cell_xml(r.cells[0], sum(widths), style_id, span=ncol, bold=True, bottom=rule)
        else:
            cells = "".join(_cell_xml(text, widths[j], style_id, right=j > 0, indent=r.indent if j == 0 else 0,
                                      bottom=rule) for j, text in enumerate(r.cells))
        rows.append(f"<w:tr>{cells}</w:tr>")
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    return (f'<w:tbl xmlns:w="{_W}"><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/>'
            f'<w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{"".join(rows)}</w:tbl>')


def add_table(doc, table: ReportTable, total_width: int) -> None:
    cap = doc.add_paragraph(clean_text(table.title), style="Caption")
    cap.paragraph_format.keep_with_next = True  # a title never sits alone at the foot of a page
    style = _table_style(doc)
    widths = [int(w / 635) for w in _widths(table, total_width)]  # EMU -> twentieths of a point
    cap._p.addnext(parse_xml(_table_xml(table, widths, style.style_id)))
    for f in table.footnotes:
        p = doc.add_paragraph()
        p.paragraph_format.space_after = Pt(0)
        run = p.add_run(clean_text(f))
        run.font.size = Pt(7.5)
    doc.add_paragraph()


def _png_width_inches(path) -> float:
    from PIL import Image

    with Image.open(path) as im:
        dpi = (im.info.get("dpi") or (300, 300))[0] or 300
        return im.width / float(dpi)


def write_docx(path: Path, title: str, meta: str, parts: list[dict], before_figures=None,
               timestamp=None) -> Path:
    """Same parts as the HTML report; figures from their PNG files.

    ``before_figures``: called once before the first figure is placed (the
    figures may still be being drawn by another process while the tables are written).
    ``timestamp``: the document's created/modified date, so the same report gives the same bytes.
    """
    doc = Document()
    section = doc.sections[0]
    section.left_margin = section.right_margin = Inches(0.8)
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10)
    doc.add_heading(clean_text(title), level=0)
    doc.add_paragraph(clean_text(meta)).runs[0].font.size = Pt(9)
    width = section.page_width - section.left_margin - section.right_margin
    for part in parts:
        doc.add_heading(clean_text(part["title"]), level=1)
        for para in part.get("paragraphs", []):
            doc.add_paragraph(clean_text(para))
        for w in part.get("warnings", []):
            doc.add_paragraph(clean_text(w)).runs[0].italic = True
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
                doc.add_paragraph(clean_text(item["title"]), style="Caption")
    props = doc.core_properties
    props.title, props.author, props.comments = clean_text(title), "rwestudy", ""
    return save_document(doc, path, timestamp)
