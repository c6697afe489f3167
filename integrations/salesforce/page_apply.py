"""Apply one page: map it, merge it into the CDP, and commit it with its SourceRecords, activities, errors,
counters and the object's new checkpoint in ONE transaction (DESIGN "One sync, as data flows").

A fixed number of queries per page whatever its size: one to read the previous payloads of the page's ids,
a few for context (campaign names, contact roles, parent links), then the set-based merges and bulk writes.
Re-applying a page is idempotent and, for unchanged records, write-free: a record already applied at the
same (SystemModstamp, Id) with the same content is skipped before anything is merged.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Q
from django.db.models.fields.json import KT
from django.utils import timezone

from cdp import merge as cdp_merge
from integrations.models import SourceRecord, SyncedObject, SyncError
from integrations.salesforce import mapped_page, mapping, objects, users, values, writeback

_FIELD_PROBLEM_RE = re.compile(r"(?:^|; )([a-z0-9]{2,4}:[a-z0-9]{0,8}:[a-z0-9][a-z0-9_\-!]*): ")

MERGE_STRATEGIES = {
    "append": cdp_merge.MergeStrategy.APPEND_ONLY,
    "overwrite": cdp_merge.MergeStrategy.OVERWRITE,
    "ignore": cdp_merge.MergeStrategy.IGNORE,
}
FIND_STRATEGIES = {"any": cdp_merge.FindStrategy.ANY, "next_if_empty": cdp_merge.FindStrategy.NEXT_IF_EMPTY}


@dataclass
class PageCounts:
    fetched: int = 0
    created: int = 0
    merged: int = 0
    ignored: int = 0
    archived: int = 0
    failed: int = 0
    activities: int = 0
    skipped: int = 0
    applied: int = 0

    def add(self, other: PageCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def count_outcome(self, status: str) -> bool:
        """Counts one merge result by its status; False when the record failed (the caller says why)."""
        if status in ("created", "merged", "ignored"):
            setattr(self, status, getattr(self, status) + 1)
            return True
        self.failed += 1
        return False


@dataclass
class ObjectContext:
    """Everything one object needs across its pages in one run."""

    workspace: Any
    connection: Any
    synced_object: SyncedObject
    mapper: mapping.ObjectMapper
    custom_object: Any = None  # cdp CustomObject when the object becomes custom object records
    all_objects: Sequence[SyncedObject] = ()
    # The mapper of another selected object of the connection, by API name (None when not selected).
    related_mapper: Callable[[str], mapping.ObjectMapper | None] | None = None
    run: Any = None
    dry_run: bool = False
    fields: list[str] = field(default_factory=list)  # the SOQL field list (describe-filtered)
    error_rows: list[SyncError] = field(default_factory=list)
    client: Any = None  # reads the names of the users that own this page's records
    # The selective sync condition every read of the object carries (filters.read_criteria), "" = all.
    criteria: str = ""
    # A backfill (or full re-read) pass: its pages commit without waiting for the disk (see apply_page).
    backfill: bool = False

    @property
    def source(self) -> str:
        return self.mapper.source


def _key(k: mapped_page.Key | None) -> cdp_merge.IdentityKey | None:
    return None if k is None else cdp_merge.IdentityKey(k.source, k.object, k.external_id)


def _previous(ctx: ObjectContext, ids: list[str]) -> tuple[dict[str, tuple], set[str]]:
    """What was last applied of these ids (sf id -> (SystemModstamp, hash, payload)), and which of them
    were live sources then (not deleted, not out of a selective sync's scope)."""
    rows = SourceRecord.objects.filter(
        connection_id=ctx.connection.pk, object_name=ctx.synced_object.api_name, sf_id__any=ids
    )
    spec = objects.spec_for(ctx.synced_object.api_name)
    previous: dict[str, tuple] = {}
    live: set[str] = set()
    if spec is not None and spec.keeps_payload:
        for sf_id, ms, h, deleted, payload in rows.values_list(
            "sf_id", "system_modstamp", "hash", "deleted", "payload"
        ):
            previous[sf_id] = (ms, h, payload)
            if not deleted:
                live.add(sf_id)
        return previous, live
    for sf_id, ms, h, deleted in rows.values_list("sf_id", "system_modstamp", "hash", "deleted"):
        previous[sf_id] = (ms, h, {})
        if not deleted:
            live.add(sf_id)
    return previous, live


def _payloads(connection_id: int, object_name: str, ids) -> dict[str, dict]:
    ids = [i for i in set(ids) if i]
    if not ids:
        return {}
    return dict(
        SourceRecord.objects.filter(
            connection_id=connection_id, object_name=object_name, sf_id__any=ids, deleted=False
        ).values_list("sf_id", "payload")
    )


def _context(ctx: ObjectContext, records: Sequence[dict]) -> mapped_page.MapContext:
    """Lookups bounded to this page's ids (PERFORMANCE.md §4: never a whole object in memory)."""
    name = ctx.synced_object.api_name
    conn_id = ctx.connection.pk
    out = mapped_page.MapContext()
    if name == "CampaignMember":
        camps = _payloads(conn_id, "Campaign", (r.get("CampaignId") for r in records))
        out.campaign_names = {cid: str(p.get("Name") or "") for cid, p in camps.items()}
    elif name == "Opportunity":
        out.opportunity_contacts = _contact_roles(conn_id, [r.get("Id") for r in records])
    elif name == "OpportunityContactRole":
        out.opportunities = _payloads(conn_id, "Opportunity", (r.get("OpportunityId") for r in records))
    obj = ctx.synced_object
    if obj.becomes == SyncedObject.Becomes.CUSTOM_OBJECT and obj.identifier_kind in ("parent", "junction"):
        out.linked_people = _linked_people(ctx, records)
    if ctx.mapper.email_rule is not None or ctx.mapper.sms_rule is not None:
        out.echoes = writeback.echoes_for(
            connection_id=conn_id, object_name=name, ids=[r.get("Id") for r in records if r.get("Id")]
        )
    selected = [s.sf_field for s in ctx.mapper.selections]
    out.user_names = users.user_names(
        connection=ctx.connection, client=ctx.client, ids=users.user_ids_in(records, selected)
    )
    return out


def _contact_roles(connection_id: int, opp_ids: list[str]) -> dict[str, list[tuple[str, bool]]]:
    roles: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    rows = SourceRecord.objects.filter(
        connection_id=connection_id,
        object_name="OpportunityContactRole",
        ref_id__any=[i for i in opp_ids if i],
        deleted=False,
    ).values_list("ref_id", "payload")
    for opp_id, payload in rows:
        contact = payload.get("ContactId")
        if contact:
            roles[opp_id].append((contact, values.is_true(payload.get("IsPrimary"))))
    for opp_id in roles:
        roles[opp_id].sort(key=lambda pair: (not pair[1], pair[0]))  # primary first
    return roles


def _linked_people(ctx: ObjectContext, records: Sequence[dict]) -> dict[str, tuple[mapped_page.Key, ...]]:
    """Resolve parent chains and junctions, one query per level for the whole page."""
    obj = ctx.synced_object
    mapper = ctx.mapper
    by_name = {o.api_name: o for o in ctx.all_objects}
    conn_id = ctx.connection.pk
    config = obj.identifier_config or {}
    result: dict[str, tuple[mapped_page.Key, ...]] = {}
    if obj.identifier_kind == "junction":
        ids = [r.get("Id") for r in records if r.get("Id")]
        rows = SourceRecord.objects.filter(
            connection_id=conn_id, object_name=config["junction_object"], ref_id__any=ids, deleted=False
        ).values_list("ref_id", "payload")
        found: dict[str, list[tuple[bool, mapped_page.Key]]] = defaultdict(list)
        for ref, payload in rows:
            key = mapper.person_key_for_id(payload.get(config["person_field"]))
            if key is not None:
                primary = values.is_true(payload.get(config.get("primary_field") or "", False))
                found[ref].append((not primary, key))
        return {ref: tuple(k for _, k in sorted(keys)) for ref, keys in found.items()}
    # parent chain: record -> parent id -> (parent's rule) ... until a person is reached
    current = {r["Id"]: r.get(config.get("field", "")) for r in records if r.get("Id")}
    level_obj = by_name.get(config.get("parent_object", ""))
    for _depth in range(10):
        if level_obj is None or not current:
            break
        parents = _payloads(conn_id, level_obj.api_name, current.values())
        nxt: dict[str, str] = {}
        level_config = level_obj.identifier_config or {}
        for rec_id, parent_id in current.items():
            payload = parents.get(parent_id or "")
            if payload is None:
                continue
            if level_obj.becomes == SyncedObject.Becomes.PERSON:
                result[rec_id] = (mapper.key(level_obj.api_name, parent_id),)
                continue
            if level_obj.identifier_kind == "reference_id":
                key = mapper.person_key_for_id(payload.get(level_config.get("field", "")))
                if key is not None:
                    result[rec_id] = (key,)
                continue
            if level_obj.identifier_kind == "parent":
                nxt[rec_id] = payload.get(level_config.get("field", ""))
                continue
            keys = tuple(
                k
                for v in payload.values()
                if isinstance(v, str) and (k := mapper.person_key_for_id(v)) is not None
            )
            if keys:
                result[rec_id] = keys
        current = nxt
        level_obj = by_name.get(level_config.get("parent_object", "")) if nxt else None
    return result


def _person_merger(ctx: ObjectContext) -> Callable[..., list[cdp_merge.MergeResult]]:
    """merge_people with the connection's strategy; `modes` replaces the object's per-field rules."""
    conn = ctx.connection
    strategy = MERGE_STRATEGIES.get(conn.merge_strategy, cdp_merge.MergeStrategy.OVERWRITE)
    find = FIND_STRATEGIES.get(conn.find_strategy, cdp_merge.FindStrategy.ANY)

    def merge(batch: list, modes: dict | None = None) -> list[cdp_merge.MergeResult]:
        return cdp_merge.merge_people(
            workspace=ctx.workspace,
            rows=batch,
            source=ctx.source,
            strategy=strategy,
            find_strategy=find,
            skip_non_existing=conn.skip_non_existing,
            field_modes=ctx.mapper.field_modes if modes is None else modes,
        )

    return merge


def _linked_people_rows(
    ctx: ObjectContext,
    person_ids: set[int],
    *,
    page: Sequence[mapped_page.PersonOut] = (),
    stamps: dict[str, str] | None = None,
    exclude: set[str] = frozenset(),
) -> list[tuple[int, str, mapped_page.PersonOut]]:
    """(precedence, SystemModstamp, row) of every live record of these people: this page's rows as mapped,
    the others mapped again from their stored payloads."""
    from cdp.models import Identity

    name = ctx.synced_object.api_name
    on_page = {p.sf_id: p for p in page}
    stamps = stamps or {}
    out: list[tuple[int, str, mapped_page.PersonOut]] = []
    linked: dict[str, set[str]] = defaultdict(set)
    for obj, ext in Identity.objects.filter(
        workspace=ctx.workspace, source=ctx.source, person_id__in=person_ids
    ).values_list("object", "external_id"):
        if ext in exclude:
            continue
        if obj == name and ext in on_page:
            person = on_page[ext]
            out.append((person.precedence or 0, stamps.get(ext, ""), person))
        else:
            linked[obj].add(ext)
    for obj, ids in sorted(linked.items()):
        mapper = ctx.mapper if obj == name else ctx.related_mapper(obj) if ctx.related_mapper else None
        if mapper is None or mapper.becomes != SyncedObject.Becomes.PERSON:
            continue
        payloads = list(
            SourceRecord.objects.filter(
                connection_id=ctx.connection.pk, object_name=obj, sf_id__any=list(ids), deleted=False
            ).values_list("payload", flat=True)
        )
        stored = {p.get("Id"): str(p.get("SystemModstamp") or "") for p in payloads}
        for person in mapper.map_page(payloads).people:
            if person.key.object == obj:
                out.append((person.precedence or 0, stored.get(person.sf_id, ""), person))
    return out


def _values_only(person: mapped_page.PersonOut) -> cdp_merge.PersonRow:
    """A record's row without its permissions: they are never re-applied from a record that did not change."""
    fields = {k: v for k, v in person.fields.items() if k not in ("bol::p", "bol::sp")}
    return replace(_person_row(person), fields=fields)


def _fill_blanks(merge_people: Callable, candidates: list[tuple[int, str, mapped_page.PersonOut]]) -> None:
    """Every record fills what the others left empty: first precedence first, the newest first among
    equals, so a person ends with the best value there is whatever order the records came in."""
    candidates = sorted(candidates, key=lambda c: c[1], reverse=True)
    candidates.sort(key=lambda c: c[0])  # a stable sort keeps newest-first within each precedence
    rows = [_values_only(person) for _, _, person in candidates]
    if rows:
        modes = {field_id: cdp_merge.FieldMode.FILL for row in rows for field_id in row.fields}
        merge_people(rows, {**modes, "idt::o": cdp_merge.FieldMode.FILL})


def _refill_after_clears(
    ctx: ObjectContext,
    page: list[mapped_page.PersonOut],
    rows: list[cdp_merge.PersonRow],
    results: list[cdp_merge.MergeResult],
    stamps: dict[str, str],
    merge_people: Callable,
) -> None:
    """When a record clears a value, another record of the same person may hold one. Two queries, and
    only for pages that cleared something."""
    cleared = {
        res.record_id
        for row, res in zip(rows, results, strict=True)
        if res.status == "merged" and any(row.fields.get(f) is None for f in res.changed_fields)
    }
    if cleared:
        _fill_blanks(merge_people, _linked_people_rows(ctx, cleared, page=page, stamps=stamps))


def reapply_survivors(
    ctx: ObjectContext,
    keys: list[mapped_page.Key],
    *,
    deleted_now: set[str],
    page: Sequence[mapped_page.PersonOut] = (),
    stamps: dict[str, str] | None = None,
) -> None:
    """A deleted record whose person lives on (through its other records) gives up the values it held:
    the person's remaining records are applied again from scratch, first precedence first (the newest
    last among equals, so it wins), then every blank is filled. Only for records whose person survives."""
    from cdp.models import Identity

    if ctx.synced_object.becomes != SyncedObject.Becomes.PERSON or not keys:
        return
    people = set(
        Identity.objects.filter(
            workspace=ctx.workspace,
            source=ctx.source,
            object=ctx.synced_object.api_name,
            external_id__any=[k.external_id for k in keys],
            person__isnull=False,
        ).values_list("person_id", flat=True)
    )
    if not people:
        return
    # This page's records as they are now (the stored payloads are written after this, and a record first
    # seen in this page has none yet).
    candidates = _linked_people_rows(ctx, people, page=page, stamps=stamps, exclude=deleted_now)
    cdp_merge.field_sources_forget(workspace=ctx.workspace, source=ctx.source, person_ids=people)
    merge_people = _person_merger(ctx)
    ordered = sorted(candidates, key=lambda c: c[1])
    ordered.sort(key=lambda c: c[0])
    rows = [_values_only(person) for _, _, person in ordered]
    if rows:
        merge_people(rows, {})
    _fill_blanks(merge_people, candidates)


def _replay_history(
    ctx: ObjectContext, people: Sequence[mapped_page.PersonOut], results, live_before: set[str]
) -> int:
    """A record that becomes a live source now, after its activities were synced without it (an undeleted
    Contact, a Lead that became visible, a Contact that now matches the selective sync, merged into a
    person another record already made) gets them: the stored rows of the selected activity objects that
    point at it are mapped again and recorded (idempotent by source key). One query per such object."""
    created = [
        p.sf_id
        for p, res in zip(people, results, strict=True)
        if res.status == "created" or (res.record_id is not None and p.sf_id not in live_before)
    ]
    if not created or ctx.related_mapper is None:
        return 0
    events = []
    for other in ctx.all_objects:
        spec = objects.spec_for(other.api_name)
        mapper = ctx.related_mapper(other.api_name) if spec is not None and spec.person_lookups else None
        if mapper is None:
            continue
        lookups = Q()
        for name in spec.person_lookups:
            lookups |= Q(**{f"lookup_{name}__any": created})
        payloads = list(
            SourceRecord.objects.alias(
                **{f"lookup_{name}": KT(f"payload__{name}") for name in spec.person_lookups}
            )
            .filter(lookups, connection_id=ctx.connection.pk, object_name=other.api_name, deleted=False)
            .values_list("payload", flat=True)
        )
        if payloads:
            junction = replace(ctx, synced_object=other, mapper=mapper)
            result = mapper.map_page(payloads, None, _context(junction, payloads))
            events += [_activity_event(ctx, a) for a in result.activities]
    return cdp_merge.record_activities(workspace=ctx.workspace, events=events) if events else 0


def _activity_event(ctx: ObjectContext, a: mapped_page.ActivityOut) -> cdp_merge.ActivityEvent:
    return cdp_merge.ActivityEvent(
        activity_id=a.activity_id,
        person_key=_key(a.person_key),
        occurred_at=a.occurred_at,
        attributes=a.attributes,
        source_key=a.source_key,
        source=ctx.source,
    )


def _person_row(p: mapped_page.PersonOut) -> cdp_merge.PersonRow:
    return cdp_merge.PersonRow(
        _key(p.key),
        p.fields,
        _key(p.organization_key),
        tuple(_key(k) for k in p.extra_keys),
        precedence=p.precedence,
    )


def archivable_keys(
    ctx: ObjectContext, keys: list[mapped_page.Key], *, deleted_now: set[str] = frozenset()
) -> list[mapped_page.Key]:
    """A deleted Lead whose person is also a live Contact (same email, or a conversion) must not archive
    that person: keep only keys whose person has no other live record from this connection."""
    if ctx.synced_object.becomes != SyncedObject.Becomes.PERSON or not keys:
        return list(keys)
    from cdp.models import Identity

    name = ctx.synced_object.api_name
    ids = [k.external_id for k in keys]
    owner = dict(
        Identity.objects.filter(
            workspace=ctx.workspace,
            source=ctx.source,
            object=name,
            external_id__any=ids,
            person__isnull=False,
        ).values_list("external_id", "person_id")
    )
    others = (
        Identity.objects.filter(workspace=ctx.workspace, source=ctx.source, person_id__in=set(owner.values()))
        .exclude(object=name, external_id__any=ids)
        .values_list("person_id", "object", "external_id")
    )
    by_object: dict[str, dict[str, int]] = defaultdict(dict)
    for person_id, obj, ext in others:
        by_object[obj.split(".")[0]][ext] = person_id
    alive_people: set[int] = set()
    for obj, ext_map in by_object.items():
        live = SourceRecord.objects.filter(
            connection_id=ctx.connection.pk, object_name=obj, sf_id__any=list(ext_map), deleted=False
        ).values_list("sf_id", flat=True)
        alive_people |= {ext_map[i] for i in live if not (obj == name and i in deleted_now)}
    return [k for k in keys if owner.get(k.external_id) not in alive_people]


def _error_row(ctx: ObjectContext, err: mapped_page.RecordError) -> SyncError:
    return SyncError(
        workspace_id=ctx.workspace.pk,
        connection_id=ctx.connection.pk,
        run=ctx.run,
        object_name=ctx.synced_object.api_name,
        sf_id=err.sf_id[:18],
        error_type=err.error_type,
        message=err.message[:2000],
        fix=err.fix,
        payload_excerpt=err.excerpt[:1000],
        retryable=err.retryable,
    )


def sync_errors_upsert(rows: list[SyncError]) -> None:
    """Write a page's errors so a record keeps one open error per kind: a repeat updates the open one (its
    run, message and time, one more occurrence) instead of adding another. Runs in the page's transaction;
    one run per connection at a time means no other writer races these keys, and the partial unique
    constraint turns any that does into a skipped duplicate rather than a second open error."""
    now = timezone.now()
    latest: dict[tuple, SyncError] = {}
    loose: list[SyncError] = []
    for row in rows:
        row.last_seen_at = now
        if row.sf_id:
            key = (row.object_name, row.sf_id, row.error_type)
            if key in latest:
                row.occurrences = latest[key].occurrences + 1
            latest[key] = row
        else:
            loose.append(row)
    if latest:
        first = next(iter(latest.values()))
        existing = {
            (e.object_name, e.sf_id, e.error_type): e
            for e in SyncError.objects.filter(
                connection_id=first.connection_id,
                resolved=False,
                sf_id__any={k[1] for k in latest},
            )
        }
        updated = []
        for key, row in list(latest.items()):
            open_error = existing.get(key)
            if open_error is None:
                continue
            del latest[key]
            open_error.run = row.run
            open_error.message, open_error.fix = row.message, row.fix
            open_error.payload_excerpt, open_error.retryable = row.payload_excerpt, row.retryable
            open_error.last_seen_at = now
            open_error.occurrences += row.occurrences
            updated.append(open_error)
        SyncError.objects.bulk_update(
            updated, ["run", "message", "fix", "payload_excerpt", "retryable", "last_seen_at", "occurrences"]
        )
    SyncError.objects.bulk_create([*latest.values(), *loose], ignore_conflicts=True)


def _merge_with_field_retry(
    merge: Callable,
    rows: list,
    sf_ids: list[str],
    ctx: ObjectContext,
    counts: PageCounts,
    errors: list,
    *,
    organizations_of_people: bool = False,
) -> list[cdp_merge.MergeResult]:
    """Merge; rows rejected for bad values are merged again without those values, each dropped value
    reported, so one wrong-typed field never loses the rest of the record. The organizations a page of
    people brings along (a lead's company) are not records of their own: they are not counted."""
    results = merge(rows)
    retry_idx, retry_rows = [], []
    for i, res in enumerate(results):
        if res.status != "invalid":
            continue
        bad = set(_FIELD_PROBLEM_RE.findall(res.reason))
        row = rows[i]
        kept = {k: v for k, v in row.fields.items() if k not in bad}
        if bad and (kept or row.key is not None):
            errors.append(
                mapped_page.RecordError(
                    sf_ids[i],
                    "mapping",
                    f"{ctx.synced_object.api_name} {sf_ids[i]}: some values were not synced ({res.reason}).",
                    fix="Correct the value in Salesforce, or map the field to a CDP field of a matching type.",
                    excerpt=mapping.excerpt({k: row.fields[k] for k in bad if k in row.fields}),
                )
            )
            retry_idx.append(i)
            retry_rows.append(type(row)(**{**row.__dict__, "fields": kept}))
    if retry_rows:
        for i, res in zip(retry_idx, merge(retry_rows), strict=True):
            results[i] = res
    for i, res in enumerate(results):
        if organizations_of_people:
            if res.status == "invalid":
                errors.append(
                    mapped_page.RecordError(
                        sf_ids[i],
                        "invalid",
                        f"{ctx.synced_object.api_name} {sf_ids[i]}: its company was not synced: {res.reason}.",
                        fix="Correct the company's values in Salesforce; it syncs on the record's next change.",
                    )
                )
            continue
        if not counts.count_outcome(res.status):
            errors.append(
                mapped_page.RecordError(
                    sf_ids[i],
                    "invalid",
                    f"{ctx.synced_object.api_name} {sf_ids[i]} was not synced: {res.reason}.",
                    fix="Give the record an email, phone or a valid value in Salesforce; it syncs on its next change.",
                )
            )
    return results


_SOURCE_COLUMNS = (
    "connection_id",
    "object_name",
    "sf_id",
    "system_modstamp",
    "payload",
    "hash",
    "ref_id",
    "deleted",
)


def store_source_records(connection_id: int, object_name: str, rows: Sequence[mapped_page.SourceOut]) -> None:
    """Upsert the page's SourceRecords. On PostgreSQL: COPY into a session temp table, then one
    INSERT ... ON CONFLICT ... WHERE IS DISTINCT FROM (PERFORMANCE.md §2.1 (c'): ~5x bulk_create, and an
    unchanged row is never rewritten). Elsewhere: bulk_create(update_conflicts)."""
    if db_connection.vendor != "postgresql":
        SourceRecord.objects.bulk_create(
            [
                SourceRecord(
                    connection_id=connection_id,
                    object_name=object_name,
                    sf_id=s.sf_id,
                    system_modstamp=s.system_modstamp,
                    payload=s.payload,
                    hash=s.hash,
                    ref_id=s.ref_id,
                    deleted=s.deleted,
                )
                for s in rows
            ],
            update_conflicts=True,
            unique_fields=["connection", "object_name", "sf_id"],
            update_fields=["system_modstamp", "payload", "hash", "ref_id", "deleted"],
        )
        return
    table = SourceRecord._meta.db_table
    cols = ", ".join(_SOURCE_COLUMNS)
    with db_connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS sync_source_stage (connection_id bigint, object_name varchar(80), "
            "sf_id varchar(18), system_modstamp timestamptz, payload jsonb, hash varchar(32), ref_id varchar(18), "
            "deleted boolean) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY sync_source_stage ({cols}) FROM STDIN") as copy:
            for s in rows:
                copy.write_row(
                    (
                        connection_id,
                        object_name,
                        s.sf_id,
                        s.system_modstamp,
                        orjson.dumps(s.payload, default=str).decode(),
                        s.hash,
                        s.ref_id,
                        s.deleted,
                    )
                )
        cursor.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM sync_source_stage "  # noqa: S608 - fixed names
            "ON CONFLICT (connection_id, object_name, sf_id) DO UPDATE SET "
            "system_modstamp = EXCLUDED.system_modstamp, payload = EXCLUDED.payload, hash = EXCLUDED.hash, "
            "ref_id = EXCLUDED.ref_id, deleted = EXCLUDED.deleted "
            f"WHERE ({table}.hash, {table}.system_modstamp, {table}.deleted) "
            "IS DISTINCT FROM (EXCLUDED.hash, EXCLUDED.system_modstamp, EXCLUDED.deleted)"
        )
        cursor.execute("TRUNCATE sync_source_stage")


