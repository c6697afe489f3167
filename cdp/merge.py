"""The merge engine: the one way data enters the CDP (docs/architecture.md §2).

A source hands over rows of raw field values plus identity keys; the engine validates them against the
workspace's field catalogue, finds the person (or organization) each row names, applies the merge
strategy and writes everything set-based: a fixed number of queries per call whatever the batch size,
inside one transaction (a savepoint when the caller already holds one, as the sync engine does).

Matching follows Ortto. A row's keys are tried in order: its source record ids (`key`, `extra_keys`),
then each `merge_by` field (the unique identifier, then the fallback). With `FindStrategy.ANY` the first
key that matches wins; with `FindStrategy.NEXT_IF_EMPTY` a later key only matches records whose earlier
keys are empty. Rows of one batch that name the same person merge with each other, in row order.

Strategies (Ortto's `merge_strategy`): APPEND_ONLY fills empty fields only (existing "Sydney" stays when
"Oslo" arrives); OVERWRITE writes every given field and `None` clears; IGNORE creates new records and
leaves existing ones untouched. `skip_non_existing` never creates. Deliberate refinements: an unsubscribe
(`bol::p`/`bol::sp` false) from a source is applied under every strategy, because an opt-out must never be
dropped; with `Workspace.sticky_unsubscribe` a source's re-subscribe never undoes an unsubscribe made in
the CDP itself; every strategy records the identities of the rows it matched (so later changes, opt-outs
and deletes find their record) and restores an archived record a live source row matches.

Source precedence: a row may carry a `precedence` (0 first) among the records of its source that describe
one person or organization (for Salesforce: the Contact before the Lead). Each stored value remembers
which precedence of which source wrote it (`field_sources`). A row never overwrites or clears a value that
a row of its source with an earlier precedence wrote; it only fills what such rows left empty. A row with an
earlier precedence replaces a value a later one wrote under every strategy (and a `None` from it leaves that
value alone: the later row's value is the best there is). Between values of equal precedence, values from
other writers and values of no one, the strategy decides, or the per-field `field_modes` (FieldMode) when
given. The person's organization (`idt::o`) follows the same rules.

Organizations with `distinct_records`: records of one source object never merge by name (two Accounts
named Acme are two organizations), and a name joins an organization only when exactly one candidate holds
it; with `create_ambiguous=False` a row whose name several organizations hold creates nothing ("ignored").

Concurrency: emails are unique per workspace (case-insensitively) and identities are unique per
(workspace, source, object, external id). Matched rows are read without locks and updated only if their
`updated_at` is still what was read (optimistic concurrency, so an unchanged re-sync writes nothing).
When another worker inserts the same person first (a unique constraint fails) or changed a record in
between (the guarded update misses it), the savepoint rolls back and the batch is resolved again against
what that worker committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from cdp import fields as ft
from cdp.bulk import bulk_insert, bulk_update_rows
from cdp.catalogue import (
    activity_definition_ensure,
    custom_object_ensure,
    field_definition_ensure,
    field_definitions_for_merge,
)
from cdp.models import (
    PERMISSION_SOURCE_CDP,
    ArchiveChange,
    Identity,
    Organization,
    PermissionChange,
    Person,
    Workspace,
)
from cdp.records import (
    ActivityEvent,
    CustomObjectRow,
    activities_prune,
    archive_records,
    custom_object_records_upsert,
    record_activities,
)
from cdp.types import (
    FieldMode,
    FindStrategy,
    IdentityKey,
    MergeResult,
    MergeStrategy,
    OrganizationRow,
    PersonRow,
)

__all__ = [
    "ActivityEvent",
    "CustomObjectRow",
    "FieldMode",
    "FindStrategy",
    "IdentityKey",
    "MergeResult",
    "MergeStrategy",
    "OrganizationRow",
    "PersonRow",
    "activities_prune",
    "activity_definition_ensure",
    "archive_records",
    "custom_object_ensure",
    "custom_object_records_upsert",
    "field_definition_ensure",
    "field_sources_forget",
    "merge_organizations",
    "merge_people",
    "record_activities",
]

MAX_ROWS_PER_CALL = 10_000
_RETRIES = 4


# ---------------------------------------------------------------------------------------------------
# What each entity stores where. Built-in fields with a column are listed; every other field of the
# entity lives in the `values` JSON column keyed by field id.


@dataclass(frozen=True)
class _Column:
    attname: str
    empty: object  # what the column holds when the field is empty
    # The lower-cased / normalised copy used for matching, kept in its own column (email -> email_key).
    key_attname: str | None = None


@dataclass(frozen=True)
class _Entity:
    model: type
    entity: str
    noun: str
    columns: dict[str, _Column]
    # merge_by field id -> attribute holding its match key; which of them are unique per workspace.
    match_attnames: dict[str, str]
    unique_keys: frozenset[str]
    identity_owner: str  # "person" / "organization" on Identity
    permissions: dict[str, str]  # bol::p -> email_permission (people only)


PERSON = _Entity(
    model=Person,
    entity="person",
    noun="person",
    columns={
        "str::first": _Column("first_name", ""),
        "str::last": _Column("last_name", ""),
        "str::email": _Column("email", "", key_attname="email_key"),
        "phn::phone": _Column("phone", ""),
        "geo::city": _Column("city", ""),
        "geo::region": _Column("region", ""),
        "geo::country": _Column("country", ""),
        "str::postal": _Column("postal", ""),
        "dtz::b": _Column("birthday", None),
        "str::language": _Column("language", ""),
        "str::ei": _Column("external_id", ""),
        "bol::gdpr": _Column("gdpr", None),
        "bol::p": _Column("email_permission", True),
        "bol::sp": _Column("sms_permission", False),
    },
    match_attnames={"str::email": "email_key", "phn::phone": "phone", "str::ei": "external_id"},
    unique_keys=frozenset({"str::email"}),
    identity_owner="person",
    permissions={"bol::p": "email_permission", "bol::sp": "sms_permission"},
)

ORGANIZATION = _Entity(
    model=Organization,
    entity="organization",
    noun="organization",
    columns={
        "str:o:name": _Column("name", "", key_attname="name_key"),
        "str:o:website": _Column("website", ""),
        "str:o:industry": _Column("industry", ""),
        "int:o:employees": _Column("employees", None),
        "str:o:address": _Column("address", ""),
        "geo:o:city": _Column("city", ""),
        "geo:o:region": _Column("region", ""),
        "geo:o:country": _Column("country", ""),
        "str:o:postal": _Column("postal", ""),
    },
    match_attnames={"str:o:name": "name_key", "str:o:website": "website"},
    unique_keys=frozenset(),
    identity_owner="organization",
    permissions={},
)

_CASE_INSENSITIVE_KEYS = frozenset({"str::email", "str:o:name"})


def _match_key(field_id: str, value: object) -> str | None:
    """The form a merge_by value is compared in: emails and names case-insensitively, phones normalised."""
    if value is None or value == "":
        return None
    text = str(value)
    return text.lower() if field_id in _CASE_INSENSITIVE_KEYS else text


# ---------------------------------------------------------------------------------------------------
# Step 1: validate and convert each row on its own.


@dataclass
class _Prepared:
    index: int
    keys: list[IdentityKey]
    values: dict[str, object]  # field id -> converted Python value (None clears)
    match: dict[str, str]  # merge_by field id -> match key
    organization_key: IdentityKey | None = None
    precedence: int | None = None


_UNKNOWN = object()


def _converters(definitions) -> dict[str, object]:
    """field id -> its type's converter, or None when read-only: resolved once per call, not once per value."""
    converters: dict[str, object] = {}
    for field_id, definition in definitions.items():
        field_type = ft.FIELD_TYPES.get(definition.display_type)
        if definition.read_only:
            converters[field_id] = None
        elif field_type is not None:
            converters[field_id] = field_type.convert
        else:  # an unknown type fails as it always did, when a value of it arrives
            converters[field_id] = lambda raw, code=definition.display_type: ft.convert_value(code, raw)
    return converters


