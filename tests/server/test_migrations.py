"""Upgrading a database made by an older version: built at migration 0001, then `serve init`."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.server.conftest import SRC, cli

# Runs in its own process (Django is configured once per process): migrate to 0001 only,
# then write rows with the models as they were at 0001 (the historical models).
AT_0001 = r"""
import json, sys, datetime as dt
from rwestudy.server.settings import configure
configure(sys.argv[1])
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rwestudy.server.audit import GENESIS, digest

executor = MigrationExecutor(connection)
executor.migrate([("rwe", "0001_initial")])
apps = executor.loader.project_state(("rwe", "0001_initial")).apps
Study, Center, Record, AuditEntry = (apps.get_model("rwe", n) for n in ("Study", "Center", "Record", "AuditEntry"))
study = Study.objects.create(name="old", cutoff_date=dt.date(2024, 12, 31))
center = Center.objects.create(study=study, name="Bologna")
prev = GENESIS
for pid, data in json.loads(sys.argv[2]).items():
    r = Record.objects.create(study=study, center=center, table="patients", patient_id=pid, data=data)
    e = AuditEntry(at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), username="old-version", study=study,
                   action="create", table="patients", record_id=r.id, patient_id=pid, center="Bologna",
                   field="*", old=None, new=json.dumps(data, sort_keys=True), reason="")
    e.prev_hash, e.hash = prev, digest(prev, e)
    prev = e.hash
    e.save()
from django.db.migrations.recorder import MigrationRecorder
print(sorted(n for a, n in MigrationRecorder(connection).applied_migrations() if a == "rwe"))
"""

ROWS = {"BO-001": {"sex": "F", "ecog": "1", "diagnosis_date": "2021-03-04"},
        "BO-002": {"sex": "M", "histology": "DLBCL", "ipi": "3"}}


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite'}"
    return request.getfixturevalue("pg_cluster").new_database("rwe_old")


def test_serve_init_upgrades_a_0001_database_and_keeps_its_data(old_database, tmp_path):
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "RWESTUDY_SECRET_KEY": "test-only"}
    made = subprocess.run([sys.executable, "-c", AT_0001, old_database, json.dumps(ROWS)], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=300)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "['0001_initial']"

    cli("serve", "init", "--db", old_database, cwd=tmp_path)

    check = r"""
import json, sys
from rwestudy.server.settings import configure
configure(sys.argv[1])
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from rwestudy.server.models import PatientLock, Record, Study
from rwestudy.server import changes
study = Study.objects.get(name="old")
rows = {r.patient_id: r.data for r in Record.objects.filter(study=study)}
patient = Record.objects.get(patient_id="BO-001")
changes.lock(study, "coordinator", "upgrade test", patient=patient)  # the new table works
applied = sorted(n for a, n in MigrationRecorder(connection).applied_migrations() if a == "rwe")
print(json.dumps({"rows": rows, "cutoff": study.cutoff_date.isoformat(), "applied": applied,
                  "locks": list(PatientLock.objects.values_list("patient_id", flat=True))}))
"""
    got = subprocess.run([sys.executable, "-c", check, old_database], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=300)
    assert got.returncode == 0, got.stderr
    state = json.loads(got.stdout)
    assert state["rows"] == ROWS and state["cutoff"] == "2024-12-31" and state["locks"] == ["BO-001"]
    assert state["applied"][:2] == ["0001_initial", "0002_lock"]
    # The old trail and the new lock entry form one intact chain.
    verify = cli("audit", "verify", "--db", old_database, check=False, cwd=tmp_path)
    assert verify.returncode == 0 and "3 audit entries, hash chain intact" in verify.stdout
