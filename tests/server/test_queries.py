"""Data clarification queries over real HTTP: who opens, answers, closes, re-opens; every step audited."""
from __future__ import annotations

import re

from tests.server.conftest import cli, db_handle
from tests.server.web import logged_in, record_id


def _pid(demo_patients, center, k):
    return sorted(p for p, c in demo_patients.items() if c == center)[k]


def test_query_lifecycle_with_roles_and_audit(server, centers, demo_patients, tmp_path):
    a, b = centers
    pid = _pid(demo_patients, a, 3)
    coord, monitor = server.token("coordinator"), server.token("monitor")
    inv_a, inv_b = server.token(f"investigator_{a.lower()}"), server.token(f"investigator_{b.lower()}")
    viewer_a = server.token(f"viewer_{a.lower()}")
    # Only the coordinator and monitors open queries.
    body = {"patient_id": pid, "field": "ldh", "text": "LDH 341 U/L: is the unit right?"}
    assert server.call("POST", "/api/queries", token=inv_a, body=body).status == 403
    assert server.call("POST", "/api/queries", token=inv_b, body=body).status == 404  # not B's patient
    assert server.call("POST", "/api/queries", token=coord, body={**body, "field": "no_such"}).status == 400
    assert server.call("POST", "/api/queries", token=coord, body={**body, "text": "  "}).status == 400
    r = server.call("POST", "/api/queries", token=coord, body=body)
    assert r.status == 201, r.body
    q = r.json
    assert (q["status"], q["patient_id"], q["center"], q["table"], q["field"]) == ("open", pid, a, "patients", "ldh")
    qid = q["id"]
    # The center sees it; another center does not, not even by id.
    assert qid in [x["id"] for x in server.call("GET", "/api/queries", token=viewer_a).json["queries"]]
    assert qid not in [x["id"] for x in server.call("GET", "/api/queries", token=inv_b).json["queries"]]
    assert server.call("POST", f"/api/queries/{qid}/answer", token=inv_b, body={"text": "x"}).status == 404
    # Only the center's investigator answers; only coordinator and monitors close and re-open.
    assert server.call("POST", f"/api/queries/{qid}/answer", token=viewer_a, body={"text": "x"}).status == 403
    assert server.call("POST", f"/api/queries/{qid}/answer", token=coord, body={"text": "x"}).status == 403
    assert server.call("POST", f"/api/queries/{qid}/close", token=inv_a, body={}).status == 403
    assert server.call("POST", f"/api/queries/{qid}/reopen", token=coord, body={"text": "x"}).status == 409  # open
    steps = [("answer", inv_a, "yes, U/L as in the lab report", "answered"),
             ("close", monitor, "", "closed"),
             ("reopen", coord, "the lab report says 3.41 ukat/L", "reopened"),
             ("answer", inv_a, "converted: 205 U/L", "answered"),
             ("close", coord, "thanks", "closed")]
    for action, tok, text, status in steps:
        r = server.call("POST", f"/api/queries/{qid}/{action}", token=tok, body={"text": text})
        assert r.status == 200 and r.json["status"] == status, (action, r.body)
    assert server.call("POST", f"/api/queries/{qid}/answer", token=inv_a, body={"text": "late"}).status == 409
    thread = server.call("GET", f"/api/queries?patient_id={pid}", token=coord).json["queries"]
    thread = next(x for x in thread if x["id"] == qid)["messages"]
    assert [(m["action"], m["user"]) for m in thread] == [
        ("open", "coordinator"), ("answer", f"investigator_{a.lower()}"), ("close", "monitor"),
        ("reopen", "coordinator"), ("answer", f"investigator_{a.lower()}"), ("close", "coordinator")]
    # Every step is an audit entry of the patient: old and new status, the text as the reason.
    trail = server.call("GET", f"/api/audit?patient_id={pid}", token=coord).json["audit"]
    mine = [e for e in trail if e["action"] == "query" and e["reason"].startswith(f"query {qid}:")]
    assert [(e["user"], e["field"], e["old"], e["new"]) for e in mine] == [
        ("coordinator", "ldh", None, "open"), (f"investigator_{a.lower()}", "ldh", "open", "answered"),
        ("monitor", "ldh", "answered", "closed"), ("coordinator", "ldh", "closed", "reopened"),
        (f"investigator_{a.lower()}", "ldh", "reopened", "answered"), ("coordinator", "ldh", "answered", "closed")]
    assert mine[1]["reason"] == f"query {qid}: yes, U/L as in the lab report"
    # The hash chain still verifies with the query steps in it.
    copy = db_handle(server, tmp_path / "copy.sqlite")
    assert cli("audit", "verify", "--db", copy.url, check=False).returncode == 0


