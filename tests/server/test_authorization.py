"""Authorization matrix: every route x every role x own/other center x read/write, over HTTP.

The routes come from Django's URL resolver, so a new route without a rule
here fails `test_every_route_has_a_rule`. The expected answers are written
out by hand from the roles table of issue 13, not derived from the server's
permission code.
"""
from __future__ import annotations

import io
import urllib.parse
import zipfile

from tests.server.web import Web, logged_in

ROLES = ("investigator", "viewer", "coordinator", "monitor", "statistician", "admin")
ALL_CENTERS = {"coordinator", "monitor"}  # read every center's patients

# route name -> op -> function(role, target) -> expected HTTP status.
# target is "own" (a patient of the user's center, for center roles) or "other".
def _patient_read(role, target):
    if role in ("investigator", "viewer"):
        return 200 if target == "own" else 404
    return 200 if role in ALL_CENTERS else 404  # statistician, admin: no patient data


def _patient_write(role, target):
    if role == "investigator":
        return 200 if target == "own" else 404
    if role == "viewer":
        return 403 if target == "own" else 404
    return 403 if role in ALL_CENTERS else 404


def _query_open(role, target, ok):
    """Coordinator and monitor raise queries on any center's patient; nobody else, and a
    center user asking about another center's patient is told it does not exist."""
    if role in ALL_CENTERS:
        return ok
    if role in ("investigator", "viewer"):
        return 403 if target == "own" else 404
    return 404


def _query_answer(role, target, ok):
    """The center's investigator answers; a query on another center's patient does not exist for them."""
    if role == "investigator":
        return ok if target == "own" else 404
    if role == "viewer":
        return 403 if target == "own" else 404
    return 403 if role in ALL_CENTERS else 404


RULES = {
    # A POST to a non-API page meets Django's CSRF check first: 403 before 405.
    "api-schema": {"read": lambda role, t: 200, "write": lambda role, t: 403},
    "api-token": {"read": lambda role, t: 405, "write": lambda role, t: 200},
    "api-patients": {"read": lambda role, t: 200, "write": lambda role, t: 201 if role == "investigator" else 403},
    "api-patient": {"read": _patient_read, "write": _patient_write},
    "api-audit": {"read": _patient_read, "write": lambda role, t: 405},
    "api-export": {"read": lambda role, t: 200 if role in ("coordinator", "statistician") else 403,
                   "write": lambda role, t: 405},
    # Only the coordinator locks; a patient of any center, as it sees them all.
    "api-lock": {"read": lambda role, t: 405, "write": lambda role, t: 200 if role == "coordinator" else 403},
    "api-unlock": {"read": lambda role, t: 405, "write": lambda role, t: 200 if role == "coordinator" else 403},
    "api-queries": {"read": lambda role, t: 200, "write": lambda role, t: _query_open(role, t, 201)},
    "api-query-step": {"read": lambda role, t: 405, "write": lambda role, t: _query_answer(role, t, 200)},
    # The pages. A refused page is 403 (role) or 404 (not your patient), as in the API; a
    # successful form post answers 302 (to the page that shows the result).
    "login": {"read": lambda role, t: 200, "write": lambda role, t: 302},
    "logout": {"read": lambda role, t: 405, "write": lambda role, t: 302},
    "dashboard": {"read": lambda role, t: 200, "write": lambda role, t: 405},
    "patient-list": {"read": lambda role, t: 200, "write": lambda role, t: 405},
    "patient-new": {"read": lambda role, t: 200 if role == "investigator" else 403,
                    "write": lambda role, t: 302 if role == "investigator" else 403},
    "patient-page": {"read": _patient_read, "write": lambda role, t: 405},
    "patient-save": {"read": lambda role, t: 405,
                     "write": lambda role, t: 302 if _patient_write(role, t) == 200 else _patient_write(role, t)},
    "patient-audit": {"read": _patient_read, "write": lambda role, t: 405},
    "query-list": {"read": lambda role, t: 200, "write": lambda role, t: 405},
    "query-open": {"read": lambda role, t: 405, "write": lambda role, t: _query_open(role, t, 302)},
    "query-page": {"read": _patient_read, "write": lambda role, t: 405},
    "query-step": {"read": lambda role, t: 405, "write": lambda role, t: _query_answer(role, t, 302)},
    "export": {"read": lambda role, t: 200 if role in ("coordinator", "statistician") else 403,
               "write": lambda role, t: 405},
    # The audit trail per center: a center user only its own (another center does not exist for
    # it), the coordinator and monitors any center; statistician and admin none.
    "api-audit-export": {"read": lambda role, t: _audit_export(role, t), "write": lambda role, t: 405},
    "audit-export": {"read": lambda role, t: _audit_export(role, t), "write": lambda role, t: 405},
    # Users and roles: the study admin only.
    "user-list": {"read": lambda role, t: 200 if role == "admin" else 403,
                  "write": lambda role, t: 302 if role == "admin" else 403},
    "user-change": {"read": lambda role, t: 405, "write": lambda role, t: 302 if role == "admin" else 403},
}


