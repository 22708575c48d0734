"""The study admin's pages: the study's users, a new user, a change of role, center or state."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rwestudy.server import audit_export, users
from rwestudy.server.models import ROLES, Center
from rwestudy.server.permissions import can
from rwestudy.server.views.common import member_page, page, refuse


def _form_page(request, status=200, problem="", posted=None):
    m = request.membership
    return page(request, "users.html", status=status, members=users.members(m.study), roles=ROLES,
                centers=list(Center.objects.filter(study=m.study).order_by("name").values_list("name", flat=True)),
                problem=problem, posted=posted or {})


@member_page
@require_http_methods(["GET", "POST"])
def user_list(request):
    m = request.membership
    if not can(m, "users"):
        return refuse(request, 403, "Only the study admin manages users.")
    if request.method == "GET":
        return _form_page(request)
    p = request.POST
    try:
        user = users.create_user(m.study, request.user.username, p.get("username", ""), p.get("password", ""),
                                 p.get("role", ""), p.get("center") or None, str(p.get("reason") or "").strip())
    except users.Refused as exc:
        return _form_page(request, 400, str(exc), {k: p.get(k, "") for k in ("username", "role", "center")})
    messages.info(request, f"User {user.username} created.")
    return redirect("user-list")


@member_page
@require_POST
def user_change(request, username: str):
    m = request.membership
    if not can(m, "users"):
        return refuse(request, 403, "Only the study admin manages users.")
    p = request.POST
    try:
        changed = users.change_user(m.study, request.user, username, p.get("role", ""), p.get("center") or None,
                                    p.get("active") == "yes", str(p.get("reason") or ""))
    except LookupError:
        raise Http404("no such user") from None
    except users.Refused as exc:
        return _form_page(request, 400, f"{username}: {exc}")
    messages.info(request, f"{username}: " + (", ".join(changed) + " changed" if changed else "nothing changed"))
    return redirect("user-list")


@member_page
@require_GET
def audit_export_page(request):
    """The "Export audit trail" button: the same CSV as GET /api/audit/export."""
    m = request.membership
    try:
        center = audit_export.center_for(m, request.GET.get("center"))
    except PermissionError:
        return refuse(request, 403, "Your role does not read the audit trail.")
    except audit_export.NotVisible:
        raise Http404("no such center") from None
    resp = HttpResponse(audit_export.center_csv(m.study, center), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{audit_export.filename(m.study, center)}"'
    return resp
