"""Two workers merging overlapping batches at once must not create duplicate people (PostgreSQL only:
SQLite has one writer at a time, so there is no race to test)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from cdp.merge import IdentityKey, PersonRow, merge_people
from cdp.models import Identity, Person

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks and concurrent writers"
    ),
]


def _rows(numbers, writer):
    return [
        PersonRow(
            IdentityKey("salesforce:1", "Contact", f"003{n:05d}") if n % 2 else None,
            {"str::email": f"Person{n}@Example.com", "str::first": f"P{n}", "phn::phone": f"+1415555{n:04d}"},
        )
        for n in numbers
    ]


def test_two_threads_merging_overlapping_batches_create_each_person_once(workspace):
    # Both writers hold 300 people, 200 of them in common, in opposite orders to provoke lock waits.
    batches = [list(range(0, 300)), list(reversed(range(100, 400)))]
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def work(index):
        try:
            barrier.wait(timeout=10)
            for attempt in range(3):  # each batch twice more: re-syncs racing too
                results[(index, attempt)] = merge_people(
                    workspace=workspace, rows=_rows(batches[index], index), source="salesforce:1"
                )
        except Exception as error:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert Person.objects.filter(workspace=workspace).count() == 400
    assert Person.objects.values("email_key").distinct().count() == 400
    assert Identity.objects.filter(workspace=workspace).count() == 200
    statuses = [r.status for batch in results.values() for r in batch]
    assert statuses.count("created") == 400
    assert set(statuses) == {"created", "merged"}
    # Both writers agree on who each shared person is.
    ids = {}
    for (index, _), batch in results.items():
        for n, result in zip(batches[index], batch, strict=True):
            ids.setdefault(n, set()).add(result.record_id)
    assert all(len(found) == 1 for found in ids.values())


def test_two_threads_overwriting_the_same_people_lose_no_update_and_never_fail(workspace):
    # Both writers start from the same existing people and overwrite different fields: with optimistic
    # concurrency the loser of each race re-reads, so both changes survive (no lost update).
    merge_people(workspace=workspace, source="salesforce:1", rows=_rows(range(200), 0))
    barrier = threading.Barrier(2)
    errors = []
    fields = [("str::last", "Writer-A"), ("geo::city", "Oslo")]

    def work(index):
        try:
            field_id, value = fields[index]
            rows = [
                PersonRow(None, {"str::email": f"person{n}@example.com", field_id: value}) for n in range(200)
            ]
            if index:
                rows.reverse()
            barrier.wait(timeout=10)
            merge_people(workspace=workspace, rows=rows, source="salesforce:1")
        except Exception as error:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert set(Person.objects.filter(workspace=workspace).values_list("last_name", "city")) == {
        ("Writer-A", "Oslo")
    }
