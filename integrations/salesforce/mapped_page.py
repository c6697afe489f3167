"""What mapping one page of records gives: CDP rows keyed by Salesforce id, activity events, keys to
archive, the SourceRecords to store and per-record errors; and the context the engine looks up for it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Key(NamedTuple):
    """Same shape as cdp.merge.IdentityKey; converted by the engine."""

    source: str
    object: str
    external_id: str


@dataclass
class PersonOut:
    sf_id: str
    key: Key
    fields: dict[str, Any]
    organization_key: Key | None = None
    extra_keys: tuple[Key, ...] = ()
    precedence: int | None = None


@dataclass
class OrganizationOut:
    sf_id: str
    key: Key
    fields: dict[str, Any]
    precedence: int | None = None


@dataclass
class CustomRecordOut:
    sf_id: str
    fields: dict[str, Any]
    name: str = ""
    person_keys: tuple[Key, ...] = ()
    organization_keys: tuple[Key, ...] = ()


@dataclass
class ActivityOut:
    activity_id: str
    person_key: Key
    occurred_at: dt.datetime
    attributes: dict[str, Any]
    source_key: str
    organization_key: Key | None = None


@dataclass
class SourceOut:
    sf_id: str
    system_modstamp: dt.datetime
    payload: dict[str, Any]
    hash: str
    ref_id: str = ""
    deleted: bool = False


@dataclass
class RecordError:
    sf_id: str
    error_type: str  # a SyncError.Type value
    message: str
    fix: str = ""
    excerpt: str = ""
    retryable: bool = True


@dataclass
class PageResult:
    people: list[PersonOut] = field(default_factory=list)
    organizations: list[OrganizationOut] = field(default_factory=list)
    custom_records: list[CustomRecordOut] = field(default_factory=list)
    activities: list[ActivityOut] = field(default_factory=list)
    archive_keys: list[Key] = field(default_factory=list)
    source_records: list[SourceOut] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    skipped: int = 0  # already applied at the same (SystemModstamp, Id)
    max_cursor: tuple[dt.datetime, str] | None = None


@dataclass
class MapContext:
    """What the engine looked up for this page (bounded to the page's ids)."""

    campaign_names: dict[str, str] = field(default_factory=dict)
    # opportunity id -> [(contact id, is_primary)], primary first
    opportunity_contacts: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    # opportunity id -> its stored payload (for contact roles that appear after their opportunity)
    opportunities: dict[str, dict] = field(default_factory=dict)
    # custom object record id -> person keys it reaches (parent chains, junctions), resolved by the engine
    linked_people: dict[str, tuple[Key, ...]] = field(default_factory=dict)
    # Salesforce user id (an OwnerId) -> the user's name, stored in place of the id
    user_names: dict[str, str] = field(default_factory=dict)
    # sf id -> (SystemModstamp after our write, {field: value we wrote}): our own write-back coming back
    echoes: dict[str, tuple[dt.datetime, dict[str, Any]]] = field(default_factory=dict)
