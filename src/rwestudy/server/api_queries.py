"""The queries part of the JSON API: list, open, answer, close, re-open (rules in queries.py)."""
from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods, require_POST

from rwestudy.server import queries
from rwestudy.server.api import _body, _error, _not_found, bearer
from rwestudy.server.models import QUERY_STATUSES
from rwestudy.server.permissions import visible_records


@bearer
@require_http_methods(["GET", "POST"])
def query_list(request):
    m = request.membership
    if request.method == "GET":
        qs = queries.visible_queries(m).select_related("center").prefetch_related("messages")
        if request.GET.get("patient_id"):
            qs = qs.filter(patient_id=request.GET["patient_id"])
        if request.GET.get("status") in QUERY_STATUSES:
            qs = qs.filter(status=request.GET["status"])
        return JsonResponse({"queries": [queries.as_json(q) for q in qs.order_by("id")]})
    body = _body(request)
    if body is None:
        return _error(400, "send the query as a JSON object")
    main = visible_records(m).filter(table="patients", patient_id=str(body.get("patient_id") or "")) \
        .select_related("center").first()
    if main is None:
        return _not_found()
    try:
        q = queries.open_query(m, request.user.username, main, str(body.get("table") or "patients"),
                               body.get("record_id"), str(body.get("field") or ""), body.get("text"),
                               str(body.get("rule") or ""))
    except queries.Refused as exc:
        return _error(exc.status, str(exc))
    return JsonResponse(queries.as_json(q), status=201)


@bearer
@require_POST
def query_step(request, query_id: int, action: str):
    m = request.membership
    q = queries.visible_queries(m).select_related("center").filter(pk=query_id).first()
    if q is None:
        return _error(404, "no such query")
    body = _body(request)
    if body is None:
        return _error(400, 'send {"text": ...} as a JSON object')
    try:
        q = queries.step(m, request.user.username, q, action, body.get("text"))
    except queries.Refused as exc:
        return _error(exc.status, str(exc))
    return JsonResponse(queries.as_json(q))
