"""Reads. Every selector that returns workspace data takes the workspace first."""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from functools import cache

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cdp import display, extensions, fields
from cdp.merge import ORGANIZATION, PERSON
from cdp.models import (
    Activity,
    ActivityDefinition,
    ArchiveChange,
    CustomObject,
    CustomObjectRecord,
    FieldDefinition,
    Identity,
    Membership,
    Organization,
    PermissionChange,
    Person,
    Workspace,
)


def workspace_for_user(*, user: User, workspace_id: int | None = None) -> Workspace | None:
    """The workspace the user works in: the one asked for if they are a member of it, else their first."""
    memberships = Membership.objects.filter(user=user).select_related("workspace").order_by("created_at")
    if workspace_id is not None:
        chosen = memberships.filter(workspace_id=workspace_id).first()
        if chosen is not None:
            return chosen.workspace
    first = memberships.first()
    return first.workspace if first else None


# ---------------------------------------------------------------------------------------------------
# Customer data. Lists page by keyset (`id < after`, newest first) so page N costs what page 1 costs at
# a million people, and never COUNT the whole table.

PAGE_SIZE = 50
# A record's archive history shows its latest changes; older ones are in the operator console.
ARCHIVE_HISTORY_SHOWN = 50


@dataclass(frozen=True)
class Page:
    items: list
    next_after: int | None  # pass as ?after= for the next page; None on the last page


