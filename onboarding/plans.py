"""The plans offered on the "Select a plan" step: one table drives the form, the page and the service."""

from __future__ import annotations

from dataclasses import dataclass

TRIAL_DAYS = 14


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    price: str
    summary: str
    includes: tuple[str, ...]


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
            "Sync every 5 minutes and on demand",
            "Custom objects and junction objects",
            "Sync health alerts by email",
        ),
    ),
)

PLANS_BY_KEY = {plan.key: plan for plan in PLANS}