def test_a_query_on_a_row_from_a_finding_shows_at_the_field_and_on_the_dashboard(server, centers):
    a, _ = centers
    inv = logged_in(server, f"investigator_{a.lower()}")
    assert inv.post("/patients/new", {"patient_id": "QP-1"}).status == 302
    new = {"table": "adverse_events", "record": "new", "adverse_events-new-term": "Anemia",
           "adverse_events-new-grade": "9", "reason": "as written in the chart"}
    assert inv.post("/patients/QP-1/save", new).status == 302
    coord = logged_in(server, "coordinator")
    page = coord.get("/patients/QP-1/").text
    ae = record_id(page, "adverse_events")
    # The coordinator sees the finding with a button that turns it into a query.
    form = re.search(rf'<form method="post" action="/queries/open" id="adverse_events-{ae}-f\d+" hidden>.*?</form>',
                     page, flags=re.S)
    assert form and 'name="field" value="grade"' in form.group(0)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(0)))
    before = _dashboard_queries(coord, a)
    r = coord.post("/queries/open", {k: v for k, v in fields.items() if k != "csrfmiddlewaretoken"})
    assert r.status == 302 and r.location == f"/patients/QP-1/#adverse_events-{ae}"
    assert _dashboard_queries(coord, a) == before + 1
    assert _dashboard_queries(inv, a) == before + 1
    # Beside the grade field of that row, for the center.
    page = inv.get("/patients/QP-1/").text
    row = re.search(rf'<form [^>]*id="adverse_events-{ae}".*?</form>', page, flags=re.S).group(0)
    grade = row[row.index('data-field="grade"'):row.index('data-field="onset_date"')]
    qid = int(re.search(r'data-query="(\d+)"', grade).group(1))
    assert "open" in grade
    # The center answers on the query page; the coordinator closes it there.
    qpage = inv.get(f"/queries/{qid}/").text
    assert 'id="answer-form"' in qpage and 'id="close-form"' not in qpage
    assert inv.post(f"/queries/{qid}/answer", {"text": "grade 3; the 9 was a typo"}).status == 302
    assert 'id="close-form"' in coord.get(f"/queries/{qid}/").text
    assert coord.post(f"/queries/{qid}/close", {"text": ""}).status == 302
    qpage = coord.get(f"/queries/{qid}/").text
    assert '<span class="status-closed" id="query-status">closed</span>' in qpage
    assert "grade 3; the 9 was a typo" in qpage
    assert _dashboard_queries(coord, a) == before
    assert inv.post(f"/queries/{qid}/bogus", {"text": "x"}).status == 404


def _dashboard_queries(web, center) -> int:
    row = re.search(rf"<tr><td>{center}</td>(.*?)</tr>", web.get("/").text, flags=re.S).group(1)
    return int(re.findall(r'<td class="n">(\d+)</td>', row)[-1])


def test_query_text_is_escaped_on_the_pages(server, centers, demo_patients):
    a, _ = centers
    pid = _pid(demo_patients, a, 4)
    r = server.call("POST", "/api/queries", token=server.token("coordinator"),
                    body={"patient_id": pid, "field": "sex", "text": "<img src=x onerror=alert(1)>"})
    page = logged_in(server, f"investigator_{a.lower()}").get(f"/queries/{r.json['id']}/").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
