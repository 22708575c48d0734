"""Who may do what: roles per study, and the center as a data access group.

Every query for patient data starts from `visible_records`, so a center user
can never list, read, count, export or guess-by-URL another center's patient:
it is not in their queryset, and the views answer 404 for it exactly as for a
patient that does not exist.
"""
from __future__ import annotations

from rwestudy.server.models import CENTER_ROLES, Membership, Record

# What each role may do (center roles only within their own center).
CAN: dict[str, frozenset[str]] = {
    "investigator": frozenset({"read", "write"}),
    "viewer": frozenset({"read"}),
    "coordinator": frozenset({"read", "export", "query", "lock"}),
    "monitor": frozenset({"read", "query"}),
    "statistician": frozenset({"export"}),
    "admin": frozenset({"users"}),
}


def membership(user, study_name: str | None = None) -> Membership | None:
    """The user's role in `study_name` (or in their only study)."""
    qs = Membership.objects.select_related("study", "center").filter(user=user)
    if study_name:
        qs = qs.filter(study__name=study_name)
    found = list(qs[:2])
    return found[0] if len(found) == 1 else None


def can(m: Membership, action: str) -> bool:
    return action in CAN.get(m.role, frozenset())


def visible_records(m: Membership):
    """The records this membership may read: its center's (center roles), all, or none."""
    if not can(m, "read"):
        return Record.objects.none()
    qs = Record.objects.filter(study=m.study)
    return qs.filter(center=m.center) if m.role in CENTER_ROLES else qs
