"""Per-deployment knobs of the sync engine (settings.SYNC_<NAME>)."""

from __future__ import annotations

from django.conf import settings


def conf(name: str, default):
    """Per-deployment knobs (settings.SYNC_*), read at use so tests can override them."""
    return getattr(settings, f"SYNC_{name}", default)
