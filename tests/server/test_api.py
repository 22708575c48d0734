"""The JSON API over real HTTP: tokens, center isolation, reasons for change, findings (throttling: test_security)."""
from __future__ import annotations

import re

from rwestudy.demo.generator import make_study


def _first(demo_patients, center):
    return sorted(p for p, c in demo_patients.items() if c == center)[0]


def test_token_is_required_and_checked(server):
    assert server.call("GET", "/api/patients").status == 401
    assert server.call("GET", "/api/patients", token="not-a-token").status == 401
    bad = server.call("POST", "/api/token", body={"username": "coordinator", "password": "wrong-password"})
    assert bad.status == 401 and "token" not in bad.json
    assert server.call("GET", "/api/patients", token=server.token("coordinator")).status == 200


def test_a_center_lists_exactly_its_own_patients(server, demo_patients, centers):
    A, B = centers
    listed = server.call("GET", "/api/patients", token=server.token(f"investigator_{A.lower()}")).json["patients"]
    expected = {p for p, c in demo_patients.items() if c == A}
    assert {p["patient_id"] for p in listed} >= expected and expected
    assert {p["center"] for p in listed} == {A}
    everyone = server.call("GET", "/api/patients", token=server.token("coordinator")).json["patients"]
    assert {p["patient_id"] for p in everyone} >= set(demo_patients)


def test_another_centers_patient_looks_like_no_patient(server, demo_patients, centers):
    A, B = centers
    tok = server.token(f"investigator_{A.lower()}")
    other = _first(demo_patients, B)
    missing = server.call("GET", "/api/patients/NO-SUCH-PATIENT", token=tok)
    for method, path, body in [("GET", f"/api/patients/{other}", None),
                               ("PATCH", f"/api/patients/{other}", {"ipi": "2", "reason": "x"}),
                               ("GET", f"/api/audit?patient_id={other}", None)]:
        r = server.call(method, path, token=tok, body=body)
        assert (r.status, r.body) == (missing.status, missing.body) == (404, b'{"error": "no such patient"}')
    assert server.call("GET", "/api/export", token=tok).status == 403
    # The other center's data is untouched.
    seen = server.call("GET", f"/api/patients/{other}", token=server.token(f"investigator_{B.lower()}")).json
    assert seen["fields"]["ipi"] is None


def test_patient_fields_are_the_demo_values(server, demo_patients, centers):
    A, B = centers
    pid = _first(demo_patients, A)
    got = server.call("GET", f"/api/patients/{pid}", token=server.token(f"viewer_{A.lower()}")).json
    row = make_study()["patients"].set_index("patient_id").loc[pid]
    assert got["center"] == A
    assert got["fields"]["sex"] == row["sex"]
    assert got["fields"]["ecog"] == str(row["ecog"])
    assert got["fields"]["treatment_start_date"] == f"{row['treatment_start_date']:%Y-%m-%d}"


def test_reason_rules_findings_and_audit(server, demo_patients, centers):
    A, B = centers
    tok = server.token(f"investigator_{A.lower()}")
    pid = sorted(p for p, c in demo_patients.items() if c == A)[1]
    before = server.call("GET", f"/api/patients/{pid}", token=tok).json["fields"]
    assert before["ipi"] is None  # the demo generator does not fill IPI
    # A first value for an empty field needs no reason.
    r = server.call("PATCH", f"/api/patients/{pid}", token=tok, body={"ipi": "3"})
    assert r.status == 200 and r.json["changed"] == ["ipi"]
    # Changing a saved value does.
    r = server.call("PATCH", f"/api/patients/{pid}", token=tok, body={"ipi": "2"})
    assert r.status == 422 and r.json["reason_required_for"] == ["ipi"]
    # An out-of-range value is refused without a reason, with the contract's own message ...
    r = server.call("PATCH", f"/api/patients/{pid}", token=tok, body={"ecog": "7"})
    assert r.status == 422
    assert {(f["rule"], f["field"], f["message"]) for f in r.json["findings"]} >= {
        ("range", "ecog", "'ecog' must be between 0 and 5")}
    assert server.call("GET", f"/api/patients/{pid}", token=tok).json["fields"]["ecog"] == before["ecog"]
    # ... kept with a reason, and stays an open finding.
    r = server.call("PATCH", f"/api/patients/{pid}", token=tok, body={"ecog": "7", "reason": "as in the source"})
    assert r.status == 200
    now = server.call("GET", f"/api/patients/{pid}", token=tok).json
    assert now["fields"]["ecog"] == "7"
    assert any(f["rule"] == "range" and f["field"] == "ecog" for f in now["findings"])
    trail = server.call("GET", f"/api/audit?patient_id={pid}", token=tok).json["audit"]
    changes = [(a["user"], a["field"], a["old"], a["new"], a["reason"]) for a in trail if a["action"] == "update"]
    assert changes == [(f"investigator_{A.lower()}", "ipi", None, "3", ""),
                       (f"investigator_{A.lower()}", "ecog", before["ecog"], "7", "as in the source")]
    assert trail[0]["action"] == "import" and trail[0]["at"].endswith("+00:00")


