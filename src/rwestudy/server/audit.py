"""The audit trail: append entries to the hash chain; verify the chain.

Each entry's hash is sha256(previous hash + the entry's content as JSON), in
id order, starting from 64 zeros. Changing an entry breaks its own hash;
deleting one breaks the link of the entry after it. (Deleting the newest
entries leaves a shorter valid chain: the export manifest records the chain
position, so a snapshot shows how far the trail went.)
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import threading
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from rwestudy.server.models import AuditEntry

GENESIS = "0" * 64
_CHAIN_LOCK = 0x52574531  # pg_advisory_xact_lock key for the chain head ("RWE1")


def digest(prev_hash: str, e: AuditEntry) -> str:
    content = [e.at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds"), e.username, e.study_id,
               e.action, e.table, e.record_id, e.patient_id, e.center, e.field, e.old, e.new, e.reason]
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


# SQLite has one writer at a time: the server's threads queue here for it, in order, rather
# than polling SQLite's busy handler (which sleeps up to 100 ms between tries). Other
# processes writing the same file (a `serve import`) still wait through the busy timeout.
_SQLITE_WRITER = threading.RLock()


@contextmanager
def writing():
    """A write transaction (`transaction.atomic`), one thread at a time on SQLite."""
    if connection.vendor != "sqlite":
        with transaction.atomic():
            yield
        return
    with _SQLITE_WRITER, transaction.atomic():
        yield


def lock_chain() -> None:
    """Serialise writers until the end of the transaction (call inside `transaction.atomic`).

    SQLite: every write transaction is BEGIN IMMEDIATE already (settings.py), so
    nothing to do. PostgreSQL: a transaction-scoped advisory lock (re-entrant).
    A save that checks the study's or patient's lock takes this first, so a lock
    set meanwhile is seen.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])


def protect_table() -> None:
    """PostgreSQL: the application's role loses UPDATE, DELETE and TRUNCATE on the trail.

    Run by `serve init` after the migrations (idempotent). The role that owns the
    table (the one in --db) is revoked too: PostgreSQL applies an owner's ACL to
    the owner, so its UPDATE fails with "permission denied" like anyone's.
    """
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC, CURRENT_USER")


def append(entries: list[AuditEntry]) -> None:
    """Chain and insert `entries`; call inside the transaction that makes the change.

    The chain head is read under a lock so two saves never extend the same head:
    SQLite transactions here BEGIN IMMEDIATE (settings.py); PostgreSQL takes a
    transaction-scoped advisory lock.
    """
    if not entries:
        return
    lock_chain()
    prev = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    now = timezone.now()
    for e in entries:
        e.at = e.at or now
        e.prev_hash = prev
        e.hash = prev = digest(prev, e)
    AuditEntry.objects.bulk_create(entries)


def position() -> dict:
    """The chain head: how many entries, and the newest one's id and hash."""
    last = AuditEntry.objects.order_by("-id").values("id", "hash").first()
    return {"entries": AuditEntry.objects.count(), "last_id": last and last["id"],
            "last_hash": last["hash"] if last else GENESIS}


def verify() -> tuple[bool, int, str]:
    """(intact, entries checked, what is wrong with the first broken entry)."""
    prev, prev_id, n = GENESIS, None, 0
    for e in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if e.prev_hash != prev:
            after = f"entry {prev_id}" if prev_id is not None else "the start of the trail"
            return False, n, (f"audit entry {e.id} does not follow {after}: an entry between them "
                              "was deleted or changed")
        if digest(prev, e) != e.hash:
            return False, n, f"audit entry {e.id} was changed after it was written (its hash does not match)"
        prev, prev_id, n = e.hash, e.id, n + 1
    return True, n, f"{n} audit entries, hash chain intact"
