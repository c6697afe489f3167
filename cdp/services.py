"""Writes on workspaces and memberships."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.crypto import get_random_string
from django.utils.text import slugify

from cdp.catalogue import catalogue_ensure
from cdp.models import Membership, Workspace


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
