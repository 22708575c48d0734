"""Read a folder of CSV files (or one CSV) into raw tables of text cells.

Encoding (UTF-8 with or without BOM, UTF-16 with BOM as Excel's "Unicode
text" saves it, Windows-1252) and delimiter (`,` `;` tab, or Excel's `sep=`
first line) are detected and reported. Each row keeps its physical line
number in the file (header = line 1), which is what a data manager finds in a
text editor, also after blank lines and quoted line breaks.

Two parses, so that clean files stay fast: pandas' C parser reads the file,
and a count proves that every record is one line (records == physical lines,
blank lines included). Only when that fails (a value holds a line break, a row
is ragged, a quote is never closed) is the file read again with the csv
module, record by record, to learn where each record starts and to report
the exact lines.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import pandas as pd

from rwestudy.io._cells import _col_letter, _norm
from rwestudy.io.schema import TABLES
from rwestudy.core.findings import empty_findings, finding

# Contract columns where a line break inside a value can be legitimate
# (free text, or a code followed by free text after a colon); in any other
# column it means rows were merged by a stray quote.
_FREE_TEXT = frozenset(c.name for t in TABLES.values() for c in t.columns
                       if c.kind == "text" or c.free_text_after_colon)
_SEP_LINE = re.compile(r'^"?sep=(.)"?\s*$', re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 (little-endian)"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 (big-endian)"))


def _read_csv_folder(path: Path):
    tables, problems = {}, [empty_findings()]
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
    if not files:
        return {}, finding("error", "file-type", "(study)", f"folder {path} holds no .csv files")
    by_table: dict[str, list[Path]] = {}
    for f in files:
        by_table.setdefault(_norm(f.stem), []).append(f)
    for key, group in by_table.items():
        if len(group) > 1:
            # Which one is current is not ours to guess: neither is read.
            names = " and ".join(f"'{f.name}'" for f in group)
            problems.append(finding("error", "table-duplicate", key,
                                    f"{names} are the same table '{key}' (names are compared ignoring case, "
                                    "spaces and dashes); neither is read: keep one file per table"))
            continue
        frame, p = _read_csv(group[0])
        problems.append(p)
        if frame is not None:
            tables[key] = (frame, group[0].name)
    return tables, pd.concat(problems, ignore_index=True)


def _read_csv(path: Path):
    table = path.stem
    problems = [empty_findings()]
    text, notes = _decode(path.read_bytes(), path.name, table)
    problems += notes
    if text is None:
        return None, pd.concat(problems, ignore_index=True)
    if not text.strip():
        return None, finding("error", "table-empty", table, f"{path.name} is empty")
    sep, skip = _dialect(text)
    parsed = _parse_fast(text, sep, skip)
    if parsed is None:
        parsed, slow_problems = _parse_records(text, sep, skip, path.name, table)
        problems += slow_problems
        if parsed is None:
            return None, pd.concat(problems, ignore_index=True)
    header, body = parsed
    if not any(h.strip() for h in header):
        return None, pd.concat(problems + [finding("error", "table-empty", table,
                                                   f"{path.name} has no header row")], ignore_index=True)
    frame, header_problems = _apply_header(header, body, path.name, table)
    problems += header_problems
    return frame, pd.concat(problems, ignore_index=True)


def _decode(data: bytes, name: str, table: str):
    """Text of the file and notes on its encoding (text None: unreadable)."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                return None, [finding("error", "file-encoding", table,
                                      f"{name} starts as {label} but is damaged ({exc.reason}); "
                                      "save it again as CSV UTF-8")]
            return text.lstrip("\ufeff"), [finding(
                "info", "file-encoding", table,
                f"{name} is {label} text (Excel's 'Unicode text'); read correctly, "
                "but CSV UTF-8 is the preferred format")]
    head = data[:400]
    if len(head) >= 4 and head.count(0) >= len(head) // 3:
        # UTF-16 without a BOM: ASCII text with every other byte NUL (valid UTF-8, so
        # the UTF-8 decoder would "succeed" with a NUL in every character).
        codec = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            return None, [finding("error", "file-encoding", table,
                                  f"{name} holds NUL bytes and is not readable text; save it as CSV UTF-8")]
        return text, [finding("info", "file-encoding", table,
                              f"{name} is {codec.upper()} text without a byte-order mark; read as such, "
                              "but CSV UTF-8 is the preferred format")]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        try:
            text, enc = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:
            text, enc = data.decode("latin-1"), "Latin-1"
        line = data[: exc.start].count(b"\n") + 1
        return text, [finding("warning", "file-encoding", table,
                              f"{name} is not UTF-8 (first bad byte on line {line}); read as {enc}: "
                              "check accented characters, and save as UTF-8 next time", row=line)]


