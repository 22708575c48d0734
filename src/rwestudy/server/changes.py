"""Every change to the study data goes through here, and every change is audited.

The record change and its audit entries are written in one transaction, so
a save is either whole (data and trail) or absent, even if the server dies.
"""
from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

from django.db import transaction

from rwestudy.io.schema import TABLES
from rwestudy.server import audit
from rwestudy.server.forms import KEY_FIELDS
from rwestudy.server.models import AuditEntry, Center, Record, Study


class Conflict(Exception):
    """The record changed between the check and the save: reload and retry."""


def _entry(study, username, action, record, field, old, new, reason="") -> AuditEntry:
    return AuditEntry(at=None, username=username, study=study, action=action, table=record.table,
                      record_id=record.id, patient_id=record.patient_id, center=record.center.name,
                      field=field, old=old, new=new, reason=reason)


def import_tables(study: Study, tables: dict[str, list[dict[str, str]]], username: str, reason: str) -> int:
    """Load contract rows (text values) into the study: centers as named in `patients`,
    each row audited as imported (one entry holding the whole row). Returns rows loaded."""
    with transaction.atomic():
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


def create_patient(study: Study, center: Center, username: str, patient_id: str, values: dict[str, str]) -> Record:
    with transaction.atomic():
        record = Record.objects.create(study=study, center=center, table="patients", patient_id=patient_id,
                                       data={k: v for k, v in values.items() if v})
        audit.append([_entry(study, username, "create", record, "*", None,
                             json.dumps(record.data, sort_keys=True, ensure_ascii=False))])
    return record


def create_row(study: Study, center: Center, username: str, table: str, patient_id: str, values: dict[str, str],
               reason: str = "") -> Record:
    """A new row of a patient's table (a response, an adverse event...), audited as one "create" entry."""
    with transaction.atomic():
        record = Record.objects.create(study=study, center=center, table=table, patient_id=patient_id,
                                       data={k: v for k, v in values.items() if v})
        audit.append([_entry(study, username, "create", record, "*", None,
                             json.dumps(record.data, sort_keys=True, ensure_ascii=False), reason)])
    return record


def delete_record(record: Record, expected: dict, username: str, reason: str) -> None:
    """Delete a row if it still holds `expected`; the audit entry keeps the whole row as its old value."""
    with transaction.atomic():
        current = Record.objects.select_for_update().select_related("center").get(pk=record.pk)
        if current.data != expected:
            raise Conflict("the record was changed by someone else meanwhile; reload it and try again")
        entry = _entry(record.study, username, "delete", current, "*",
                       json.dumps(current.data, sort_keys=True, ensure_ascii=False), None, reason)
        current.delete()
        audit.append([entry])


def update_record(record: Record, expected: dict, changes: dict[str, str], username: str, reason: str) -> None:
    """Apply `changes` (field -> new text, "" = empty) if the record still holds `expected`."""
    with transaction.atomic():
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
