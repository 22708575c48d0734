"""Saving one row of any contract table from the pages: checks, the reason rule, the audited change.

The rule is the API's (api.py, PATCH /api/patients/<id>): the contract's
checks run on the patient's rows with the new values; a save is not blocked
by a failing check, but it then needs a reason and the finding stays open. A
reason is also needed to change a value already saved and to delete a row.
A new error is one on a field being changed, or one the edit brings about on
another field of the row (a start date moved after the progression date makes
the progression date's finding).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from rwestudy.server import changes, checks, snapshot
from rwestudy.server.forms import form_class
from rwestudy.server.models import Record
from rwestudy.server.permissions import visible_records

NEW = -1  # the record id a row not yet saved carries in the checks


@dataclass
class Outcome:
    saved: bool = False
    changed: list[str] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)  # after the save (or as it would be)
    reason_required_for: list[str] = field(default_factory=list)
    problem: str = ""  # a sentence when nothing could be saved for another cause
    record_id: int | None = None


def patient_rows(m, patient_id: str) -> list[Record]:
    """All rows of a patient that `m` may see (none: the patient is not theirs, or does not exist)."""
    return list(visible_records(m).filter(patient_id=patient_id).select_related("center").order_by("table", "id"))


def findings(m, records: list[Record], edit: tuple[str, int, dict] | None = None) -> list[dict]:
    """The contract's findings on `records`, with `edit` = (table, record id or NEW, new row values) applied."""
    rows = []
    for r in records:
        values = snapshot.row_values(r)
        if edit and r.id == edit[1]:
            values = {**values, **edit[2]}
        rows.append((r.table, r.id, values))
    if edit and edit[1] == NEW:
        main = next(r for r in records if r.table == "patients")
        rows.append((edit[0], NEW, {**edit[2], "patient_id": main.patient_id}))
    return checks.check_rows(rows, m.study.cutoff_date)


def clean(table: str, posted: dict[str, str]) -> tuple[dict[str, str], str]:
    """The contract fields of a posted form as trimmed text, or a sentence saying what is wrong."""
    form = form_class(table)(data=posted)
    if not form.is_valid():
        return {}, "; ".join(f"{k.replace('_', ' ')}: {' '.join(e)}" for k, e in form.errors.items())
    return {k: form.cleaned_data[k] for k in form.fields}, ""


def _key(f: dict) -> tuple:
    return f["rule"], f["field"], f["message"]


def save_row(m, username: str, records: list[Record], table: str, record: Record | None,
             values: dict[str, str], reason: str) -> Outcome:
    """Create (`record` None) or change a row of the patient whose rows are `records`."""
    rid = record.id if record else NEW
    old = record.data if record else {}
    changed = {k: v for k, v in values.items() if (old.get(k) or "") != v}
    if not changed:
        return Outcome(findings=findings(m, records), record_id=rid)
    before = {_key(f) for f in findings(m, records) if f["record_id"] == rid}
    after = findings(m, records, (table, rid, changed))
    new_errors = {f["field"] or "" for f in after if f["severity"] == "error" and f["record_id"] == rid
                  and (f["field"] in changed or _key(f) not in before)}
    needs = sorted({k for k in changed if old.get(k)} | new_errors)
    if needs and not reason:
        return Outcome(findings=after, reason_required_for=needs, record_id=rid)
    main = next(r for r in records if r.table == "patients")
    if record is None:
        created = changes.create_row(m.study, main.center, username, table, main.patient_id, changed, reason)
        rid = created.id
        after = [{**f, "record_id": rid} if f["record_id"] == NEW else f for f in after]
    else:
        try:
            changes.update_record(record, record.data, changed, username, reason)
        except changes.Conflict as exc:
            return Outcome(findings=after, problem=str(exc), record_id=rid)
    return Outcome(saved=True, changed=sorted(changed), findings=after, record_id=rid)


def delete_row(m, username: str, records: list[Record], record: Record, reason: str) -> Outcome:
    if record.table == "patients":
        return Outcome(problem="a patient is not deleted here: ask the coordinator", record_id=record.id)
    if not reason:
        return Outcome(reason_required_for=["*"], record_id=record.id, findings=findings(m, records))
    try:
        changes.delete_record(record, record.data, username, reason)
    except changes.Conflict as exc:
        return Outcome(problem=str(exc), record_id=record.id)
    return Outcome(saved=True, changed=["*"], record_id=record.id,
                   findings=findings(m, [r for r in records if r.id != record.id]))