def _dialect(text: str) -> tuple[str, int]:
    """(delimiter, lines before the header): Excel's `sep=;` first line wins."""
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    m = _SEP_LINE.match(first)
    if m:
        return m.group(1), 1
    return max([",", ";", "\t"], key=first.count), 0


def _line_breaks(s: str) -> int:
    """Line breaks as editors and both parsers count them: \\n, \\r\\n and a lone \\r."""
    return s.count("\n") + s.count("\r") - s.count("\r\n")


def _physical_lines(text: str) -> int:
    return _line_breaks(text) + (0 if text.endswith(("\n", "\r")) else 1)


def _parse_fast(text: str, sep: str, skip: int):
    """(header, body) with line numbers, or None when records and lines differ."""
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, header=None, skiprows=skip, dtype=str,
                          keep_default_na=False, na_filter=False, skip_blank_lines=False,
                          quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None
    # One record per line (blank lines are records here) proves the line numbers.
    if len(raw) != _physical_lines(text) - skip or not isinstance(raw.index, pd.RangeIndex):
        return None
    header = [str(h) for h in raw.iloc[0]]
    body = raw.iloc[1:]
    body.index = pd.RangeIndex(skip + 2, skip + 1 + len(raw), name="row")
    return header, body


def _parse_records(text: str, sep: str, skip: int, name: str, table: str):
    """Record by record with the csv module: where each record starts, ragged
    rows and values that span lines, all with their line in the file."""
    rows, starts = [], []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    prev = 0
    try:
        for record in reader:
            rows.append(record)
            starts.append(prev + 1)
            prev = reader.line_num
    except csv.Error as exc:
        line = prev + 1
        why = ("a quote (\") is probably never closed" if "field larger" in str(exc) else str(exc))
        return None, [finding("error", "table-unreadable", table,
                              f"{name} cannot be read from line {line} on: {why}", row=line)]
    ends = [s - 1 for s in starts[1:]] + [prev]
    rows, starts, ends = rows[skip:], starts[skip:], ends[skip:]
    if not rows:
        return None, [finding("error", "table-empty", table, f"{name} has no header row")]
    header, width = rows[0], len(rows[0])
    problems = []
    if ends[0] > starts[0]:
        problems.append(finding("error", "csv-stray-quote", table,
                                f"{name}: the header runs over lines {starts[0]}-{ends[0]}; a quote (\") "
                                "in the header is probably not closed", row=starts[0]))
    ragged = [starts[i] for i in range(1, len(rows))
              if len(rows[i]) > width and any(v.strip() for v in rows[i][width:])]
    if ragged:
        more = f" (also line{'s' if len(ragged) > 2 else ''} {', '.join(map(str, ragged[1:6]))}" \
               f"{', ...' if len(ragged) > 6 else ''})" if len(ragged) > 1 else ""
        i = starts.index(ragged[0])
        return None, problems + [finding(
            "error", "table-unreadable", table,
            f"{name} cannot be parsed as CSV: line {ragged[0]} has {len(rows[i])} fields but the header "
            f"has {width}{more}; every row must have as many fields as the header", row=ragged[0])]
    unclosed = text.count('"') % 2 == 1
    for i in range(1, len(rows)):
        if ends[i] > starts[i]:
            problems += _multiline(rows[i], header, starts[i], ends[i], sep, name, table,
                                   unclosed and i == len(rows) - 1)
    keep = [i for i in range(1, len(rows)) if rows[i]]  # [] is a blank line
    body = pd.DataFrame([(rows[i] + [""] * width)[:width] for i in keep], columns=range(width),
                        index=pd.Index([starts[i] for i in keep], name="row"), dtype=object)
    return (header, body), problems


