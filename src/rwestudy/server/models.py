"""The server's data: studies, centers, who may do what, the contract's rows, the audit trail.

Why one generic `Record` (a contract row as JSON) and not one model per table:
the input contract (rwestudy.io.schema.TABLES) is the single definition of the
study data. With typed columns, every column added to the contract would need
a schema migration and a second definition here; with a row stored as JSON the
new column appears in forms, checks and export at once. A record keeps what
the center entered, as text, like a spreadsheet cell: an EDC must be able to
keep a value that fails a check (with a reason) until it is fixed, which a
typed column could not hold. The checks are the contract's own (checks.py).
Table names are validated in code, not as model `choices`, for the same
reason (choices end up in migrations).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

CENTER_ROLES = ("investigator", "viewer")
ROLES = CENTER_ROLES + ("coordinator", "monitor", "statistician", "admin")


class Study(models.Model):
    name = models.CharField(max_length=100, unique=True)
    cutoff_date = models.DateField(null=True, blank=True, help_text="data cut-off (dates after it are errors)")
    locked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class Center(models.Model):
    """A participating center: the data access group its users are confined to."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="centers")
    name = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "name"], name="center_name_unique")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one study; center roles (investigator, viewer) name their center."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(max_length=20, choices=[(r, r) for r in ROLES])
    center = models.ForeignKey(Center, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "study"], name="one_role_per_study"),
            models.CheckConstraint(
                condition=models.Q(role__in=CENTER_ROLES, center__isnull=False)
                | (~models.Q(role__in=CENTER_ROLES) & models.Q(center__isnull=True)),
                name="center_iff_center_role"),
        ]


class Record(models.Model):
    """One row of one contract table (`patients`, `adverse_events`, ...) of one patient."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="records")
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="records")
    table = models.CharField(max_length=64)
    patient_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict)  # column -> value as entered (text); absent = empty
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "patient_id"], condition=models.Q(table="patients"),
                                               name="one_patients_row_per_patient")]
        indexes = [models.Index(fields=["study", "center", "table"]), models.Index(fields=["study", "patient_id"])]


class PatientLock(models.Model):
    """One patient locked by the coordinator (the whole study is locked by `Study.locked`).

    A locked patient's rows refuse every change until unlocked; lock and unlock are audited.
    """

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="patient_locks")
    patient_id = models.CharField(max_length=64)
    at = models.DateTimeField()  # UTC
    username = models.CharField(max_length=150)
    reason = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "patient_id"], name="one_lock_per_patient")]


class AppendOnly(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("the audit trail is append-only")

    def delete(self):
        raise PermissionError("the audit trail is append-only")


class AuditEntry(models.Model):
    """One audited change of one field (or one whole row on import/delete), hash-chained.

    `hash` = sha256 over this entry's content and the previous entry's hash
    (audit.py), so changing or deleting any row breaks the chain after it.
    """

    at = models.DateTimeField()  # UTC
    username = models.CharField(max_length=150)  # text, not a foreign key: the trail outlives accounts
    study = models.ForeignKey(Study, on_delete=models.PROTECT)
    action = models.CharField(max_length=10)  # create | update | delete | import | lock | unlock
    table = models.CharField(max_length=64)
    record_id = models.BigIntegerField(null=True)
    patient_id = models.CharField(max_length=64)
    center = models.CharField(max_length=100)
    field = models.CharField(max_length=64)
    old = models.TextField(null=True)
    new = models.TextField(null=True)
    reason = models.TextField(blank=True, default="")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AppendOnly.as_manager()

    class Meta:
        indexes = [models.Index(fields=["study", "patient_id"])]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("the audit trail is append-only")


QUERY_STATUSES = ("open", "answered", "closed", "reopened")


class Query(models.Model):
    """A data clarification query on one field of one row of a patient (queries.py moves it along).

    The patient's center is kept on the query so that a center user's queries
    are filtered exactly as their records are (permissions: data access group).
    `record_id` is a plain number, not a foreign key: the query and its trail
    outlive a deleted row, as the audit trail does.
    """

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="queries")
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="queries")
    patient_id = models.CharField(max_length=64)
    table = models.CharField(max_length=64)
    record_id = models.BigIntegerField(null=True)
    field = models.CharField(max_length=64)
    rule = models.CharField(max_length=64, blank=True, default="")  # the finding it was raised from, if any
    text = models.TextField()
    status = models.CharField(max_length=10, default="open", choices=[(s, s) for s in QUERY_STATUSES])
    opened_by = models.CharField(max_length=150)  # username as text, like the audit trail
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["study", "patient_id"]), models.Index(fields=["study", "center", "status"])]


class QueryMessage(models.Model):
    """One step of a query's thread: who opened, answered, closed or re-opened it, and what they wrote."""

    query = models.ForeignKey(Query, on_delete=models.CASCADE, related_name="messages")
    at = models.DateTimeField()
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=10)  # open | answer | close | reopen
    text = models.TextField(blank=True, default="")
