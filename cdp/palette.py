"""The colours statuses are shown in, as tones: Bootstrap colour names (success, warning, danger, info,
secondary, light). The product pages render a tone as Bootstrap's `text-bg-<tone>` badge; the operator
console (which has no Bootstrap) as `inflow-badge-<tone>`, whose colours static/css/admin_console.css defines
to match. Each app maps its own statuses to tones (the integrations' in `integrations.palette`)."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

# Something is on, done or allowed / something waits on a person / something is off or idle.
YES_TONE, ATTENTION_TONE, NO_TONE = "success", "warning", "secondary"


def page_badge(label: str, tone: str) -> SafeString:
    """A Bootstrap badge for the product pages; the palest tone gets a border so it stands off the page."""
    border = " border" if tone == "light" else ""
    return format_html('<span class="badge text-bg-{}{}">{}</span>', tone, border, label)


def console_badge(label: str, tone: str, *, title: str = "") -> SafeString:
    """A badge for the operator console; its colours are classes of static/css/admin_console.css."""
    return format_html('<span class="inflow-badge inflow-badge-{}" title="{}">{}</span>', tone, title, label)


def yes_no_page_badge(value: bool, *, yes: str, no: str) -> SafeString:
    """A yes/no fact (e.g. subscribed to email) as a badge: the yes in the yes tone, the no in the no tone."""
    return page_badge(yes, YES_TONE) if value else page_badge(no, NO_TONE)
