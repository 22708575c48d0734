"""Data clarification queries: opened by the coordinator or a monitor, answered by the center.

The life of a query (what may follow what, and which role may do it):

    open --answer--> answered --close--> closed --reopen--> reopened --answer--> answered ...
    (close is allowed from every status but closed; reopen from answered or closed)

Every step is one message in the query's thread and one entry in the audit
trail (action "query", old and new status, the message as the reason), written
in the same transaction. The API and the pages both call these functions, so
they follow the same rules.
"""
from __future__ import annotations

from django.utils import timezone

from rwestudy.io.schema import TABLES
from rwestudy.server import audit
from rwestudy.server.models import CENTER_ROLES, AuditEntry, Query, QueryMessage, Record
from rwestudy.server.permissions import can

# action -> (the permission it needs, statuses it may start from, the status it leads to)
STEPS = {
    "answer": ("write", ("open", "reopened", "answered"), "answered"),
    "close": ("query", ("open", "answered", "reopened"), "closed"),
    "reopen": ("query", ("answered", "closed"), "reopened"),
}
OPEN_STATUSES = ("open", "answered", "reopened")  # not closed: still needs someone's attention
MAX_TEXT = 2000


class Refused(Exception):
    """A step the rules do not allow; `status` is the HTTP status that says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def visible_queries(m):
    """The queries this membership may read: the same data access group as its records."""
    if not can(m, "read"):
        return Query.objects.none()
    qs = Query.objects.filter(study=m.study)
    return qs.filter(center=m.center) if m.role in CENTER_ROLES else qs


def _audit(q: Query, username: str, old: str | None, new: str, text: str) -> AuditEntry:
    return AuditEntry(at=None, username=username, study=q.study, action="query", table=q.table,
                      record_id=q.record_id, patient_id=q.patient_id, center=q.center.name,
                      field=q.field, old=old, new=new, reason=f"query {q.id}: {text}")


def _text(text) -> str:
    text = str(text or "").strip()
    if not text:
        raise Refused(400, "write the question (or the answer): the text is empty")
    if len(text) > MAX_TEXT:
        raise Refused(400, f"keep the text under {MAX_TEXT} characters")
    return text


def open_query(m, username: str, patient_record: Record, table: str, record_id, field: str, text,
               rule: str = "") -> Query:
    """Open a query on `field` of row `record_id` of `table` of the patient of `patient_record`.

    The caller has already checked that the patient is visible to `m` (404 otherwise).
    """
    if not can(m, "query"):
        raise Refused(403, "only the coordinator and monitors raise queries")
    if m.study.locked:
        raise Refused(409, "the study is locked")
    if table not in TABLES:
        raise Refused(400, f"no table {table!r} in the study data")
    if field not in TABLES[table].by_name:
        raise Refused(400, f"no field {field!r} in table {table!r}")
    try:
        record_id = int(record_id) if record_id not in (None, "") else patient_record.id
    except (TypeError, ValueError):
        raise Refused(400, "record_id must be a number") from None
    row = Record.objects.filter(pk=record_id, study=m.study, patient_id=patient_record.patient_id, table=table)
    if not row.exists():
        raise Refused(400, f"this patient has no row {record_id} in {table!r}")
    text = _text(text)
    now = timezone.now()
    with audit.writing():
        q = Query.objects.create(study=m.study, center=patient_record.center, patient_id=patient_record.patient_id,
                                 table=table, record_id=record_id, field=field, rule=str(rule or "")[:64],
                                 text=text, status="open", opened_by=username, opened_at=now, updated_at=now)
        QueryMessage.objects.create(query=q, at=now, username=username, action="open", text=text)
        audit.append([_audit(q, username, None, "open", text)])
    return q


def step(m, username: str, query: Query, action: str, text) -> Query:
    """Answer, close or re-open `query` (already known visible to `m`)."""
    if action not in STEPS:
        raise Refused(404, "no such step: answer, close or reopen")
    needs, allowed_from, to = STEPS[action]
    if not can(m, needs):
        raise Refused(403, "the center answers a query; the coordinator or a monitor closes or re-opens it")
    if m.study.locked:
        raise Refused(409, "the study is locked")
    text = _text(text) if action != "close" else str(text or "").strip()[:MAX_TEXT]
    with audit.writing():
        q = Query.objects.select_for_update().select_related("study", "center").get(pk=query.pk)
        if q.status not in allowed_from:
            raise Refused(409, f"a query that is {q.status} cannot be {'answered' if action == 'answer' else action + 'd'}")
        old, q.status, q.updated_at = q.status, to, timezone.now()
        q.save(update_fields=["status", "updated_at"])
        QueryMessage.objects.create(query=q, at=q.updated_at, username=username, action=action, text=text)
        audit.append([_audit(q, username, old, to, text or action)])
    return q


def as_json(q: Query) -> dict:
    return {"id": q.id, "patient_id": q.patient_id, "center": q.center.name, "table": q.table,
            "record_id": q.record_id, "field": q.field, "rule": q.rule, "text": q.text, "status": q.status,
            "opened_by": q.opened_by, "opened_at": q.opened_at.isoformat(), "updated_at": q.updated_at.isoformat(),
            "messages": [{"at": x.at.isoformat(), "user": x.username, "action": x.action, "text": x.text}
                         for x in q.messages.order_by("id")]}
