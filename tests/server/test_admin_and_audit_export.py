"""The study admin's users page, and the audit trail exported per center, over HTTP.

Expected values come from the demo generator (which patients are in which
center), from the database read behind the server's back, and from what the
test itself typed, never from the server's own code.
"""
from __future__ import annotations

import csv
import io
import urllib.parse

from tests.server.conftest import cli, db_handle
from tests.server.web import Web, logged_in

PASSWORD = "Nurse-station-passphrase-7"


def _token(server, username, password=PASSWORD):
    return server.call("POST", "/api/token", body={"username": username, "password": password})


def _patients(server, token) -> set[str]:
    r = server.call("GET", "/api/patients", token=token)
    assert r.status == 200, r.body
    return {p["patient_id"] for p in r.json["patients"]}


def test_admin_creates_changes_and_deactivates_a_user_every_step_audited(server, centers, demo_patients, tmp_path):
    a, b = centers
    name = f"nurse_{server.backend}"
    admin = logged_in(server, "admin")
    page = admin.get("/users/")
    assert page.status == 200 and "coordinator" in page.text and f"investigator_{a.lower()}" in page.text

    # Refused creations say why and create nothing.
    for form, words in [({"password": "short"}, "password too weak"),
                        ({"center": ""}, "belongs to one center"),
                        ({"role": "monitor"}, "works across centers"),
                        ({"username": "bad name!"}, "letters, digits")]:
        data = {"username": name, "password": PASSWORD, "role": "investigator", "center": a, **form}
        r = admin.post("/users/", data)
        assert r.status == 400 and words in r.text, (form, r.status, r.text[:300])
    assert _token(server, name).status == 401

    r = admin.post("/users/", {"username": name, "password": PASSWORD, "role": "investigator", "center": a})
    assert r.status == 302
    (pw_hash,), = server.query(f"select password from auth_user where username = '{name}'")
    assert pw_hash.startswith("argon2$")
    tok = _token(server, name).json["token"]
    assert _patients(server, tok) == {p for p, c in demo_patients.items() if c == a}
    pid_a = sorted(p for p, c in demo_patients.items() if c == a)[-3]  # a patient no other test edits
    assert server.call("PATCH", f"/api/patients/{pid_a}", token=tok,
                       body={"albumin_g_dl": "3.3", "reason": "admin test"}).status == 200

    # A change needs a reason; the admin cannot change their own account.
    r = admin.post(f"/users/{name}/", {"role": "viewer", "center": a, "active": "yes", "reason": ""})
    assert r.status == 400 and "reason" in r.text
    r = admin.post("/users/admin/", {"role": "monitor", "center": "", "active": "yes", "reason": "x"})
    assert r.status == 400 and "your own account" in r.text
    assert admin.post("/users/nobody-at-all/", {"role": "viewer", "center": a, "active": "yes",
                                                "reason": "x"}).status == 404

    r = admin.post(f"/users/{name}/", {"role": "viewer", "center": a, "active": "yes", "reason": "now reads only"})
    assert r.status == 302
    tok = _token(server, name).json["token"]
    assert server.call("PATCH", f"/api/patients/{pid_a}", token=tok,
                       body={"albumin_g_dl": "3.4", "reason": "admin test"}).status == 403
    r = admin.post(f"/users/{name}/", {"role": "viewer", "center": b, "active": "yes", "reason": "moved to B"})
    assert r.status == 302
    assert _patients(server, tok) == {p for p, c in demo_patients.items() if c == b}
    r = admin.post(f"/users/{name}/", {"role": "viewer", "center": b, "active": "no", "reason": "left the study"})
    assert r.status == 302
    assert server.call("GET", "/api/patients", token=tok).status == 401  # the token stops working
    assert _token(server, name).status == 401
    assert Web(server.url).post("/login/", {"username": name, "password": PASSWORD}).status == 200  # form again

    (uid,), = server.query(f"select id from auth_user where username = '{name}'")
    trail = server.query(f"select username, action, field, old, new, reason, patient_id, center from rwe_auditentry "
                         f"where \"table\" = 'users' and record_id = {uid} order by id")
    assert [(t[0], t[1], t[2], t[3], t[4]) for t in trail] == [
        ("admin", "user", "account", None,
         f'{{"center": "{a}", "role": "investigator", "username": "{name}"}}'),
        ("admin", "user", "role", "investigator", "viewer"),
        ("admin", "user", "center", a, b),
        ("admin", "user", "active", "yes", "no")]
    assert [t[5] for t in trail[1:]] == ["now reads only", "moved to B", "left the study"]
    assert all(t[6] == "" and t[7] == "" for t in trail)  # no patient, no center: not in a center's export
    assert not server.query(f"select id from rwe_auditentry where old like '%{PASSWORD}%' "
                            f"or new like '%{PASSWORD}%' or reason like '%{PASSWORD}%'")
    copy = db_handle(server, tmp_path / "copy.sqlite")
    assert cli("audit", "verify", "--db", copy.url, check=False, cwd=tmp_path).returncode == 0


