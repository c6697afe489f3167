"""The colour each connection status and sync run state is shown in, everywhere it is shown.

A tone is a Bootstrap colour name. The product pages render it as Bootstrap's `text-bg-<tone>` badge; the
operator console (which has no Bootstrap) as `inflow-badge-<tone>`, whose colours static/css/admin_console.css
defines to match. A new status gets its colour here and nowhere else.
"""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

from integrations.models import Connection, SyncRun

# A tone for what is neither good nor bad: an idle or finished-without-work state.
NEUTRAL_TONE = "secondary"

CONNECTION_STATUS_TONES: dict[str, str] = {
    Connection.Status.CONNECTED: "success",
    Connection.Status.NEEDS_REAUTH: "warning",
    Connection.Status.PAUSED: NEUTRAL_TONE,
    Connection.Status.DISCONNECTED: "light",
}

SYNC_RUN_STATE_TONES: dict[str, str] = {
    SyncRun.State.QUEUED: "info",
    SyncRun.State.RUNNING: "info",
    SyncRun.State.PAUSED: "warning",
    SyncRun.State.SUCCEEDED: "success",
    SyncRun.State.FAILED: "danger",
    SyncRun.State.SKIPPED: "light",
}


def connection_status_tone(status: str) -> str:
    return CONNECTION_STATUS_TONES.get(status, CONNECTION_STATUS_TONES[Connection.Status.DISCONNECTED])


def sync_run_state_tone(state: str) -> str:
    return SYNC_RUN_STATE_TONES.get(state, NEUTRAL_TONE)


def page_badge(label: str, tone: str) -> SafeString:
    """A Bootstrap badge for the product pages; the palest tone gets a border so it stands off the page."""
    border = " border" if tone == "light" else ""
    return format_html('<span class="badge text-bg-{}{}">{}</span>', tone, border, label)


def console_badge(label: str, tone: str, *, title: str = "") -> SafeString:
    """A badge for the operator console; its colours are classes of static/css/admin_console.css."""
    return format_html('<span class="inflow-badge inflow-badge-{}" title="{}">{}</span>', tone, title, label)


def connection_status_page_badge(connection: Connection) -> SafeString:
    return page_badge(connection.get_status_display(), connection_status_tone(connection.status))
