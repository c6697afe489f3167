"""The step kit: what every onboarding step is (after allauth's `account/internal/stagekit.py`).

`onboarding.steps` holds the ordered registry; the steps themselves live in `steps` and `salesforce_steps`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse

from cdp.models import Workspace
from integrations.models import Connection
from onboarding import forms as step_forms
from onboarding import services
from onboarding.models import WorkspaceProfile
from onboarding.salesforce import onboarding_connection
from onboarding.selectors import profile_get


@dataclass
class StepContext:
    """What a step needs to decide and render: the workspace, its profile and its Salesforce connection."""

    workspace: Workspace
    request: HttpRequest | None = None
    # Per-request memo for expensive reads a step makes more than once (the org catalogue).
    memo: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def profile(self) -> WorkspaceProfile:
        return profile_get(workspace=self.workspace)

    @cached_property
    def connection(self) -> Connection | None:
        return onboarding_connection(workspace=self.workspace)

    def refresh(self) -> None:
        self.__dict__.pop("profile", None)
        self.__dict__.pop("connection", None)


class Step:
    key: str = ""
    title: str = ""  # the page heading
    nav_label: str = ""  # the step indicator
    group: str = ""
    lead: str = ""  # one or two sentences under the heading
    form_class: type[forms.Form] = step_forms.LaunchForm
    template_name: str = "onboarding/step_form.html"
    next_label: str = "Next"
    # Profile fields the form edits (ModelForm steps on the profile).
    uses_profile_instance: bool = False

    def applies(self, ctx: StepContext) -> bool:
        return True

    def is_complete(self, ctx: StepContext) -> bool:
        return self.key in ctx.profile.completed_steps

    def get_form_kwargs(self, ctx: StepContext) -> dict[str, Any]:
        if self.uses_profile_instance:
            return {"instance": ctx.profile}
        return {"initial": self.get_initial(ctx)}

    def get_initial(self, ctx: StepContext) -> dict[str, Any]:
        return {}

    def get_context(self, ctx: StepContext) -> dict[str, Any]:
        return {}

    def save(self, ctx: StepContext, form: forms.Form) -> HttpResponse | None:
        """Store the step's choices through one service. A response replaces the usual redirect."""
        if self.uses_profile_instance:
            services.profile_update(workspace=ctx.workspace, data=_cleaned_fields(form))
        return None

    def save_settings(self, ctx: StepContext, form: forms.Form) -> None:
        """The same save from a settings page after onboarding (where a step may do less, e.g. start no sync)."""
        self.save(ctx, form)

    def preview(self, ctx: StepContext, form: forms.Form) -> dict[str, Any]:
        """Extra context for a "Preview" submit: nothing is saved."""
        return {}


def _cleaned_fields(form: forms.Form) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}
