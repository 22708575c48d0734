"""Audit trail (append-only, hash chain, `rwestudy audit verify`), the export snapshot, migrations."""
from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import time
import zipfile

import pytest

from tests.server.conftest import SRC, cli, db_handle


def _copy_db(server, dest):
    """A consistent copy of a live SQLite server database, as a sqlite3 connection (SQLite only:
    `conftest.db_handle` copies either backend)."""
    import sqlite3

    assert server.backend == "sqlite", "use conftest.db_handle on PostgreSQL"
    db_handle(server, dest)
    return sqlite3.connect(dest)


def test_audit_verify_detects_a_changed_and_a_deleted_entry(server, tmp_path):
    copy = db_handle(server, tmp_path / "copy.sqlite")
    ok = cli("audit", "verify", "--db", copy.url, check=False, cwd=tmp_path)
    n = copy.query("select count(*) from rwe_auditentry")[0][0]
    assert ok.returncode == 0 and f"{n} audit entries, hash chain intact" in ok.stdout
    # A value rewritten behind the application's back.
    copy.execute("update rwe_auditentry set new = 'tampered' where id = 5")
    bad = cli("audit", "verify", "--db", copy.url, check=False, cwd=tmp_path)
    assert bad.returncode == 1 and "audit entry 5 was changed" in bad.stderr
    # Re-hashing the row itself does not help: the next row's link breaks.
    copy.execute("update rwe_auditentry set hash = 'f' || substr(hash, 2) where id = 5")
    assert "audit entry 5" in cli("audit", "verify", "--db", copy.url, check=False, cwd=tmp_path).stderr
    # A deleted row.
    copy2 = db_handle(server, tmp_path / "copy2.sqlite")
    copy2.execute("delete from rwe_auditentry where id = 7")
    gone = cli("audit", "verify", "--db", copy2.url, check=False, cwd=tmp_path)
    assert gone.returncode == 1 and "audit entry 8 does not follow entry 6" in gone.stderr


def test_on_postgresql_the_application_role_cannot_update_or_delete_the_trail(server):
    if server.backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no roles (the application's guards are tested below)")
    import psycopg

    before = server.query("select count(*), max(hash) from rwe_auditentry")
    for sql in ("update rwe_auditentry set new = 'x' where id = 1", "delete from rwe_auditentry where id = 1",
                "truncate rwe_auditentry"):
        with psycopg.connect(server.db) as con:  # the server's own role, from its --db URL
            assert con.execute("select current_user").fetchone()[0] == "rwe_app"
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(sql)
    with psycopg.connect(server.db) as con:  # it still reads and appends
        assert con.execute("select count(*) from rwe_auditentry").fetchone()[0] == before[0][0]
    assert server.query("select count(*), max(hash) from rwe_auditentry") == before


def test_the_application_cannot_change_or_delete_audit_entries(django_routes):
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from rwestudy.server import audit
    from rwestudy.server.models import AuditEntry, Study

    study = Study.objects.create(name="guards")
    audit.append([AuditEntry(at=None, username="u", study=study, action="create", table="patients",
                             record_id=1, patient_id="P1", center="A", field="*", old=None, new="{}")])
    e = AuditEntry.objects.get()
    e.new = "changed"
    for attempt in (e.save, e.delete, lambda: AuditEntry.objects.update(new="x"),
                    lambda: AuditEntry.objects.filter(id=e.id).delete()):
        with pytest.raises(PermissionError):
            attempt()
    assert AuditEntry.objects.get().new == "{}"
    assert audit.verify()[0]


def test_export_is_byte_identical_complete_and_reportable(server, centers, demo_patients, tmp_path):
    a, b = centers
    pid = sorted(p for p, c in demo_patients.items() if c == b)[-1]
    formula = "=cmd|' /C calc'!A0"
    r = server.call("PATCH", f"/api/patients/{pid}", token=server.token(f"investigator_{b.lower()}"),
                    body={"histology": formula, "reason": "security test"})
    assert r.status == 200 and any(f["rule"] == "code-unknown" for f in r.json["findings"])
    tok = server.token("coordinator")
    first = server.call("GET", "/api/export", token=tok)
    time.sleep(2.1)  # zip and workbook timestamps have 2 s resolution: a clock-stamped export would differ
    second = server.call("GET", "/api/export", token=server.token("statistician"))
    assert first.status == 200 and first.headers["Content-Type"] == "application/zip"
    assert first.body == second.body

    z = zipfile.ZipFile(io.BytesIO(first.body))
    manifest = json.loads(z.read("manifest.json"))
    assert manifest["files"] == {n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist() if n != "manifest.json"}
    assert {"patients.csv", "adverse_events.csv", "study.xlsx"} <= set(manifest["files"])
    assert manifest["software"].startswith("rwestudy ") and manifest["cutoff_date"] == "2025-06-30"
    entries = server.query("select count(*), max(id) from rwe_auditentry")[0]
    assert (manifest["audit"]["entries"], manifest["audit"]["last_id"]) == entries

    # Untouched tables are the demo study exactly as `rwestudy demo --csv` writes it.
    from rwestudy.demo.generator import make_study
    from rwestudy.io.writers import write_csv_folder

    demo = write_csv_folder(make_study(), tmp_path / "demo")
    for table in ("mutations", "treatment", "responses"):
        assert sorted(z.read(f"{table}.csv").decode().splitlines()) == \
            sorted((demo / f"{table}.csv").read_text().splitlines())

    # A typed formula stays text in the workbook.
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(z.read("study.xlsx")))["patients"]
    header = [c.value for c in ws[1]]
    cell = next(row[header.index("histology")] for row in ws.iter_rows(min_row=2)
                if row[0].value == pid)
    assert (cell.value, cell.data_type) == (formula, "s")

    snap = tmp_path / "snapshot"
    z.extractall(snap)
    found = json.loads(cli("validate", str(snap), "--format", "json", check=False).stdout)
    assert any(f["rule"] == "code-unknown" and f["patient_id"] == pid and f["column"] == "histology"
               for f in found["findings"])
    rep = cli("report", str(snap), "--out", str(tmp_path / "report"), "--no-figures", "--allow-errors",
              timeout=600)
    assert rep.returncode == 0 and (tmp_path / "report" / "report.html").exists()
    # The workbook in the snapshot reads as the same study.
    wb = json.loads(cli("validate", str(snap / "study.xlsx"), "--format", "json", check=False).stdout)
    assert wb["n_patients"] == found["n_patients"] and wb["counts"]["error"] == found["counts"]["error"]


def test_migrations_are_up_to_date(tmp_path):
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "rwestudy.server.manage", "makemigrations", "--check", "--dry-run"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