def _prepare(spec: _Entity, converters, merge_by, index: int, row) -> _Prepared | str:
    problems: list[str] = []
    keys = [k for k in (row.key, *row.extra_keys) if k is not None]
    for key in keys:
        if not isinstance(key, IdentityKey):
            return f"identity key {key!r} is not an IdentityKey"
        if problem := key.problem():
            problems.append(problem)
    if not isinstance(row.fields, dict):
        return "fields must be a mapping of field id to value"
    values: dict[str, object] = {}
    for field_id, raw in row.fields.items():
        convert = converters.get(field_id, _UNKNOWN)
        if convert is _UNKNOWN:
            problems.append(f"{field_id}: no such {spec.noun} field in this workspace")
            continue
        if convert is None:
            problems.append(f"{field_id}: the field is read-only")
            continue
        if ft.is_empty(raw):  # as ft.convert_value: empty is None whatever the type
            values[field_id] = None
            continue
        try:
            values[field_id] = convert(raw)
        except ft.FieldValueError as error:
            problems.append(f"{field_id}: {error}")
    if problems:
        return "; ".join(problems)
    match = {fid: k for fid in merge_by if (k := _match_key(fid, values.get(fid))) is not None}
    if not keys and not match:
        wanted = ", ".join(merge_by) or "merge_by field"
        return f"no identity key: the row has no record id and no value for {wanted}"
    organization_key = getattr(row, "organization_key", None)
    if organization_key is not None and (
        not isinstance(organization_key, IdentityKey) or organization_key.problem()
    ):
        return "organization_key is not a valid IdentityKey"
    precedence = getattr(row, "precedence", None)
    if precedence is not None and (type(precedence) is not int or precedence < 0):
        return "precedence must be a whole number from 0"
    return _Prepared(index, keys, values, match, organization_key, precedence)


