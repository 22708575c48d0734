"""The JSON API (see openapi.py for the contract of each route).

Authentication is a Bearer token signed by Django (`django.core.signing`),
tied to the user's password hash so a password change revokes it, and
expiring after TOKEN_MAX_AGE. The API takes no cookies, which is why its
views are CSRF-exempt: a browser cannot be tricked into sending the header.
"""
from __future__ import annotations

import datetime as dt
import json
from functools import wraps

from django.contrib.auth import authenticate, get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rwestudy.io.schema import TABLES
from rwestudy.server import audit_export as audit_export_csv
from rwestudy.server import changes, checks, openapi, settings as cfg, snapshot, throttle
from rwestudy.server.forms import KEY_FIELDS, form_class
from rwestudy.server.models import AuditEntry
from rwestudy.server.permissions import can, membership, visible_records

_SALT = "rwestudy.api-token"


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _body(request) -> dict | None:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _not_found() -> JsonResponse:
    # The same answer for "no such patient" and "not yours": existence is not revealed.
    return _error(404, "no such patient")


def bearer(view):
    """Require `Authorization: Bearer <token>` and a role in the study."""
    @csrf_exempt
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            claim = signing.loads(token, salt=_SALT, max_age=cfg.TOKEN_MAX_AGE) if scheme == "Bearer" else None
        except signing.BadSignature:
            claim = None
        user = get_user_model().objects.filter(pk=(claim or {}).get("uid"), is_active=True).first()
        if user is None or not constant_time_compare(claim["h"], user.get_session_auth_hash()):
            resp = _error(401, "log in first: POST /api/token, then send Authorization: Bearer <token>")
            resp["WWW-Authenticate"] = "Bearer"
            return resp
        m = membership(user, request.GET.get("study"))
        if m is None:
            return _error(403, "you have no role in this study (or several: add ?study=NAME)")
        request.user, request.membership = user, m
        return view(request, *args, **kwargs)
    return wrapped


@require_GET
def schema(request):
    return JsonResponse(openapi.document())


@csrf_exempt
@require_POST
def token(request):
    body = _body(request) or {}
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return _error(400, 'send {"username": ..., "password": ...} as JSON')
    if throttle.locked(request, username):
        resp = _error(429, "too many failed logins; wait 15 minutes and try again")
        resp["Retry-After"] = str(cfg.LOGIN_LOCKOUT_SECONDS)
        return resp
    user = authenticate(request, username=username, password=password)  # counts failures (throttle.py)
    if user is None:
        return _error(401, "wrong username or password")
    claim = {"uid": user.pk, "h": user.get_session_auth_hash()}
    return JsonResponse({"token": signing.dumps(claim, salt=_SALT), "expires_in": cfg.TOKEN_MAX_AGE})


def _clean(table: str, body: dict) -> tuple[dict[str, str] | None, str | None]:
    """The contract fields of `body` as text, or an error message."""
    fields = {k: v for k, v in body.items() if k != "reason"}
    form_fields = form_class(table).base_fields
    unknown = sorted(set(fields) - set(form_fields))
    if unknown:
        return None, f"not fields of '{table}' that can be changed here: {', '.join(unknown)}"
    bad = [k for k, v in fields.items() if not (v is None or isinstance(v, (str, int, float, bool)))]
    if bad:
        return None, f"give each value as text or a number: {', '.join(bad)}"
    text = {k: "" if v is None else ("yes" if v is True else "no" if v is False else str(v)) for k, v in fields.items()}
    # Only the fields sent are cleaned (a form of 40 fields per save would clean 40).
    cleaned, errors = {}, {}
    for k, v in text.items():
        try:
            cleaned[k] = form_fields[k].clean(v)
        except ValidationError as exc:
            errors[k] = exc.messages
    if errors:
        return None, "; ".join(f"{k}: {' '.join(e)}" for k, e in errors.items())
    return cleaned, None


