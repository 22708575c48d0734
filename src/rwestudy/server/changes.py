"""Every change to the study data goes through here, and every change is audited.

The record change and its audit entries are written in one transaction, so
a save is either whole (data and trail) or absent, even if the server dies.
"""
from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path


from rwestudy.io.schema import TABLES
from rwestudy.server import audit
from rwestudy.server.forms import KEY_FIELDS
from django.utils import timezone

from rwestudy.server.models import AuditEntry, Center, PatientLock, Record, Study


class Conflict(Exception):
    """The record changed between the check and the save: reload and retry."""


class Locked(Exception):
    """The study or the patient is locked: nothing can change until the coordinator unlocks it."""


def lock_problem(study: Study, patient_id: str | None) -> str | None:
    """Why `patient_id` (or, with None, a new patient) cannot change now, or None."""
    if study.locked:
        cut = f" at the data cut-off {study.cutoff_date:%Y-%m-%d}" if study.cutoff_date else ""
        return f"the study is locked{cut}: no data can change until the coordinator unlocks it"
    if patient_id and PatientLock.objects.filter(study=study, patient_id=patient_id).exists():
        return "this patient is locked: its data cannot change until the coordinator unlocks it"
    return None


def _check_unlocked(study: Study, patient_id: str | None) -> None:
    """Inside the write transaction, after `audit.lock_chain()`: the lock state as it is now."""
    problem = lock_problem(Study.objects.get(pk=study.pk), patient_id)
    if problem:
        raise Locked(problem)


def _entry(study, username, action, record, field, old, new, reason="") -> AuditEntry:
    return AuditEntry(at=None, username=username, study=study, action=action, table=record.table,
                      record_id=record.id, patient_id=record.patient_id, center=record.center.name,
                      field=field, old=old, new=new, reason=reason)


def import_tables(study: Study, tables: dict[str, list[dict[str, str]]], username: str, reason: str) -> int:
    """Load contract rows (text values) into the study: centers as named in `patients`,
    each row audited as imported (one entry holding the whole row). Returns rows loaded."""
    with audit.writing():
        centers = {c.name: c for c in Center.objects.filter(study=study)}
        patient_center = {}
        for row in tables.get("patients", []):
            name = row["center"]
            if name not in centers:
                centers[name] = Center.objects.create(study=study, name=name)
            patient_center[row["patient_id"]] = centers[name]
        for r in Record.objects.filter(study=study, table="patients").select_related("center"):
            patient_center.setdefault(r.patient_id, r.center)
        records = []
        for table, rows in tables.items():
            for row in rows:
                data = {k: v for k, v in row.items() if k not in KEY_FIELDS and v not in (None, "")}
                records.append(Record(study=study, center=patient_center[row["patient_id"]], table=table,
                                      patient_id=row["patient_id"], data=data))
        Record.objects.bulk_create(records)
        audit.append([_entry(study, username, "import", r, "*", None,
                             json.dumps(r.data, sort_keys=True, ensure_ascii=False), reason) for r in records])
    return len(records)


def read_csv_folder(folder: Path) -> dict[str, list[dict[str, str]]]:
    """A folder of contract CSVs as rows of text (what the server stores)."""
    out = {}
    for name in TABLES:
        path = folder / f"{name}.csv"
        if path.exists():
            with path.open(encoding="utf-8", newline="") as fh:
                out[name] = list(csv.DictReader(fh))
    return out


def import_demo(study: Study, username: str = "demo") -> int:
    """The shipped synthetic study, through the same CSV writer `rwestudy demo --csv` uses."""
    from rwestudy.demo.generator import CUTOFF, make_study
    from rwestudy.io.writers import write_csv_folder

    with tempfile.TemporaryDirectory(prefix="rwestudy-demo-") as d:
        write_csv_folder(make_study(), d)
        rows = read_csv_folder(Path(d))
    study.cutoff_date = CUTOFF.date()
    study.save(update_fields=["cutoff_date"])
    return import_tables(study, rows, username, "demo study loaded")


def create_patient(study: Study, center: Center, username: str, patient_id: str, values: dict[str, str],
                   rows: dict[str, list[dict[str, str]]] | None = None) -> Record:
    """A new patient and its other rows (adverse events, treatment...) in one transaction:
    all of them are saved, with their audit entries, or none."""
    with audit.writing():
        audit.lock_chain()
        _check_unlocked(study, None)
        record = Record.objects.create(study=study, center=center, table="patients", patient_id=patient_id,
                                       data={k: v for k, v in values.items() if v})
        records = [record] + [Record.objects.create(study=study, center=center, table=table, patient_id=patient_id,
                                                    data={k: v for k, v in row.items() if v})
                              for table, items in (rows or {}).items() for row in items]
        audit.append([_entry(study, username, "create", r, "*", None,
                             json.dumps(r.data, sort_keys=True, ensure_ascii=False)) for r in records])
    return record


