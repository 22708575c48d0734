"""Zip-based outputs (xlsx, docx) with fixed dates, so the same content gives the same bytes.

openpyxl and python-docx stamp the current time into the document properties and
into every zip entry (``ZipFile.writestr`` with a name uses ``time.localtime()``).
Here the document properties get the caller's timestamp and the package is
rewritten entry by entry with that date: same tables, same file.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

_ZIP_EPOCH = dt.datetime(1980, 1, 1)  # the earliest date a zip entry can hold
# Already compressed: deflating them again costs time and saves nothing.
_STORED_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")


def as_datetime(value) -> dt.datetime:
    """A naive (UTC) datetime from a datetime, date, pandas Timestamp or ISO text."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if not isinstance(value, dt.datetime):  # a date
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0)


def rewrite_zip(data: bytes, path: Path, when: dt.datetime) -> Path:
    """Write the zip ``data`` to ``path`` with every entry dated ``when``, in the same order."""
    stamp = max(when, _ZIP_EPOCH).timetuple()[:6]
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.create_system = 0  # the same bytes on every platform
            entry.external_attr = 0o600 << 16
            entry.compress_type = (zipfile.ZIP_STORED if info.filename.lower().endswith(_STORED_SUFFIXES)
                                   else zipfile.ZIP_DEFLATED)
            dst.writestr(entry, src.read(info))
    return path


def save_workbook(wb, path, timestamp=None) -> Path:
    """Save an openpyxl workbook; with ``timestamp``, dated by it (properties and entries)."""
    path = Path(path)
    if timestamp is None:
        wb.save(path)
        return path
    from openpyxl.writer.excel import ExcelWriter

    when = as_datetime(timestamp)
    wb.properties.created = wb.properties.modified = when
    buf = io.BytesIO()
    # openpyxl's save_workbook() sets `modified` to now; its writer alone keeps ours.
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        if wb.write_only and not wb.worksheets:
            wb.create_sheet()
        ExcelWriter(wb, archive).write_data()
    return rewrite_zip(buf.getvalue(), path, when)


def save_document(doc, path, timestamp=None) -> Path:
    """Save a python-docx document; with ``timestamp``, dated by it (properties and entries)."""
    path = Path(path)
    if timestamp is None:
        doc.save(path)
        return path
    when = as_datetime(timestamp)
    props = doc.core_properties
    props.created = props.modified = when
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    return rewrite_zip(buf.getvalue(), path, when)
