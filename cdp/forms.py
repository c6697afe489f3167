from __future__ import annotations

from django import forms

from cdp.services import workspace_create

WORKSPACE_NAME_MAX = 100


class WorkspaceNameField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Workspace name")
        kwargs.setdefault("max_length", WORKSPACE_NAME_MAX)
        kwargs.setdefault("help_text", "Usually your company's name. You can change it later.")
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if not any(ch.isalnum() for ch in value):
            raise forms.ValidationError("Give your workspace a name with at least one letter or digit.")


class SignupWorkspaceForm(forms.Form):
    """Extra fields on allauth's sign-up form: the new user names their workspace."""

    workspace_name = WorkspaceNameField()

    def signup(self, request, user) -> None:
        workspace = workspace_create(owner=user, name=self.cleaned_data["workspace_name"])
        request.session["workspace_id"] = workspace.pk


class WorkspaceCreateForm(forms.Form):
    name = WorkspaceNameField()
