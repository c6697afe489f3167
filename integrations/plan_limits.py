"""What a workspace's plan allows its data sources, checked in the services so every interface (pages, the
admin, commands) meets the same limit with the same words.

The plans themselves belong to the onboarding (the "Select a plan" step): it registers, in its
AppConfig.ready(), a provider that answers a workspace's limits. Without a provider, or for a workspace
that has not chosen a plan (an operator's workspace, a self-hosted install), nothing is limited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from cdp.models import Workspace


@dataclass(frozen=True)
class PlanLimits:
    plan_name: str
    connections: int | None = None  # None: unlimited
    shortest_interval_minutes: int = 1
    custom_objects: bool = True  # objects ending in __c
    upgrade_hint: str = ""


UNLIMITED = PlanLimits(plan_name="")

LimitsProvider = Callable[[Workspace], PlanLimits | None]
_providers: list[LimitsProvider] = []


def limits_provider_register(provider: LimitsProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def limits_for(workspace: Workspace) -> PlanLimits:
    for provider in _providers:
        limits = provider(workspace)
        if limits is not None:
            return limits
    return UNLIMITED


class PlanLimitError(ValidationError):
    """A change the workspace's plan does not allow; the message names the limit and how to lift it."""


def _refuse(limits: PlanLimits, what: str) -> PlanLimitError:
    hint = f" {limits.upgrade_hint}" if limits.upgrade_hint else ""
    return PlanLimitError(f"The {limits.plan_name} plan {what}.{hint}", code="plan_limit")


def check_new_connection(workspace: Workspace, *, existing: int) -> None:
    limits = limits_for(workspace)
    if limits.connections is not None and existing >= limits.connections:
        noun = "connection" if limits.connections == 1 else "connections"
        raise _refuse(limits, f"includes {limits.connections} Salesforce {noun}")


def check_interval(workspace: Workspace, minutes: int) -> None:
    limits = limits_for(workspace)
    if minutes < limits.shortest_interval_minutes:
        raise _refuse(limits, f"syncs at most every {limits.shortest_interval_minutes} minutes")


def check_object(workspace: Workspace, api_name: str) -> None:
    limits = limits_for(workspace)
    if not limits.custom_objects and api_name.endswith("__c"):
        raise _refuse(limits, f"does not include custom objects ({api_name})")


def interval_allowed(workspace: Workspace, minutes: int) -> bool:
    return minutes >= limits_for(workspace).shortest_interval_minutes
