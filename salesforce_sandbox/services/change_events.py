"""Change Data Capture: a `<Object>ChangeEvent` for every create, update, delete and undelete.

Every write path (REST writes, churn, cascaded deletes, undeletes) calls `publish` inside the transaction
that writes the records, so an event exists exactly when its change committed. Replay ids come from one
counter row locked until that commit: ids become visible in increasing order, which is what lets a long
poll hand out "everything after N" without ever skipping a late-committing smaller id.

The event shape is Salesforce's (`ChangeEventHeader` with entityName, recordIds, changeType,
changedFields, nulledFields, diffFields, commitTimestamp, commitNumber, commitUser, transactionKey,
sequenceNumber, changeOrigin; then the changed fields, a contact's or lead's name nested in `Name`).
Which objects publish is set per org (`change_event_objects`, "*" for all). Events are kept for
`SANDBOX_EVENT_RETENTION_SECONDS` (72 hours, as Salesforce). Faults: `gap_next` turns the next N events
into `GAP_*` events (header only), `overflow_next` turns the next N write transactions into one
`GAP_OVERFLOW` event per object.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F

from ..models import ChangeEvent, IdSequence, OrgState
from ..routers import db
from .org import json_list, state

CHANGE_TYPES = ("CREATE", "UPDATE", "DELETE", "UNDELETE")
GAP_TYPES = tuple(f"GAP_{t}" for t in CHANGE_TYPES) + ("GAP_OVERFLOW",)
REPLAY_KEY = "evt"  # the IdSequence row that numbers replay ids
ALL_CHANNEL = "/data/ChangeEvents"
SUFFIX = "ChangeEvent"
# Fields an update event never lists as changed on their own (Salesforce bumps them on every write).
_HOUSEKEEPING = {"SystemModstamp", "LastModifiedById"}
_NAME_PARTS = ("Salutation", "FirstName", "MiddleName", "LastName", "Suffix")


def retention() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "SANDBOX_EVENT_RETENTION_SECONDS", 72 * 3600))


def object_of(channel: str) -> str | None:
    """`/data/ContactChangeEvent` -> "Contact"; None for anything else (`/data/ChangeEvents` included)."""
    if channel.startswith("/data/") and channel.endswith(SUFFIX) and len(channel) > len("/data/" + SUFFIX):
        return channel[len("/data/") : -len(SUFFIX)]
    return None


def emitting(schema, current: OrgState | None = None) -> list[str]:
    """The objects whose changes publish events in this org."""
    chosen = json_list((current or state()).change_event_objects)
    return [t.name for t in schema if "*" in chosen or t.name in chosen]


def _emits(sobject: str, current: OrgState) -> bool:
    chosen = json_list(current.change_event_objects)
    return "*" in chosen or sobject in chosen


@dataclass
class Change:
    sobject: str
    sf_id: str
    change_type: str  # CREATE / UPDATE / DELETE / UNDELETE
    fields: dict = field(default_factory=dict)  # the values the event carries (wire form)
    nulled: list[str] = field(default_factory=list)


def created(sobject: str, sf_id: str, data: dict, moment_wire: str) -> Change:
    values = {k: v for k, v in data.items() if v is not None}
    values.update(CreatedDate=moment_wire, LastModifiedDate=moment_wire)
    return Change(sobject, sf_id, "CREATE", values)


def updated(sobject: str, sf_id: str, old: dict, new: dict, moment_wire: str) -> Change | None:
    """The UPDATE event for a record whose data went from `old` to `new`; None when nothing changed."""
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k) and k not in _HOUSEKEEPING)
    if not keys:
        return None
    values = {k: new.get(k) for k in keys if new.get(k) is not None}
    values["LastModifiedDate"] = moment_wire
    return Change(sobject, sf_id, "UPDATE", values, nulled=[k for k in keys if new.get(k) is None])


def _shaped(sobject: str, values: dict) -> dict:
    """A contact's, lead's or user's name parts nest under the compound `Name`, as Salesforce sends them."""
    if sobject not in ("Contact", "Lead", "User") or not any(p in values for p in (*_NAME_PARTS, "Name")):
        return values
    shaped = {k: v for k, v in values.items() if k not in _NAME_PARTS and k != "Name"}
    shaped["Name"] = {p: values[p] for p in _NAME_PARTS if p in values}
    return shaped


