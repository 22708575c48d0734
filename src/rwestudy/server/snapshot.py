"""The export: the study as `rwestudy report` reads it, byte-identical for the same database state.

A snapshot zip holds one `<table>.csv` per contract table (so the unpacked
folder is itself a study folder), `study.xlsx` (the same tables, one sheet
each) and `manifest.json` (sha256 of each file, cut-off, audit-chain position,
software version). Nothing in it depends on the clock: rows are ordered by
patient and entry, and zip and workbook timestamps are fixed.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
import zipfile

from rwestudy import __version__
from rwestudy.io.schema import TABLES
from rwestudy.server import audit
from rwestudy.server.models import Record, Study

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_FIXED_ISO = "1980-01-01T00:00:00Z"


def row_values(record: Record) -> dict[str, str]:
    """A record as its contract row: the stored values plus patient_id (and center)."""
    values = dict(record.data)
    values["patient_id"] = record.patient_id
    if record.table == "patients":
        values["center"] = record.center.name
    return values


def columns(table: str) -> list[str]:
    return [c.name for c in TABLES[table].columns]


def table_csv(table: str, rows: list[dict[str, str]]) -> bytes:
    """UTF-8 CSV with the contract's columns in the contract's order."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = columns(table)
    w.writerow(cols)
    for r in rows:
        w.writerow([r.get(c) or "" for c in cols])
    return buf.getvalue().encode("utf-8")


def study_rows(study: Study, records=None) -> dict[str, list[dict[str, str]]]:
    """Rows per contract table, ordered by patient, then by entry."""
    qs = (records if records is not None else Record.objects.filter(study=study))
    out: dict[str, list[dict[str, str]]] = {t: [] for t in TABLES}
    for r in qs.select_related("center").order_by("patient_id", "id"):
        if r.table in out:
            out[r.table].append(row_values(r))
    return out


def _cell(kind: str, value: str):
    """A workbook cell value: numbers and ISO dates typed, everything else text."""
    if kind in ("int", "float"):
        try:
            x = float(value.replace(",", "."))
        except ValueError:
            return value
        if math.isfinite(x):
            return int(x) if kind == "int" and x.is_integer() else x
    if kind == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def workbook_bytes(tables: dict[str, list[dict[str, str]]]) -> bytes:
    """One sheet per table. Text is always written as text, never as a formula
    (a cell typed `=cmd|...` stays those characters when the workbook is opened)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in tables.items():
        ws = wb.create_sheet(name[:31])
        spec = TABLES[name].columns
        ws.append([c.name for c in spec])
        for r_i, row in enumerate(rows, start=2):
            for c_i, col in enumerate(spec, start=1):
                raw = row.get(col.name)
                if not raw:
                    continue
                cell = ws.cell(row=r_i, column=c_i, value=_cell(col.kind, raw))
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                elif isinstance(cell.value, dt.date):
                    cell.number_format = "YYYY-MM-DD"
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue(), core_xml=True)


def _fixed_zip(data: bytes, core_xml: bool = False) -> bytes:
    """The same zip with every timestamp fixed (openpyxl stamps the save time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if core_xml and info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + _FIXED_ISO.encode(), body)
            _write(dst, info.filename, body)
    return out.getvalue()


def _write(z: zipfile.ZipFile, name: str, body: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    z.writestr(info, body)


def snapshot(study: Study) -> tuple[dict[str, bytes], dict]:
    """The snapshot's files (name -> bytes) and its manifest."""
    tables = study_rows(study)
    files = {f"{t}.csv": table_csv(t, rows) for t, rows in tables.items() if rows or t == "patients"}
    files["study.xlsx"] = workbook_bytes({t: rows for t, rows in tables.items() if rows or t == "patients"})
    manifest = {
        "software": f"rwestudy {__version__}",
        "study": study.name,
        "cutoff_date": study.cutoff_date.isoformat() if study.cutoff_date else None,
        "locked": study.locked,
        "locked_patients": sorted(study.patient_locks.values_list("patient_id", flat=True)),
        "audit": audit.position(),
        "rows": {t: len(rows) for t, rows in tables.items()},
        "files": {name: hashlib.sha256(body).hexdigest() for name, body in sorted(files.items())},
    }
    return files, manifest


def snapshot_zip(study: Study) -> bytes:
    files, manifest = snapshot(study)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            _write(z, name, files[name])
        _write(z, "manifest.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return out.getvalue()