# ---------------------------------------------------------------------------------------------------
# Step 2: resolve rows to records in memory, in row order.


@dataclass(eq=False)
class _Target:
    """One person/organization touched by the batch: an existing row, or one this batch creates."""

    pk: int | None
    state: dict[str, object]  # attname -> value, including "values" (a dict of JSON values)
    identity_objects: set[tuple[str, str]]  # (source, object) pairs it already has identities for
    archived: bool = False
    changed: bool = False
    # Order among records sharing a non-unique key (a phone): existing ones by pk, then new ones in the
    # order the batch creates them, which is the pk order they get; so matching does not depend on batching.
    rank: tuple[int, int] = (0, 0)
    read_updated_at: datetime | None = None
    new_keys: list[IdentityKey] = field(default_factory=list)

    def match_value(self, spec: _Entity, field_id: str):
        return self.state.get(spec.match_attnames[field_id]) or None


@dataclass
class _Outcome:
    status: str
    target: _Target | None = None
    reason: str = ""
    changed: tuple[str, ...] = ()


def _state_attnames(spec: _Entity) -> list[str]:
    attnames = [c.attname for c in spec.columns.values()]
    attnames += [c.key_attname for c in spec.columns.values() if c.key_attname]
    attnames += ["values", "field_sources"]
    if spec is PERSON:
        attnames += ["organization_id", "email_permission_source", "sms_permission_source"]
    return attnames


def _new_state(spec: _Entity) -> dict[str, object]:
    state: dict[str, object] = {c.attname: c.empty for c in spec.columns.values()}
    for column in spec.columns.values():
        if column.key_attname:
            state[column.key_attname] = None if spec is PERSON else ""
    state["values"] = {}
    state["field_sources"] = {}
    if spec is PERSON:
        state["organization_id"] = None
        state["email_permission_source"] = ""
        state["sms_permission_source"] = ""
    return state


