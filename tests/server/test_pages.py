"""The pages over real HTTP: login, CSRF, escaping, entering data with findings and reasons, the audit trail."""
from __future__ import annotations

import html
import re

import pytest

from tests.server.web import Web, logged_in, record_id

PAGE_ROUTES_WITHOUT_LOGIN = {"login"}  # every other page sends an anonymous visitor to the login page


def _sample_path(pattern: str) -> str:
    return "/" + re.sub(r"<(?:str|int):(\w+)>", lambda m: {"query_id": "1", "action": "answer"}.get(m[1], "RW-001"),
                        pattern)


def _pages(django_routes):
    return {n: p for n, p in django_routes.items() if not n.startswith("api-")}


def test_every_page_but_login_needs_a_login(server, django_routes):
    anonymous = Web(server.url)
    pages = _pages(django_routes)
    assert {"dashboard", "patient-page", "patient-audit", "query-page", "export"} <= set(pages)
    for name, pattern in pages.items():
        if name in PAGE_ROUTES_WITHOUT_LOGIN or name == "logout":
            continue
        r = anonymous.get(_sample_path(pattern))
        if r.status == 405:  # a POST-only page: ask it the way a form would
            r = anonymous.post(_sample_path(pattern), {})
        assert r.status == 302 and r.location.startswith("/login/?next="), (name, r.status, r.location)
    assert anonymous.get("/login/").status == 200


def test_every_post_without_the_csrf_token_is_refused(server, django_routes, centers, demo_patients):
    a, _ = centers
    pid = sorted(p for p, c in demo_patients.items() if c == a)[0]
    web = logged_in(server, f"investigator_{a.lower()}")
    for name, pattern in _pages(django_routes).items():
        path = _sample_path(pattern).replace("RW-001", pid)
        r = web.post(path, {"table": "patients", "record": "new", "patient_id": "CSRF-1"}, csrf=False)
        assert r.status == 403, (name, r.status)
        assert "CSRF" in r.text
    # The same post with the token is not refused by the CSRF check: it reaches the page.
    r = web.post("/patients/new", {"patient_id": "CSRF-1"})
    assert r.status == 302 and r.location == "/patients/CSRF-1/"


def test_wrong_password_on_the_login_page_is_refused_in_words(server):
    r = Web(server.url).post("/login/", {"username": "coordinator", "password": "not-the-password"})
    assert r.status == 200 and "correct username and password" in r.text and "sessionid" not in str(r.headers)


def test_login_page_failures_are_throttled_with_the_api_counters(server, tmp_path):
    from tests.server.conftest import cli

    password = "Quiet-harbour-48"
    cli("serve", "adduser", "--db", server.db, "--username", "pagethrottle", "--password", password,
        "--role", "monitor", cwd=tmp_path)
    assert Web(server.url).login("pagethrottle", password)
    for _ in range(5):
        assert Web(server.url).post("/login/", {"username": "pagethrottle", "password": "guess"}).status == 200
    # Now even the right password is refused, on the page and at the API.
    r = Web(server.url).post("/login/", {"username": "pagethrottle", "password": password})
    assert r.status == 200 and "Too many failed logins" in r.text
    api = server.call("POST", "/api/token", body={"username": "pagethrottle", "password": password})
    assert api.status == 429


def _new_patient(web: Web, pid: str) -> int:
    assert web.post("/patients/new", {"patient_id": pid}).status == 302
    page = web.get(f"/patients/{pid}/")
    assert page.status == 200
    return record_id(page.text, "patients")


def _field_box(text: str, prefix: str, field: str) -> str:
    """The HTML of one field's box (widget, help, findings, queries) on a patient page."""
    m = re.search(rf'<form [^>]*id="{prefix}".*?</form>', text, flags=re.S)
    assert m, f"no form {prefix}"
    form = m.group(0)
    start = form.find(f'data-field="{field}"')
    assert start >= 0, f"no field {field} in {prefix}"
    ends = [i for i in (form.find('data-field="', start + 1), form.find("</fieldset>", start)) if i >= 0]
    return form[start:min(ends)]