def _multiline(record, header, start, end, sep, name, table, unclosed_at_eof):
    """Findings for values of one record that hold line breaks."""
    out, line = [], start
    width = len(header)
    for j, value in enumerate(record):
        breaks = _line_breaks(value)
        if not breaks:
            continue
        column = header[j].strip() if j < width else _col_letter(j)
        rest = re.split(r"\r\n|\r|\n", value)[1:]
        # Whole rows swallowed: the continuation lines look like records.
        swallowed = max(r.count(sep) for r in rest) >= max(1, (width - 1) // 2)
        shown = re.split(r"\r\n|\r|\n", value)[0][:40]
        if swallowed or _norm(column) not in _FREE_TEXT:
            closes = ("is never closed, so every line up to the end of the file"
                      if unclosed_at_eof else f"closes only on line {line + breaks}, so lines {line}-{line + breaks}")
            out.append(finding(
                "error", "csv-stray-quote", table,
                f"{name} line {line}: the value of '{column}' opens a quote (\") that {closes} "
                f"{'was' if unclosed_at_eof else 'were'} read as one value; remove the stray quote, "
                "or close it where the value ends", row=line, column=column, value=shown + "\u2026"))
        else:
            out.append(finding(
                "warning", "csv-multiline-value", table,
                f"{name} line {line}: the value of '{column}' runs over {breaks + 1} lines; kept as written "
                "(check that it is one value)", row=line, column=column, value=shown + "\u2026"))
        line += breaks
    return out


def _apply_header(header: list[str], body: pd.DataFrame, name: str, table: str):
    """Name the columns from the header as written (pandas would rename a
    second `sex` to `sex.1`, hiding the duplicate); drop empty rows."""
    problems = []
    names = [h.strip() for h in header]
    first: dict[str, int] = {}
    keep = []
    for i, h in enumerate(names):
        if i >= body.shape[1]:
            break
        if h == "":
            if body[i].fillna("").ne("").any():
                problems.append(finding("warning", "column-no-header", table,
                                        f"column {_col_letter(i)} of {name} holds values but has no header; "
                                        "it is ignored", column=_col_letter(i)))
            continue
        key = _norm(h)
        if key in first:
            j = first[key]
            differ = int((body[j].fillna("").str.strip() != body[i].fillna("").str.strip()).sum())
            same = "their values are identical" if not differ else f"their values differ in {differ} rows"
            problems.append(finding(
                "error", "column-duplicate", table,
                f"{name}: column {j + 1} ({_col_letter(j)}, '{names[j]}') and column {i + 1} "
                f"({_col_letter(i)}, '{h}') have the same header; {same}. Only column {_col_letter(j)} "
                "is read: delete or rename the other", column=names[j]))
            continue
        first[key] = i
        keep.append(i)
    frame = body[keep] if len(keep) < body.shape[1] else body
    frame.columns = [names[i] for i in keep]
    # Both parsers give "" (never NaN) for an empty field: one comparison serves
    # for the cells and for dropping lines with no value at all.
    filled = frame.ne("")
    frame = frame.where(filled, None)
    frame = frame.loc[filled.any(axis=1).to_numpy()]
    frame.index.name = "row"
    return frame, problems
