"""Graceful shutdown of a qcluster worker (docs/operations.md "Stopping workers").

django-q2's worker processes die at once on SIGTERM, wherever they are. `on_worker_spawn` (connected to
django-q's `post_spawn` in `IntegrationsConfig.ready`) gives each worker process its own handler instead:
an idle worker exits at once; a worker inside a sync run sets `requested`, the engine stops at its next
checkpoint (between pages, or in a retry or Bulk wait, which sleep on `sleep` below), puts the run back in
the queue (reason code `shutdown`) and the worker exits. A hard deadline (`SYNC_SHUTDOWN_GRACE_SECONDS`,
below the process manager's grace period) makes sure the worker is gone before the manager's SIGKILL: a
page interrupted that way was never committed, and the run resumes from its last checkpoint.

The worker also recovers runs at spawn (`tasks.recover_runs`): a worker killed mid-run is reincarnated by
the cluster's guard within a second, and its successor re-enqueues the run the dead pid held.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

logger = logging.getLogger(__name__)

requested = threading.Event()
_busy = threading.Event()  # a sync run is in progress in this process


class WorkerShutdown(Exception):  # noqa: N818 - a request, not an error
    """The worker was asked to stop: leave the run at its last checkpoint."""


def sleep(seconds: float) -> None:
    """time.sleep that a shutdown request interrupts (retries, Bulk API waits)."""
    if requested.wait(max(0.0, seconds)):
        raise WorkerShutdown()


def check() -> None:
    if requested.is_set():
        raise WorkerShutdown()


class busy:  # noqa: N801 - used as a context manager
    """Marks a sync run in progress: SIGTERM then waits for its checkpoint instead of exiting at once."""

    def __enter__(self):
        _busy.set()
        return self

    def __exit__(self, *exc) -> None:
        _busy.clear()


def grace_seconds() -> float:
    from django.conf import settings

    return float(getattr(settings, "SYNC_SHUTDOWN_GRACE_SECONDS", 25))


def _hard_exit_after(seconds: float) -> None:
    def exit_now() -> None:
        time.sleep(seconds)
        logger.warning("Worker %s did not reach a checkpoint in %.0f s: exiting now", os.getpid(), seconds)
        os._exit(0)

    threading.Thread(target=exit_now, daemon=True, name="shutdown-deadline").start()


def _on_sigterm(signum, frame) -> None:
    if not _busy.is_set():
        os._exit(0)
    if requested.is_set():
        return
    requested.set()
    logger.info("Worker %s stopping at the next checkpoint (SIGTERM)", os.getpid())
    _hard_exit_after(grace_seconds())


def exit_if_requested() -> None:
    """After a task: a worker asked to stop exits instead of taking the next task."""
    if requested.is_set():
        logging.shutdown()
        os._exit(0)


def on_worker_spawn(sender=None, proc_name: str = "", **kwargs) -> None:
    import faulthandler

    signal.signal(signal.SIGTERM, _on_sigterm)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: where is it stuck?
    try:
        from integrations.salesforce.tasks import recover_runs  # tasks imports this module: a cycle

        recover_runs(reason="a worker started")
    except Exception:  # noqa: BLE001 - recovery is best effort; the next schedule tick does it too
        logger.warning("Recovering sync runs at worker start failed", exc_info=True)
    finally:
        from django.db import connections

        connections.close_all()  # the worker loop opens its own
