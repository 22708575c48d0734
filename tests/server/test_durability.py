"""Durability: writers save through real HTTP while the server is killed with SIGKILL, again and again.

Every save the server acknowledged (2xx) must be in the database afterwards; a
new patient saved with its adverse events in one request is there whole or not
at all; the audit chain verifies. The in-flight request at a kill may or may
not have been committed (the client never heard): both are allowed, half is not.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.server.conftest import Server, cli, db_handle, free_port, start_server

KILLS = 20
WRITERS = 3
AES_PER_PATIENT = 3
AE_TERMS = ("Fatigue", "Nausea", "Anaemia")


def _send(url, token, method, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, http.client.HTTPException):
        return None  # the server died under the request (or is down): not acknowledged


class Writer(threading.Thread):
    """Alternates a PATCH of its own patient and a POST of a new patient with AE rows."""

    def __init__(self, n, url, token, patient_id, stop):
        super().__init__(daemon=True)
        self.n, self.url, self.token, self.patient_id, self.stop = n, url, token, patient_id, stop
        self.acked_patches, self.tried_patches = [], []   # albumin values
        self.acked_posts, self.tried_posts = [], []       # new patient ids
        self.refused = []                                 # non-2xx answers (none expected)

    def run(self):
        i = 0
        while not self.stop.is_set():
            i += 1
            if i % 2:
                value = f"3.{self.n}{i:04d}"
                self.tried_patches.append(value)
                status = _send(self.url, self.token, "PATCH", f"/api/patients/{self.patient_id}",
                               {"albumin_g_dl": value, "reason": "durability test"})
                acked, log = self.acked_patches, value
            else:
                pid = f"DUR-{self.n}-{i:04d}"
                self.tried_posts.append(pid)
                aes = [{"term": t, "grade": str(g + 1)} for g, t in enumerate(AE_TERMS)]
                status = _send(self.url, self.token, "POST", "/api/patients",
                               {"patient_id": pid, "sex": "F", "tables": {"adverse_events": aes}})
                acked, log = self.acked_posts, pid
            if status is not None and 200 <= status < 300:
                acked.append(log)
            elif status is not None:
                self.refused.append((log, status))
            else:
                time.sleep(0.05)  # down: retry soon with a new save


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_acknowledged_saves_survive_sigkill(backend, tmp_path, request):
    started = time.monotonic()
    if backend == "sqlite":
        db = f"sqlite:///{tmp_path / 'durable.sqlite'}"
        cluster = None
    else:
        cluster = request.getfixturevalue("pg_cluster")
        db = cluster.new_database("rwe_durable")
    # A small study (one center, the writers' patients), imported from CSV: quick to set up,
    # and each save's checks run on a patient's few rows.
    folder = tmp_path / "centre"
    folder.mkdir()
    own = [f"DP-{n:03d}" for n in range(WRITERS)]
    (folder / "patients.csv").write_text("patient_id,center,sex,treatment_start_date\n" + "".join(
        f"{pid},Durham,F,2024-01-15\n" for pid in own))
    cli("serve", "import", str(folder), "--db", db, "--center", "Durham", cwd=tmp_path)
    passwords = {"writer": "Durable-writer-passphrase-1"}
    cli("serve", "adduser", "--db", db, "--username", "writer", "--password", passwords["writer"],
        "--role", "investigator", "--center", "Durham", cwd=tmp_path)
    port, log = free_port(), tmp_path / "server.log"
    proc = start_server(db, tmp_path, log, port=port)
    srv = Server(proc.url, db, tmp_path / "durable.sqlite" if backend == "sqlite" else None, log, passwords,
                 backend, cluster)
    token = srv.token("writer")
    stop = threading.Event()
    writers = [Writer(n, proc.url, token, own[n], stop) for n in range(WRITERS)]
    for w in writers:
        w.start()
    rng = random.Random(20261203)

    def acks():
        return sum(len(w.acked_patches) + len(w.acked_posts) for w in writers)

    try:
        for _ in range(KILLS):
            # A save checks the patient with `rwestudy validate`'s rules (a fraction of a second):
            # let one save through after each restart, then kill at a random moment, when
            # the writers are nearly always mid-request.
            seen, deadline = acks(), time.monotonic() + 15
            while acks() == seen and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.6))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            proc = start_server(db, tmp_path, log, port=port, deadline_s=30)
        time.sleep(0.5)
    finally:
        stop.set()
        for w in writers:
            w.join(timeout=30)
        proc.terminate()
        proc.wait(timeout=30)

    live = db_handle(srv)
    assert acks() >= KILLS  # the test did write between the kills
    assert [r for w in writers for r in w.refused] == []
    # Every acknowledged PATCH is in the trail; the value left is the last acknowledged or a later try.
    trail = live.query("select patient_id, new from rwe_auditentry where action = 'update' "
                       "and field = 'albumin_g_dl'")
    for w in writers:
        saved = [new for pid, new in trail if pid == w.patient_id]
        assert set(w.acked_patches) <= set(saved)
        data = live.query(f"select data from rwe_record where \"table\" = 'patients' "
                          f"and patient_id = '{w.patient_id}'")[0][0]
        value = (json.loads(data) if isinstance(data, str) else data)["albumin_g_dl"]
        after_last_ack = w.tried_patches[w.tried_patches.index(w.acked_patches[-1]):]
        assert value in after_last_ack
    # Every acknowledged new patient is there with all its AE rows; no save is half there.
    rows = live.query("select patient_id, \"table\", count(*) from rwe_record where patient_id like 'DUR-%' "
                      "group by patient_id, \"table\"")
    per_patient = {}
    for pid, table, count in rows:
        per_patient.setdefault(pid, {})[table] = count
    tried = {pid for w in writers for pid in w.tried_posts}
    assert set(per_patient) <= tried
    assert all(t == {"patients": 1, "adverse_events": AES_PER_PATIENT} for t in per_patient.values())
    acked = {pid for w in writers for pid in w.acked_posts}
    assert acked <= set(per_patient)
    entries = live.query("select patient_id, count(*) from rwe_auditentry where patient_id like 'DUR-%' "
                         "group by patient_id")
    assert dict(entries) == {pid: 1 + AES_PER_PATIENT for pid in per_patient}
    verify = cli("audit", "verify", "--db", db, check=False, cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr
    elapsed = time.monotonic() - started
    print(f"\n{backend}: {KILLS} SIGKILLs, {len(acked)} new patients and "
          f"{sum(len(w.acked_patches) for w in writers)} changes acknowledged, all present; {elapsed:.0f} s")
