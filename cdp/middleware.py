from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from cdp.selectors import workspace_for_user

SESSION_KEY = "workspace_id"


class CurrentWorkspaceMiddleware:
    """Puts `request.workspace` on every request: the signed-in user's current workspace, or None."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        def current():
            if not request.user.is_authenticated:
                return None
            return workspace_for_user(user=request.user, workspace_id=request.session.get(SESSION_KEY))

        request.workspace = SimpleLazyObject(current)
        return self.get_response(request)
