"""Reads for the onboarding. Every selector takes the workspace first."""

from __future__ import annotations

from cdp.models import Workspace
from onboarding.models import WorkspaceProfile


def profile_get(*, workspace: Workspace) -> WorkspaceProfile:
    """The saved profile, or an unsaved one with the defaults (a GET never writes)."""
    profile = WorkspaceProfile.objects.filter(workspace=workspace).first()
    return profile if profile is not None else WorkspaceProfile(workspace=workspace)
