"""Django settings built in code from a database URL (no settings module to ship).

`configure("sqlite:///path/study.sqlite")` or `configure("postgresql://u:p@host/db")`
must run before any Django import that touches models. Django's security
defaults are left on; DEBUG is off.
"""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlparse

# An API token and a browser session last one working day (RWESTUDY_SESSION_SECONDS to change it).
TOKEN_MAX_AGE = int(os.environ.get("RWESTUDY_SESSION_SECONDS") or 8 * 3600)
LOGIN_FAILURES_ALLOWED = 5      # per username (or 4x that per address) ...
LOGIN_LOCKOUT_SECONDS = 15 * 60  # ... within this window, then HTTP 429


def database(url: str) -> dict:
    """Django DATABASES['default'] from `sqlite:///file`, a bare file path, or `postgresql://`."""
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        return {"ENGINE": "django.db.backends.postgresql", "NAME": parsed.path.lstrip("/"),
                "USER": unquote(parsed.username or ""), "PASSWORD": unquote(parsed.password or ""),
                "HOST": parsed.hostname or "", "PORT": str(parsed.port or ""),
                "ATOMIC_REQUESTS": False,
                # One connection per server thread, kept (and checked after an error).
                "CONN_MAX_AGE": 600, "CONN_HEALTH_CHECKS": True}
    if parsed.scheme not in ("", "sqlite"):
        raise ValueError(f"--db must be sqlite:///FILE or postgresql://..., got {parsed.scheme}://")
    path = url[len("sqlite:///"):] if parsed.scheme else url
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(path).resolve()),
            # Each waitress thread keeps its connection: no reconnect and PRAGMAs per request.
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                # WAL: readers never block the writer; synchronous=FULL: a save acknowledged
                # over HTTP is on disk even if the server is killed right after.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                # IMMEDIATE: every write transaction takes the write lock at BEGIN, so two
                # saves never read the same audit-chain head (SQLite has no SELECT FOR UPDATE).
                "transaction_mode": "IMMEDIATE", "timeout": 30}}


def secret_key(url: str) -> str:
    """RWESTUDY_SECRET_KEY, else a key file made once beside the SQLite file (or in the cwd).

    It signs sessions and API tokens, so it must survive restarts; it never goes in the database.
    """
    if os.environ.get("RWESTUDY_SECRET_KEY"):
        return os.environ["RWESTUDY_SECRET_KEY"]
    db = database(url)
    base = Path(db["NAME"]) if db["ENGINE"].endswith("sqlite3") else Path("rwestudy-" + db["NAME"])
    path = base.with_name(base.name + ".secret")
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


class NoUrlFilter(logging.Filter):
    """Drops the arguments (the URL, which may hold a patient id) from a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = str(record.msg).split(":")[0], ()
        return True


def configure(url: str, allowed_hosts: list[str] | None = None) -> None:
    """Configure and set up Django for database `url` (once per process)."""
    import django
    from django.conf import settings

    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY=secret_key(url),
        ALLOWED_HOSTS=allowed_hosts or ["127.0.0.1", "localhost", "[::1]"],
        DATABASES={"default": database(url)},
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                        "django.contrib.messages", "rwestudy.server.apps.ServerConfig"],
        MIDDLEWARE=["django.middleware.security.SecurityMiddleware",
                    "django.contrib.sessions.middleware.SessionMiddleware",
                    "django.middleware.common.CommonMiddleware",
                    "django.middleware.csrf.CsrfViewMiddleware",
                    "django.contrib.auth.middleware.AuthenticationMiddleware",
                    "django.contrib.messages.middleware.MessageMiddleware",
                    "django.middleware.clickjacking.XFrameOptionsMiddleware"],
        ROOT_URLCONF="rwestudy.server.urls",
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                       "django.contrib.auth.context_processors.auth",
                                                       "django.contrib.messages.context_processors.messages"]}}],
        AUTHENTICATION_BACKENDS=["rwestudy.server.throttle.ThrottledBackend"],  # every login throttled
        PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher",
                          "django.contrib.auth.hashers.PBKDF2PasswordHasher"],
        AUTH_PASSWORD_VALIDATORS=[
            {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
            {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
             "OPTIONS": {"min_length": 10}},
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
            {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"}],
        SESSION_COOKIE_AGE=TOKEN_MAX_AGE,
        SESSION_EXPIRE_AT_BROWSER_CLOSE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        CSRF_COOKIE_SAMESITE="Strict",
        # The login throttle's counters. Waitress serves from one process, so a
        # per-process cache sees every attempt.
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        USE_TZ=True, TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        # Django logs every 4xx with its URL, and our URLs carry patient ids: keep
        # django.request to server errors, and those without the URL.
        LOGGING={"version": 1, "disable_existing_loggers": False,
                 "filters": {"no_url": {"()": "rwestudy.server.settings.NoUrlFilter"}},
                 "handlers": {"stderr": {"class": "logging.StreamHandler", "filters": ["no_url"]}},
                 "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
                             "django.security": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}}},
    )
    django.setup()