def _audit_export(role, target):
    if role in ("investigator", "viewer"):
        return 200 if target == "own" else 404
    return 200 if role in ALL_CENTERS else 403


def test_every_route_has_a_rule(django_routes):
    assert set(django_routes) == set(RULES), "a route without an authorization rule (or a rule without a route)"


def _request(server, route, op, role, user, target_pid, target_center, n):
    tok = server.token(user)
    if route == "api-schema":
        return server.call("GET" if op == "read" else "POST", "/api/schema", body=None if op == "read" else {})
    if route == "api-token":
        body = {"username": user, "password": server.passwords[user]}
        return server.call("GET" if op == "read" else "POST", "/api/token", body=None if op == "read" else body)
    if route == "api-patients":
        if op == "read":
            return server.call("GET", "/api/patients", token=tok)
        return server.call("POST", "/api/patients", token=tok,
                           body={"patient_id": f"MX-{role}-{n}", "center": target_center})
    if route == "api-patient":
        if op == "read":
            return server.call("GET", f"/api/patients/{target_pid}", token=tok)
        return server.call("PATCH", f"/api/patients/{target_pid}", token=tok,
                           body={"albumin_g_dl": f"3.{n}", "reason": "authorization matrix"})
    if route == "api-audit":
        return server.call("GET" if op == "read" else "POST", f"/api/audit?patient_id={target_pid}", token=tok,
                           body=None if op == "read" else {})
    if route == "api-export":
        return server.call("GET" if op == "read" else "POST", "/api/export", token=tok,
                           body=None if op == "read" else {})
    if route in ("api-lock", "api-unlock"):
        if op == "read":
            return server.call("GET", f"/{route.replace('-', '/')}", token=tok)
        coordinator = server.token("coordinator")
        lock_body = {"patient_id": target_pid, "reason": "authorization matrix"}
        if route == "api-unlock":  # something to unlock
            assert server.call("POST", "/api/lock", token=coordinator, body=lock_body).status == 200
        r = server.call("POST", f"/{route.replace('-', '/')}", token=tok, body=lock_body)
        # Leave the patient unlocked for the rest of the matrix.
        assert server.call("POST", "/api/unlock", token=coordinator, body=lock_body).status == 200
        return r
    if route == "api-audit-export":
        return server.call("GET" if op == "read" else "POST", f"/api/audit/export?center={target_center}",
                           token=tok, body=None if op == "read" else {})
    if route.startswith("api-quer"):
        return _api_query_request(server, route, op, tok, target_pid, n)
    return _page_request(server, route, op, user, target_pid, n, target_center)


def _api_query_request(server, route, op, tok, target_pid, n):
    if route == "api-queries":
        if op == "read":
            return server.call("GET", "/api/queries", token=tok)
        return server.call("POST", "/api/queries", token=tok,
                           body={"patient_id": target_pid, "field": "ldh", "text": f"matrix {n}"})
    qid = server.__dict__["_matrix_queries"][target_pid]
    if op == "read":
        return server.call("GET", f"/api/queries/{qid}/answer", token=tok)
    return server.call("POST", f"/api/queries/{qid}/answer", token=tok, body={"text": f"matrix {n}"})


