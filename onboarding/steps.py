"""The onboarding's step registry: one ordered list, one URL per step, progress on WorkspaceProfile.

Modelled on allauth's `account/stages.py`: each step knows its key, form, template and whether it is
complete for a workspace; the controller (`first_incomplete`) sends the user to the first step that is not.
A step may not apply (the Salesforce steps only apply to a B2B business on Salesforce). Nothing here
writes except through `onboarding.services` and the integration services the Salesforce steps call.
"""

from __future__ import annotations

from typing import Any

from onboarding import forms as step_forms
from onboarding import salesforce_steps as sf
from onboarding import services
from onboarding.plans import PLANS, PLANS_BY_KEY
from onboarding.stepkit import Step, StepContext


class BusinessStep(Step):
    key = "business"
    title = "About your business"
    nav_label = "Your business"
    group = "Your business"
    lead = "Tell us a little about your customers so Inflow can suggest the right data source."
    form_class = step_forms.BusinessForm

    def is_complete(self, ctx):
        return bool(ctx.profile.business_type and ctx.profile.crm)

    def get_initial(self, ctx):
        return {"business_type": ctx.profile.business_type or None, "crm": ctx.profile.crm or None}

    def save(self, ctx, form):
        services.profile_update(workspace=ctx.workspace, data=dict(form.cleaned_data))
        return None


class AddressStep(Step):
    key = "address"
    title = "Business address"
    nav_label = "Address"
    group = "Your brand"
    lead = "The physical address of your business. It appears in the footer of every email you send."
    form_class = step_forms.AddressForm
    template_name = "onboarding/step_address.html"
    uses_profile_instance = True

    def is_complete(self, ctx):
        return ctx.profile.has_address and self.key in ctx.profile.completed_steps


class EmailSetupStep(Step):
    key = "email"
    title = "Email setup"
    nav_label = "Email"
    group = "Your brand"
    lead = "Check who your email comes from and where replies go."
    form_class = step_forms.EmailSetupForm
    uses_profile_instance = True

    def get_form_kwargs(self, ctx):
        kwargs = super().get_form_kwargs(ctx)
        profile = ctx.profile
        # Sensible suggestions the user only has to confirm: the workspace name and the user's email.
        if not profile.sender_name:
            kwargs["initial"] = {"sender_name": ctx.workspace.name}
            if ctx.request is not None and ctx.request.user.is_authenticated:
                kwargs["initial"]["sender_email"] = ctx.request.user.email
        return kwargs

    def is_complete(self, ctx):
        return ctx.profile.has_email_setup and self.key in ctx.profile.completed_steps


class BrandStep(Step):
    key = "brand"
    title = "Brand setup"
    nav_label = "Brand"
    group = "Your brand"
    lead = "Choose how your email looks. The preview on the right changes as you go."
    form_class = step_forms.BrandForm
    template_name = "onboarding/step_brand.html"
    uses_profile_instance = True


class LinksStep(Step):
    key = "links"
    title = "Links and social setup"
    nav_label = "Links"
    group = "Your brand"
    lead = "Add your website and social profiles. They appear as links in the footer of your email."
    form_class = step_forms.LinksForm
    uses_profile_instance = True

    def is_complete(self, ctx):
        return bool(ctx.profile.website_url) and self.key in ctx.profile.completed_steps


class PlanStep(Step):
    key = "plan"
    title = "Select a plan"
    nav_label = "Plan"
    group = "Plan"
    lead = (
        "Start free, or try every premium feature for 14 days. No card needed; change any time in Settings."
    )
    form_class = step_forms.PlanForm
    template_name = "onboarding/step_plan.html"

    def is_complete(self, ctx):
        return bool(ctx.profile.plan) and self.key in ctx.profile.completed_steps

    def get_initial(self, ctx):
        return {"plan": ctx.profile.plan or None}

    def get_context(self, ctx):
        return {"plans": PLANS}

    def save(self, ctx, form):
        services.profile_update(workspace=ctx.workspace, data={"plan": form.cleaned_data["plan"]})
        return None


class LaunchStep(Step):
    key = "launch"
    title = "You're all set"
    nav_label = "Launch"
    group = "Plan"
    lead = "Everything is in place. Launch Inflow to see your customers."
    template_name = "onboarding/step_launch.html"
    next_label = "Launch Inflow"

    def is_complete(self, ctx):
        return ctx.profile.launched_at is not None

    def get_context(self, ctx):
        connection = ctx.connection if ctx.profile.uses_salesforce else None
        return {"plan": PLANS_BY_KEY.get(ctx.profile.plan), "connection": connection}

    def save(self, ctx, form):
        from django.shortcuts import redirect

        services.onboarding_launch(workspace=ctx.workspace)
        return redirect("cdp:dashboard")


def _registry() -> tuple[Step, ...]:
    return (
        BusinessStep(),
        sf.ConnectStep(),
        sf.FieldsStep(),
        sf.PermissionsStep(),
        sf.CustomObjectsStep(),
        sf.IdentifiersStep(),
        sf.MergeStep(),
        sf.FiltersStep(),
        sf.CongratulationsStep(),
        AddressStep(),
        EmailSetupStep(),
        BrandStep(),
        LinksStep(),
        PlanStep(),
        LaunchStep(),
    )


STEPS: tuple[Step, ...] = _registry()
STEPS_BY_KEY: dict[str, Step] = {step.key: step for step in STEPS}


def applicable_steps(ctx: StepContext) -> list[Step]:
    return [step for step in STEPS if step.applies(ctx)]


def first_incomplete(ctx: StepContext) -> Step | None:
    for step in applicable_steps(ctx):
        if not step.is_complete(ctx):
            return step
    return None


def step_after(ctx: StepContext, step: Step) -> Step | None:
    steps = applicable_steps(ctx)
    index = steps.index(step)
    return steps[index + 1] if index + 1 < len(steps) else None


def step_before(ctx: StepContext, step: Step) -> Step | None:
    steps = applicable_steps(ctx)
    index = steps.index(step)
    return steps[index - 1] if index > 0 else None


def may_visit(ctx: StepContext, step: Step) -> bool:
    """A user may open any step up to the first incomplete one, never one beyond it (tampered URLs)."""
    if not step.applies(ctx):
        return False
    target = first_incomplete(ctx)
    if target is None:
        return True
    steps = applicable_steps(ctx)
    return steps.index(step) <= steps.index(target)


def indicator(ctx: StepContext, current: Step) -> list[dict[str, Any]]:
    """The step indicator: every applicable step with its state, grouped in order."""
    target = first_incomplete(ctx)
    steps = applicable_steps(ctx)
    reachable_until = steps.index(target) if target is not None else len(steps) - 1
    return [
        {
            "step": step,
            "number": number,
            "current": step is current,
            "complete": step.is_complete(ctx),
            "reachable": index <= reachable_until,
        }
        for index, (number, step) in enumerate(enumerate(steps, start=1))
    ]
