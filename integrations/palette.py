"""The tone (see `cdp.palette`) each connection status and sync run state is shown in, everywhere it is
shown. A new status gets its colour here and nowhere else."""

from __future__ import annotations

from django.utils.safestring import SafeString

from cdp.palette import ATTENTION_TONE, NO_TONE, YES_TONE, page_badge
from integrations.models import Connection, SyncRun

# A tone for what is neither good nor bad: an idle or finished-without-work state.
NEUTRAL_TONE = NO_TONE

CONNECTION_STATUS_TONES: dict[str, str] = {
    Connection.Status.CONNECTED: YES_TONE,
    Connection.Status.NEEDS_REAUTH: ATTENTION_TONE,
    Connection.Status.PAUSED: NEUTRAL_TONE,
    Connection.Status.DISCONNECTED: "light",
}

SYNC_RUN_STATE_TONES: dict[str, str] = {
    SyncRun.State.QUEUED: "info",
    SyncRun.State.RUNNING: "info",
    SyncRun.State.PAUSED: ATTENTION_TONE,
    SyncRun.State.SUCCEEDED: YES_TONE,
    SyncRun.State.FAILED: "danger",
    SyncRun.State.SKIPPED: "light",
}


def connection_status_tone(status: str) -> str:
    return CONNECTION_STATUS_TONES.get(status, CONNECTION_STATUS_TONES[Connection.Status.DISCONNECTED])


def sync_run_state_tone(state: str) -> str:
    return SYNC_RUN_STATE_TONES.get(state, NEUTRAL_TONE)


def connection_status_page_badge(connection: Connection) -> SafeString:
    return page_badge(connection.get_status_display(), connection_status_tone(connection.status))
