"""Activities, custom object records and archiving: the rest of the engine's contract (architecture §2).

Same rules as the people merge: a fixed number of queries per call, one transaction (a savepoint inside
the caller's), idempotent when a batch is applied twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from cdp import fields as ft
from cdp.bulk import bulk_insert, bulk_update_rows  # also registers the `__any` lookup
from cdp.catalogue import catalogue_ensure
from cdp.models import (
    Activity,
    ActivityDefinition,
    ArchiveChange,
    CustomObject,
    CustomObjectRecord,
    Identity,
    Organization,
    Person,
    Workspace,
)
from cdp.types import IdentityKey, MergeResult

_RETRIES = 4
MAX_JSON_TEXT = ft.LONG_TEXT_MAX


@dataclass(frozen=True)
class ActivityEvent:
    """One occurrence of an activity. The person is named by a source key or by the CDP's person id."""

    activity_id: str  # e.g. "act:sfp:opportunity-stage-changed"; its definition must exist
    source_key: str  # unique per workspace: recording the same key twice stores the event once
    occurred_at: dt.datetime  # timezone-aware
    person_key: IdentityKey | None = None
    person_id: int | None = None
    attributes: dict[str, object] = field(default_factory=dict)
    organization_key: IdentityKey | None = None
    source: str = ""


@dataclass(frozen=True)
class CustomObjectRow:
    external_id: str
    fields: dict[str, object]
    name: str = ""
    person_keys: tuple[IdentityKey, ...] = ()
    organization_keys: tuple[IdentityKey, ...] = ()


