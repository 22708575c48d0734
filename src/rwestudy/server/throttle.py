"""Login throttling for every way in (the API's token and the HTML login page alike).

An authentication backend, so Django's own `authenticate()` (which the login
form calls) counts the failures: after LOGIN_FAILURES_ALLOWED wrong passwords
for a username (or 4x that from one address) within LOGIN_LOCKOUT_SECONDS,
every attempt is refused, even with the right password, until the window ends.
"""
from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from rwestudy.server import settings as cfg


def _keys(request, username: str) -> list[tuple[str, int]]:
    addr = request.META.get("REMOTE_ADDR") if request is not None else None
    return [(f"login-user:{(username or '').lower()}", cfg.LOGIN_FAILURES_ALLOWED),
            (f"login-addr:{addr}", 4 * cfg.LOGIN_FAILURES_ALLOWED)]


def locked(request, username: str) -> bool:
    return any((cache.get(k) or 0) >= limit for k, limit in _keys(request, username))


class ThrottledBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("username")
        if locked(request, username):
            raise PermissionDenied  # authenticate() stops here: no other backend is tried
        user = super().authenticate(request, username=username, password=password, **kwargs)
        keys = _keys(request, username)
        if user is None:
            for k, _ in keys:
                cache.add(k, 0, cfg.LOGIN_LOCKOUT_SECONDS)
                cache.incr(k)
        else:
            cache.delete(keys[0][0])
        return user
