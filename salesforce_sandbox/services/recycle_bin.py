"""The recycle bin: deletes that take their dependants along, undeletes that bring them back, purges.

Deleting a record sends with it every record of a child relationship whose describe says
`cascadeDelete` (an Account's Contacts, Opportunities and Tasks; a Contact's Tasks, contact roles and
campaign members; ...), and theirs in turn. Each record taken along is a normal recycle-bin delete
(IsDeleted, DeletedDate and SystemModstamp at the delete moment, listed by `/deleted`), remembered
against the record whose delete took it (`CascadeDelete`), because Salesforce's recycle bin holds only
that root: undeleting or purging it restores or empties everything its delete took.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import orjson
from django.db.models import Q

from ..models import CascadeDelete, Record
from ..routers import db
from ..schema import Schema
from . import change_events

CHUNK = 200


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def cascade_takes(child: str, field: str, data: dict) -> bool:
    """Whether a record deleted through `field` goes with its parent.

    A converted lead's campaign member belongs to the contact the lead became (it carries the ContactId
    too), so deleting the converted lead leaves it to that contact.
    """
    return not (child == "CampaignMember" and field == "LeadId" and data.get("ContactId"))


def cascade_fields(schema: Schema) -> dict[str, list[str]]:
    """Object name -> the reference fields through which its records go with a parent's delete."""
    fields: dict[str, list[str]] = {}
    for parent in schema:
        for child, field in schema.cascade_children(parent):
            fields.setdefault(child.name, []).append(field)
    return fields


def dependants(*, schema: Schema, parents: dict[str, str]) -> list[tuple[Record, str, str]]:
    """Every live record that goes with `parents` ({sf_id: object name}), level by level.

    Returns (record, root id, parent id) in a stable order; each record at most once. One scan of each
    child object per level, whichever parents point at it.
    """
    root_of = {sf_id: sf_id for sf_id in parents}
    seen = set(parents)
    found: list[tuple[Record, str, str]] = []
    frontier = dict(parents)
    while frontier:
        wanted: dict[str, list[tuple[str, str]]] = {}  # child object -> (field, parent id)
        for sf_id, sobject in sorted(frontier.items()):
            for child, field in schema.cascade_children(schema.get(sobject)):
                wanted.setdefault(child.name, []).append((field, sf_id))
        following: dict[str, str] = {}
        for child in sorted(wanted):
            for chunk in _chunks(wanted[child]):
                links = set(chunk)
                # Stored JSON is compact and quotes inside values are escaped, so the substring only
                # matches the key itself; the parsed value is checked below all the same.
                condition = Q()
                for field, sf_id in chunk:
                    condition |= Q(data__contains=f'"{field}":"{sf_id}"')
                # Locked (on PostgreSQL) so a concurrent delete cannot take the same record as well.
                rows = (
                    Record.objects.using(db())
                    .select_for_update()
                    .filter(sobject=child, is_deleted=False, purged=False)
                    .filter(condition)
                    .order_by("sf_id")
                )
                for record in rows:
                    if record.sf_id in seen:
                        continue
                    data = orjson.loads(record.data)
                    parent = next(
                        (
                            data[field]
                            for field in sorted({f for f, _ in chunk})
                            if (field, data.get(field)) in links and cascade_takes(child, field, data)
                        ),
                        None,
                    )
                    if parent is None:
                        continue
                    seen.add(record.sf_id)
                    root_of[record.sf_id] = root_of[parent]
                    found.append((record, root_of[parent], parent))
                    following[record.sf_id] = child
        frontier = following
    return found


def _mark_deleted(pks: list[int], moment: dt.datetime) -> int:
    done = 0
    for chunk in _chunks(pks, 500):
        done += (
            Record.objects.using(db())
            .filter(pk__in=chunk, is_deleted=False)
            .update(is_deleted=True, deleted_date=moment, system_modstamp=moment)
        )
    return done


def delete_records(*, schema: Schema, roots: list[Record], moment: dt.datetime) -> Counter:
    """Send live `roots` and what goes with them to the recycle bin at `moment`, inside the caller's
    transaction. Returns the records taken along, counted per object."""
    roots = [r for r in roots if not r.is_deleted]
    if not roots:
        return Counter()
    taken = dependants(schema=schema, parents={r.sf_id: r.sobject for r in roots})
    _mark_deleted([r.pk for r in roots] + [record.pk for record, _, _ in taken], moment)
    ids = [record.sf_id for record, _, _ in taken]
    # Links go when their records come back; clear any left over, whatever path restored a record.
    for chunk in _chunks(ids, 500):
        CascadeDelete.objects.using(db()).filter(sf_id__in=chunk).delete()
    CascadeDelete.objects.using(db()).bulk_create(
        [CascadeDelete(sf_id=record.sf_id, root_id=root) for record, root, _ in taken], batch_size=500
    )
    for root in roots:
        root.is_deleted, root.deleted_date, root.system_modstamp = True, moment, moment
    change_events.publish(
        changes=[change_events.Change(r.sobject, r.sf_id, "DELETE") for r in roots]
        + [change_events.Change(record.sobject, record.sf_id, "DELETE") for record, _, _ in taken],
        moment=moment,
    )
    return Counter(record.sobject for record, _, _ in taken)