class _Resolver:
    def __init__(
        self,
        *,
        spec,
        workspace,
        definitions,
        merge_by,
        strategy,
        find_strategy,
        skip_non_existing,
        source,
        field_modes=None,
        distinct_records=False,
        create_ambiguous=True,
    ):
        self.spec = spec
        self.field_modes: dict[str, FieldMode] = {k: FieldMode(v) for k, v in (field_modes or {}).items()}
        self.distinct_records = distinct_records
        self.create_ambiguous = create_ambiguous
        # With distinct_records: every record holding each merge_by value, in pk order.
        self.match_lists: dict[tuple[str, str], list[_Target]] = {}
        self.workspace = workspace
        self.definitions = definitions
        self.merge_by = merge_by
        self.strategy = strategy
        self.find_strategy = find_strategy
        self.skip_non_existing = skip_non_existing
        self.source = source
        self.by_identity: dict[tuple[str, str, str], _Target] = {}
        self.by_match: dict[tuple[str, str], _Target] = {}
        # Who holds each unique value (an email), whether or not it is a merge key of this call.
        self.holders: dict[tuple[str, str], _Target] = {}
        self.targets: list[_Target] = []
        self.permission_changes: list[tuple[_Target, str, bool | None, bool]] = []
        self.restores: list[tuple[_Target, str]] = []  # (record, the object whose live row restored it)
        self.organization_ids: dict[tuple[str, str, str], int] = {}

    # -- lookups, one query each, whatever the batch size

    def load(self, prepared: list[_Prepared]) -> None:
        spec = self.spec
        wanted = {(k.source, k.object, k.external_id) for p in prepared for k in p.keys}
        org_wanted = {
            (p.organization_key.source, p.organization_key.object, p.organization_key.external_id)
            for p in prepared
            if p.organization_key is not None
        }
        owner_ids: dict[tuple[str, str, str], int] = {}
        if wanted or org_wanted:
            all_keys = wanted | org_wanted
            rows = Identity.objects.filter(
                workspace=self.workspace,
                external_id__any={k[2] for k in all_keys},
                object__any={k[1] for k in all_keys},
                source__any={k[0] for k in all_keys},
            ).values_list("source", "object", "external_id", "person_id", "organization_id")
            for source, obj, ext, person_id, organization_id in rows:
                key = (source, obj, ext)
                owner = person_id if spec.identity_owner == "person" else organization_id
                if key in wanted and owner is not None:
                    owner_ids[key] = owner
                if key in org_wanted and organization_id is not None:
                    self.organization_ids[key] = organization_id
        # One query per kind of key rather than one OR: PostgreSQL hashes a lone `col = ANY(array)` filter,
        # so even with stale statistics (a first backfill) a lookup costs one pass, not rows x keys.
        conditions = [Q(pk__any=set(owner_ids.values()))] if owner_ids else []
        for field_id in dict.fromkeys([*self.merge_by, *sorted(spec.unique_keys)]):
            values = {_match_key(field_id, p.values.get(field_id)) for p in prepared} - {None}
            if values:
                conditions.append(Q(**{f"{spec.match_attnames[field_id]}__any": values}))
        found: dict[int, dict] = {}
        for condition in conditions:
            # No row locks: a re-sync that changes nothing must write nothing (FOR UPDATE dirties every row
            # it locks on PostgreSQL). Updates are guarded by updated_at instead; see _write. Plain dicts,
            # not model instances: building 2,000 instances costs more than the query.
            for record in spec.model.objects.filter(condition, workspace=self.workspace).values(
                "pk", "archived_at", "updated_at", *_state_attnames(spec)
            ):
                found.setdefault(record["pk"], record)
        records = [found[pk] for pk in sorted(found)]
        targets_by_pk = {}
        for record in records:
            pk, archived_at, updated_at = (
                record.pop("pk"),
                record.pop("archived_at"),
                record.pop("updated_at"),
            )
            target = _Target(
                pk=pk,
                state=record,
                identity_objects=set(),
                rank=(0, pk),
                archived=archived_at is not None,
                read_updated_at=updated_at,
            )
            targets_by_pk[pk] = target
            self.targets.append(target)
            for field_id in self.merge_by:
                value = target.match_value(spec, field_id)
                if value is not None:
                    # Records ordered by pk: a shared phone matches the oldest person, deterministically.
                    self.by_match.setdefault((field_id, value), target)
                    self.match_lists.setdefault((field_id, value), []).append(target)
            for field_id in spec.unique_keys:
                value = target.match_value(spec, field_id)
                if value is not None:
                    self.holders[(field_id, value)] = target
        for key, owner in owner_ids.items():
            if owner in targets_by_pk:
                self.by_identity[key] = targets_by_pk[owner]
        if (self.find_strategy == FindStrategy.NEXT_IF_EMPTY or self.distinct_records) and targets_by_pk:
            owned = Identity.objects.filter(
                workspace=self.workspace, **{f"{spec.identity_owner}_id__in": list(targets_by_pk)}
            ).values_list(f"{spec.identity_owner}_id", "source", "object")
            for owner, source, obj in owned:
                targets_by_pk[owner].identity_objects.add((source, obj))

    # -- matching

    def _find(self, prepared: _Prepared) -> _Target | None | str:
        """The record the row names; a reason string when its name is ambiguous (distinct_records)."""
        for key in prepared.keys:
            target = self.by_identity.get((key.source, key.object, key.external_id))
            if target is not None:
                return target
        for position, field_id in enumerate(self.merge_by):
            value = prepared.match.get(field_id)
            if value is None:
                continue
            if self.distinct_records:
                own = {(k.source, k.object) for k in prepared.keys}
                candidates = [
                    t for t in self.match_lists.get((field_id, value), ()) if not own & t.identity_objects
                ]
                if len(candidates) > 1:
                    return f"{len(candidates)} {self.spec.noun}s hold {field_id} {value!r}"
                target = candidates[0] if candidates else None
            else:
                target = self.by_match.get((field_id, value))
                if position and target is not None and not self._earlier_keys_blank(target, position):
                    # A shared phone names the person who has nothing else to be found by before a person
                    # found by email: otherwise a phone-only row would move to the email holder once the
                    # holder also got the phone, and applying a batch twice would differ from once.
                    blank = [
                        t
                        for t in self.match_lists.get((field_id, value), ())
                        if self._earlier_keys_blank(t, position)
                    ]
                    target = min(blank, key=lambda t: t.rank) if blank else target
            if target is None:
                continue
            if self.find_strategy == FindStrategy.ANY or self._earlier_keys_empty(target, prepared, position):
                return target
        return None

    def _earlier_keys_empty(self, target: _Target, prepared: _Prepared, position: int) -> bool:
        if any((k.source, k.object) in target.identity_objects for k in prepared.keys):
            return False
        return self._earlier_keys_blank(target, position)

    def _earlier_keys_blank(self, target: _Target, position: int) -> bool:
        return all(target.match_value(self.spec, fid) is None for fid in self.merge_by[:position])

    # -- applying one row

    def apply(self, prepared: _Prepared) -> _Outcome:
        target = self._find(prepared)
        if isinstance(target, str):
            if not self.create_ambiguous:
                return _Outcome("ignored", reason=f"ambiguous: {target}")
            target = None
        if target is None and self.skip_non_existing:
            return _Outcome(
                "ignored", reason=f"no existing {self.spec.noun} matches and skip_non_existing is on"
            )
        created = target is None
        state = _new_state(self.spec) if created else dict(target.state)
        state["values"] = dict(state["values"])
        state["field_sources"] = {k: dict(v) for k, v in state["field_sources"].items()}
        changes, history, problem, sources_changed = self._changes(state, prepared, target)
        if problem:
            return _Outcome("invalid", reason=problem)
        if created:
            target = _Target(
                pk=None, state=state, identity_objects=set(), changed=True, rank=(1, len(self.targets))
            )
            self.targets.append(target)
        else:
            target.state = state
            if changes or sources_changed:
                target.changed = True
            if target.archived:
                # A record a live source row names is live again (Ortto's "Restored").
                target.archived = False
                target.changed = True
                changes.append("a")
                key = next(iter(prepared.keys), None)
                self.restores.append((target, key.object if key else ""))
        for field_id, old, new in history:
            self.permission_changes.append((target, field_id, old, new))
        self._register(target, prepared)
        if not created and not changes and self.strategy == MergeStrategy.IGNORE:
            return _Outcome(
                "ignored", target, reason=f"the {self.spec.noun} exists and strategy 3 leaves it untouched"
            )
        return _Outcome("created" if created else "merged", target, changed=tuple(changes))

    def _may_write(
        self, *, created: bool, precedence, holder, value, empty: bool, field_id: str, own: bool = False
    ) -> bool:
        """Whether a row of this source may set a field (see the module docstring)."""
        if created:
            return True
        if precedence is not None and holder is not None and holder != precedence:
            if holder < precedence:  # a record that comes first wrote it: only a blank may be filled
                return empty and value is not None
            return value is not None  # this row comes first: it replaces what a later record wrote
        mode = self.field_modes.get(field_id)
        if mode == FieldMode.OVERWRITE:
            return True
        if (
            mode == FieldMode.FILL
            or self.strategy == MergeStrategy.APPEND_ONLY
            or (precedence is not None and own)
        ):
            # A record the source already describes takes the source's other records' values into its
            # blanks under every strategy, so which of them arrived first does not matter.
            if empty and value is not None:
                return True
            if mode == FieldMode.FILL or self.strategy == MergeStrategy.APPEND_ONLY:
                return False
        return self.strategy == MergeStrategy.OVERWRITE

    def _changes(self, state, prepared: _Prepared, target: _Target | None):
        spec = self.spec
        created = target is None
        changes: list[str] = []
        history: list[tuple[str, bool | None, bool]] = []
        precedence = prepared.precedence
        sources = state["field_sources"]
        holders = dict(sources.get(self.source, {}))  # as they stood before this row
        own = bool(holders)
        sources_changed = False

        def took(field_id: str, value) -> None:
            """Record who holds the value now: this row's precedence, or nobody once it is cleared."""
            nonlocal sources_changed
            for source, fields in list(sources.items()):
                if source != self.source and field_id in fields:
                    del fields[field_id]
                    sources_changed = True
                    if not fields:
                        del sources[source]
            mine = sources.setdefault(self.source, {})
            if value is None or precedence is None:
                if mine.pop(field_id, None) is not None:
                    sources_changed = True
            elif mine.get(field_id) != precedence:
                mine[field_id] = precedence
                sources_changed = True
            if not mine:
                del sources[self.source]

        for field_id, value in prepared.values.items():
            column = spec.columns.get(field_id)
            if field_id in spec.permissions:
                result = self._permission(state, field_id, value, created)
                if result is not None:
                    history.append(result)
                    changes.append(field_id)
                continue
            if column is not None:
                current = state[column.attname]
                stored = column.empty if value is None else value
                empty = current == column.empty or current is None
            else:
                display_type = self.definitions[field_id].display_type
                current = state["values"].get(field_id)
                stored = ft.to_json(display_type, value)
                empty = current is None
            if not self._may_write(
                created=created,
                precedence=precedence,
                holder=holders.get(field_id),
                value=value,
                empty=empty,
                field_id=field_id,
                own=own,
            ):
                continue
            if stored == current:
                if value is not None and precedence is not None:
                    took(field_id, value)  # the same value, now held by this row's precedence
                continue
            if column is not None and field_id in spec.unique_keys and value is not None:
                key = _match_key(field_id, value)
                holder = self.holders.get((field_id, key))
                # Even a holder that gives the value up in this batch keeps it until its own UPDATE runs,
                # so handing it over within one batch would break the unique constraint: refuse instead.
                if holder is not None and holder is not target:
                    return [], [], f"{field_id}: {value} already belongs to another {spec.noun}", False
            if column is not None:
                state[column.attname] = stored
                if column.key_attname:
                    key_value = _match_key(field_id, value)
                    state[column.key_attname] = key_value if spec is PERSON else (key_value or "")
            elif stored is None:
                state["values"].pop(field_id, None)
            else:
                state["values"][field_id] = stored
            took(field_id, value)
            changes.append(field_id)
        if spec is PERSON and prepared.organization_key is not None:
            key = prepared.organization_key
            organization_id = self.organization_ids.get((key.source, key.object, key.external_id))
            current = state["organization_id"]
            if organization_id is not None and self._may_write(
                created=created,
                precedence=precedence,
                holder=holders.get("idt::o"),
                value=organization_id,
                empty=current is None,
                field_id="idt::o",
                own=own,
            ):
                if organization_id != current:
                    state["organization_id"] = organization_id
                    changes.append("idt::o")
                took("idt::o", organization_id)
        return changes, history, "", sources_changed

    def _permission(self, state, field_id: str, value, created: bool):
        """Apply bol::p / bol::sp; returns (field id, old, new) when the permission changes."""
        attname = self.spec.permissions[field_id]
        source_attname = f"{attname}_source"
        if value is None:
            return None  # a permission can be granted or withdrawn, not cleared
        current = state[attname]
        if value == current and not created:
            return None
        if not created:
            if self.strategy in (MergeStrategy.APPEND_ONLY, MergeStrategy.IGNORE) and value is True:
                return None  # append-only and ignore never re-subscribe; an unsubscribe always applies
            if (
                value is True
                and self.workspace.sticky_unsubscribe
                and state[source_attname] == PERMISSION_SOURCE_CDP
                and self.source != PERMISSION_SOURCE_CDP
            ):
                return None  # sticky: an unsubscribe made in the CDP outranks a source's re-subscribe
        state[attname] = value
        state[source_attname] = self.source
        if created and value == self.spec.columns[field_id].empty:
            return None  # the default needs no history row
        return field_id, (None if created else current), value

    def _register(self, target: _Target, prepared: _Prepared) -> None:
        for key in prepared.keys:
            identity = (key.source, key.object, key.external_id)
            if identity not in self.by_identity:
                self.by_identity[identity] = target
                target.new_keys.append(key)
                target.identity_objects.add((key.source, key.object))
        for field_id in self.merge_by:
            value = target.match_value(self.spec, field_id)
            if value is None:
                continue
            holder = self.by_match.get((field_id, value))
            if holder is None or field_id in self.spec.unique_keys or target.rank < holder.rank:
                self.by_match[(field_id, value)] = target
            listed = self.match_lists.setdefault((field_id, value), [])
            if target not in listed:
                listed.append(target)
        for field_id in self.spec.unique_keys:
            value = target.match_value(self.spec, field_id)
            if value is not None:
                self.holders[(field_id, value)] = target