def _page_request(server, route, op, user, target_pid, n, target_center=""):
    """A page as a browser asks for it: GET to read, a form POST (with its CSRF token) to write."""
    if route in ("login", "logout"):  # a session of its own: the cached one stays logged in
        web = Web(server.url) if route == "login" else Web(server.url).login(user, server.passwords[user])
    else:
        web = logged_in(server, user)
    qid = server.__dict__["_matrix_queries"][target_pid]
    path, form = {
        "login": ("/login/", {"username": user, "password": server.passwords[user]}),
        "logout": ("/logout/", {}),
        "dashboard": ("/", {}),
        "patient-list": ("/patients/", {}),
        "patient-new": ("/patients/new", {"patient_id": f"MXP-{n}"}),
        "patient-page": (f"/patients/{target_pid}/", {}),
        "patient-save": (f"/patients/{target_pid}/save",
                         {"table": "patients", "record": str(server.__dict__["_matrix_records"][target_pid]),
                          f"patients-{server.__dict__['_matrix_records'][target_pid]}-albumin_g_dl": f"3.{n}",
                          "reason": "authorization matrix"}),
        "patient-audit": (f"/patients/{target_pid}/audit", {}),
        "query-list": ("/queries/", {}),
        "query-open": ("/queries/open", {"patient_id": target_pid, "table": "patients", "field": "ldh",
                                         "text": f"matrix {n}"}),
        "query-page": (f"/queries/{qid}/", {}),
        "query-step": (f"/queries/{qid}/answer", {"text": f"matrix {n}"}),
        "export": ("/export", {}),
        "audit-export": (f"/audit/export?center={urllib.parse.quote(target_center)}", {}),
        "user-list": ("/users/", {"username": f"mx_user_{n}", "password": "Matrix-user-passphrase-3",
                                  "role": "monitor", "center": ""}),
        # Moves the matrix's own target user between two roles (nothing else depends on it).
        "user-change": ("/users/mx_target/", {"role": "monitor" if n % 2 else "coordinator", "center": "",
                                              "active": "yes", "reason": f"matrix {n}"}),
    }[route]
    return web.get(path) if op == "read" else web.post(path, form)


def _user(server, role, centers):
    a, _ = centers
    name = {"investigator": f"investigator_{a.lower()}", "viewer": f"viewer_{a.lower()}"}.get(role, role)
    assert name in server.passwords
    return name


def test_authorization_matrix(server, centers, demo_patients, capsys):
    a, b = centers
    own = sorted(p for p, c in demo_patients.items() if c == a)[0]
    other = sorted(p for p, c in demo_patients.items() if c == b)[0]
    _matrix_fixtures(server, own, other)
    rows, wrong, leaks, n = [], [], 0, 0
    for route in sorted(RULES):
        for op in ("read", "write"):
            for role in ROLES:
                user = _user(server, role, centers)
                for target, pid, center in (("own", own, a), ("other", other, b)):
                    n += 1
                    r = _request(server, route, op, role, user, pid, center, n)
                    expected = RULES[route][op](role, target)
                    rows.append((route, op, role, target, expected, r.status))
                    if r.status != expected:
                        wrong.append(rows[-1])
                    if role in ("investigator", "viewer") and target == "other":
                        leaks += _leak(r, other, b)
    with capsys.disabled():
        print(f"\n{'route':<15} {'op':<6} {'role':<13} {'center':<6} expected got")
        for row in rows:
            print(f"{row[0]:<15} {row[1]:<6} {row[2]:<13} {row[3]:<6} {row[4]:<8} {row[5]}"
                  + ("  <-- WRONG" if row in wrong else ""))
        print(f"cross-center reads or writes: {leaks}")
    assert not wrong
    assert leaks == 0


def _matrix_fixtures(server, *patient_ids):
    """A query on each target patient (opened by the coordinator) and the id of its patients row."""
    tok = server.token("coordinator")
    server.__dict__["_matrix_queries"], server.__dict__["_matrix_records"] = {}, {}
    for pid in patient_ids:
        r = server.call("POST", "/api/queries", token=tok, body={"patient_id": pid, "field": "ecog",
                                                                 "text": "matrix fixture"})
        assert r.status == 201, r.body
        server.__dict__["_matrix_queries"][pid] = r.json["id"]
        server.__dict__["_matrix_records"][pid] = r.json["record_id"]
    if "_matrix_target" not in server.__dict__:  # the user that "user-change" changes
        r = logged_in(server, "admin").post("/users/", {"username": "mx_target", "password": "Matrix-target-pass-5",
                                                         "role": "monitor", "center": ""})
        assert r.status == 302, r.text[:500]
        server.__dict__["_matrix_target"] = True


def _leak(reply, other_pid, other_center) -> int:
    """1 when a center user's reply shows another center's patient or center."""
    if reply.status >= 400:
        return 0
    if reply.headers.get("Content-Type") == "application/zip":
        return 1
    text = reply.body.decode("utf-8", "replace")
    return int(other_pid in text or f'"center": "{other_center}"' in text or f">{other_center}<" in text)


def test_export_of_coordinator_holds_all_centers_and_is_refused_to_center_users(server, centers, demo_patients):
    a, _ = centers
    r = server.call("GET", "/api/export", token=server.token("statistician"))
    with zipfile.ZipFile(io.BytesIO(r.body)) as z:
        text = z.read("patients.csv").decode()
    assert set(demo_patients) <= {line.split(",")[0] for line in text.splitlines()[1:]}
    for user in (f"investigator_{a.lower()}", f"viewer_{a.lower()}", "monitor", "admin"):
        assert server.call("GET", "/api/export", token=server.token(user)).status == 403
