"""Hooks through which the apps that feed the CDP describe their own data on its pages.

The CDP stores a source as an opaque string (an identity's or activity's `source`, e.g. "salesforce:7") and
knows nothing of what produced it. An app that owns sources registers, in its AppConfig.ready(), a namer that
turns those strings into the names a person reads, and may add sections to the home page. Registering
through here keeps imports flowing one way (the app imports the CDP, never the reverse).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from cdp.models import Workspace

SourceNamer = Callable[..., dict[str, str]]  # (*, workspace, sources) -> {source: human name}
DashboardProvider = Callable[..., dict[str, Any]]  # (*, workspace) -> extra template context

_source_namers: list[SourceNamer] = []
_dashboard_providers: list[DashboardProvider] = []

# Sources the CDP itself writes (a change made by a person in Inflow).
BUILTIN_SOURCE_NAMES = {"inflow": "Inflow", "": "Inflow"}


def source_namer_register(namer: SourceNamer) -> None:
    if namer not in _source_namers:
        _source_namers.append(namer)


def dashboard_provider_register(provider: DashboardProvider) -> None:
    if provider not in _dashboard_providers:
        _dashboard_providers.append(provider)


def source_names(*, workspace: Workspace, sources: Iterable[str]) -> dict[str, str]:
    """{source: name} for every source asked about; an unknown one reads as its kind ("Salesforce")."""
    wanted = list(dict.fromkeys(sources))
    names = {s: BUILTIN_SOURCE_NAMES[s] for s in wanted if s in BUILTIN_SOURCE_NAMES}
    for namer in _source_namers:
        missing = [s for s in wanted if s not in names]
        if not missing:
            break
        names.update(namer(workspace=workspace, sources=missing))
    for source in wanted:
        names.setdefault(source, source.split(":", 1)[0].replace("_", " ").capitalize() or "Inflow")
    return names


def dashboard_context(*, workspace: Workspace) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for provider in _dashboard_providers:
        context.update(provider(workspace=workspace))
    return context