# ---------------------------------------------------------------------------------------------------
# Step 3: write.


class _LostRace(Exception):
    """Another writer changed a record between this batch's read and its update: resolve the batch again."""


def _write(resolver: _Resolver, now: datetime) -> None:
    spec = resolver.spec
    workspace_id = resolver.workspace.pk
    new = [t for t in resolver.targets if t.pk is None]
    pks = bulk_insert(
        spec.model,
        [
            {"workspace_id": workspace_id, "created_at": now, "updated_at": now, "first_seen": now, **t.state}
            for t in new
        ],
    )
    for target, pk in zip(new, pks, strict=True):
        target.pk = pk
    created = set(map(id, new))
    changed = [t for t in resolver.targets if t.changed and id(t) not in created]
    if changed:
        attnames = sorted({a for t in changed for a in t.state})
        # A changed row is live: either it was, or this merge restored it (archived_at back to None).
        rows = [
            {
                "id": t.pk,
                **t.state,
                "updated_at": now,
                "archived_at": None,
                "expected_updated_at": t.read_updated_at,
            }
            for t in changed
        ]
        updated = bulk_update_rows(
            spec.model, rows, [*attnames, "updated_at", "archived_at"], unless_changed="updated_at"
        )
        if updated != len(rows):
            raise _LostRace(f"{len(rows) - updated} {spec.noun} rows changed since they were read")
    owner = f"{spec.identity_owner}_id"
    bulk_insert(
        Identity,
        [
            {
                "workspace_id": workspace_id,
                "source": k.source,
                "object": k.object,
                "external_id": k.external_id,
                owner: t.pk,
            }
            for t in resolver.targets
            for k in t.new_keys
        ],
    )
    bulk_insert(
        PermissionChange,
        [
            {
                "workspace_id": workspace_id,
                "person_id": t.pk,
                "field_id": field_id,
                "old_value": old,
                "new_value": new_value,
                "source": resolver.source,
                "changed_at": now,
            }
            for t, field_id, old, new_value in resolver.permission_changes
        ],
    )
    bulk_insert(
        ArchiveChange,
        [
            {
                "workspace_id": workspace_id,
                owner: t.pk,
                "archived": False,
                "source": resolver.source,
                "object": object_name,
                "changed_at": now,
            }
            for t, object_name in resolver.restores
        ],
    )