def _lock_connection(ctx: ObjectContext) -> None:
    """One page of a connection at a time (a scheduled run and the live listener may both apply one):
    two merges of the same new person in parallel would each create it.

    A backfill page also stops waiting for its commit to reach the disk (same statement, no extra round
    trip): a crash may lose the last pages committed, but with them their checkpoint (same transaction),
    so they are read again. A later commit that waits (the end of the object, a heartbeat) makes every
    earlier one durable too."""
    model = type(ctx.connection)
    if db_connection.vendor != "postgresql":
        model.objects.select_for_update().filter(pk=ctx.connection.pk).values_list("pk", flat=True).first()
        return
    relax = "set_config('synchronous_commit', 'off', true), " if ctx.backfill else ""
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {relax}id FROM {model._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608 - fixed names
            [ctx.connection.pk],
        )


def apply_page(
    ctx: ObjectContext,
    records: Sequence[dict],
    *,
    checkpoint: Callable[[mapped_page.PageResult], dict] | None = None,
    after_write: Callable[[PageCounts], None] | None = None,
) -> PageCounts:
    """Map + merge + commit one page. `checkpoint(result)` returns the SyncedObject fields to save with it;
    `after_write(counts)` runs inside the transaction (run counters, heartbeat)."""
    counts = PageCounts(fetched=len(records))
    ids = [r.get("Id") for r in records if isinstance(r, dict) and isinstance(r.get("Id"), str)]
    previous, live_before = _previous(ctx, ids)
    context = _context(ctx, records)
    result = ctx.mapper.map_page(records, previous, context)
    counts.skipped = result.skipped
    errors: list[mapped_page.RecordError] = list(result.errors)
    obj = ctx.synced_object
    workspace = ctx.workspace
    conn = ctx.connection
    strategy = MERGE_STRATEGIES.get(conn.merge_strategy, cdp_merge.MergeStrategy.OVERWRITE)
    find = FIND_STRATEGIES.get(conn.find_strategy, cdp_merge.FindStrategy.ANY)

    field_modes = ctx.mapper.field_modes
    merge_people = _person_merger(ctx)
    stamps = {s.sf_id: s.payload.get("SystemModstamp") or "" for s in result.source_records}

    with transaction.atomic():
        _lock_connection(ctx)
        if result.organizations:
            rows = [
                cdp_merge.OrganizationRow(_key(o.key), o.fields, precedence=o.precedence)
                for o in result.organizations
            ]
            # Two Accounts are two organizations even with one name; a lead's company joins by name only
            # when exactly one organization has it, and otherwise creates nothing.
            company_rows = obj.becomes == SyncedObject.Becomes.PERSON
            _merge_with_field_retry(
                lambda batch: cdp_merge.merge_organizations(
                    workspace=workspace,
                    rows=batch,
                    source=ctx.source,
                    strategy=strategy,
                    find_strategy=find,
                    skip_non_existing=conn.skip_non_existing,
                    field_modes=field_modes,
                    distinct_records=True,
                    create_ambiguous=not company_rows,
                ),
                rows,
                [o.sf_id for o in result.organizations],
                ctx,
                counts,
                errors,
                organizations_of_people=company_rows,
            )
        if result.people:
            rows = [_person_row(p) for p in result.people]
            merged = _merge_with_field_retry(
                merge_people, rows, [p.sf_id for p in result.people], ctx, counts, errors
            )
            _refill_after_clears(ctx, result.people, rows, merged, stamps, merge_people)
            counts.activities += _replay_history(ctx, result.people, merged, live_before)
        if result.custom_records and ctx.custom_object is not None:
            rows = [
                cdp_merge.CustomObjectRow(
                    external_id=c.sf_id,
                    name=c.name,
                    fields=c.fields,
                    person_keys=tuple(_key(k) for k in c.person_keys),
                    organization_keys=tuple(_key(k) for k in c.organization_keys),
                )
                for c in result.custom_records
            ]
            upserted = cdp_merge.custom_object_records_upsert(
                workspace=workspace, custom_object=ctx.custom_object, rows=rows
            )
            for c, res in zip(result.custom_records, upserted, strict=True):
                if not counts.count_outcome(res.status):
                    errors.append(
                        mapped_page.RecordError(
                            c.sf_id, "invalid", f"{obj.api_name} {c.sf_id} was not synced: {res.reason}."
                        )
                    )
        if result.activities:
            events = [_activity_event(ctx, a) for a in result.activities]
            counts.activities += cdp_merge.record_activities(workspace=workspace, events=events)
        if result.archive_keys:
            deleted_now = {s.sf_id for s in result.source_records if s.deleted}
            keys = archivable_keys(ctx, result.archive_keys, deleted_now=deleted_now)
            counts.archived = cdp_merge.archive_records(workspace=workspace, keys=[_key(k) for k in keys])
            survivors = [k for k in result.archive_keys if k not in set(keys)]
            reapply_survivors(ctx, survivors, deleted_now=deleted_now, page=result.people, stamps=stamps)
        if result.source_records:
            store_source_records(conn.pk, obj.api_name, result.source_records)
        counts.applied = len(result.source_records)
        if errors:
            sync_errors_upsert([_error_row(ctx, e) for e in errors])
            # Records not synced at all; a dropped value ("mapping") still synced the record.
            counts.failed += sum(1 for e in result.errors if e.error_type == "malformed")
        updates = checkpoint(result) if checkpoint else {}
        if updates or counts.applied:
            updates = dict(updates)
            if counts.applied:
                updates["records_synced"] = F("records_synced") + counts.applied
            SyncedObject.objects.filter(pk=obj.pk).update(**updates)
            for name, value in updates.items():
                if name != "records_synced":
                    setattr(obj, name, value)
        if after_write:
            after_write(counts)
        if ctx.dry_run:
            transaction.set_rollback(True)
    return counts
