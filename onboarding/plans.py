"""The plans offered on the "Select a plan" step: one table drives the form, the page, the service and the
limits the data sources meet (integrations.plan_limits asks through `workspace_plan_limits`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from cdp.models import Workspace
from integrations.plan_limits import PlanLimits
from onboarding.models import WorkspaceProfile

TRIAL_DAYS = 14


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    price: str
    summary: str
    includes: tuple[str, ...]
    limits: PlanLimits


PLANS: tuple[Plan, ...] = (
    Plan(
        key="free",
        name="Free",
        price="$0 / month",
        summary="Everything you need to bring Salesforce into one customer view.",
        includes=(
            "1 Salesforce connection",
            "Up to 10,000 people",
            "Sync every 15 minutes",
            "50 fields per object",
            "Email and SMS permissions from Salesforce",
        ),
        limits=PlanLimits(
            plan_name="Free",
            connections=1,
            shortest_interval_minutes=15,
            custom_objects=False,
            upgrade_hint="Choose Premium in Settings › Plan to lift this limit.",
        ),
    ),
    Plan(
        key="premium_trial",
        name="Premium trial",
        price=f"Free for {TRIAL_DAYS} days, then $99 / month",
        summary="For teams that sync several orgs and need more history and control.",
        includes=(
            "Everything in Free",
            "Unlimited Salesforce connections",
            "Up to 250,000 people",
            "Sync every minute and on demand",
            "Custom objects",
            "Sync health alerts by email",
        ),
        limits=PlanLimits(plan_name="Premium"),
    ),
)

PLANS_BY_KEY = {plan.key: plan for plan in PLANS}


def workspace_plan_limits(workspace: Workspace) -> PlanLimits | None:
    """The limits of the plan the workspace chose; a Premium trial that has ended is held to Free's.
    None when no plan was chosen (nothing is limited)."""
    # Read fresh: a workspace instance may cache a profile from before the plan was chosen.
    chosen = (
        WorkspaceProfile.objects.filter(workspace_id=workspace.pk).values("plan", "trial_ends_at").first()
    )
    if chosen is None or chosen["plan"] not in PLANS_BY_KEY:
        return None
    plan = PLANS_BY_KEY[chosen["plan"]]
    ends = chosen["trial_ends_at"]
    if plan.key == "premium_trial" and ends and ends <= timezone.now():
        ended = PLANS_BY_KEY["free"].limits
        return PlanLimits(
            plan_name="Free (your Premium trial has ended)",
            connections=ended.connections,
            shortest_interval_minutes=ended.shortest_interval_minutes,
            custom_objects=ended.custom_objects,
            upgrade_hint=ended.upgrade_hint,
        )
    return plan.limits
