"""A browser-like HTTP client for the pages: cookies, CSRF token from the cookie, no redirect following."""
from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Page:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Web:
    """One user's browser session against a live server."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def _send(self, req) -> Page:
        try:
            with self.opener.open(req, timeout=120) as r:
                return Page(r.status, dict(r.headers), r.read())
        except urllib.error.HTTPError as e:
            return Page(e.code, dict(e.headers), e.read())

    def get(self, path: str) -> Page:
        return self._send(urllib.request.Request(self.base + path))

    def csrf(self) -> str:
        token = next((c.value for c in self.jar if c.name == "csrftoken"), None)
        if token is None:  # any page with a form sets the cookie
            self.get("/login/")
            token = next(c.value for c in self.jar if c.name == "csrftoken")
        return token

    def post(self, path: str, data: dict | None = None, csrf: bool = True) -> Page:
        fields = dict(data or {})
        if csrf:
            fields["csrfmiddlewaretoken"] = self.csrf()
        req = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(fields).encode(), method="POST")
        return self._send(req)

    def login(self, username: str, password: str) -> "Web":
        r = self.post("/login/", {"username": username, "password": password})
        assert r.status == 302, f"login of {username} failed: {r.status} {r.text[:500]}"
        return self


def logged_in(server, username: str) -> Web:
    """A cached logged-in session per (server, user)."""
    cache = server.__dict__.setdefault("_web_sessions", {})
    if username not in cache:
        cache[username] = Web(server.url).login(username, server.passwords[username])
    return cache[username]


def record_id(html: str, table: str) -> int:
    """The record id of the first saved row form of `table` on a patient page."""
    return int(re.search(rf'<form [^>]*id="{table}-(\d+)"', html).group(1))
