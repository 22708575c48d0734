"""Look inside an .xlsx before the reader expands it: size limits, and what cell values hide.

python-calamine allocates a sheet's whole declared range and materialises
every shared-string reference, so a 2 KB file declaring a cell at XFD1048576
(17 billion cells) or one 10 MB string used 5,000 times aborts the process.
This module reads the zip's directory and streams the XML parts (C-speed
regular expressions over bounded chunks, never a DOM), refuses what would
explode, and reports what the values alone do not show:

* formula cells whose cached value is an error (#DIV/0!, #REF!, ...) or that
  were saved without a cached value (the reader would see an empty cell);
* the workbook's 1904 date system (plain serial numbers are then 1,462 days
  later than in the 1900 system);
* numbers displayed zero-padded by their format ("000": 1 shows as 001),
  so IDs keep the form the center typed;
* hidden and very hidden sheets, and merged cells (all but the top-left
  cell of a merged range read as empty).
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

# Limits. Why these: the largest real study workbook we expect (a registry
# extract) is ~1e6 rows x 60 columns; Excel itself caps a cell at 32,767 characters.
MAX_MEMBER_BYTES = 1 << 30          # one part of the zip, uncompressed (1 GiB)
MAX_TOTAL_BYTES = 2 << 30           # all parts together
MAX_SHEET_CELLS = 200_000_000       # declared rows x columns of one sheet
MAX_SHARED_STRING_CHARS = 1 << 20   # one shared string (Excel's own limit is 32,767)
MAX_SHARED_STRINGS_BYTES = 256 << 20
CHUNK = 8 << 20
OVERLAP = 4096                      # a tag split between two chunks is matched in the next one

_NS_SHEET = re.compile(rb'<sheet\b[^>]*?\bname="([^"]*)"[^>]*?/?>')
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_DIMENSION = re.compile(rb'<dimension\s+ref="([A-Z]*)(\d*)(?::([A-Z]+)(\d+))?"')
_LAST_CELL = re.compile(rb'<c\s+r="([A-Z]{1,3})(\d{1,7})"')
_ERROR_CELL = re.compile(rb'<c\s+r="([A-Z]{1,3})(\d{1,7})"[^>]*?\bt="e"[^>]*>(?:<f[^>]*(?:/>|>([^<]*)</f>))?'
                         rb'\s*<v>([^<]*)</v>')
_NO_CACHE = re.compile(rb'<c\s+r="([A-Z]{1,3})(\d{1,7})"[^>/]*>\s*<f[^>]*(?:/>|>([^<]*)</f>)\s*(?:<v\s*/>|<v></v>)?\s*</c>')
_MERGE = re.compile(rb'<mergeCell\s+ref="([A-Z]{1,3}\d{1,7}(?::[A-Z]{1,3}\d{1,7})?)"')
_STYLED_NUMBER = re.compile(rb'<c\s+r="([A-Z]{1,3})(\d{1,7})"([^>]*)>\s*<v>(\d+)</v>')
_SI = re.compile(rb"<si>(.*?)</si>", re.S)


class WorkbookTooLarge(Exception):
    """The workbook would need unbounded memory to read; the message says which part and why."""


@dataclass
class CellNote:
    row: int
    column: int            # 0-based
    kind: str              # "error" | "no-cache"
    value: str = ""
    formula: str = ""


@dataclass
class SheetInfo:
    name: str
    state: str = "visible"
    notes: list[CellNote] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    padded: dict[tuple[int, int], str] = field(default_factory=dict)   # (row, col) -> text shown


@dataclass
class WorkbookInfo:
    date1904: bool = False
    sheets: dict[str, SheetInfo] = field(default_factory=dict)


def col_index(letters: bytes | str) -> int:
    n = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def inspect_xlsx(path) -> WorkbookInfo | None:
    """What the reader must know about an .xlsx/.xlsm; None when it is not a readable zip.

    Raises WorkbookTooLarge before anything is expanded beyond the limits.
    """
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return None
    with z:
        infos = {i.filename: i for i in z.infolist()}
        total = sum(i.file_size for i in infos.values())
        big = max(infos.values(), key=lambda i: i.file_size, default=None)
        if big is not None and big.file_size > MAX_MEMBER_BYTES:
            raise WorkbookTooLarge(f"its part {big.filename} expands to {big.file_size:,} bytes "
                                   f"(limit {MAX_MEMBER_BYTES:,})")
        if total > MAX_TOTAL_BYTES:
            raise WorkbookTooLarge(f"it expands to {total:,} bytes (limit {MAX_TOTAL_BYTES:,})")
        info = WorkbookInfo()
        wb = _read(z, "xl/workbook.xml", 16 << 20)
        if wb is None:
            return None
        pr = re.search(rb"<workbookPr\b([^>]*)>", wb)
        info.date1904 = bool(pr and re.search(rb'date1904="(1|true)"', pr.group(1)))
        targets = _sheet_targets(z)
        padded_styles = _zero_padded_styles(z)
        _check_shared_strings(z, infos)
        for m in _NS_SHEET.finditer(wb):
            attrs = {k.decode(): v.decode() for k, v in _ATTR.findall(m.group(0))}
            name = _unescape(attrs.get("name", ""))
            sheet = SheetInfo(name, attrs.get("state", "visible"))
            part = targets.get(attrs.get("r:id", ""))
            if part and part in infos:
                _scan_sheet(z, part, sheet, padded_styles)
            info.sheets[name] = sheet
        return info


def _read(z: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    try:
        with z.open(name) as f:
            return f.read(limit)
    except KeyError:
        return None


def _unescape(s: str) -> str:
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def _sheet_targets(z) -> dict[str, str]:
    rels = _read(z, "xl/_rels/workbook.xml.rels", 16 << 20) or b""
    out = {}
    for m in re.finditer(rb"<Relationship\b[^>]*>", rels):
        a = {k.decode(): v.decode() for k, v in _ATTR.findall(m.group(0))}
        target = a.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        out[a.get("Id", "")] = target
    return out


def _zero_padded_styles(z) -> dict[bytes, int]:
    """Cell style index -> width, for number formats of zeros only ("000": 1 is shown as 001)."""
    styles = _read(z, "xl/styles.xml", 64 << 20) or b""
    fmts = {m.group(1): _unescape(m.group(2).decode()) for m in
            re.finditer(rb'<numFmt\s+numFmtId="(\d+)"\s+formatCode="([^"]*)"', styles)}
    xfs = re.search(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", styles, re.S)
    out = {}
    if xfs:
        for i, m in enumerate(re.finditer(rb"<xf\b([^>]*)/?>", xfs.group(1))):
            fid = re.search(rb'numFmtId="(\d+)"', m.group(1))
            code = fmts.get(fid.group(1), "") if fid else ""
            if len(code) >= 2 and set(code) == {"0"}:
                out[str(i).encode()] = len(code)
    return out


def _check_shared_strings(z, infos) -> None:
    name = "xl/sharedStrings.xml"
    if name not in infos:
        return
    if infos[name].file_size > MAX_SHARED_STRINGS_BYTES:
        raise WorkbookTooLarge(f"its shared strings expand to {infos[name].file_size:,} bytes "
                               f"(limit {MAX_SHARED_STRINGS_BYTES:,})")
    data = _read(z, name, MAX_SHARED_STRINGS_BYTES + 1) or b""
    for i, m in enumerate(_SI.finditer(data)):
        if m.end(1) - m.start(1) > MAX_SHARED_STRING_CHARS:
            raise WorkbookTooLarge(f"shared string {i} holds {m.end(1) - m.start(1):,} characters "
                                   f"(limit {MAX_SHARED_STRING_CHARS:,}; Excel allows 32,767 in a cell): every "
                                   "cell that uses it would be expanded in memory")


def _scan_sheet(z, part: str, sheet: SheetInfo, padded_styles: dict[bytes, int]) -> None:
    max_row = max_col = 0
    head = True
    carry = b""
    with z.open(part) as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk and not carry:
                break
            buf = carry + chunk
            if head:
                d = _DIMENSION.search(buf[:65536])
                if d and d.group(3):
                    _check_area(sheet.name, d.group(3), int(d.group(4)), "declares its used range up to")
                head = False
            for m in _ERROR_CELL.finditer(buf):
                sheet.notes.append(CellNote(int(m.group(2)), col_index(m.group(1)), "error",
                                            m.group(4).decode(errors="replace"),
                                            (m.group(3) or b"").decode(errors="replace")))
            for m in _NO_CACHE.finditer(buf):
                sheet.notes.append(CellNote(int(m.group(2)), col_index(m.group(1)), "no-cache", "",
                                            (m.group(3) or b"").decode(errors="replace")))
            sheet.merged += [m.group(1).decode() for m in _MERGE.finditer(buf)]
            if padded_styles:
                for m in _STYLED_NUMBER.finditer(buf):
                    s = re.search(rb'\bs="(\d+)"', m.group(3))
                    t = re.search(rb'\bt="(\w+)"', m.group(3))
                    if s and s.group(1) in padded_styles and (t is None or t.group(1) == b"n"):
                        sheet.padded[(int(m.group(2)), col_index(m.group(1)))] = \
                            m.group(4).decode().zfill(padded_styles[s.group(1)])
            last = None
            for last in _LAST_CELL.finditer(buf[-65536:]):
                pass
            if last:
                max_row, max_col = max(max_row, int(last.group(2))), max(max_col, col_index(last.group(1)) + 1)
                _check_area(sheet.name, last.group(1), max_row, "has a cell at")
            if not chunk:
                break
            # keep the tail: a tag split across the boundary is matched whole next time
            carry = buf[-OVERLAP:] if len(buf) > OVERLAP else buf
    # a tag seen in both the tail and the next chunk is counted twice: keep each cell once
    sheet.notes = list({(n.row, n.column, n.kind): n for n in sheet.notes}.values())
    sheet.merged = list(dict.fromkeys(sheet.merged))


def _check_area(sheet: str, letters: bytes, row: int, how: str) -> None:
    cols = col_index(letters) + 1
    if cols * row > MAX_SHEET_CELLS:
        raise WorkbookTooLarge(f"sheet '{sheet}' {how} {letters.decode()}{row}: {row:,} rows x {cols:,} columns "
                               f"= {row * cols:,} cells (limit {MAX_SHEET_CELLS:,}); delete the stray cell "
                               "or save the sheet again after removing empty rows and columns")