def json_safe(value: object) -> object:
    """A raw source value as JSON: exact decimals as strings, dates in ISO 8601, floats kept exact."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    return str(value)


def _identity_owners(
    workspace: Workspace, keys: set[tuple[str, str, str]]
) -> dict[tuple[str, str, str], tuple]:
    """(source, object, external id) -> (person_id, organization_id), in one query."""
    if not keys:
        return {}
    rows = Identity.objects.filter(
        workspace=workspace,
        external_id__any={k[2] for k in keys},
        object__any={k[1] for k in keys},
        source__any={k[0] for k in keys},
    ).values_list("source", "object", "external_id", "person_id", "organization_id")
    return {(s, o, e): (p, org) for s, o, e, p, org in rows if (s, o, e) in keys}


def _as_tuple(key: IdentityKey | None):
    return None if key is None else (key.source, key.object, key.external_id)


# ---------------------------------------------------------------------------------------------------
# Activities


@transaction.atomic
def record_activities(*, workspace: Workspace, events: Sequence[ActivityEvent]) -> int:
    """Store the events not stored before; returns how many were new.

    Events whose person cannot be found (no identity, or a person id of another workspace) are skipped.
    People's first-seen / last-seen times follow their activities.
    """
    if not events:
        return 0
    for event in events:
        if not event.source_key or len(event.source_key) > 255:
            raise ValueError(f"activity source_key must be 1-255 characters, got {event.source_key!r}")
        if event.occurred_at.tzinfo is None:
            raise ValueError(f"occurred_at of {event.source_key} must be timezone-aware")
    wanted_ids = {e.activity_id for e in events}
    definitions = {
        d.activity_id: d.pk
        for d in ActivityDefinition.objects.filter(workspace=workspace, activity_id__in=wanted_ids)
    }
    if wanted_ids - set(definitions) and any(a.startswith("act::") for a in wanted_ids - set(definitions)):
        catalogue_ensure(workspace=workspace)
        definitions = {
            d.activity_id: d.pk
            for d in ActivityDefinition.objects.filter(workspace=workspace, activity_id__in=wanted_ids)
        }
    if missing := wanted_ids - set(definitions):
        raise ValueError(
            f"no activity definition for {sorted(missing)}; call activity_definition_ensure first"
        )

    keys = {_as_tuple(k) for e in events for k in (e.person_key, e.organization_key) if k is not None}
    owners = _identity_owners(workspace, keys)
    direct_ids = {e.person_id for e in events if e.person_id is not None}
    valid_direct = (
        set(Person.objects.filter(workspace=workspace, pk__in=direct_ids).values_list("pk", flat=True))
        if direct_ids
        else set()
    )

    existing = set(
        Activity.objects.filter(
            workspace=workspace, source_key__any={e.source_key for e in events}
        ).values_list("source_key", flat=True)
    )
    # Plain dicts, not model instances: building a Model per event cost more than writing it.
    new: dict[str, dict] = {}
    workspace_id = workspace.pk
    for event in events:
        source_key = event.source_key
        if source_key in existing or source_key in new:
            continue
        person_id = event.person_id if event.person_id in valid_direct else None
        if person_id is None and event.person_key is not None:
            person_id = owners.get(_as_tuple(event.person_key), (None, None))[0]
        if person_id is None:
            continue
        organization_id = None
        if event.organization_key is not None:
            organization_id = owners.get(_as_tuple(event.organization_key), (None, None))[1]
        new[source_key] = {
            "workspace_id": workspace_id,
            "definition_id": definitions[event.activity_id],
            "person_id": person_id,
            "organization_id": organization_id,
            "occurred_at": event.occurred_at,
            "attributes": json_safe(event.attributes or {}),
            "source": event.source[:100],
            "source_key": source_key,
        }
    if not new:
        return 0
    bulk_insert(Activity, list(new.values()), ignore_conflicts=True)
    _touch_seen(workspace, new.values())
    return len(new)


def activities_prune(
    *,
    workspace: Workspace,
    source: str,
    before: dt.datetime | None = None,
    keep_kinds: Sequence[str] | None = None,
) -> int:
    """Delete one source's activities that occurred before `before`, or whose kind is not in `keep_kinds`
    (None = every kind is kept): a data-retention choice the user asked to apply to what is stored.
    Returns how many were deleted. People and their first/last-seen dates are left as they are."""
    condition = Q()
    if before is not None:
        condition |= Q(occurred_at__lt=before)
    if keep_kinds is not None:
        condition |= ~Q(definition__activity_id__in=list(keep_kinds))
    if not condition:
        return 0
    ids = Activity.objects.filter(condition, workspace=workspace, source=source).values_list("pk", flat=True)
    deleted = 0
    with transaction.atomic():
        # In slices, so pruning years of activities never holds one huge statement.
        while chunk := list(ids[:5000]):
            deleted += Activity.objects.filter(workspace=workspace, pk__in=chunk).delete()[0]
    return deleted


def _touch_seen(workspace: Workspace, activities) -> None:
    earliest: dict[int, dt.datetime] = {}
    latest: dict[int, dt.datetime] = {}
    for activity in activities:
        pid = activity["person_id"]
        occurred_at = activity["occurred_at"]
        first = earliest.get(pid)
        if first is None or occurred_at < first:
            earliest[pid] = occurred_at
        last = latest.get(pid)
        if last is None or occurred_at > last:
            latest[pid] = occurred_at
    if connection.vendor == "postgresql":
        # One statement instead of SELECT ... FOR UPDATE then UPDATE. Only people whose times must move are
        # locked (in pk order, so two workers cannot deadlock) and written; the others are not touched.
        # `workspace_id + 0`: the workspace is checked on each row found by pk, never used as the index to
        # scan. Right after a backfill the statistics are stale and PostgreSQL would otherwise walk the whole
        # workspace through its index for every page (measured 136 ms vs 15 ms per 2,000 people at 100k).
        pks = list(latest)
        table = Person._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH v AS (SELECT * FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) "  # noqa: S608
                "AS v(id, first_seen, last_seen)), "
                f"locked AS (SELECT p.id FROM {table} AS p JOIN v ON p.id = v.id WHERE p.workspace_id + 0 = %s AND ("
                "p.first_seen IS NULL OR p.last_seen IS NULL OR p.first_seen > v.first_seen "
                "OR p.last_seen < v.last_seen) ORDER BY p.id FOR UPDATE OF p) "
                f"UPDATE {table} AS p SET first_seen = LEAST(p.first_seen, v.first_seen), "
                "last_seen = GREATEST(p.last_seen, v.last_seen) "
                "FROM v WHERE p.id = v.id AND p.id IN (SELECT id FROM locked)",
                [pks, [earliest[pk] for pk in pks], [latest[pk] for pk in pks], workspace.pk],
            )
        return
    rows = []
    people = (
        Person.objects.filter(workspace=workspace, pk__any=list(latest))
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "first_seen", "last_seen")
    )
    for pk, first_seen, last_seen in people:
        new_first = min(first_seen, earliest[pk]) if first_seen else earliest[pk]
        new_last = max(last_seen, latest[pk]) if last_seen else latest[pk]
        if (new_first, new_last) != (first_seen, last_seen):
            rows.append({"id": pk, "first_seen": new_first, "last_seen": new_last})
    bulk_update_rows(Person, rows, ["first_seen", "last_seen"])


# ---------------------------------------------------------------------------------------------------
# Custom objects


def _custom_values(custom_object: CustomObject, fields: dict) -> dict | str:
    types = {f["id"]: f.get("display_type", "text") for f in custom_object.fields}
    values: dict[str, object] = {}
    problems = []
    for field_id, raw in fields.items():
        if not isinstance(field_id, str) or not field_id or len(field_id) > 120:
            problems.append(f"{field_id!r}: not a field id")
            continue
        if field_id in types and types[field_id] in ft.FIELD_TYPES:
            try:
                values[field_id] = ft.to_json(types[field_id], ft.convert_value(types[field_id], raw))
            except ft.FieldValueError as error:
                problems.append(f"{field_id}: {error}")
            continue
        value = json_safe(raw)
        if isinstance(value, str) and len(value) > MAX_JSON_TEXT:
            problems.append(
                f"{field_id}: text of {len(value)} characters is longer than the limit of {MAX_JSON_TEXT}"
            )
            continue
        values[field_id] = None if ft.is_empty(value) else value
    return "; ".join(problems) if problems else values


def custom_object_records_upsert(
    *, workspace: Workspace, custom_object: CustomObject, rows: Sequence[CustomObjectRow]
) -> list[MergeResult]:
    """Create or update records by external id. Given fields overwrite, None clears; links follow the row.

    A row's `person_keys` / `organization_keys` replace the record's links when given (keys that name no
    known person or organization are left out); an empty tuple leaves the links as they are.
    """
    if custom_object.workspace_id != workspace.pk:
        raise ValueError("the custom object belongs to another workspace")
    if not rows:
        return []
    with transaction.atomic():
        for attempt in range(_RETRIES):
            try:
                with transaction.atomic():
                    return _upsert_records(workspace, custom_object, rows)
            except IntegrityError:
                if attempt == _RETRIES - 1:
                    raise
    raise AssertionError("unreachable")  # pragma: no cover


def _upsert_records(workspace, custom_object, rows) -> list[MergeResult]:
    now = timezone.now()
    prepared: dict[int, tuple[str, str, dict]] = {}
    results: dict[int, MergeResult] = {}
    for index, row in enumerate(rows):
        external_id = row.external_id if isinstance(row.external_id, str) else ""
        if not external_id.strip() or len(external_id) > 255:
            results[index] = MergeResult("invalid", None, "external_id must be 1-255 characters")
            continue
        values = _custom_values(custom_object, row.fields if isinstance(row.fields, dict) else {})
        if isinstance(values, str):
            results[index] = MergeResult("invalid", None, values)
            continue
        if len(row.name or "") > 255:
            results[index] = MergeResult("invalid", None, "name is longer than 255 characters")
            continue
        prepared[index] = (external_id, row.name or "", values)

    existing = {
        r.external_id: r
        for r in CustomObjectRecord.objects.filter(
            custom_object=custom_object, external_id__any={p[0] for p in prepared.values()}
        )
        .order_by("pk")
        .select_for_update()
    }
    keys = {_as_tuple(k) for i in prepared for k in (*rows[i].person_keys, *rows[i].organization_keys)}
    owners = _identity_owners(workspace, keys)

    records: dict[str, CustomObjectRecord] = {}
    created: set[str] = set()
    changed: set[str] = set()
    links: dict[str, tuple[set[int] | None, set[int] | None]] = {}
    row_changes: dict[int, list[str]] = {}
    for index, (external_id, name, values) in prepared.items():
        record = records.get(external_id) or existing.get(external_id)
        if record is None:
            record = CustomObjectRecord(
                workspace=workspace,
                custom_object=custom_object,
                external_id=external_id,
                values={},
                created_at=now,
                updated_at=now,
            )
            created.add(external_id)
        records[external_id] = record
        changes = []
        merged = dict(record.values)
        for field_id, value in values.items():
            if value is None:
                if field_id in merged:
                    merged.pop(field_id)
                    changes.append(field_id)
            elif merged.get(field_id) != value:
                merged[field_id] = value
                changes.append(field_id)
        if name and name != record.name:
            record.name = name
            changes.append("name")
        if record.archived_at is not None:
            record.archived_at = None
            changes.append("a")
        record.values = merged
        if changes and external_id not in created:
            changed.add(external_id)
        row_changes[index] = changes
        row = rows[index]
        people = {owners[k][0] for k in map(_as_tuple, row.person_keys) if owners.get(k, (None,))[0]}
        orgs = {owners[k][1] for k in map(_as_tuple, row.organization_keys) if k in owners and owners[k][1]}
        previous = links.get(external_id, (None, None))
        links[external_id] = (
            people if row.person_keys else previous[0],
            orgs if row.organization_keys else previous[1],
        )

    new_records = [records[e] for e in records if e in created]
    bulk_insert(CustomObjectRecord, new_records)
    bulk_update_rows(
        CustomObjectRecord,
        [
            {
                "id": records[e].pk,
                "values": records[e].values,
                "name": records[e].name,
                "updated_at": now,
                "archived_at": None,
            }
            for e in changed
        ],
        ["values", "name", "updated_at", "archived_at"],
    )
    _replace_links(records, links)

    for index, (external_id, _, _) in prepared.items():
        record = records[external_id]
        first_row = min(i for i, p in prepared.items() if p[0] == external_id)
        status = "created" if external_id in created and index == first_row else "merged"
        results[index] = MergeResult(status, record.pk, "", tuple(row_changes[index]))
    return [results[i] for i in range(len(rows))]


def _replace_links(records: dict[str, CustomObjectRecord], links) -> None:
    for relation, position, column in (("people", 0, "person_id"), ("organizations", 1, "organization_id")):
        through = getattr(CustomObjectRecord, relation).through
        wanted = {
            records[e].pk: targets[position] for e, targets in links.items() if targets[position] is not None
        }
        if not wanted:
            continue
        current: dict[int, set[int]] = defaultdict(set)
        for record_id, target_id in through.objects.filter(
            customobjectrecord_id__in=list(wanted)
        ).values_list("customobjectrecord_id", column):
            current[record_id].add(target_id)
        remove = Q()
        add = []
        for record_id, targets in wanted.items():
            stale = current[record_id] - targets
            if stale:
                remove |= Q(customobjectrecord_id=record_id, **{f"{column}__in": stale})
            add += [
                through(customobjectrecord_id=record_id, **{column: t}) for t in targets - current[record_id]
            ]
        if remove:
            through.objects.filter(remove).delete()
        if add:
            bulk_insert(through, add, ignore_conflicts=True)


# ---------------------------------------------------------------------------------------------------
# Archiving


@transaction.atomic
def archive_records(*, workspace: Workspace, keys: Sequence[IdentityKey]) -> int:
    """Soft-archive the people, organizations and custom object records the keys name; returns how many
    were archived now (already archived ones are not counted). Nothing is ever deleted."""
    wanted = {_as_tuple(k) for k in keys}
    if not wanted:
        return 0
    now = timezone.now()
    owners = _identity_owners(workspace, wanted)
    person_ids = {p for p, _ in owners.values() if p}
    organization_ids = {o for _, o in owners.values() if o}
    count = 0
    changes = []
    for model, ids, column in ((Person, person_ids, 0), (Organization, organization_ids, 1)):
        if not ids:
            continue
        live = model.objects.filter(workspace=workspace, pk__in=ids, archived_at__isnull=True)
        archived_now = set(live.values_list("pk", flat=True))
        count += model.objects.filter(
            workspace=workspace, pk__in=archived_now, archived_at__isnull=True
        ).update(archived_at=now, updated_at=now)
        # One history row per record archived now, naming the first deleted source record that names it.
        for key, owner in sorted(owners.items()):
            record_id = owner[column]
            if record_id in archived_now:
                archived_now.discard(record_id)
                changes.append(
                    {
                        "workspace_id": workspace.pk,
                        "person_id": record_id if column == 0 else None,
                        "organization_id": record_id if column == 1 else None,
                        "archived": True,
                        "source": key[0],
                        "object": key[1],
                        "changed_at": now,
                    }
                )
    bulk_insert(ArchiveChange, changes)
    objects = {
        (o.source, o.object_name): o.pk
        for o in CustomObject.objects.filter(
            workspace=workspace, source__in={k[0] for k in wanted}, object_name__in={k[1] for k in wanted}
        )
    }
    condition = Q()
    for source, obj, external_id in wanted:
        if (source, obj) in objects:
            condition |= Q(custom_object_id=objects[(source, obj)], external_id=external_id)
    if condition:
        count += CustomObjectRecord.objects.filter(
            condition, workspace=workspace, archived_at__isnull=True
        ).update(archived_at=now, updated_at=now)
    return count
