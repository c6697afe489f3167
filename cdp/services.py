"""Writes on workspaces and memberships."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify

from cdp import extensions, roles
from cdp.catalogue import catalogue_ensure
from cdp.models import PERMISSION_SOURCE_CDP, Membership, PermissionChange, Person, Workspace


@transaction.atomic
def workspace_create(*, owner: User, name: str) -> Workspace:
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
    *, workspace: Workspace, person_id: int, field_id: str, value: bool, actor: User | None
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
    """Whether a source's re-subscribe may undo an unsubscribe made in Inflow (the onboarding's
    permissions step asks)."""
    Workspace.objects.filter(pk=workspace.pk).update(sticky_unsubscribe=sticky)
    workspace.sticky_unsubscribe = sticky


# ------------------------------------------------------------------------------------------- members


def member_invite(
    *, workspace: Workspace, email: str, role: str, invited_by: User, site_url: str
) -> Membership:
    """Adds the person with `email` to the workspace in `role` (an owner's act) and emails them. Someone new
    gets an account without a password and a link to set one; the answer is the same either way."""
    from allauth.account.forms import default_token_generator
    from allauth.account.models import EmailAddress
    from allauth.account.utils import user_pk_to_url_str
    from django.contrib.auth import get_user_model
    from django.core.mail import send_mail
    from django.urls import reverse

    roles.require_role(invited_by, workspace, roles.OWNER)
    if role not in Membership.Role.values:
        raise ValidationError({"role": "Choose Owner, Admin or Member."})
    email = email.strip().lower()
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).order_by("pk").first()
        if user is None:
            user = User(username=email, email=email)
            user.set_unusable_password()
            user.save()
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
        membership, _ = Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": role}
        )
    if user.has_usable_password():
        link = site_url + reverse("account_login")
        action = "Sign in to start"
    else:
        link = site_url + reverse(
            "account_reset_password_from_key",
            kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
        )
        action = "Choose your password to start"
    send_mail(
        f"You are invited to the Inflow workspace {' '.join(workspace.name.split())}",
        f"Hello,\n\n{invited_by.email} added you to the workspace {workspace.name} on Inflow "
        f"as {Membership.Role(membership.role).label.lower()}.\n\n{action}: {link}\n\n— Inflow\n",
        None,
        [email],
    )
    return membership


@transaction.atomic
def membership_role_set(*, workspace: Workspace, membership_id: int, role: str, actor: User) -> Membership:
    """An owner sets a member's role. A workspace always keeps an owner."""
    roles.require_role(actor, workspace, roles.OWNER)
    if role not in Membership.Role.values:
        raise ValidationError({"role": "Choose Owner, Admin or Member."})
    membership = Membership.objects.select_for_update().get(workspace=workspace, pk=membership_id)
    if membership.role == Membership.Role.OWNER and role != Membership.Role.OWNER:
        owners = Membership.objects.select_for_update().filter(
            workspace=workspace, role=Membership.Role.OWNER
        )
        if owners.count() <= 1:
            raise ValidationError({"role": "A workspace needs an owner: make someone else owner first."})
    membership.role = role
    membership.save(update_fields=["role"])
    return membership