def _taken_with(root_ids: list[str]) -> list[str]:
    ids: list[str] = []
    for chunk in _chunks(root_ids, 500):
        ids += CascadeDelete.objects.using(db()).filter(root_id__in=chunk).values_list("sf_id", flat=True)
    return ids


def _still_held(schema: Schema, root_ids: list[str], taken: list[str]) -> dict[str, str]:
    """Records among `taken` that must stay in the bin: another parent they go with is still there
    (a contact role whose opportunity was deleted after its contact, ...). Returns {Id: new root}."""
    fields = cascade_fields(schema)
    coming_back = set(root_ids) | set(taken)
    rows = {}
    for chunk in _chunks(taken, 500):
        rows.update(
            (r.sf_id, (r.sobject, orjson.loads(r.data)))
            for r in Record.objects.using(db()).filter(sf_id__in=chunk, is_deleted=True, purged=False)
        )
    held: dict[str, str] = {}
    changed = True
    while changed:  # a record held back holds back what hangs below it
        changed = False
        for sf_id in taken:
            if sf_id in held or sf_id not in rows:
                continue
            sobject, data = rows[sf_id]
            for field in fields.get(sobject, ()):
                parent = data.get(field)
                if not parent or not cascade_takes(sobject, field, data):
                    continue
                if parent in held:
                    held[sf_id] = held[parent]
                elif parent not in coming_back:
                    binned = Record.objects.using(db()).filter(sf_id=parent, is_deleted=True, purged=False)
                    if binned.exists():
                        link = CascadeDelete.objects.using(db()).filter(sf_id=parent).first()
                        held[sf_id] = link.root_id if link else parent
                if sf_id in held:
                    changed = True
                    break
    return held


def undelete_records(*, schema: Schema, roots: list[Record], moment: dt.datetime) -> Counter:
    """Restore binned `roots` and everything their delete took along; returns restored records per object
    (roots included). A record that also goes with another parent still in the bin stays there, now
    held by that parent's delete."""
    root_ids = [r.sf_id for r in roots if r.is_deleted and not r.purged]
    taken = _taken_with(root_ids)
    held = _still_held(schema, root_ids, taken)
    for sf_id, root in held.items():
        CascadeDelete.objects.using(db()).filter(sf_id=sf_id).update(root_id=root)
    ids = root_ids + [sf_id for sf_id in taken if sf_id not in held]
    restored: Counter = Counter()
    changes: list[change_events.Change] = []
    stamp = moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "+0000"
    for chunk in _chunks(ids, 500):
        rows = Record.objects.using(db()).filter(sf_id__in=chunk, is_deleted=True, purged=False)
        for sobject, sf_id, data in rows.values_list("sobject", "sf_id", "data"):
            restored[sobject] += 1
            values = {k: v for k, v in orjson.loads(data).items() if v is not None}
            values["LastModifiedDate"] = stamp
            changes.append(change_events.Change(sobject, sf_id, "UNDELETE", values))
        rows.update(is_deleted=False, deleted_date=None, system_modstamp=moment)
        CascadeDelete.objects.using(db()).filter(sf_id__in=chunk).delete()
    change_events.publish(changes=changes, moment=moment)
    return restored


def purge_records(*, roots: list[Record]) -> Counter:
    """Empty binned `roots` from the recycle bin, with everything their delete took along (hard delete:
    gone from queryAll, still listed by `/deleted`); returns purged records per object."""
    root_ids = [r.sf_id for r in roots if r.is_deleted and not r.purged]
    ids = root_ids + _taken_with(root_ids)
    purged: Counter = Counter()
    for chunk in _chunks(ids, 500):
        rows = Record.objects.using(db()).filter(sf_id__in=chunk, is_deleted=True, purged=False)
        purged.update(rows.values_list("sobject", flat=True))
        rows.update(purged=True)
        CascadeDelete.objects.using(db()).filter(sf_id__in=chunk).delete()
    return purged


def restorable(schema: Schema, sobject: str, data: dict) -> bool:
    """Whether a binned record can come back on its own: no parent it goes with is in the recycle bin."""
    for field in cascade_fields(schema).get(sobject, ()):
        parent = data.get(field)
        if parent and cascade_takes(sobject, field, data):
            if Record.objects.using(db()).filter(sf_id=parent, is_deleted=True).exists():
                return False
    return True


def binned_roots(sobjects: list[str]):
    """Records in the recycle bin that were deleted themselves, not taken along by another's delete."""
    return (
        Record.objects.using(db())
        .filter(sobject__in=sobjects, is_deleted=True, purged=False)
        .exclude(sf_id__in=CascadeDelete.objects.using(db()).values("sf_id"))
    )
