"""Who may do what in a workspace. Members read; owners and admins change settings and run actions;
owners also manage the members. Views and services call `require_role` before a write."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied

from cdp.models import Membership, Workspace

OWNER = Membership.Role.OWNER
ADMIN = Membership.Role.ADMIN
MEMBER = Membership.Role.MEMBER
MANAGERS = (OWNER, ADMIN)

REFUSALS: dict[tuple[str, ...], str] = {
    MANAGERS: "Only the workspace's owners and admins can change this. Ask one of them.",
    (OWNER,): "Only the workspace's owners can do this. Ask one of them.",
}


def role_of(user: User | AnonymousUser, workspace: Workspace) -> str | None:
    if isinstance(user, AnonymousUser) or workspace is None:
        return None
    return Membership.objects.filter(workspace=workspace, user=user).values_list("role", flat=True).first()


def has_role(user: User | AnonymousUser, workspace: Workspace, *roles: str) -> bool:
    return role_of(user, workspace) in roles


def require_role(user: User | AnonymousUser, workspace: Workspace, *roles: str) -> None:
    """Raises PermissionDenied (a 403 page saying why) unless the user has one of `roles` there."""
    if not has_role(user, workspace, *roles):
        raise PermissionDenied(REFUSALS.get(tuple(roles), "Your role in this workspace does not allow this."))
