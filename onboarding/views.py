"""The onboarding's pages: the controller, one view for every step, and the workspace Settings pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import FormView

from cdp import roles
from cdp.mixins import WorkspaceRequiredMixin
from onboarding import services
from onboarding.settings_sections import SECTIONS, SECTIONS_BY_KEY
from onboarding.stepkit import add_service_errors
from onboarding.steps import (
    STEPS_BY_KEY,
    Step,
    StepContext,
    first_incomplete,
    indicator,
    may_visit,
    step_after,
    step_before,
)

BACK = "_back"
PREVIEW = "_preview"


def step_url(step: Step) -> str:
    return reverse("onboarding:step", kwargs={"key": step.key})


class OnboardingStartView(WorkspaceRequiredMixin, View):
    """The controller: wherever the user left off, on whichever device."""

    def get(self, request, *args, **kwargs):
        ctx = StepContext(workspace=self.workspace, request=request)
        target = first_incomplete(ctx)
        if target is not None:
            return redirect(step_url(target))
        if ctx.connection is None:
            # Onboarded without Salesforce and now here from "Connect Salesforce": the first answer decides.
            messages.info(request, "Choose “B2B” and “Salesforce” to connect your Salesforce org.")
            return redirect(step_url(STEPS_BY_KEY["business"]))
        return redirect("cdp:dashboard")


class StepView(WorkspaceRequiredMixin, FormView):
    def dispatch(self, request, *args, **kwargs):
        step = STEPS_BY_KEY.get(kwargs["key"])
        if step is None:
            raise Http404("No such onboarding step.")
        self.step = step
        return super().dispatch(request, *args, **kwargs)

    def setup_context(self) -> StepContext:
        if not hasattr(self, "ctx"):
            self.ctx = StepContext(workspace=self.workspace, request=self.request)
        return self.ctx

    def get(self, request, *args, **kwargs):
        redirect_response = self._guard()
        if redirect_response is not None:
            return redirect_response
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        # The onboarding's answers are the workspace's settings: owners and admins give them.
        roles.require_role(request.user, self.workspace, *roles.MANAGERS)
        redirect_response = self._guard()
        if redirect_response is not None:
            return redirect_response
        if BACK in request.POST:
            return self._back()
        if PREVIEW in request.POST:
            form = self.get_form()
            extra = self.step.preview(self.setup_context(), form) if form.is_valid() else {}
            return self.render_to_response(self.get_context_data(form=form, **extra))
        return super().post(request, *args, **kwargs)

    def _guard(self) -> HttpResponse | None:
        ctx = self.setup_context()
        if may_visit(ctx, self.step):
            return None
        target = first_incomplete(ctx)
        if target is None:
            return redirect("cdp:dashboard")
        if self.step.applies(ctx):
            messages.info(self.request, f"Finish “{target.title}” first.")
        return redirect(step_url(target))

    def _back(self) -> HttpResponse:
        ctx = self.setup_context()
        names = set(self.get_form().fields)
        draft = {name: self.request.POST.getlist(name) for name in names if name in self.request.POST}
        services.onboarding_draft_save(workspace=self.workspace, key=self.step.key, data=draft)
        previous = step_before(ctx, self.step)
        return redirect(step_url(previous) if previous else "cdp:dashboard")

    def get_template_names(self) -> list[str]:
        return [self.step.template_name]

    def get_form_class(self):
        return self.step.form_class

    def get_form_kwargs(self) -> dict[str, Any]:
        ctx = self.setup_context()
        kwargs = self.step.get_form_kwargs(ctx)
        if self.request.method in ("POST", "PUT"):
            kwargs.update(data=self.request.POST, files=self.request.FILES)
        else:
            draft = ctx.profile.drafts.get(self.step.key)
            if draft:
                kwargs["initial"] = {**kwargs.get("initial", {}), **_draft_initial(draft)}
        return kwargs

    def form_valid(self, form):
        ctx = self.setup_context()
        try:
            response = self.step.save(ctx, form)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        if response is not None:
            return response
        ctx.refresh()
        following = step_after(ctx, self.step)
        services.onboarding_step_complete(
            workspace=self.workspace, key=self.step.key, next_key=following.key if following else ""
        )
        ctx.refresh()
        return HttpResponseRedirect(step_url(following) if following else reverse("cdp:dashboard"))

    def get_context_data(self, **kwargs):
        ctx = self.setup_context()
        data = super().get_context_data(**kwargs)
        steps = indicator(ctx, self.step)
        previous = step_before(ctx, self.step) if self.step.applies(ctx) else None
        data.update(
            step=self.step,
            steps=steps,
            step_number=next((s["number"] for s in steps if s["current"]), 1),
            step_total=len(steps),
            previous_step=previous,
            profile=ctx.profile,
        )
        data.update({k: v for k, v in self.step.get_context(ctx).items() if k not in kwargs})
        return data


def _draft_initial(draft: dict[str, list[str]]) -> dict[str, Any]:
    return {name: values[0] if len(values) == 1 else values for name, values in draft.items()}


class SettingsView(WorkspaceRequiredMixin, FormView):
    """Workspace Settings: the onboarding's address, email, brand, links and plan forms, editable any time."""

    template_name = "onboarding/settings.html"

    def dispatch(self, request, *args, **kwargs):
        key = kwargs.get("section") or SECTIONS[0].key
        if key not in SECTIONS_BY_KEY:
            raise Http404("No such settings page.")
        self.section = SECTIONS_BY_KEY[key]
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return self.section.step.form_class

    def post(self, request, *args, **kwargs):
        roles.require_role(request.user, self.workspace, *roles.MANAGERS)
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        self.ctx = StepContext(workspace=self.workspace, request=self.request)
        kwargs = self.section.step.get_form_kwargs(self.ctx)
        if self.request.method == "POST":
            kwargs.update(data=self.request.POST, files=self.request.FILES)
        return kwargs

    def form_valid(self, form):
        try:
            self.section.step.save(self.ctx, form)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{self.section.title} saved.")
        return redirect("onboarding:settings_section", section=self.section.key)

    def get_context_data(self, **kwargs):
        data = super().get_context_data(**kwargs)
        data.update(
            sections=SECTIONS,
            section=self.section,
            step=self.section.step,
            profile=self.ctx.profile,
        )
        data.update(self.section.step.get_context(self.ctx))
        return data


# The data-source pages still import the helper by its old name.
_add_errors = add_service_errors
