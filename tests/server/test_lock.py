"""Lock and data cut-off: the coordinator locks one patient or the study; every change is refused (409)."""
from __future__ import annotations

import io
import json
import zipfile


def _pids(demo_patients, center):
    return sorted(p for p, c in demo_patients.items() if c == center)


def test_a_locked_patient_refuses_changes_until_unlocked(server, demo_patients, centers):
    a, _ = centers
    inv, coord = server.token(f"investigator_{a.lower()}"), server.token("coordinator")
    locked, free = _pids(demo_patients, a)[2], _pids(demo_patients, a)[3]
    r = server.call("POST", "/api/lock", token=coord, body={"patient_id": locked, "reason": "source verified"})
    assert r.status == 200 and r.json["changed"] is True
    before = server.call("GET", f"/api/patients/{locked}", token=inv).json["fields"]
    r = server.call("PATCH", f"/api/patients/{locked}", token=inv, body={"hb_g_dl": "11.5", "reason": "typo"})
    assert r.status == 409
    assert r.json["error"] == "this patient is locked: its data cannot change until the coordinator unlocks it"
    assert server.call("GET", f"/api/patients/{locked}", token=inv).json["fields"] == before
    # Another patient of the same center is not locked.
    assert server.call("PATCH", f"/api/patients/{free}", token=inv, body={"hb_g_dl": "11.5", "reason": "x"}).status == 200
    # Locking again changes nothing; the investigator cannot unlock.
    assert server.call("POST", "/api/lock", token=coord, body={"patient_id": locked, "reason": "again"}).json[
        "changed"] is False
    assert server.call("POST", "/api/unlock", token=inv, body={"patient_id": locked, "reason": "mine"}).status == 403
    r = server.call("POST", "/api/unlock", token=coord, body={"patient_id": locked, "reason": "query answered"})
    assert r.status == 200 and r.json["changed"] is True
    assert server.call("PATCH", f"/api/patients/{locked}", token=inv, body={"hb_g_dl": "11.5", "reason": "typo"}).status == 200
    trail = server.call("GET", f"/api/audit?patient_id={locked}", token=coord).json["audit"]
    steps = [(e["action"], e["user"], e["field"], e["old"], e["new"], e["reason"]) for e in trail
             if e["action"] in ("lock", "unlock")]
    assert steps == [("lock", "coordinator", "locked", "no", "yes", "source verified"),
                     ("unlock", "coordinator", "locked", "yes", "no", "query answered")]


def test_study_lock_at_a_cutoff_refuses_every_change_and_the_export_states_it(server, demo_patients, centers):
    a, b = centers
    inv, coord = server.token(f"investigator_{a.lower()}"), server.token("coordinator")
    pid = _pids(demo_patients, a)[4]
    r = server.call("POST", "/api/lock", token=coord, body={"cutoff": "2025-07-31", "reason": "interim analysis"})
    assert (r.status, r.json["cutoff"], r.json["locked"]) == (200, "2025-07-31", True)
    try:
        expected = "the study is locked at the data cut-off 2025-07-31: no data can change until the coordinator unlocks it"
        r = server.call("PATCH", f"/api/patients/{pid}", token=inv, body={"ipi": "1", "reason": "late"})
        assert (r.status, r.json["error"]) == (409, expected)
        r = server.call("POST", "/api/patients", token=inv, body={"patient_id": "LOCKED-NEW-1"})
        assert (r.status, r.json["error"]) == (409, expected)
        # Another center's patient is still "no such patient", lock or not.
        other = _pids(demo_patients, b)[0]
        assert server.call("PATCH", f"/api/patients/{other}", token=inv, body={"ipi": "1"}).status == 404
        with zipfile.ZipFile(io.BytesIO(server.call("GET", "/api/export", token=coord).body)) as z:
            manifest = json.loads(z.read("manifest.json"))
        assert (manifest["cutoff_date"], manifest["locked"]) == ("2025-07-31", True)
    finally:
        # Back to the demo's cut-off, unlocked, for the other tests on this server.
        assert server.call("POST", "/api/lock", token=coord, body={"cutoff": "2025-06-30", "reason": "restore"}).status == 200
        assert server.call("POST", "/api/unlock", token=coord, body={"reason": "interim done"}).status == 200
    assert server.call("PATCH", f"/api/patients/{pid}", token=inv, body={"ipi": "1"}).status == 200
    assert server.call("GET", f"/api/patients/{pid}", token=inv).json["fields"]["ipi"] == "1"


def test_lock_requests_are_checked(server, demo_patients, centers):
    a, _ = centers
    coord = server.token("coordinator")
    pid = _pids(demo_patients, a)[0]
    cases = [({"patient_id": pid}, 400, "give a reason for the lock"),
             ({"cutoff": "31/07/2025", "reason": "x"}, 400, "cutoff must be a date as YYYY-MM-DD, got '31/07/2025'"),
             ({"patient_id": "NO-SUCH", "reason": "x"}, 404, "no such patient")]
    for body, status, message in cases:
        r = server.call("POST", "/api/lock", token=coord, body=body)
        assert (r.status, r.json["error"]) == (status, message), body
    for user in (f"investigator_{a.lower()}", "monitor", "statistician", "admin"):
        r = server.call("POST", "/api/lock", token=server.token(user), body={"reason": "x", "cutoff": "2025-01-01"})
        assert r.status == 403
    # Nothing above locked anything.
    with zipfile.ZipFile(io.BytesIO(server.call("GET", "/api/export", token=coord).body)) as z:
        manifest = json.loads(z.read("manifest.json"))
    assert (manifest["locked"], manifest["locked_patients"], manifest["cutoff_date"]) == (False, [], "2025-06-30")