def test_a_wrong_date_order_is_shown_at_the_field_and_needs_a_reason(server, centers):
    a, _ = centers
    web = logged_in(server, f"investigator_{a.lower()}")
    rid = _new_patient(web, "PG-DATES")
    p = f"patients-{rid}"
    bad = {"table": "patients", "record": str(rid), f"{p}-treatment_start_date": "2024-03-01",
           f"{p}-progression_date": "2024-01-15"}
    # Without a reason: not saved, the page comes back with the message beside the field.
    r = web.post("/patients/PG-DATES/save", bad)
    assert r.status == 422
    box = _field_box(r.text, p, "progression_date")
    assert 'class="finding error"' in box and "2024-03-01" in box and "2024-01-15" in box
    assert "give a reason" in r.text
    assert 'value="2024-01-15"' in box  # what was typed is kept in the form
    saved = web.get("/patients/PG-DATES/")
    assert 'value="2024-01-15"' not in _field_box(saved.text, p, "progression_date")
    # With a reason: saved, and the finding stays open.
    r = web.post("/patients/PG-DATES/save", {**bad, "reason": "as in the chart; being checked"})
    assert r.status == 302 and r.location == f"/patients/PG-DATES/#{p}"
    page = web.get("/patients/PG-DATES/").text
    box = _field_box(page, p, "progression_date")
    assert 'value="2024-01-15"' in box and 'class="finding error"' in box
    # Fixing it changes a saved value: a reason again; then the finding is gone.
    fix = {**bad, f"{p}-progression_date": "2024-06-20"}
    assert web.post("/patients/PG-DATES/save", fix).status == 422
    assert web.post("/patients/PG-DATES/save", {**fix, "reason": "typo in the year of the scan"}).status == 302
    box = _field_box(web.get("/patients/PG-DATES/").text, p, "progression_date")
    assert 'value="2024-06-20"' in box and "finding error" not in box
    # The audit trail page: each change with user, field, old, new and reason.
    trail = web.get("/patients/PG-DATES/audit").text
    rows = [[html.unescape(re.sub("<[^>]+>", "", c)).strip() for c in re.findall(r"<td>(.*?)</td>", tr, flags=re.S)]
            for tr in re.findall(r"<tr><td>\d+</td>.*?</tr>", trail, flags=re.S)]
    user = f"investigator_{a.lower()}"
    # columns: #, time, user, action, table, row, field, old, new, reason
    got = [(r[2], r[3], r[6], r[7], r[8], r[9]) for r in rows]
    assert got == [
        (user, "create", "*", "", "{}", ""),
        (user, "update", "progression_date", "", "2024-01-15", "as in the chart; being checked"),
        (user, "update", "treatment_start_date", "", "2024-03-01", "as in the chart; being checked"),
        (user, "update", "progression_date", "2024-01-15", "2024-06-20", "typo in the year of the scan"),
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r[1]) for r in rows)


def test_rows_of_a_multi_row_table_are_added_changed_and_deleted(server, centers):
    a, _ = centers
    web = logged_in(server, f"investigator_{a.lower()}")
    _new_patient(web, "PG-ROWS")
    new = {"table": "adverse_events", "record": "new", "adverse_events-new-term": "Neutrophil count decreased",
           "adverse_events-new-grade": "3", "adverse_events-new-onset_date": "2024-02-01"}
    assert web.post("/patients/PG-ROWS/save", new).status == 302
    page = web.get("/patients/PG-ROWS/").text
    ae = record_id(page, "adverse_events")
    assert 'value="Neutrophil count decreased"' in _field_box(page, f"adverse_events-{ae}", "term")
    assert 'list="ctcae-terms"' in page and '<option value="Neutrophil count decreased">' in page
    # A grade outside 1-5 is an error: a reason keeps it.
    change = {"table": "adverse_events", "record": str(ae), f"adverse_events-{ae}-grade": "7"}
    r = web.post("/patients/PG-ROWS/save", change)
    assert r.status == 422 and 'class="finding error"' in _field_box(r.text, f"adverse_events-{ae}", "grade")
    assert web.post("/patients/PG-ROWS/save", {**change, "reason": "grade as reported"}).status == 302
    # Deleting needs a reason too, and the row is then gone.
    delete = {"table": "adverse_events", "record": str(ae), "action": "delete"}
    assert web.post("/patients/PG-ROWS/save", delete).status == 422
    assert web.post("/patients/PG-ROWS/save", {**delete, "reason": "entered twice"}).status == 302
    assert f'id="adverse_events-{ae}"' not in web.get("/patients/PG-ROWS/").text
    trail = web.get("/patients/PG-ROWS/audit").text
    assert re.search(r"<td>delete</td>\s*<td>adverse_events</td>.*?<td>entered twice</td>", trail, flags=re.S)


@pytest.mark.parametrize("typed", ["<script>alert('x')</script>", "=cmd|' /C calc'!A0"])
def test_typed_markup_comes_back_escaped(server, centers, typed):
    a, _ = centers
    web = logged_in(server, f"investigator_{a.lower()}")
    pid = f"PG-ESC-{len(typed)}"
    _new_patient(web, pid)
    post = {"table": "treatment", "record": "new", "treatment-new-drug": typed,
            "treatment-new-discontinuation_reason": typed}
    assert web.post(f"/patients/{pid}/save", post).status == 302
    page = web.get(f"/patients/{pid}/").text
    assert html.escape(typed, quote=True) in page or html.escape(typed, quote=False) in page
    assert "<script>alert" not in page


