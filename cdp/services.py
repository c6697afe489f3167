"""Writes on workspaces and memberships."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify

from cdp import extensions
from cdp.catalogue import catalogue_ensure
from cdp.models import PERMISSION_SOURCE_CDP, Membership, PermissionChange, Person, Workspace


@transaction.atomic
def workspace_create(*, owner: AbstractBaseUser, name: str) -> Workspace:
    name = name.strip()
    base = slugify(name)[:100] or "workspace"
    slug = base
    while Workspace.objects.filter(slug=slug).exists():
        slug = f"{base}-{get_random_string(6).lower()}"
    workspace = Workspace(name=name, slug=slug)
    workspace.full_clean()
    workspace.save()
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    catalogue_ensure(workspace=workspace)
    return workspace


PERMISSION_ATTNAMES = {"bol::p": "email_permission", "bol::sp": "sms_permission"}


@transaction.atomic
def person_permission_set(
    *, workspace: Workspace, person_id: int, field_id: str, value: bool, actor: AbstractBaseUser | None
) -> Person:
    """Subscribe or unsubscribe a person from inside Inflow, with a history row.

    An unsubscribe made here is what `Workspace.sticky_unsubscribe` protects from a source's re-subscribe.
    Every caller (the person page, the admin, a command) comes through here, and the registered hooks run
    in this transaction (integrations queues the write-back to Salesforce with the change).
    """
    if field_id not in PERMISSION_ATTNAMES:
        raise ValueError(f"{field_id} is not a permission field")
    attname = PERMISSION_ATTNAMES[field_id]
    person = Person.objects.select_for_update().get(workspace=workspace, pk=person_id)
    old = getattr(person, attname)
    if old == value:
        return person
    now = timezone.now()
    setattr(person, attname, value)
    setattr(person, f"{attname}_source", PERMISSION_SOURCE_CDP)
    person.updated_at = now
    person.save(update_fields=[attname, f"{attname}_source", "updated_at"])
    change = PermissionChange(
        workspace=workspace,
        person=person,
        field_id=field_id,
        old_value=old,
        new_value=value,
        source=PERMISSION_SOURCE_CDP,
        actor=actor,
        changed_at=now,
    )
    change.full_clean()
    change.save()
    extensions.permission_change_hooks_run(change=change)
    return person


def workspace_sticky_unsubscribe_set(*, workspace: Workspace, sticky: bool) -> None:
    """Whether a source's re-subscribe may undo an unsubscribe made in Inflow (seed step 4)."""
    Workspace.objects.filter(pk=workspace.pk).update(sticky_unsubscribe=sticky)
    workspace.sticky_unsubscribe = sticky