def _merge(
    spec: _Entity,
    *,
    workspace: Workspace,
    rows: Sequence,
    source: str,
    strategy: MergeStrategy,
    find_strategy: FindStrategy,
    skip_non_existing: bool,
    merge_by: Sequence[str],
    field_modes=None,
    distinct_records: bool = False,
    create_ambiguous: bool = True,
) -> list[MergeResult]:
    strategy = MergeStrategy(strategy)
    find_strategy = FindStrategy(find_strategy)
    merge_by = tuple(merge_by)
    if len(merge_by) > 3 or len(set(merge_by)) != len(merge_by):
        raise ValueError("merge_by takes up to three distinct field ids")
    for field_id in merge_by:
        if field_id not in spec.match_attnames:
            raise ValueError(
                f"{field_id} cannot be a {spec.noun} merge key; use one of {sorted(spec.match_attnames)}"
            )
    if len(rows) > MAX_ROWS_PER_CALL:
        raise ValueError(f"at most {MAX_ROWS_PER_CALL} rows per call")
    if not source or len(source) > 100:
        raise ValueError("source must name the writer in 1-100 characters")
    if not rows:
        return []
    with transaction.atomic():
        definitions = field_definitions_for_merge(workspace=workspace, entity=spec.entity)
        prepared: list[_Prepared] = []
        invalid: dict[int, str] = {}
        converters = _converters(definitions)
        for index, row in enumerate(rows):
            result = _prepare(spec, converters, merge_by, index, row)
            if isinstance(result, str):
                invalid[index] = result
            else:
                prepared.append(result)
        for attempt in range(_RETRIES):
            try:
                with transaction.atomic():
                    resolver = _Resolver(
                        spec=spec,
                        workspace=workspace,
                        definitions=definitions,
                        merge_by=merge_by,
                        strategy=strategy,
                        find_strategy=find_strategy,
                        skip_non_existing=skip_non_existing,
                        source=source,
                        field_modes=field_modes,
                        distinct_records=distinct_records,
                        create_ambiguous=create_ambiguous,
                    )
                    resolver.load(prepared)
                    outcomes = {p.index: resolver.apply(p) for p in prepared}
                    _write(resolver, timezone.now())
                break
            except (IntegrityError, OperationalError, _LostRace):
                # Another worker created one of these people (or identities) first, or a deadlock broke
                # the tie: the savepoint is gone, read again and resolve against what it committed.
                if attempt == _RETRIES - 1:
                    raise
    results: list[MergeResult] = []
    for index in range(len(rows)):
        if index in invalid:
            results.append(MergeResult("invalid", None, invalid[index]))
            continue
        outcome = outcomes[index]
        record_id = outcome.target.pk if outcome.target is not None else None
        results.append(MergeResult(outcome.status, record_id, outcome.reason, outcome.changed))
    return results


