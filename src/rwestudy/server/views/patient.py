"""A patient's page: one form per row of each contract table, findings and queries beside the fields."""
from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from rwestudy.io.schema import TABLES
from rwestudy.server import entry
from rwestudy.server.forms import KEY_FIELDS, ctcae_term_list, form_class, row_form
from rwestudy.server.models import AuditEntry
from rwestudy.server.permissions import can
from rwestudy.server.queries import visible_queries
from rwestudy.server.views.common import member_page, not_found, page, refuse


def _prefix(table: str, rid) -> str:
    return f"{table}-{rid if rid not in (None, entry.NEW) else 'new'}"


def _row(m, table, record, findings, queries, bound=None):
    """What the template needs for one row: the form's fields, each with its findings and queries."""
    rid = record.id if record else entry.NEW
    prefix = _prefix(table, rid)
    saved = record.data if record else {}
    form = bound or row_form(table, saved, prefix=prefix, readonly=not can(m, "write"))
    mine = [{**f, "key": f"{prefix}-f{i}"}
            for i, f in enumerate(f for f in findings if f["record_id"] == rid and f["table"] == table)]
    names = set(form.fields)
    fields = [{"bf": form[name], "name": name,
               "findings": [f for f in mine if f["field"] == name],
               "queries": [q for q in queries if q.record_id == rid and q.field == name and q.table == table]}
              for name in form.fields]
    return {"table": table, "record_id": record.id if record else None, "prefix": prefix, "form": form,
            "fields": fields, "other_findings": [f for f in mine if f["field"] not in names],
            "field_names": list(form.fields), "findings": mine, "bound": bound is not None}


def _render(request, m, records, status=200, bound=None, outcome=None, reason=""):
    main = next(r for r in records if r.table == "patients")
    findings = outcome.findings if outcome else entry.findings(m, records)
    queries = list(visible_queries(m).filter(patient_id=main.patient_id).order_by("id"))
    sections = []
    for name, table in TABLES.items():
        rows = [r for r in records if r.table == name]
        items = []
        for r in rows:
            b = bound[2] if bound and bound[0] == name and bound[1] == r.id else None
            items.append(_row(m, name, r, findings, queries, b))
        if name != "patients" and can(m, "write"):
            b = bound[2] if bound and bound[0] == name and bound[1] == entry.NEW else None
            items.append(_row(m, name, None, findings if b else [], queries, b))
        sections.append({"name": name, "title": name.replace("_", " "), "description": table.description,
                         "rows": items, "many": name != "patients", "n": len(rows),
                         "open": name == "patients" or bool(rows) or bool(bound and bound[0] == name)})
    table_findings = [f for f in findings if f["record_id"] is None]
    return page(request, "patient.html", status=status, patient=main, sections=sections, outcome=outcome,
                bound=bound and bound[:2], reason=reason, table_findings=table_findings,
                n_errors=sum(f["severity"] == "error" for f in findings),
                n_warnings=sum(f["severity"] == "warning" for f in findings),
                open_queries=[q for q in queries if q.status != "closed"],
                ctcae_terms=ctcae_term_list(), locked=m.study.locked)


@member_page
@require_GET
def patient_page(request, patient_id: str):
    m = request.membership
    records = entry.patient_rows(m, patient_id)
    if not any(r.table == "patients" for r in records):
        not_found()
    return _render(request, m, records)


@member_page
@require_POST
def patient_save(request, patient_id: str):
    """Save (or delete) the one row whose form was posted; re-show the page with what is missing if not saved."""
    m = request.membership
    records = entry.patient_rows(m, patient_id)
    if not any(r.table == "patients" for r in records):
        not_found()
    if not can(m, "write"):
        return refuse(request, 403, "Your role cannot change data.")
    if m.study.locked:
        return refuse(request, 409, "The study is locked: data cannot be changed.")
    table = request.POST.get("table", "")
    rid = request.POST.get("record", "new")
    if table not in TABLES or table == "patients" and rid == "new":
        return refuse(request, 400, "This form does not belong to a table of the study.")
    record = None
    if rid != "new":
        record = next((r for r in records if str(r.id) == rid and r.table == table), None)
        if record is None:
            return refuse(request, 404, "This row is not (or no longer) in this patient's data: reload the page.")
    prefix = _prefix(table, record.id if record else None)
    reason = str(request.POST.get("reason") or "").strip()[:2000]
    username = request.user.username
    anchor = f"#{prefix}"
    if request.POST.get("action") == "delete" and record is not None:
        outcome = entry.delete_row(m, username, records, record, reason)
        if outcome.saved:
            messages.success(request, f"Row deleted from {table.replace('_', ' ')}.")
            return redirect(reverse("patient-page", args=[patient_id]) + f"#{table}")
        bound = (table, record.id, row_form(table, record.data, prefix=prefix))
        return _render(request, m, records, 422, bound, outcome, reason)
    form = form_class(table)(data=request.POST, prefix=prefix)
    if not form.is_valid():
        bound = (table, record.id if record else entry.NEW, row_form(table, {}, request.POST, prefix))
        return _render(request, m, records, 400, bound, entry.Outcome(
            findings=entry.findings(m, records), problem="Not saved: " + "; ".join(
                f"{k.replace('_', ' ')}: {' '.join(e)}" for k, e in form.errors.items())), reason)
    # Only the fields the form sent: a field left out of a post is not a field emptied.
    values = {k: v for k, v in form.cleaned_data.items() if f"{prefix}-{k}" in request.POST and k not in KEY_FIELDS}
    outcome = entry.save_row(m, username, records, table, record, values, reason)
    if outcome.saved or not (outcome.reason_required_for or outcome.problem):
        n_open = sum(1 for f in outcome.findings if f["record_id"] == outcome.record_id)
        messages.success(request, (f"Saved: {', '.join(c.replace('_', ' ') for c in outcome.changed)}."
                                   if outcome.changed else "Nothing changed.")
                         + (f" {n_open} finding(s) stay open on this row." if n_open else ""))
        return redirect(reverse("patient-page", args=[patient_id]) + f"#{_prefix(table, outcome.record_id)}")
    bound = (table, record.id if record else entry.NEW, row_form(table, {}, request.POST, prefix))
    return _render(request, m, records, 422, bound, outcome, reason)


@member_page
@require_GET
def patient_audit(request, patient_id: str):
    m = request.membership
    if not any(r.table == "patients" for r in entry.patient_rows(m, patient_id)):
        not_found()
    rows = AuditEntry.objects.filter(study=m.study, patient_id=patient_id).order_by("id")
    return page(request, "audit.html", patient_id=patient_id, rows=rows)
