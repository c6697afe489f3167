"""The one way a view gets the current workspace: login required, membership required."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect


def signed_in_user(request: HttpRequest) -> User:
    """The person a login-required view serves (LoginRequiredMixin has turned everyone else away)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def _missing_workspace(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.workspace:
        return redirect("cdp:workspace_create")
    return None


class WorkspaceRequiredMixin(LoginRequiredMixin):
    """Views that show or change workspace data. `self.workspace` is the user's current workspace."""

    def dispatch(self, request, *args, **kwargs):
        response = _missing_workspace(request)
        if response is not None:
            return response
        self.workspace = (
            request.workspace._wrapped if hasattr(request.workspace, "_wrapped") else request.workspace
        )
        return super().dispatch(request, *args, **kwargs)
