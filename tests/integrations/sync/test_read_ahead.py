"""The read-ahead contract the engine relies on: one page ahead at most, errors typed and in order, a stop
ends the reader, an expired session is read on by the worker's own client. (Real HTTP paths: the fault
tests in test_faults_sandbox.py run through it.)"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from integrations.salesforce.errors import SalesforceQueryTimeout, SalesforceSessionExpired
from integrations.salesforce.read_ahead import read_ahead


class Client:
    def __init__(self):
        self.connection = object()
        self.calls: Counter[str] = Counter()
        self.api_usage = None


def pages_of(count, *, fail_at=None, error=None, fetched=None):
    def open_pages(client, start):
        def gen():
            for n in range(start or 0, count):
                if n == fail_at:
                    raise error
                client.calls["query"] += 1
                if fetched is not None:
                    fetched.append((n, client.connection is None, threading.current_thread().name))
                yield n

        return gen()

    return open_pages


def test_pages_arrive_in_order_read_on_another_thread_without_the_connection():
    client, fetched = Client(), []
    got = list(
        read_ahead(
            client, pages_of(5, fetched=fetched), resume_after=lambda n: n + 1, is_last=lambda n: n == 4
        )
    )
    assert got == [0, 1, 2, 3, 4]
    assert all(no_connection and thread == "sync-read-ahead" for _, no_connection, thread in fetched)
    assert client.calls["query"] == 5  # the reader's calls count on the run's client


def test_the_reader_is_never_more_than_one_page_ahead():
    client, fetched = Client(), []
    pages = read_ahead(
        client, pages_of(10, fetched=fetched), resume_after=lambda n: n + 1, is_last=lambda n: n == 9
    )
    assert next(pages) == 0
    time.sleep(0.5)  # plenty of time to read on, were it allowed to
    assert [n for n, _, _ in fetched] == [0, 1]
    pages.close()


def test_an_error_reaches_the_worker_typed_after_the_pages_before_it():
    timeout = SalesforceQueryTimeout("QUERY_TIMEOUT", "Your query request was running for too long.", 400)
    got = []
    with pytest.raises(SalesforceQueryTimeout) as raised:
        for n in read_ahead(
            Client(),
            pages_of(5, fail_at=3, error=timeout),
            resume_after=lambda n: n + 1,
            is_last=lambda n: False,
        ):
            got.append(n)
    assert got == [0, 1, 2] and raised.value is timeout


def test_stopping_early_stops_the_reader():
    pages = read_ahead(Client(), pages_of(1000), resume_after=lambda n: n + 1, is_last=lambda n: False)
    assert next(pages) == 0
    pages.close()
    time.sleep(0.5)
    assert not [t for t in threading.enumerate() if t.name == "sync-read-ahead"]


def test_an_expired_session_is_read_on_by_the_workers_client_from_the_next_page():
    client, fetched = Client(), []
    expired = SalesforceSessionExpired("INVALID_SESSION_ID", "Session expired or invalid", 401)
    broken = pages_of(6, fail_at=2, error=expired, fetched=fetched)

    def open_pages(c, start):
        return broken(c, start) if c is not client else pages_of(6, fetched=fetched)(c, start)

    got = list(read_ahead(client, open_pages, resume_after=lambda n: n + 1, is_last=lambda n: n == 5))
    assert got == [0, 1, 2, 3, 4, 5]
    assert [(n, no_connection) for n, no_connection, _ in fetched][2:] == [
        (2, False),
        (3, False),
        (4, False),
        (5, False),
    ]