def _keyset(queryset, *, after: int | None, limit: int = PAGE_SIZE) -> Page:
    if after is not None:
        queryset = queryset.filter(pk__lt=after)
    items = list(queryset.order_by("-pk")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return Page(items, items[-1].pk if more else None)


def person_list(
    *,
    workspace: Workspace,
    q: str = "",
    source: str = "",
    permission: str = "",
    organization_id: int | None = None,
    after: int | None = None,
    include_archived: bool = False,
    archived: bool = False,
) -> Page:
    """Live people, or with `archived` only the archived ones (`include_archived`: both)."""
    people = Person.objects.filter(workspace=workspace).select_related("organization")
    if archived:
        people = people.filter(archived_at__isnull=False)
    elif not include_archived:
        people = people.filter(archived_at__isnull=True)
    q = q.strip().lower()
    if source:
        people = people.filter(Exists(Identity.objects.filter(person=OuterRef("pk"), source=source)))
    if permission == "subscribed":
        people = people.filter(email_permission=True)
    elif permission == "unsubscribed":
        people = people.filter(email_permission=False)
    elif permission == "sms":
        people = people.filter(sms_permission=True)
    if organization_id is not None:
        people = people.filter(organization_id=organization_id)
    if q:
        return _search(people, q, after=after)
    return _keyset(people, after=after)


@cache
def _byte_ordered_text() -> bool:
    """Whether text sorts by code point (SQLite; PostgreSQL under a C collation): then a range is exactly
    a prefix match and needs no LIKE beside it (a LIKE would skew the planner's row estimate)."""
    if connection.vendor == "sqlite":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        (collation,) = cursor.fetchone()
    return collation.upper().replace("-", "") in {"C", "POSIX", "C.UTF8"}


def _prefix(name: str, prefix: str) -> Q:
    """`name` starts with `prefix`, written as a range so a btree index serves it: PostgreSQL only turns
    LIKE 'x%' into an index range under the plain "C" collation, not "C.UTF-8" or a language collation."""
    condition = Q(**{f"{name}__gte": prefix})
    # The least string above every string with this prefix: the prefix with its last character that
    # is not the last code point bumped by one (a prefix of only U+10FFFF has no bound above).
    # Surrogates cannot be stored as text, so the code point after U+D7FF is U+E000.
    stem = prefix.rstrip(chr(sys.maxunicode))
    if stem:
        following = ord(stem[-1]) + 1
        if 0xD800 <= following <= 0xDFFF:
            following = 0xE000
        condition &= Q(**{f"{name}__lt": stem[:-1] + chr(following)})
    if not _byte_ordered_text():
        condition &= Q(**{f"{name}__startswith": prefix})
    return condition


def _search(people, q: str, *, after: int | None) -> Page:
    """Prefix search on email, first name, last name or "first last", newest first.

    One query per kind of match, each a range scan on its own index (email_key, lower(first_name),
    lower(last_name)) with its own row estimate, so PostgreSQL walks the id index backwards only for
    prefixes common enough to fill a page quickly. Then one query for the page itself.
    """
    people = people.alias(first_l=Lower("first_name"), last_l=Lower("last_name"))
    if after is not None:
        people = people.filter(pk__lt=after)
    kinds = [_prefix("email_key", q), _prefix("first_l", q), _prefix("last_l", q)]
    first, _, last = q.partition(" ")
    if last.strip():
        kinds.append(_prefix("first_l", first) & _prefix("last_l", last.strip()))
    ids: set[int] = set()
    for condition in kinds:
        ids.update(people.filter(condition).order_by("-pk").values_list("pk", flat=True)[: PAGE_SIZE + 1])
    chosen = sorted(ids, reverse=True)[: PAGE_SIZE + 1]
    items = list(Person.objects.filter(pk__in=chosen).select_related("organization").order_by("-pk"))
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    return Page(items, items[-1].pk if more else None)


def person_get(*, workspace: Workspace, person_id: int) -> Person:
    return get_object_or_404(Person.objects.select_related("organization"), workspace=workspace, pk=person_id)


def identity_sources(*, workspace: Workspace) -> list[str]:
    """The distinct sources of the workspace's identities, by a loose index scan: one index seek per
    source on the (workspace, source, object, external_id) unique index instead of reading a million rows."""
    table = connection.ops.quote_name(Identity._meta.db_table)
    sql = (
        f"WITH RECURSIVE s(source) AS ("  # noqa: S608 - the table name comes from model metadata
        f" SELECT MIN(source) FROM {table} WHERE workspace_id = %s"
        f" UNION ALL"
        f" SELECT (SELECT MIN(source) FROM {table} WHERE workspace_id = %s AND source > s.source)"
        f" FROM s WHERE s.source IS NOT NULL"
        f") SELECT source FROM s WHERE source IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace.pk, workspace.pk])
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class FieldRow:
    field_id: str
    name: str
    value: str
    href: str = ""


@dataclass(frozen=True)
class FieldGroup:
    title: str
    rows: list[FieldRow]


NAMESPACE_TITLES = {
    "": "Built-in fields",
    "o": "Built-in fields",
    "cm": "Custom fields",
    "oc": "Custom fields",
    "sfc": "Salesforce contact",
    "scc": "Salesforce contact (custom)",
    "sfl": "Salesforce lead",
    "slc": "Salesforce lead (custom)",
    "osa": "Salesforce account",
    "osb": "Salesforce account (custom)",
    "sfp": "Salesforce opportunity",
    "spc": "Salesforce opportunity (custom)",
    "sft": "Salesforce task",
    "stc": "Salesforce task (custom)",
    "sfk": "Salesforce campaign",
    "skc": "Salesforce campaign (custom)",
    "soc": "Salesforce custom object",
    "osc": "Salesforce organization",
}


def namespace_title(namespace: str) -> str:
    return NAMESPACE_TITLES.get(namespace, "Other fields")


def _shown_reference(value: object, references: dict[str, display.Shown]) -> display.Shown | None:
    return references.get(value) if isinstance(value, str) else None


def record_field_groups(*, workspace: Workspace, record: Person | Organization) -> list[FieldGroup]:
    """A person's or organization's values, grouped built-in / custom / one group per source namespace,
    each named from the field catalogue and shown by its type; an id naming a known record shows its name."""

    spec = PERSON if isinstance(record, Person) else ORGANIZATION
    definitions = {
        d.field_id: d for d in FieldDefinition.objects.filter(workspace=workspace, entity=spec.entity)
    }
    values: list[tuple[FieldDefinition, object]] = []
    for field_id, column in spec.columns.items():
        definition = definitions.get(field_id)
        if definition is not None:
            values.append((definition, getattr(record, column.attname)))
    for field_id, stored in sorted(record.values.items()):
        definition = definitions.get(field_id)
        if definition is not None:
            try:
                values.append((definition, fields.from_json(definition.display_type, stored)))
            except (TypeError, ValueError):
                values.append((definition, stored))
    references = external_id_names(
        workspace=workspace, values=[v for d, v in values if d.display_type in ("text", "id")]
    )
    groups: dict[str, list[FieldRow]] = {}
    for definition, value in values:
        if fields.is_empty(value):
            continue
        reference = _shown_reference(value, references)
        if reference is not None:
            shown, href = reference.value, reference.href
        else:
            shown, href = display.format_value(definition.display_type, value)
        title = namespace_title(definition.namespace)
        groups.setdefault(title, []).append(FieldRow(definition.field_id, definition.name, shown, href))
    order = list(dict.fromkeys(NAMESPACE_TITLES.values()))
    return [
        FieldGroup(title, sorted(rows, key=lambda r: r.name))
        for title, rows in sorted(
            groups.items(), key=lambda g: (order.index(g[0]) if g[0] in order else 99, g[0])
        )
    ]


def external_id_names(*, workspace: Workspace, values) -> dict[str, display.Shown]:
    """{external id: the record it names} for the values that are ids of the workspace's records (a
    source's key of a person, an organization or a custom object record). Two queries, bounded by the ids."""
    from django.urls import reverse

    ids = {v for v in values if isinstance(v, str) and display.OPAQUE_ID_RE.match(v)}
    if not ids:
        return {}
    out: dict[str, display.Shown] = {}
    for identity in Identity.objects.filter(workspace=workspace, external_id__in=ids).select_related(
        "person", "organization"
    ):
        if identity.person is not None:
            person = identity.person
            out[identity.external_id] = display.Shown(
                identity.object,
                person.full_name or person.email or "(no name)",
                reverse("cdp:person", args=[person.pk]),
            )
        elif identity.organization is not None:
            out[identity.external_id] = display.Shown(
                identity.object,
                identity.organization.name or "(unnamed)",
                reverse("cdp:organization", args=[identity.organization_id]),
            )
    missing = ids - set(out)
    if missing:
        for record in CustomObjectRecord.objects.filter(
            workspace=workspace, external_id__in=missing
        ).select_related("custom_object"):
            out[record.external_id] = display.Shown(
                record.custom_object.name,
                record.name or f"{record.custom_object.name} record",
                reverse("cdp:custom_object_records", args=[record.custom_object_id]),
            )
    return out


def person_identities(*, workspace: Workspace, person: Person) -> list[Identity]:
    return list(
        Identity.objects.filter(workspace=workspace, person=person).order_by("source", "object", "pk")
    )


def person_source_names(*, workspace: Workspace, person: Person) -> dict[str, str]:
    """{source: name} for every source that names this person or changed their permissions."""
    sources = set(
        Identity.objects.filter(workspace=workspace, person=person).values_list("source", flat=True)
    )
    sources |= set(
        PermissionChange.objects.filter(workspace=workspace, person=person).values_list("source", flat=True)
    )
    return extensions.source_names(workspace=workspace, sources=sources)


def archive_history(
    *, workspace: Workspace, person: Person | None = None, organization: Organization | None = None
) -> list[ArchiveChange]:
    """When a record was archived or restored and why, newest first, each with `.text` in words
    ("Archived: the Contact in Acme was deleted." / "Restored: the Lead in Acme is live again.")."""
    changes = list(
        ArchiveChange.objects.filter(workspace=workspace, person=person, organization=organization)[
            :ARCHIVE_HISTORY_SHOWN
        ]
        if person is not None or organization is not None
        else []
    )
    names = extensions.source_names(workspace=workspace, sources={c.source for c in changes if c.source})
    for change in changes:
        record = f"the {change.object} in {names.get(change.source, change.source)}" if change.object else ""
        if change.archived:
            change.text = _sentence(f"{record} was deleted") if record else "Archived in Inflow."
        else:
            change.text = (
                _sentence(f"{record} is live again")
                if record
                else f"A record in {names.get(change.source, change.source)} names it again."
            )
    return changes


def _sentence(text: str) -> str:
    """Capital first letter and a full stop; unlike str.capitalize, names keep their case."""
    return text[:1].upper() + text[1:] + "."


def person_archive_reason(*, workspace: Workspace, person: Person) -> str:
    """Why an archived person is archived, in words: a source archives a person when the records that named
    them were deleted there ("the Lead in Salesforce (demo@…) was deleted")."""
    if person.archived_at is None:
        return ""
    identities = list(Identity.objects.filter(workspace=workspace, person=person).order_by("object"))
    if not identities:
        return "Archived in Inflow."
    names = extensions.source_names(workspace=workspace, sources={i.source for i in identities})
    parts = [f"the {i.object} in {names[i.source]}" for i in identities]
    verb = "was" if len(parts) == 1 else "were"
    return _sentence(f"{' and '.join(parts)} {verb} deleted")


def person_permission_history(
    *, workspace: Workspace, person: Person, limit: int = 50
) -> list[PermissionChange]:
    """The changes, newest first, each with `notes`: what the sources made of it ("written to Salesforce …")."""
    changes = list(
        PermissionChange.objects.filter(workspace=workspace, person=person).select_related("actor")[:limit]
    )
    notes = extensions.permission_notes(workspace=workspace, changes=changes)
    for change in changes:
        change.notes = notes.get(change.pk, [])
    return changes


def activity_list(
    *,
    workspace: Workspace,
    activity_id: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    person: Person | None = None,
    after: int | None = None,
) -> Page:
    activities = Activity.objects.filter(workspace=workspace).select_related(
        "definition", "person", "organization"
    )
    if activity_id:
        activities = activities.filter(definition__activity_id=activity_id)
    if since is not None:
        activities = activities.filter(occurred_at__gte=since)
    if until is not None:
        activities = activities.filter(occurred_at__lt=until)
    if person is not None:
        activities = activities.filter(person=person)
    if after is not None:
        activities = activities.filter(pk__lt=after)
    # Newest first by occurrence; the cursor is the pk, so ties and backdated events page consistently
    # within one view (the feed is a log, not a report).
    items = list(activities.order_by("-occurred_at", "-pk")[: PAGE_SIZE + 1])
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    activity_details_attach(workspace=workspace, activities=items)
    return Page(items, items[-1].pk if more else None)


def activity_details_attach(*, workspace: Workspace, activities: list[Activity]) -> None:
    """Give each activity `details` (named, formatted attributes: "Amount: $67,750.00 · Stage: Closed Won")
    and `source_name`. Names come from the activity's schema, else the field catalogue, else the id's last
    part; an attribute holding a record's id shows that record's name. A fixed number of queries."""
    keys = {key for activity in activities for key in activity.attributes}
    catalogue = dict(
        FieldDefinition.objects.filter(workspace=workspace, field_id__in=keys).values_list("field_id", "name")
    )
    references = external_id_names(
        workspace=workspace,
        values=[v for a in activities for k, v in a.attributes.items() if k.endswith("-id")],
    )
    sources = extensions.source_names(workspace=workspace, sources={a.source for a in activities})
    for activity in activities:
        schema = {
            a["id"]: a for a in activity.definition.attributes or () if isinstance(a, dict) and "id" in a
        }
        currency = next((str(v) for k, v in activity.attributes.items() if k.endswith(":currency") and v), "")
        details = []
        for key, raw in activity.attributes.items():
            if key.endswith(":currency") or fields.is_empty(raw):
                continue
            entry = schema.get(key, {})
            label = entry.get("name") or catalogue.get(key) or display.humanize_slug(key)
            if key.endswith("-id"):
                label = label[:-3].rstrip() if label.lower().endswith(" id") else label
                target = references.get(raw) if isinstance(raw, str) else None
                details.append(
                    display.Shown(
                        label, target.value if target else "not synced", target.href if target else ""
                    )
                )
                continue
            kind = entry.get("display_type") or display.display_type_of(key)
            text, href = display.format_raw(kind, raw, currency=currency)
            details.append(display.Shown(label, text, href))
        activity.details = details
        activity.source_name = sources.get(activity.source, "")


def activity_definitions_for_filter(*, workspace: Workspace) -> list[ActivityDefinition]:
    """The kinds of activity this workspace has recorded, not every kind a source could produce."""
    recorded = Activity.objects.filter(workspace=workspace, definition=OuterRef("pk"))
    return list(
        ActivityDefinition.objects.filter(workspace=workspace, hidden=False)
        .filter(Exists(recorded))
        .order_by("name")
    )


def organization_list(
    *, workspace: Workspace, q: str = "", after: int | None = None, archived: bool = False
) -> Page:
    organizations = Organization.objects.filter(workspace=workspace, archived_at__isnull=not archived)
    q = q.strip().lower()
    if q:
        organizations = organizations.filter(name_key__startswith=q)
    return _keyset(organizations, after=after)


def organization_get(*, workspace: Workspace, organization_id: int) -> Organization:
    return get_object_or_404(Organization, workspace=workspace, pk=organization_id)


def custom_object_list(*, workspace: Workspace) -> list[CustomObject]:
    return list(
        CustomObject.objects.filter(workspace=workspace)
        .annotate(record_count=Count("records"))
        .order_by("name")
    )


def custom_object_get(*, workspace: Workspace, custom_object_id: int) -> CustomObject:
    return get_object_or_404(CustomObject, workspace=workspace, pk=custom_object_id)


def custom_object_record_list(
    *, workspace: Workspace, custom_object: CustomObject, after: int | None = None
) -> Page:
    records = CustomObjectRecord.objects.filter(
        workspace=workspace, custom_object=custom_object
    ).prefetch_related("people", "organizations")
    return _keyset(records, after=after)


def builtin_fields(*, workspace: Workspace, entity: str) -> list[FieldDefinition]:
    """The built-in fields a source may write (not read-only), by name: what a field picker offers."""
    return list(
        FieldDefinition.objects.filter(
            workspace=workspace, entity=entity, builtin=True, read_only=False
        ).order_by("name")
    )


def field_catalogue(*, workspace: Workspace) -> list[tuple[str, list[FieldDefinition]]]:
    """The workspace's fields, grouped by entity and namespace, built-in first."""
    groups: dict[str, list[FieldDefinition]] = {}
    for definition in FieldDefinition.objects.filter(workspace=workspace).order_by(
        "entity", "-builtin", "name"
    ):
        noun = "Person" if definition.entity == FieldDefinition.Entity.PERSON else "Organization"
        title = f"{noun} · {namespace_title(definition.namespace)}"
        groups.setdefault(title, []).append(definition)
    return list(groups.items())


# ---------------------------------------------------------------------------------------------------
# Figures. One selector per question, used by every page that asks it (home page, a source's overview,
# People), so the same question always gets the same number. "People" are live (not archived) people;
# "from a source" means the source has an identity on them (a person a Lead and a Contact both name counts
# once).


def person_count(*, workspace: Workspace, source: str = "", archived: bool = False) -> int:
    people = Person.objects.filter(workspace=workspace, archived_at__isnull=not archived)
    if source:
        people = people.filter(Exists(Identity.objects.filter(person=OuterRef("pk"), source=source)))
    return people.count()


def organization_count(*, workspace: Workspace, source: str = "", archived: bool = False) -> int:
    organizations = Organization.objects.filter(workspace=workspace, archived_at__isnull=not archived)
    if source:
        organizations = organizations.filter(
            Exists(Identity.objects.filter(organization=OuterRef("pk"), source=source))
        )
    return organizations.count()


def activity_count(*, workspace: Workspace, source: str = "", since: dt.datetime | None = None) -> int:
    activities = Activity.objects.filter(workspace=workspace)
    if source:
        activities = activities.filter(source=source)
    if since is not None:
        activities = activities.filter(occurred_at__gte=since)
    return activities.count()


def _per_day(queryset, field: str, since: dt.datetime) -> dict[dt.date, int]:
    from django.db.models.functions import TruncDate

    return dict(
        queryset.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )


@dataclass(frozen=True)
class GrowthDay:
    day: dt.date
    people: int
    organizations: int


def growth(*, workspace: Workspace, days: int = 30) -> list[GrowthDay]:
    """Live people and organizations at the end of each of the last `days` days (by when they were created
    in Inflow; archived ones are left out, as in the figures above)."""
    today = timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    people = Person.objects.filter(workspace=workspace, archived_at__isnull=True)
    organizations = Organization.objects.filter(workspace=workspace, archived_at__isnull=True)
    people_before = people.filter(created_at__lt=start).count()
    organizations_before = organizations.filter(created_at__lt=start).count()
    people_new = _per_day(people, "created_at", start)
    organizations_new = _per_day(organizations, "created_at", start)
    out = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        people_before += people_new.get(day, 0)
        organizations_before += organizations_new.get(day, 0)
        out.append(GrowthDay(day, people_before, organizations_before))
    return out


def recent_activities(*, workspace: Workspace, limit: int = 8) -> list[Activity]:
    items = list(
        Activity.objects.filter(workspace=workspace)
        .select_related("definition", "person", "organization")
        .order_by("-occurred_at", "-pk")[:limit]
    )
    activity_details_attach(workspace=workspace, activities=items)
    return items


@dataclass(frozen=True)
class DashboardCounts:
    people: int
    organizations: int
    activities_30d: int

    @property
    def empty(self) -> bool:
        return not (self.people or self.organizations or self.activities_30d)


def dashboard_counts(*, workspace: Workspace) -> DashboardCounts:
    since = timezone.now() - dt.timedelta(days=30)
    return DashboardCounts(
        people=person_count(workspace=workspace),
        organizations=organization_count(workspace=workspace),
        activities_30d=activity_count(workspace=workspace, since=since),
    )