def _child_rows(tables) -> tuple[dict[str, list[dict[str, str]]] | None, str | None]:
    """`{"adverse_events": [{...}, ...], ...}` of a new patient, cleaned like its fields."""
    if tables is None:
        return {}, None
    if not isinstance(tables, dict) or not all(isinstance(v, list) for v in tables.values()):
        return None, 'give "tables" as {"table name": [rows as objects], ...}'
    unknown = sorted(set(tables) - (set(TABLES) - {"patients"}))
    if unknown:
        return None, f"not tables of a patient: {', '.join(unknown)}"
    out = {}
    for table, items in tables.items():
        out[table] = []
        for i, row in enumerate(items, start=1):
            if not isinstance(row, dict):
                return None, f"{table} row {i}: give the row as an object"
            row = {k: v for k, v in row.items() if k != "patient_id"}
            values, problem = _clean(table, row)
            if problem:
                return None, f"{table} row {i}: {problem}"
            out[table].append(values)
    return out, None


def _patient_rows(m, patient_id: str):
    return list(visible_records(m).filter(patient_id=patient_id).select_related("center", "study")
                .order_by("table", "id"))


def _findings(m, records, edit: tuple[int | None, dict] = (None, {})) -> list[dict]:
    """The contract's findings on a patient's rows, with `edit` = (record id, new values) applied."""
    rid, new = edit
    rows = [(r.table, r.id, {**snapshot.row_values(r), **(new if r.id == rid else {})}) for r in records]
    return checks.check_rows(rows, m.study.cutoff_date)


@bearer
@require_http_methods(["GET", "POST"])
def patients(request):
    m = request.membership
    if request.method == "GET":
        rows = visible_records(m).filter(table="patients").order_by("patient_id").values_list("patient_id",
                                                                                              "center__name")
        return JsonResponse({"patients": [{"patient_id": p, "center": c} for p, c in rows]})
    if not can(m, "write"):
        return _error(403, "your role cannot enter data")
    locked = changes.lock_problem(m.study, None)
    if locked:
        return _error(409, locked)
    body = _body(request)
    if body is None:
        return _error(400, "send the patient as a JSON object")
    patient_id = str(body.pop("patient_id", "") or "").strip()
    body.pop("center", None)  # always the user's own center
    if not patient_id or len(patient_id) > 64:
        return _error(400, "give a patient_id (at most 64 characters)")
    rows, problem = _child_rows(body.pop("tables", None))
    if problem:
        return _error(400, problem)
    values, problem = _clean("patients", body)
    if problem:
        return _error(400, problem)
    if m.study.records.filter(table="patients", patient_id=patient_id).exists():
        return _error(409, "this patient_id cannot be used; choose another")
    try:
        changes.create_patient(m.study, m.center, request.user.username, patient_id, values, rows)
    except changes.Locked as exc:
        return _error(409, str(exc))
    except IntegrityError:  # the same new patient_id sent twice at once: the unique constraint decided
        return _error(409, "this patient_id cannot be used; choose another")
    return JsonResponse({"patient_id": patient_id, "center": m.center.name,
                         "findings": _findings(m, _patient_rows(m, patient_id))}, status=201)


@bearer
@require_http_methods(["GET", "PATCH"])
def patient(request, patient_id: str):
    m = request.membership
    records = _patient_rows(m, patient_id)
    main = next((r for r in records if r.table == "patients"), None)
    if main is None:
        return _not_found()
    if request.method == "GET":
        tables = {}
        for r in records:
            if r.table != "patients":
                tables.setdefault(r.table, []).append({"record_id": r.id, **snapshot.row_values(r)})
        return JsonResponse({"patient_id": main.patient_id, "center": main.center.name,
                             "fields": {c: main.data.get(c) for c in form_class("patients").base_fields},
                             "tables": tables, "findings": _findings(m, records)})
    if not can(m, "write"):
        return _error(403, "your role cannot change data")
    locked = changes.lock_problem(m.study, patient_id)
    if locked:
        return _error(409, locked)
    body = _body(request)
    if body is None:
        return _error(400, "send the changes as a JSON object")
    reason = str(body.get("reason") or "").strip()
    if any(k in body for k in KEY_FIELDS):
        return _error(400, "patient_id and center cannot be changed")
    new, problem = _clean("patients", body)
    if problem:
        return _error(400, problem)
    changed = {k: v for k, v in new.items() if (main.data.get(k) or "") != v}
    if not changed:
        return JsonResponse({"patient_id": patient_id, "changed": [], "findings": _findings(m, records)})
    found = _findings(m, records, (main.id, changed))
    # A reason is needed to change a value already saved, and to save a value that fails a check.
    needs = sorted({k for k in changed if main.data.get(k)}
                   | {f["field"] for f in found if f["severity"] == "error" and f["record_id"] == main.id
                      and f["field"] in changed})
    if needs and not reason:
        return _error(422, "give a reason for this change", reason_required_for=needs, findings=found)
    try:
        changes.update_record(main, main.data, changed, request.user.username, reason)
    except (changes.Conflict, changes.Locked) as exc:
        return _error(409, str(exc))
    return JsonResponse({"patient_id": patient_id, "changed": sorted(changed), "findings": found})


