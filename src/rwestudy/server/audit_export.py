"""The audit trail of one center as CSV (`GET /api/audit/export?center=NAME`, and a page button).

A center's user gets only their own center; the coordinator and monitors any
center; other roles none. Another center asked for by a center user answers
404, exactly as a center that does not exist.

Cells are text as entered, except that a cell a spreadsheet would run as a
formula (starting with = + - @, a tab or a carriage return, and not a plain
number) gets a leading apostrophe: opened in Excel it shows as the text it is.
"""
from __future__ import annotations

import csv
import io
import re

from rwestudy.server.models import CENTER_ROLES, AuditEntry, Center
from rwestudy.server.permissions import can

COLUMNS = ["id", "at_utc", "user", "action", "table", "record_id", "patient_id", "center", "field", "old", "new",
           "reason", "hash"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


class NotVisible(Exception):
    """No such center for this user (or none at all)."""


def center_for(m, name: str | None) -> Center:
    """The center `m` may export, asked as `name` (center roles: their own, by default)."""
    if m.role in CENTER_ROLES:
        if name and name != m.center.name:
            raise NotVisible(name)
        return m.center
    if not can(m, "read"):
        raise PermissionError("your role does not read the audit trail")
    center = Center.objects.filter(study=m.study, name=name or "").first()
    if center is None:
        raise NotVisible(name)
    return center


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def center_csv(study, center: Center) -> bytes:
    """Every audit entry of `center`'s records, oldest first (UTF-8 with BOM, for Excel)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    rows = AuditEntry.objects.filter(study=study, center=center.name).order_by("id")
    for e in rows.iterator():
        w.writerow([safe_cell(v) for v in (e.id, e.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), e.username, e.action,
                                           e.table, e.record_id, e.patient_id, e.center, e.field, e.old, e.new,
                                           e.reason, e.hash)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def filename(study, center: Center) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{study.name}-{center.name}")
    return f"{safe}-audit.csv"
