"""Text as every writer puts it into a file: no control characters, no live formulas.

Two dangers in user text (a center's AE term, a center name, a free-text reason):

- Control characters (``\\x01``, ``\\x0b``, ESC, ...) are not allowed in XML, so
  openpyxl and python-docx refuse them (after the earlier outputs were written),
  and a terminal or browser may act on them. `clean_text` shows each as an escape
  (``\\x0b``), so the value stays visible and findable; ``\\t`` and newlines are kept
  (``\\r\\n`` and a lone ``\\r`` become ``\\n``).
- Formula injection (OWASP "CSV injection"): a spreadsheet runs a cell that starts
  with ``=``, ``+``, ``-``, ``@``, tab or CR as a formula (``=cmd|' /C calc'!A0``,
  ``=HYPERLINK(...)``). `xlsx_cell` always writes text as a text cell, and
  `csv_text` prefixes such a cell with a single quote, the convention spreadsheets
  read as "text follows". A plain number written as text (``-3``, ``+1.5``) is no
  formula and is left alone.

Every writer of the report and of the findings goes through here (one rule for all).
"""
from __future__ import annotations

import re

# C0 controls except tab and line feed, DEL, C1 controls, lone surrogates and the two
# non-characters XML 1.0 forbids. (\r is handled before: it becomes a line feed.)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _escape(m: re.Match) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean_text(text: str) -> str:
    """``text`` without control characters: each is shown as ``\\xNN`` (``\\uNNNN``)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    elif _CONTROL.search(text) is None:
        return text  # the common case: the same object back (a Markup string stays Markup)
    return _CONTROL.sub(_escape, text)


def clean(value):
    """`clean_text` for a string; any other value unchanged."""
    return clean_text(value) if isinstance(value, str) else value


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet would read ``text`` as a formula (a plain number is not one)."""
    return text.startswith(FORMULA_START) and not _NUMBER.fullmatch(text)


def csv_text(value):
    """A CSV cell: clean text, quote-prefixed when it would be a formula; numbers unchanged."""
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    return "'" + text if looks_like_formula(value) else text


def xlsx_cell(ws, value, *, font=None, alignment=None):
    """A write-only openpyxl cell: text always a text cell (never a formula), numbers as numbers."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, str):
        text = clean_text(value)
        cell = WriteOnlyCell(ws, text)
        cell.data_type = "s"  # openpyxl would make any text starting with '=' a formula
        if looks_like_formula(text):
            cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    else:
        cell = WriteOnlyCell(ws, value)
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    return cell


def sheet_title(name: str, used: set[str], fallback: str = "sheet") -> str:
    """A valid, unused Excel sheet title: clean text, no []:*?/\\, at most 31 characters.

    ``used`` holds the lower-cased titles taken so far (Excel compares them ignoring case).
    """
    base = re.sub(r"[\[\]:*?/\\]", "-", clean_text(str(name))).strip("'") or fallback
    title, k = base[:31], 1
    while title.lower() in used:
        k += 1
        title = f"{base[:31 - len(str(k)) - 1]}~{k}"
    used.add(title.lower())
    return title