def test_viewer_and_coordinator_see_the_form_read_only(server, centers, demo_patients):
    a, _ = centers
    pid = sorted(p for p, c in demo_patients.items() if c == a)[2]
    for user in (f"viewer_{a.lower()}", "coordinator", "monitor"):
        page = logged_in(server, user).get(f"/patients/{pid}/").text
        assert 'name="reason"' not in page and "Save</button>" not in page
        rid = record_id(page, "patients")
        assert re.search(rf'name="patients-{rid}-ecog"[^>]*disabled', page)
        r = logged_in(server, user).post(f"/patients/{pid}/save", {"table": "patients", "record": str(rid),
                                                                    f"patients-{rid}-ecog": "1", "reason": "x"})
        assert r.status == 403


def test_another_centers_patient_is_not_found_on_every_page(server, centers, demo_patients):
    a, b = centers
    other = sorted(p for p, c in demo_patients.items() if c == b)[0]
    web = logged_in(server, f"investigator_{a.lower()}")
    listed = web.get("/patients/").text
    assert other not in listed and f"<td>{b}</td>" not in listed
    assert f"<td>{b}</td>" not in web.get("/").text
    for r in (web.get(f"/patients/{other}/"), web.get(f"/patients/{other}/audit"),
              web.post(f"/patients/{other}/save", {"table": "patients", "record": "1", "reason": "x"})):
        assert r.status == 404 and other not in r.text
    assert web.get("/patients/NO-SUCH-PATIENT/").body == web.get(f"/patients/{other}/").body


def test_dashboard_counts_patients_and_missing_forms_per_center(server, centers, demo_patients):
    from collections import Counter

    from rwestudy.demo.generator import make_study

    study = make_study()
    # A center no other test writes to: not the demo accounts' centers.
    untouched = sorted(set(demo_patients.values()) - set(centers))[-1]
    pids = {p for p, c in demo_patients.items() if c == untouched}
    missing = sum(1 for t in ("prior_lines", "treatment", "responses") for p in pids
                  if p not in set(study[t]["patient_id"]))
    page = logged_in(server, "coordinator").get("/").text
    row = re.search(rf"<tr><td>{untouched}</td>(.*?)</tr>", page, flags=re.S).group(1)
    numbers = [int(x) for x in re.findall(r'<td class="n">(\d+)</td>', row)]
    assert numbers[:2] == [len(pids), missing]
    assert set(Counter(demo_patients.values())) <= set(re.findall(r"<tr><td>(\w+)</td>", page))
    # A center user's dashboard has their center only.
    a, _ = centers
    mine = re.findall(r"<tr><td>(\w+)</td>", logged_in(server, f"viewer_{a.lower()}").get("/").text)
    assert mine == [a]


def test_export_button_gives_the_api_zip(server):
    web = logged_in(server, "statistician")
    assert 'id="export"' in web.get("/").text
    page = web.get("/export")
    api = server.call("GET", "/api/export", token=server.token("statistician"))
    assert page.status == 200 and page.headers["Content-Type"] == "application/zip"
    assert page.body[:2] == b"PK" and len(page.body) > 1000
    import io
    import zipfile
    with zipfile.ZipFile(io.BytesIO(page.body)) as z1, zipfile.ZipFile(io.BytesIO(api.body)) as z2:
        assert z1.read("patients.csv") == z2.read("patients.csv")
    assert logged_in(server, "monitor").get("/export").status == 403


def test_a_saved_value_the_widget_cannot_show_is_shown_as_it_is(django_routes):
    """An imported '01/02/2024' is not blanked by a date picker, nor 'Male' by the sex list
    (the next save of the row would otherwise empty them)."""
    from rwestudy.server.forms import row_form

    form = row_form("patients", {"birth_date": "01/02/2024", "diagnosis_date": "2020-05-04", "sex": "Male"},
                    prefix="patients-1")
    birth, diagnosis, sex = str(form["birth_date"]), str(form["diagnosis_date"]), str(form["sex"])
    assert 'type="text"' in birth and 'value="01/02/2024"' in birth
    assert 'type="date"' in diagnosis and 'value="2020-05-04"' in diagnosis
    assert '<option value="Male" selected>Male</option>' in sex
    assert '<option value="M">M</option>' in sex
