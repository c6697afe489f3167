"""Read the next page of an object while the current one is applied (one page ahead, no more).

The reader thread speaks HTTP only: it uses a copy of the run's client without its connection, so it never
touches the database (token refresh and API usage writes stay on the worker's thread, inside its
transactions and tests). What it reads and every error it meets reach the worker in order, as the same
objects: a `SalesforceQueryTimeout` or a `WorkerShutdown` raised while reading ahead is raised by the
worker's loop exactly where it was before. An expired session is the one exception handled here: the rest
of the object is read on the worker's own client, which refreshes the token as it always did.

Memory stays flat: the reader fetches page N+1 only once the worker has taken page N, so at most the page
being applied and the one read ahead are held. The page that ends an iteration is handed over without
asking for more, so what a finished iteration does (a Bulk job's deletion) happens on the worker's thread
after that page was taken, as before. When the worker stops early (an error, a pause, SIGTERM) the reader
is told to stop and exits after its current request.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from typing import Any

from integrations.salesforce.errors import SalesforceSessionExpired

logger = logging.getLogger(__name__)

_PAGE, _ERROR, _LAST = "page", "error", "last"


def read_ahead(
    client: Any,
    open_pages: Callable[[Any, Any], Generator[Any, None, None]],
    *,
    resume_after: Callable[[Any], Any],
    is_last: Callable[[Any], bool],
    start: Any = None,
) -> Iterator[Any]:
    """Yield the pages of `open_pages(client, start)`, each read on a thread while the previous one is used.

    `resume_after(page)` is where reading continues after `page` (passed back to `open_pages`);
    `is_last(page)` says the iteration ends with it."""
    reader_client = copy.copy(client)
    reader_client.connection = None  # HTTP only: no token refresh, no usage write from the reader thread
    reader_client.calls = Counter()
    counted: Counter[str] = Counter()

    def account() -> None:
        """The reader's API calls and usage, added to the run's client on the worker's thread."""
        # A copy first: the reader thread may be adding an endpoint to its counter right now.
        new = Counter(dict(reader_client.calls)) - counted
        client.calls.update(new)
        counted.update(new)
        if reader_client.api_usage is not None:
            client.api_usage = reader_client.api_usage

    pages = open_pages(reader_client, start)
    handoff: queue.Queue = queue.Queue(maxsize=1)
    wanted = threading.Semaphore(1)  # the reader fetches a page only when the previous one was taken
    stop = threading.Event()

    def hand(item: tuple) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            while True:
                while not wanted.acquire(timeout=0.2):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                try:
                    page = next(pages)
                except StopIteration:
                    hand((_LAST, None))
                    return
                if not hand((_PAGE, page)):
                    return
                if is_last(page):
                    hand((_LAST, None))
                    return
        except BaseException as exc:  # noqa: BLE001 - every error reaches the worker, typed as it was raised
            hand((_ERROR, exc))
        finally:
            if stop.is_set():
                pages.close()

    reader = threading.Thread(target=read, daemon=True, name="sync-read-ahead")
    reader.start()
    resume = start
    finished = False
    try:
        while True:
            kind, item = handoff.get()
            account()
            if kind == _LAST:
                finished = True
                break
            if kind == _ERROR:
                if isinstance(item, SalesforceSessionExpired):
                    finished = True
                    pages.close()
                    logger.info("Session expired while reading ahead; the worker's client reads on")
                    yield from open_pages(client, resume)
                    return
                finished = True
                raise item
            resume = resume_after(item)
            wanted.release()
            yield item
        # The iteration's own end (a finished Bulk job is deleted) runs here, after its last page was used.
        for _extra in pages:
            raise RuntimeError("a page came after the last one")  # pragma: no cover - is_last is wrong
    finally:
        stop.set()
        wanted.release()
        reader.join(timeout=1.0 if not finished else 5.0)
        account()
