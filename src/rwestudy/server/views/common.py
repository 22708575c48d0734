"""What every page shares: a logged-in user with a role in the study, the page context, the refusals."""
from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render

from rwestudy.server import throttle
from rwestudy.server.permissions import CAN, membership

LOGIN_URL = "login"


def member_page(view):
    """Login required (else to the login page), and a role in the study (else 403)."""
    @login_required(login_url=LOGIN_URL)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        m = membership(request.user, request.GET.get("study"))
        if m is None:
            return refuse(request, 403, "You have no role in this study. Ask the study admin.")
        request.membership = m
        return view(request, *args, **kwargs)
    return wrapped


def context(request, **extra) -> dict:
    m = request.membership
    return {"m": m, "may": {a: a in CAN.get(m.role, ()) for a in ("read", "write", "export", "query", "users")},
            **extra}


def page(request, template: str, status: int = 200, **extra):
    return render(request, f"rwestudy/{template}", context(request, **extra), status=status)


def refuse(request, status: int, message: str):
    return render(request, "rwestudy/refused.html", {"message": message, "status": status}, status=status)


def not_found():
    # The same answer for "no such patient" and "not yours": existence is not revealed.
    raise Http404("no such patient")


class ThrottledLoginForm(AuthenticationForm):
    """Django's login form; the failures are counted by the authentication backend
    (server/throttle.py, shared with POST /api/token). This only says why a
    throttled name or address is refused, instead of "wrong password"."""

    def clean(self):
        username = str(self.data.get("username") or "")
        if throttle.locked(self.request, username):
            raise ValidationError("Too many failed logins: wait 15 minutes and try again.", code="throttled")
        return super().clean()