def merge_people(
    *,
    workspace: Workspace,
    rows: Sequence[PersonRow],
    source: str,
    strategy: MergeStrategy = MergeStrategy.OVERWRITE,
    find_strategy: FindStrategy = FindStrategy.ANY,
    skip_non_existing: bool = False,
    merge_by: Sequence[str] = ("str::email", "phn::phone"),
    field_modes: Mapping[str, FieldMode] | None = None,
) -> list[MergeResult]:
    """Create or update people from `rows`; one result per row, in order. See the module docstring."""
    return _merge(
        PERSON,
        workspace=workspace,
        rows=rows,
        source=source,
        strategy=strategy,
        find_strategy=find_strategy,
        skip_non_existing=skip_non_existing,
        merge_by=merge_by,
        field_modes=field_modes,
    )


def merge_organizations(
    *,
    workspace: Workspace,
    rows: Sequence[OrganizationRow],
    source: str,
    strategy: MergeStrategy = MergeStrategy.OVERWRITE,
    find_strategy: FindStrategy = FindStrategy.ANY,
    skip_non_existing: bool = False,
    merge_by: Sequence[str] = ("str:o:name",),
    field_modes: Mapping[str, FieldMode] | None = None,
    distinct_records: bool = False,
    create_ambiguous: bool = True,
) -> list[MergeResult]:
    """Create or update organizations; organizations are matched on their name case-insensitively."""
    return _merge(
        ORGANIZATION,
        workspace=workspace,
        rows=rows,
        source=source,
        strategy=strategy,
        find_strategy=find_strategy,
        skip_non_existing=skip_non_existing,
        merge_by=merge_by,
        field_modes=field_modes,
        distinct_records=distinct_records,
        create_ambiguous=create_ambiguous,
    )


def field_sources_forget(*, workspace: Workspace, source: str, person_ids: Sequence[int]) -> int:
    """Forget which of `source`'s records wrote each value of these people (their values stay), so the
    source's remaining records can be merged again as if first. Returns how many people changed."""
    changed = []
    for pk, sources in Person.objects.filter(workspace=workspace, pk__in=list(person_ids)).values_list(
        "pk", "field_sources"
    ):
        if source in (sources or {}):
            changed.append(Person(pk=pk, field_sources={k: v for k, v in sources.items() if k != source}))
    Person.objects.bulk_update(changed, ["field_sources"])
    return len(changed)
