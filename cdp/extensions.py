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
# (*, change) -> None: runs inside the transaction that records a permission change made in Inflow, so what
# the hook writes (a write-back to a source) commits or rolls back with the change itself.
PermissionChangeHook = Callable[..., object]
# (*, workspace, changes) -> {change id: [line, ...]}: what became of each change elsewhere, for its history.
PermissionNoteProvider = Callable[..., dict[int, list[str]]]

_source_namers: list[SourceNamer] = []
_dashboard_providers: list[DashboardProvider] = []
_permission_change_hooks: list[PermissionChangeHook] = []
_permission_note_providers: list[PermissionNoteProvider] = []

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


def permission_change_hook_register(hook: PermissionChangeHook) -> None:
    if hook not in _permission_change_hooks:
        _permission_change_hooks.append(hook)


def permission_change_hooks_run(*, change) -> None:
    for hook in _permission_change_hooks:
        hook(change=change)


def permission_note_provider_register(provider: PermissionNoteProvider) -> None:
    if provider not in _permission_note_providers:
        _permission_note_providers.append(provider)


def permission_notes(*, workspace: Workspace, changes) -> dict[int, list[str]]:
    changes = list(changes)
    notes: dict[int, list[str]] = {}
    for provider in _permission_note_providers:
        for change_id, lines in provider(workspace=workspace, changes=changes).items():
            notes.setdefault(change_id, []).extend(lines)
    return notes
