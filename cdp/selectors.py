"""Reads. Every selector that returns workspace data takes the workspace first."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from cdp.models import Membership, Workspace


def workspace_for_user(*, user: AbstractBaseUser, workspace_id: int | None = None) -> Workspace | None:
    """The workspace the user works in: the one asked for if they are a member of it, else their first."""
    memberships = Membership.objects.filter(user=user).select_related("workspace").order_by("created_at")
    if workspace_id is not None:
        chosen = memberships.filter(workspace_id=workspace_id).first()
        if chosen is not None:
            return chosen.workspace
    first = memberships.first()
    return first.workspace if first else None


def membership_get(*, workspace: Workspace, user: AbstractBaseUser) -> Membership | None:
    return Membership.objects.filter(workspace=workspace, user=user).first()