def test_date_order_is_checked_on_save(server, demo_patients, centers):
    A, B = centers
    tok = server.token(f"investigator_{A.lower()}")
    pid = sorted(p for p, c in demo_patients.items() if c == A)[-1]
    start = server.call("GET", f"/api/patients/{pid}", token=tok).json["fields"]["treatment_start_date"]
    r = server.call("PATCH", f"/api/patients/{pid}", token=tok, body={"treatment_end_date": "2000-01-01"})
    assert r.status == 422
    msgs = [f["message"] for f in r.json["findings"] if f["rule"] == "date-order"]
    assert f"treatment_start_date ({start}) is after treatment_end_date (2000-01-01): " \
           "treatment cannot end before it starts" in msgs


def test_new_patient_goes_to_the_users_center(server, centers):
    A, B = centers
    tok = server.token(f"investigator_{B.lower()}")
    r = server.call("POST", "/api/patients", token=tok,
                    body={"patient_id": "NEW-001", "center": A, "sex": "F", "ecog": "1"})
    assert r.status == 201 and r.json["center"] == B
    assert server.call("GET", "/api/patients/NEW-001", token=server.token(f"investigator_{A.lower()}")).status == 404
    got = server.call("GET", "/api/patients/NEW-001", token=tok).json
    assert (got["center"], got["fields"]["sex"], got["fields"]["ecog"]) == (B, "F", "1")
    assert server.call("POST", "/api/patients", token=tok, body={"patient_id": "NEW-001"}).status == 409
    assert server.call("POST", "/api/patients", token=server.token(f"viewer_{A.lower()}"),
                       body={"patient_id": "NEW-002"}).status == 403


def test_bad_requests_are_sentences(server, demo_patients, centers):
    A, B = centers
    tok = server.token(f"investigator_{A.lower()}")
    pid = _first(demo_patients, A)
    r = server.call("PATCH", f"/api/patients/{pid}", token=tok, body={"no_such_field": "1"})
    assert r.status == 400 and "no_such_field" in r.json["error"]
    r = server.call("PATCH", f"/api/patients/{pid}", token=tok, body={"center": B, "reason": "move"})
    assert r.status == 400
    r = server.call("PATCH", f"/api/patients/{pid}", token=tok, body={"ecog": {"nested": 1}})
    assert r.status == 400


def test_openapi_documents_every_route(server, django_routes):
    doc = server.call("GET", "/api/schema").json
    assert doc["openapi"].startswith("3.")
    documented = {p.strip("/") for p in doc["paths"]}
    # The API's routes (the pages are HTML, not part of the API); path parameters as OpenAPI writes them.
    routes = {re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", re.sub(r"<\w+:(\w+)>", r"{\1}", pattern)).strip("^$")
              for name, pattern in django_routes.items() if name.startswith("api-")}
    assert routes == documented
    # Fields come from the contract.
    from rwestudy.io.schema import TABLES
    assert set(doc["components"]["schemas"]["PatientFields"]["properties"]) == \
        {c.name for c in TABLES["patients"].columns} - {"patient_id", "center"}


def test_no_patient_ids_in_the_server_log(server, demo_patients, centers):
    A, B = centers
    pid = sorted(p for p, c in demo_patients.items() if c not in (A, B))[0]
    server.call("GET", f"/api/patients/{pid}", token=server.token(f"investigator_{A.lower()}"))
    server.call("GET", "/api/patients/RW-999", token=server.token("coordinator"))
    server.call("PATCH", f"/api/patients/{pid}", token=server.token("monitor"), body={"ipi": "1"})
    log = server.log.read_text()
    assert "rwestudy serve" in log  # the log is the server's
    assert pid not in log and "RW-" not in log


def test_a_new_patient_with_its_rows_is_saved_whole_or_not_at_all(server, centers):
    A, B = centers
    tok = server.token(f"investigator_{A.lower()}")
    aes = [{"term": "Neutrophil count decreased", "grade": "3", "onset_date": "2024-02-01"},
           {"term": "Fatigue", "grade": "1"}]
    # One bad row (a field the table does not have): nothing is saved, not even the patient.
    bad = {"patient_id": "ROWS-001", "sex": "M",
           "tables": {"adverse_events": aes + [{"term": "Nausea", "colour": "red"}]}}
    r = server.call("POST", "/api/patients", token=tok, body=bad)
    assert r.status == 400 and r.json["error"].startswith("adverse_events row 3: ") and "colour" in r.json["error"]
    assert server.call("GET", "/api/patients/ROWS-001", token=tok).status == 404
    r = server.call("POST", "/api/patients", token=tok,
                    body={"patient_id": "ROWS-001", "sex": "M", "treatment_start_date": "2024-01-15",
                          "tables": {"adverse_events": aes, "prior_lines": [{"line": 1, "regimen": "R-CHOP"}]}})
    assert r.status == 201, r.body
    got = server.call("GET", "/api/patients/ROWS-001", token=tok).json
    assert [(e["term"], e.get("grade"), e.get("onset_date")) for e in got["tables"]["adverse_events"]] == [
        ("Neutrophil count decreased", "3", "2024-02-01"), ("Fatigue", "1", None)]
    assert [(t["line"], t["regimen"]) for t in got["tables"]["prior_lines"]] == [("1", "R-CHOP")]
    trail = server.call("GET", "/api/audit?patient_id=ROWS-001", token=tok).json["audit"]
    assert [(e["action"], e["table"]) for e in trail] == [
        ("create", "patients"), ("create", "adverse_events"), ("create", "adverse_events"), ("create", "prior_lines")]
    r = server.call("POST", "/api/patients", token=tok, body={"patient_id": "ROWS-002", "tables": {"patients": []}})
    assert r.status == 400 and r.json["error"] == "not tables of a patient: patients"