@bearer
@require_GET
def audit_rows(request):
    m = request.membership
    patient_id = request.GET.get("patient_id")
    if not patient_id:
        return _error(400, "give ?patient_id=")
    if not _patient_rows(m, patient_id):
        return _not_found()
    rows = AuditEntry.objects.filter(study=m.study, patient_id=patient_id).order_by("id")
    return JsonResponse({"patient_id": patient_id, "audit": [
        {"id": e.id, "at": e.at.isoformat(), "user": e.username, "action": e.action, "table": e.table,
         "record_id": e.record_id, "field": e.field, "old": e.old, "new": e.new, "reason": e.reason}
        for e in rows]})


@bearer
@require_GET
def export(request):
    m = request.membership
    if not can(m, "export"):
        return _error(403, "only the coordinator and the statistician export")
    resp = HttpResponse(snapshot.snapshot_zip(m.study), content_type="application/zip")
    resp["Content-Disposition"] = f'attachment; filename="{m.study.name}-snapshot.zip"'
    return resp


def _lock_request(request, locking: bool):
    m = request.membership
    if not can(m, "lock"):
        return _error(403, "only the coordinator locks and unlocks")
    body = _body(request)
    if body is None:
        return _error(400, 'send {"reason": ..., "cutoff"?: "YYYY-MM-DD", "patient_id"?: ...} as JSON')
    reason = str(body.get("reason") or "").strip()
    if not reason:
        return _error(400, "give a reason for the " + ("lock" if locking else "unlock"))
    cutoff = None
    if locking and body.get("cutoff") not in (None, ""):
        try:
            cutoff = dt.date.fromisoformat(str(body["cutoff"]))
        except ValueError:
            return _error(400, f"cutoff must be a date as YYYY-MM-DD, got {str(body['cutoff'])[:20]!r}")
    patient = None
    if body.get("patient_id") not in (None, ""):
        patient = next((r for r in _patient_rows(m, str(body["patient_id"])) if r.table == "patients"), None)
        if patient is None:
            return _not_found()
    elif locking and cutoff is None and m.study.cutoff_date is None:
        return _error(400, "set the data cut-off (cutoff: YYYY-MM-DD) when locking the study")
    if locking:
        changed = changes.lock(m.study, request.user.username, reason, cutoff, patient)
    else:
        changed = changes.unlock(m.study, request.user.username, reason, patient)
    m.study.refresh_from_db()
    out = {"locked": locking, "changed": changed,
           "cutoff": m.study.cutoff_date.isoformat() if m.study.cutoff_date else None}
    if patient is not None:
        out["patient_id"] = patient.patient_id
    return JsonResponse(out)


@bearer
@require_POST
def lock(request):
    return _lock_request(request, locking=True)


@bearer
@require_POST
def unlock(request):
    return _lock_request(request, locking=False)


@bearer
@require_GET
def audit_export(request):
    """One center's audit trail as CSV (see audit_export.py for who may ask for which center)."""
    m = request.membership
    try:
        center = audit_export_csv.center_for(m, request.GET.get("center"))
    except PermissionError:
        return _error(403, "your role does not read the audit trail")
    except audit_export_csv.NotVisible:
        return _error(404, "no such center")
    resp = HttpResponse(audit_export_csv.center_csv(m.study, center), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{audit_export_csv.filename(m.study, center)}"'
    return resp