def create_row(study: Study, center: Center, username: str, table: str, patient_id: str, values: dict[str, str],
               reason: str = "") -> Record:
    """A new row of a patient's table (a response, an adverse event...), audited as one "create" entry."""
    with audit.writing():
        record = Record.objects.create(study=study, center=center, table=table, patient_id=patient_id,
                                       data={k: v for k, v in values.items() if v})
        audit.append([_entry(study, username, "create", record, "*", None,
                             json.dumps(record.data, sort_keys=True, ensure_ascii=False), reason)])
    return record


def delete_record(record: Record, expected: dict, username: str, reason: str) -> None:
    """Delete a row if it still holds `expected`; the audit entry keeps the whole row as its old value."""
    with audit.writing():
        current = Record.objects.select_for_update().select_related("center").get(pk=record.pk)
        if current.data != expected:
            raise Conflict("the record was changed by someone else meanwhile; reload it and try again")
        entry = _entry(record.study, username, "delete", current, "*",
                       json.dumps(current.data, sort_keys=True, ensure_ascii=False), None, reason)
        current.delete()
        audit.append([entry])


def update_record(record: Record, expected: dict, changes: dict[str, str], username: str, reason: str) -> None:
    """Apply `changes` (field -> new text, "" = empty) if the record still holds `expected`."""
    with audit.writing():
        audit.lock_chain()
        _check_unlocked(record.study, record.patient_id)
        current = Record.objects.select_for_update().select_related("center").get(pk=record.pk)
        if current.data != expected:
            raise Conflict("the record was changed by someone else meanwhile; reload it and try again")
        entries = []
        for field, new in sorted(changes.items()):
            old = current.data.get(field)
            if new:
                current.data[field] = new
            else:
                current.data.pop(field, None)
            entries.append(_entry(record.study, username, "update", current, field, old, new or None, reason))
        current.save(update_fields=["data", "updated"])
        audit.append(entries)


def _lock_entry(study, username, action, field, old, new, reason, record=None) -> AuditEntry:
    """A lock/unlock/cut-off entry: on the patient's row, or (record None) on the study."""
    return AuditEntry(at=None, username=username, study=study, action=action,
                      table="patients" if record else "study", record_id=record and record.id,
                      patient_id=record.patient_id if record else "", center=record.center.name if record else "",
                      field=field, old=old, new=new, reason=reason)


def _set_cutoff(study: Study, cutoff, username: str, reason: str) -> list[AuditEntry]:
    if cutoff is None or cutoff == study.cutoff_date:
        return []
    old = study.cutoff_date.isoformat() if study.cutoff_date else None
    study.cutoff_date = cutoff
    return [_lock_entry(study, username, "lock", "cutoff_date", old, cutoff.isoformat(), reason)]


def lock(study: Study, username: str, reason: str, cutoff=None, patient: Record | None = None) -> bool:
    """Set the data cut-off (if given) and lock the study, or one patient. False when it was locked already."""
    with audit.writing():
        audit.lock_chain()
        study = Study.objects.select_for_update().get(pk=study.pk)
        entries = _set_cutoff(study, cutoff, username, reason)
        if patient is None:
            changed = not study.locked
            study.locked = True
            if changed:
                entries.append(_lock_entry(study, username, "lock", "locked", "no", "yes", reason))
        else:
            _, changed = PatientLock.objects.get_or_create(
                study=study, patient_id=patient.patient_id,
                defaults={"at": timezone.now(), "username": username, "reason": reason})
            if changed:
                entries.append(_lock_entry(study, username, "lock", "locked", "no", "yes", reason, patient))
        study.save(update_fields=["cutoff_date", "locked"])
        audit.append(entries)
    return changed


def unlock(study: Study, username: str, reason: str, patient: Record | None = None) -> bool:
    """Unlock the study, or one patient. False when it was not locked."""
    with audit.writing():
        audit.lock_chain()
        study = Study.objects.select_for_update().get(pk=study.pk)
        if patient is None:
            changed = study.locked
            study.locked = False
            study.save(update_fields=["locked"])
        else:
            changed = PatientLock.objects.filter(study=study, patient_id=patient.patient_id).delete()[0] > 0
        if changed:
            audit.append([_lock_entry(study, username, "unlock", "locked", "yes", "no", reason, patient)])
    return changed
