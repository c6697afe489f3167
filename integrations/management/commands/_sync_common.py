"""Shared by the sync commands: resolving --connection / --workspace, and a terminal progress bar."""

from __future__ import annotations

import sys
import time

from django.core.management.base import CommandError

from integrations.models import Connection


def add_target_arguments(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--connection", type=int, help="Connection id (default: every connected connection).")
    group.add_argument("--workspace", help="Workspace slug: every connection of that workspace.")


def resolve_connections(options) -> list[Connection]:
    qs = Connection.objects.select_related("workspace").exclude(status=Connection.Status.DISCONNECTED)
    if options.get("connection"):
        qs = Connection.objects.select_related("workspace").filter(pk=options["connection"])
        if not qs.exists():
            raise CommandError(f"No connection with id {options['connection']}.")
    elif options.get("workspace"):
        qs = qs.filter(workspace__slug=options["workspace"])
        if not qs.exists():
            raise CommandError(f"Workspace '{options['workspace']}' has no Salesforce connection.")
    connections = list(qs.order_by("pk"))
    if not connections:
        raise CommandError("There is no Salesforce connection yet: connect one from Data sources first.")
    return connections


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "--"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class ProgressBar:
    """records, rate, ETA on one line (a TTY) or one line per update at most every 2 s (a log)."""

    def __init__(self, stream=None, width: int = 28):
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.monotonic()
        self.last_line = 0.0
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, run) -> None:
        now = time.monotonic()
        if not self.tty and now - self.last_line < 2:
            return
        self.last_line = now
        total = sum((e.get("total") or 0) for e in run.progress.values())
        done = sum((e.get("done") or 0) for e in run.progress.values())
        current = next((n for n, e in run.progress.items() if e.get("state") == "running"), "")
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        eta = (max(total - done, 0) / rate) if rate and total else None
        filled = int(self.width * min(done / total, 1)) if total else 0
        bar = "#" * filled + "." * (self.width - filled)
        line = (
            f"[{bar}] {done:,}/{total:,} records  {rate:,.0f} rec/s  ETA {fmt_seconds(eta)}  {current}"
            if total
            else f"{done:,} records  {rate:,.0f} rec/s  {current}"
        )
        self.stream.write(("\r" + line.ljust(100)) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
