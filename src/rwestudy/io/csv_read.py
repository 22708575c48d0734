"""Read a folder of CSV files (or one CSV) into raw tables of text cells.

Encoding and delimiter are detected and reported.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from rwestudy.io._cells import _norm
from rwestudy.validation.findings import empty_findings, finding


def _read_csv_folder(path: Path):
    tables, problems = {}, [empty_findings()]
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
    if not files:
        return {}, finding("error", "file-type", "(study)", f"folder {path} holds no .csv files")
    for f in files:
        frame, p = _read_csv(f)
        problems.append(p)
        if frame is not None:
            tables[_norm(f.stem)] = (frame, f.name)
    return tables, pd.concat(problems, ignore_index=True)


def _read_csv(path: Path):
    table = path.stem
    data = path.read_bytes()
    problems = [empty_findings()]
    if not data.strip():
        return None, finding("error", "table-empty", table, f"{path.name} is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text, enc = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:
            text, enc = data.decode("latin-1"), "Latin-1"
        line = data[: exc.start].count(b"\n") + 1
        problems.append(finding("warning", "file-encoding", table,
                                f"{path.name} is not UTF-8 (first bad byte on line {line}); read as {enc}: "
                                "check accented characters, and save as UTF-8 next time", row=line))
    first = text.split("\n", 1)[0]
    sep = max([",", ";", "\t"], key=first.count)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_filter=False, skip_blank_lines=True, quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        return None, pd.concat(problems + [finding(
            "error", "table-unreadable", table,
            f"{path.name} cannot be parsed as CSV ({str(exc).strip()}); every row must have as many "
            "fields as the header")], ignore_index=True)
    if frame.columns.size == 0:
        return None, finding("error", "table-empty", table, f"{path.name} has no header row")
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed:")]
    for c in unnamed:
        if (frame[c] != "").any():
            problems.append(finding("warning", "column-no-header", table,
                                    "a column holds values but has no header; it is ignored", column=str(c)))
    frame = frame.drop(columns=unnamed)
    frame = frame.astype(object).where(frame != "", None)
    # Line numbers in the file (header = line 1); blank lines are skipped by the
    # parser, which is harmless for a table without quoted newlines.
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="row")
    frame = frame.loc[frame.notna().any(axis=1)]
    return frame, pd.concat(problems, ignore_index=True)