def _csv(body: bytes) -> list[dict]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_audit_trail_export_per_center(server, centers, demo_patients):
    a, b = centers
    inv_a, viewer_a = f"investigator_{a.lower()}", f"viewer_{a.lower()}"
    pid_a = sorted(p for p, c in demo_patients.items() if c == a)[-4]  # a patient no other test edits
    nasty = "=cmd|' /C calc'!A0 <script>alert(1)</script>"
    r = server.call("PATCH", f"/api/patients/{pid_a}", token=server.token(inv_a),
                    body={"albumin_g_dl": "3.7", "reason": nasty})
    assert r.status == 200, r.body

    for user in (inv_a, viewer_a):
        for query in ("", f"?center={a}"):
            r = server.call("GET", f"/api/audit/export{query}", token=server.token(user))
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
            rows = _csv(r.body)
            (n,), = server.query(f"select count(*) from rwe_auditentry where center = '{a}'")
            assert len(rows) == n and {row["center"] for row in rows} == {a}
            assert {row["patient_id"] for row in rows} <= {p for p, c in demo_patients.items() if c == a}
            mine = [row for row in rows if row["patient_id"] == pid_a and row["field"] == "albumin_g_dl"]
            assert mine and mine[-1]["reason"] == "'" + nasty and mine[-1]["new"] == "3.7"  # text, not a formula
        # Another center: not found, and nothing of it in the answer.
        r = server.call("GET", f"/api/audit/export?center={b}", token=server.token(user))
        assert r.status == 404
        assert not any(p in r.body.decode() for p, c in demo_patients.items() if c == b)
        assert b not in r.body.decode()
        assert server.call("GET", "/api/audit/export?center=Nowhere", token=server.token(user)).status == 404

    for user in ("coordinator", "monitor"):
        r = server.call("GET", f"/api/audit/export?center={b}", token=server.token(user))
        rows = _csv(r.body)
        assert r.status == 200 and rows and {row["center"] for row in rows} == {b}
        assert {row["patient_id"] for row in rows} == {p for p, c in demo_patients.items() if c == b}
        assert server.call("GET", "/api/audit/export", token=server.token(user)).status == 404  # which center?
    for user in ("statistician", "admin"):
        assert server.call("GET", f"/api/audit/export?center={a}", token=server.token(user)).status == 403

    # The page's button: the same CSV, under the same rules.
    page = logged_in(server, "coordinator").get("/")
    assert all(f'href="/audit/export?center={urllib.parse.quote(c)}"' in page.text for c in (a, b))
    r = logged_in(server, "coordinator").get(f"/audit/export?center={b}")
    assert r.status == 200 and {row["center"] for row in _csv(r.body)} == {b}
    r = logged_in(server, inv_a).get(f"/audit/export?center={b}")
    assert r.status == 404 and not any(p in r.text for p, c in demo_patients.items() if c == b)
    r = logged_in(server, inv_a).get("/audit/export")
    assert r.status == 200 and {row["center"] for row in _csv(r.body)} == {a}
