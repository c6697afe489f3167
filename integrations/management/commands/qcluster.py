"""`manage.py qcluster`: django-q2's cluster with a SIGTERM that stops it (docs/operations.md).

django-q2's own handler deadlocks when SIGTERM reaches the whole process group (what systemd, supervisord
with stopasgroup and `docker stop` with an init do): the sentinel dies on the signal while it waits on the
stop event, and the main process then blocks for ever setting that event. Here the main process instead
passes SIGTERM to every process of the cluster, waits for them (workers leave their sync run at a
checkpoint, `integrations.salesforce.shutdown`) for at most SYNC_SHUTDOWN_GRACE_SECONDS + 5 s, and exits.
"""

from __future__ import annotations

import logging
import os
import signal
import time

from django.conf import settings
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as DjangoQCommand

logger = logging.getLogger("integrations.salesforce.shutdown")


def _cluster_processes(me: int) -> list[int]:
    """Living processes of this cluster: this process group (the cluster leads it) or this process's
    descendants (when it does not), zombies excluded."""
    pgid = os.getpgid(0)
    parents: dict[int, int] = {}
    groups: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[0] == "Z":
            continue
        parents[int(entry)], groups[int(entry)] = int(fields[1]), int(fields[2])
    if pgid == me:
        return [pid for pid, group in groups.items() if group == pgid and pid != me]
    found, frontier = [], [me]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


class Command(DjangoQCommand):
    def handle(self, *args, **options):
        if options.get("run_once") or options.get("cluster_name"):
            return super().handle(*args, **options)
        settings.SECRET_KEY  # noqa: B018 - the cluster signs tasks with it
        cluster = Cluster()
        stopping: list[int] = []

        def stop(signum, frame) -> None:
            if stopping:
                return
            stopping.append(signum)
            me = os.getpid()
            logger.info(
                "qcluster %s got %s: stopping every process of the cluster", me, signal.strsignal(signum)
            )
            for pid in _cluster_processes(me):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + float(getattr(settings, "SYNC_SHUTDOWN_GRACE_SECONDS", 25)) + 5
            while time.monotonic() < deadline:
                _reap()
                if not _cluster_processes(me):
                    break
                time.sleep(0.1)
            else:
                for pid in _cluster_processes(me):
                    os.kill(pid, signal.SIGKILL)
            logging.shutdown()
            os._exit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        cluster.start()
        # The cluster's processes run until a signal; this process waits for the sentinel.
        while cluster.sentinel.is_alive():
            time.sleep(0.5)
