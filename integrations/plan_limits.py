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
from integrations.connection_settings import connection_settings_update
from integrations.models import Connection, SyncedObject


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


def check_new_connection(workspace: Workspace, *, org_id: str = "") -> None:
    """Refuses one connection more than the plan includes; a disconnected connection does not count, and
    neither does the org being connected again."""

    limits = limits_for(workspace)
    if limits.connections is None:
        return
    existing = (
        Connection.objects.filter(workspace=workspace)
        .exclude(status=Connection.Status.DISCONNECTED)
        .exclude(org_id=org_id or None)
        .count()
    )
    if existing >= limits.connections:
        noun = "connection" if limits.connections == 1 else "connections"
        raise _refuse(limits, f"includes {limits.connections} Salesforce {noun}")


def check_interval(workspace: Workspace, minutes: int) -> None:
    limits = limits_for(workspace)
    if minutes < limits.shortest_interval_minutes:
        raise _refuse(limits, f"syncs at most every {limits.shortest_interval_minutes} minutes")


def check_object(workspace: Workspace, api_name: str, label: str = "") -> None:
    limits = limits_for(workspace)
    if not limits.custom_objects and api_name.endswith("__c"):
        raise _refuse(limits, f"does not include custom objects ({label or api_name})")


def plan_change_problems(workspace: Workspace, limits: PlanLimits) -> list[str]:
    """What the workspace uses that `limits` would not allow, in words; empty when it fits."""

    problems = []
    in_use = Connection.objects.filter(workspace=workspace).exclude(status=Connection.Status.DISCONNECTED)
    if limits.connections is not None and in_use.count() > limits.connections:
        problems.append(
            f"it includes {limits.connections} Salesforce connection(s) and this workspace has "
            f"{in_use.count()}; disconnect one under Data sources first"
        )
    if not limits.custom_objects:
        custom = sorted(
            SyncedObject.objects.filter(
                workspace=workspace, enabled=True, api_name__endswith="__c", connection__in=in_use
            ).values_list("label", flat=True)
        )
        if custom:
            problems.append(
                f"it does not include custom objects and {', '.join(custom)} "
                f"{'is' if len(custom) == 1 else 'are'} synced; turn them off under Data sources first"
            )
    return problems


def intervals_fit(workspace: Workspace, limits: PlanLimits) -> int:
    """Moves every connection syncing more often than `limits` allow to the shortest interval they allow;
    returns how many moved."""

    moved = 0
    for connection in Connection.objects.filter(
        workspace=workspace, schedule_interval_minutes__lt=limits.shortest_interval_minutes
    ):
        allowed = min(
            (c for c in Connection.ScheduleInterval.values if c >= limits.shortest_interval_minutes),
            default=max(Connection.ScheduleInterval.values),
        )
        connection_settings_update(connection=connection, schedule_interval_minutes=allowed)
        moved += 1
    return moved
