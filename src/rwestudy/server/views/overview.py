"""The dashboard, the patient list, a new patient, the export download."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from rwestudy.server import changes, checks, snapshot
from rwestudy.server.models import Center, Record
from rwestudy.server.permissions import can, visible_records
from rwestudy.server.queries import OPEN_STATUSES, visible_queries
from rwestudy.server.views.common import member_page, page, refuse

# Forms every patient of a relapsed/refractory study has: an earlier line, the
# study treatment, at least one response assessment. A patient without a row
# in one of them has a missing form (the others may rightly be empty).
EXPECTED_FORMS = ("prior_lines", "treatment", "responses")
_PATIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass
class PatientStatus:
    patient_id: str
    center: str
    missing: list[str] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0
    queries: int = 0


def patient_status(m) -> list[PatientStatus]:
    """Missing forms, open findings and open queries of every patient `m` may see (one run of the checks)."""
    records = list(visible_records(m).select_related("center").order_by("patient_id", "id"))
    by_id = {r.id: r for r in records}
    out = {r.patient_id: PatientStatus(r.patient_id, r.center.name) for r in records if r.table == "patients"}
    forms = {(r.patient_id, r.table) for r in records}
    for s in out.values():
        s.missing = [t for t in EXPECTED_FORMS if (s.patient_id, t) not in forms]
    rows = [(r.table, r.id, snapshot.row_values(r)) for r in records]
    for f in (checks.check_rows(rows, m.study.cutoff_date) if rows else []):
        s = out.get(by_id[f["record_id"]].patient_id) if f["record_id"] in by_id else None
        if s is not None:
            s.errors += f["severity"] == "error"
            s.warnings += f["severity"] == "warning"
    for pid, n in Counter(visible_queries(m).filter(status__in=OPEN_STATUSES).values_list("patient_id", flat=True)
                          ).items():
        if pid in out:
            out[pid].queries = n
    return sorted(out.values(), key=lambda s: (s.center, s.patient_id))


@member_page
@require_GET
def dashboard(request):
    m = request.membership
    centers = []
    if can(m, "read"):
        names = [m.center.name] if m.center else list(Center.objects.filter(study=m.study).order_by("name")
                                                          .values_list("name", flat=True))
        totals = {n: {"center": n, "patients": 0, "missing": 0, "errors": 0, "warnings": 0, "queries": 0}
                  for n in names}
        for s in patient_status(m):
            t = totals[s.center]
            t["patients"] += 1
            t["missing"] += len(s.missing)
            t["errors"] += s.errors
            t["warnings"] += s.warnings
            t["queries"] += s.queries
        centers = list(totals.values())
    return page(request, "dashboard.html", centers=centers, expected_forms=EXPECTED_FORMS)


@member_page
@require_GET
def patient_list(request):
    return page(request, "patient_list.html", patients=patient_status(request.membership),
                expected_forms=EXPECTED_FORMS)


@member_page
@require_http_methods(["GET", "POST"])
def patient_new(request):
    m = request.membership
    if not can(m, "write"):
        return refuse(request, 403, "Your role cannot enter data.")
    problem, patient_id = "", ""
    if request.method == "POST":
        patient_id = str(request.POST.get("patient_id") or "").strip()
        if m.study.locked:
            return refuse(request, 409, "The study is locked: no new patients.")
        if not _PATIENT_ID.fullmatch(patient_id):
            problem = ("Give a patient code of letters, digits, '.', '_' or '-' (at most 64), starting with a "
                       "letter or digit: the pseudonymised code, never a name.")
        elif Record.objects.filter(study=m.study, table="patients", patient_id=patient_id).exists():
            problem = "This patient code cannot be used; choose another."
        else:
            changes.create_patient(m.study, m.center, request.user.username, patient_id, {})
            return redirect("patient-page", patient_id=patient_id)
    return page(request, "patient_new.html", status=400 if problem else 200, problem=problem,
                patient_id=patient_id)


@member_page
@require_GET
def export(request):
    m = request.membership
    if not can(m, "export"):
        return refuse(request, 403, "Only the coordinator and the statistician export.")
    resp = HttpResponse(snapshot.snapshot_zip(m.study), content_type="application/zip")
    resp["Content-Disposition"] = f'attachment; filename="{m.study.name}-snapshot.zip"'
    return resp
