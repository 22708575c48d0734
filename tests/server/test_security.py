"""Security over the real interface: login throttling, session expiry, no patient data in the logs."""
from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from tests.server.conftest import SRC, Server, cli, start_server


def _small_server(tmp_path, env_extra=None) -> tuple[Server, object]:
    """A server holding one center's two patients, imported from a CSV folder (fast to build)."""
    folder = tmp_path / "centre"
    folder.mkdir()
    (folder / "patients.csv").write_text("patient_id,center,sex,ecog\nQX-7001,Leakville,F,1\nQX-7002,Leakville,M,0\n")
    db = f"sqlite:///{tmp_path / 'small.sqlite'}"
    cli("serve", "import", str(folder), "--db", db, "--center", "Leakville", cwd=tmp_path)
    pw = "Leak-test-passphrase-1"
    cli("serve", "adduser", "--db", db, "--username", "inv", "--password", pw, "--role", "investigator",
        "--center", "Leakville", cwd=tmp_path)
    log = tmp_path / "server.log"
    proc = start_server(db, tmp_path, log, env_extra=env_extra)
    return Server(proc.url, db, tmp_path / "small.sqlite", log, {"inv": pw}), proc


def test_api_login_is_throttled_over_http(server):
    for _ in range(5):
        assert server.call("POST", "/api/token", body={"username": "throttled", "password": "guess"}).status == 401
    right = server.call("POST", "/api/token", body={"username": "throttled", "password": server.passwords["throttled"]})
    assert right.status == 429 and right.json["error"].startswith("too many failed logins")
    # Another account is not locked by it.
    assert server.call("POST", "/api/token", body={"username": "coordinator",
                                                  "password": server.passwords["coordinator"]}).status == 200


def test_the_login_form_is_throttled_too(django_routes):
    """Django's login form (what the HTML login page uses) goes through the same throttle."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.forms import AuthenticationForm
    from django.core.management import call_command
    from django.test import RequestFactory

    call_command("migrate", verbosity=0)
    User = get_user_model()
    User.objects.create_user("formuser", password="Form-login-passphrase-1")
    User.objects.create_user("otheruser", password="Other-login-passphrase-1")

    def login(username, password, addr="10.0.0.1"):
        request = RequestFactory().post("/login", REMOTE_ADDR=addr)
        return AuthenticationForm(request, data={"username": username, "password": password}).is_valid()

    assert login("formuser", "Form-login-passphrase-1")
    for _ in range(5):
        assert not login("formuser", "wrong-guess")
    assert not login("formuser", "Form-login-passphrase-1")  # locked, even with the right password
    assert login("otheruser", "Other-login-passphrase-1")
    # One address guessing many names is stopped at 20 failures.
    for i in range(20):
        assert not login(f"nobody{i}", "wrong-guess", addr="10.0.0.2")
    assert not login("otheruser", "Other-login-passphrase-1", addr="10.0.0.2")
    assert login("otheruser", "Other-login-passphrase-1", addr="10.0.0.3")


def test_html_login_page_is_throttled_over_http(server, django_routes):
    route = next((p for n, p in django_routes.items() if n == "login"), None)
    if route is None:
        pytest.skip("no HTML login page (route named 'login') in this version")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(password):
        opener.open(f"{server.url}/{route}").read()
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        data = urllib.parse.urlencode({"username": "throttled_html", "password": password,
                                       "csrfmiddlewaretoken": csrf}).encode()
        try:
            opener.open(urllib.request.Request(f"{server.url}/{route}", data=data)).read()
        except urllib.error.HTTPError:
            pass
        return any(c.name == "sessionid" for c in jar)

    cli("serve", "adduser", "--db", server.db, "--username", "throttled_html", "--password", "Html-login-passphrase-1",
        "--role", "monitor", cwd=server.log.parent)
    for _ in range(5):
        assert not post("wrong-guess")
    assert not post("Html-login-passphrase-1")


def test_sessions_and_tokens_expire(tmp_path):
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "RWESTUDY_SECRET_KEY": "t",
           "RWESTUDY_SESSION_SECONDS": "2"}
    ages = subprocess.run([sys.executable, "-c", "from rwestudy.server.settings import configure; "
                           "configure('x.sqlite'); from django.conf import settings; "
                           "print(settings.SESSION_COOKIE_AGE, settings.SESSION_EXPIRE_AT_BROWSER_CLOSE)"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert ages.stdout.split() == ["2", "True"], ages.stderr
    srv, proc = _small_server(tmp_path, {"RWESTUDY_SESSION_SECONDS": "2"})
    try:
        tok = srv.token("inv")
        assert srv.call("GET", "/api/patients", token=tok).status == 200
        time.sleep(3.5)
        expired = srv.call("GET", "/api/patients", token=tok)
        assert expired.status == 401 and expired.json["error"].startswith("log in first")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_no_patient_data_in_the_server_logs(server):
    """Distinctive ids and values go through every kind of answer; none may reach a log."""
    tok = server.token("investigator_c10")
    secret_values = ["ZQLEAK-PID-4711", "ZQLEAKHISTO", "ZQLEAK-ALBUMIN", "ZQLEAK reason text", "ZQLEAKTERM"]
    pid, histo, albumin, reason, term = secret_values
    server.call("POST", "/api/patients", token=tok,
                body={"patient_id": pid, "histology": histo, "tables": {"adverse_events": [{"term": term}]}})
    server.call("PATCH", f"/api/patients/{pid}", token=tok, body={"albumin_g_dl": albumin})   # 422
    server.call("PATCH", f"/api/patients/{pid}", token=tok, body={"albumin_g_dl": albumin, "reason": reason})
    server.call("PATCH", f"/api/patients/{pid}", token=tok, body={"no_such": albumin})         # 400
    server.call("GET", f"/api/patients/{pid}-missing", token=tok)                              # 404
    server.call("GET", f"/api/patients/{pid}", token=server.token("viewer_c10"))
    server.call("GET", f"/api/patients/{pid}", token="forged")                                 # 401
    server.call("DELETE", f"/api/patients/{pid}", token=tok)                                   # 405
    server.call("GET", f"/api/audit?patient_id={pid}", token=tok)
    server.call("POST", "/api/lock", token=server.token("coordinator"), body={"patient_id": pid, "reason": reason})
    server.call("PATCH", f"/api/patients/{pid}", token=tok, body={"ecog": "1", "reason": reason})  # 409
    server.call("POST", "/api/unlock", token=server.token("coordinator"), body={"patient_id": pid, "reason": reason})
    server.call("POST", "/api/token", body={"username": pid, "password": albumin})                   # 401
    server.call("GET", f"/no-such-page/{pid}")                                                      # 404
    time.sleep(0.5)
    logs = [server.log] + [p for p in server.log.parent.rglob("*") if p.is_file() and re.search(r"log", p.name)]
    text = "\n".join(p.read_text(errors="replace") for p in set(logs))
    assert "rwestudy serve" in text  # the server's own output is there
    leaked = [v for v in secret_values + ["ZQLEAK"] if v in text]
    assert leaked == [], f"patient data in the server log: {leaked}"
