"""The data source's settings pages that edit what an onboarding step chose: Fields, Permissions, Custom
objects, Identifiers, Merge and Selective sync.

Such a page and its step share one form and one save. The steps belong to the onboarding, which depends
on this app and never the reverse: so the onboarding registers each step here, in its AppConfig.ready(),
as the settings section of a page, and the page asks for it by name. A page without a section is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django import forms
from django.http import HttpRequest

from cdp.models import Workspace
from integrations.models import Connection


@dataclass
class SourceContext:
    """What a section reads: the workspace, the connection the page shows and the request."""

    workspace: Workspace
    connection: Connection
    request: HttpRequest | None = None
    # Per-request memo for expensive reads a section makes more than once (the org catalogue).
    memo: dict[str, Any] = field(default_factory=dict)


class SettingsSection(Protocol):
    form_class: type[forms.Form]
    lead: str  # one or two sentences under the page's heading

    def get_form_kwargs(self, ctx: SourceContext) -> dict[str, Any]: ...

    def get_context(self, ctx: SourceContext) -> dict[str, Any]: ...

    def save_settings(self, ctx: SourceContext, form: forms.Form) -> None: ...

    def preview(self, ctx: SourceContext, form: forms.Form) -> dict[str, Any]: ...


_sections: dict[str, SettingsSection] = {}


def settings_section_register(page: str, section: SettingsSection) -> None:
    _sections[page] = section


def settings_section_for(page: str) -> SettingsSection | None:
    return _sections.get(page)