def _changed_fields(sobject: str, change: Change) -> list[str]:
    names = sorted(set(change.fields) | set(change.nulled))
    if sobject in ("Contact", "Lead", "User"):
        names = [f"Name.{n}" if n in _NAME_PARTS else n for n in names if n != "Name"]
    return names


def _allocate(count: int) -> int:
    """Reserve `count` replay ids; the row stays locked until the caller's transaction commits."""
    IdSequence.objects.using(db()).get_or_create(key_prefix=REPLAY_KEY)
    IdSequence.objects.using(db()).filter(pk=REPLAY_KEY).update(next_value=F("next_value") + count)
    return IdSequence.objects.using(db()).get(pk=REPLAY_KEY).next_value - count


def _take(field_name: str, current: OrgState) -> bool:
    if getattr(current, field_name) <= 0:
        return False
    return bool(
        OrgState.objects.using(db())
        .filter(pk=1, **{f"{field_name}__gt": 0})
        .update(**{field_name: F(field_name) - 1})
    )


def publish(*, changes: list[Change], moment: dt.datetime, user_id: str = "", origin: str = "") -> int:
    """Record the events of one write transaction (call it inside that transaction). Returns how many."""
    if not changes:
        return 0
    current = state()
    changes = [c for c in changes if _emits(c.sobject, current)]
    if not changes:
        return 0
    commit_ms = int(moment.timestamp() * 1000)
    key = str(uuid.uuid4())
    bodies: list[tuple[str, str, dict]] = []  # (sobject, change type, payload)
    if _take("overflow_next", current):
        for sobject in sorted({c.sobject for c in changes}):
            bodies.append((sobject, "GAP_OVERFLOW", {"recordIds": [], "changedFields": []}))
    else:
        for change in changes:
            kind = change.change_type
            header = {"recordIds": [change.sf_id], "changedFields": [], "nulledFields": [], "diffFields": []}
            fields: dict = {}
            if _take("gap_next", current):
                kind = f"GAP_{kind}"
            elif kind == "UPDATE":
                header["changedFields"] = _changed_fields(change.sobject, change)
                header["nulledFields"] = sorted(change.nulled)
                fields = _shaped(change.sobject, change.fields)
            elif kind in ("CREATE", "UNDELETE"):
                fields = _shaped(change.sobject, change.fields)
            bodies.append((change.sobject, kind, {**header, "_fields": fields}))
    with transaction.atomic(using=db()):
        first = _allocate(len(bodies))
        rows = []
        for n, (sobject, kind, body) in enumerate(bodies):
            fields = body.pop("_fields", {})
            header = {
                "entityName": sobject,
                "recordIds": body["recordIds"],
                "changeType": kind,
                "changeOrigin": origin or "com/salesforce/api/rest/66.0",
                "transactionKey": key,
                "sequenceNumber": n + 1,
                "commitTimestamp": commit_ms,
                "commitNumber": first + n,
                "commitUser": user_id or "",
                "nulledFields": body.get("nulledFields", []),
                "diffFields": body.get("diffFields", []),
                "changedFields": body.get("changedFields", []),
            }
            payload = {"ChangeEventHeader": header, **fields}
            rows.append(
                ChangeEvent(
                    replay_id=first + n,
                    sobject=sobject,
                    change_type=kind,
                    payload=orjson.dumps(payload).decode(),
                    created_at=moment,
                )
            )
        ChangeEvent.objects.using(db()).bulk_create(rows, batch_size=500)
    return len(rows)


def _forget(events) -> int:
    last = events.order_by("-replay_id").values_list("replay_id", flat=True).first()
    if last is None:
        return 0
    OrgState.objects.using(db()).filter(pk=state().pk, events_forgotten_through__lt=last).update(
        events_forgotten_through=last
    )
    deleted, _ = ChangeEvent.objects.using(db()).filter(replay_id__lte=last).delete()
    return deleted


def prune(now: dt.datetime) -> int:
    """Forget events older than the retention period."""
    return _forget(ChangeEvent.objects.using(db()).filter(created_at__lt=now - retention()))


def expire_all() -> int:
    """The "retention passed" fault: every stored event is forgotten (replay ids keep counting up)."""
    return _forget(ChangeEvent.objects.using(db()).all())


def last_replay_id() -> int:
    """The newest replay id handed out (0 before the first event)."""
    row = IdSequence.objects.using(db()).filter(pk=REPLAY_KEY).values_list("next_value", flat=True).first()
    return (row or 1) - 1
