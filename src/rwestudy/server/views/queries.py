"""Query pages: the list, one query's thread, and the forms that open and move a query."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from rwestudy.server import queries
from rwestudy.server.models import QUERY_STATUSES
from rwestudy.server.permissions import visible_records
from rwestudy.server.views.common import member_page, not_found, page, refuse


@member_page
@require_GET
def query_list(request):
    qs = queries.visible_queries(request.membership).order_by("-updated_at", "-id")
    status = request.GET.get("status")
    if status in QUERY_STATUSES:
        qs = qs.filter(status=status)
    elif status != "all":
        status = "active"
        qs = qs.filter(status__in=queries.OPEN_STATUSES)
    return page(request, "query_list.html", queries=qs, shown=status, statuses=("active", "all") + QUERY_STATUSES)


def _visible(request, query_id: int):
    q = queries.visible_queries(request.membership).select_related("center", "study").filter(pk=query_id).first()
    if q is None:
        raise Http404("no such query")
    return q


@member_page
@require_GET
def query_page(request, query_id: int):
    q = _visible(request, query_id)
    return page(request, "query.html", q=q, thread=q.messages.order_by("id"),
                steps=[a for a, (_, frm, _) in queries.STEPS.items() if q.status in frm])


@member_page
@require_POST
def query_open(request):
    m = request.membership
    patient_id = str(request.POST.get("patient_id") or "")
    main = visible_records(m).filter(table="patients", patient_id=patient_id).select_related("center").first()
    if main is None:
        not_found()
    try:
        q = queries.open_query(m, request.user.username, main, request.POST.get("table", ""),
                               request.POST.get("record_id"), request.POST.get("field", ""),
                               request.POST.get("text"), request.POST.get("rule", ""))
    except queries.Refused as exc:
        return refuse(request, exc.status, str(exc))
    messages.success(request, f"Query {q.id} opened on {q.field.replace('_', ' ')}.")
    return redirect(reverse("patient-page", args=[patient_id]) + f"#{q.table}-{q.record_id}")


@member_page
@require_POST
def query_step(request, query_id: int, action: str):
    q = _visible(request, query_id)
    try:
        q = queries.step(request.membership, request.user.username, q, action, request.POST.get("text"))
    except queries.Refused as exc:
        return refuse(request, exc.status, str(exc))
    messages.success(request, f"Query {q.id} is now {q.status}.")
    return redirect("query-page", query_id=q.id)
