"""Study admin: accounts, roles and centers. Every change is an audit entry.

Passwords are hashed by Django (argon2 first, settings.PASSWORD_HASHERS) and
checked by its password validators; they never reach the audit trail. A
user's entries are on table `users`, record = the account's id, with no
patient and no center (so a center's audit export holds patient data only;
the center a user is moved to is the entry's old/new value).
"""
from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError

from rwestudy.server import audit
from rwestudy.server.models import CENTER_ROLES, ROLES, AuditEntry, Center, Membership, Study


class Refused(Exception):
    """A change the admin cannot make, with the sentence that says why."""


def members(study: Study) -> list[Membership]:
    return list(Membership.objects.filter(study=study).select_related("user", "center").order_by("user__username"))


def _center(study: Study, role: str, center_name: str | None) -> Center | None:
    if role not in ROLES:
        raise Refused(f"choose a role: {', '.join(ROLES)}")
    if role not in CENTER_ROLES:
        if center_name:
            raise Refused(f"a {role} works across centers: leave the center empty")
        return None
    center = Center.objects.filter(study=study, name=center_name or "").first()
    if center is None:
        raise Refused(f"an {role} belongs to one center: choose one of the study's centers")
    return center


def _entry(study, admin: str, user, field: str, old, new, reason: str) -> AuditEntry:
    return AuditEntry(at=None, username=admin, study=study, action="user", table="users", record_id=user.pk,
                      patient_id="", center="", field=field, old=old, new=new, reason=reason)


def create_user(study: Study, admin: str, username: str, password: str, role: str, center_name: str | None,
                reason: str = ""):
    """A new account with its role (and center) in `study`, audited as one entry."""
    username = (username or "").strip()
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise Refused("a username is letters, digits and @ . + - _ only") from None
    if not username or len(username) > 150:
        raise Refused("give a username (at most 150 characters)")
    center = _center(study, role, center_name)
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise Refused(f"the username {username!r} is taken")
    user = User(username=username)
    try:
        validate_password(password or "", user)
    except ValidationError as exc:
        raise Refused("password too weak: " + " ".join(exc.messages)) from None
    with audit.writing():
        user.set_password(password)
        user.save()
        Membership.objects.create(user=user, study=study, role=role, center=center)
        new = json.dumps({"username": username, "role": role, "center": center.name if center else None},
                         sort_keys=True)
        audit.append([_entry(study, admin, user, "account", None, new, reason or "account created")])
    return user


def change_user(study: Study, admin, username: str, role: str, center_name: str | None, active: bool,
                reason: str) -> list[str]:
    """Change a member's role, center or active state; returns the fields changed (each audited)."""
    m = Membership.objects.select_related("user", "center").filter(study=study, user__username=username).first()
    if m is None:
        raise LookupError(username)
    if m.user.pk == admin.pk:
        raise Refused("you cannot change your own account (ask another admin): it could lock the study out")
    center = _center(study, role, center_name)
    old = {"role": m.role, "center": m.center.name if m.center else None, "active": "yes" if m.user.is_active else "no"}
    new = {"role": role, "center": center.name if center else None, "active": "yes" if active else "no"}
    changed = [k for k in old if old[k] != new[k]]
    if not changed:
        return []
    if not (reason or "").strip():
        raise Refused("give a reason for the change")
    with audit.writing():
        m.role, m.center = role, center
        m.save(update_fields=["role", "center"])
        if m.user.is_active != active:
            m.user.is_active = active
            m.user.save(update_fields=["is_active"])
        audit.append([_entry(study, admin.username, m.user, k, old[k], new[k], reason.strip()) for k in changed])
    return changed
