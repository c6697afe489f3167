"""The value types of the merge engine's contract (docs/architecture.md §2), shared by its modules."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal


class MergeStrategy(enum.IntEnum):
    APPEND_ONLY = 1
    OVERWRITE = 2
    IGNORE = 3


class FindStrategy(enum.IntEnum):
    ANY = 0
    NEXT_IF_EMPTY = 1


class FieldMode(enum.StrEnum):
    """A per-field rule on top of the merge strategy (HubSpot's field-level sync rules)."""

    OVERWRITE = "overwrite"  # always take the source's value, whatever the strategy
    FILL = "fill"  # only fill a field that is empty


@dataclass(frozen=True)
class IdentityKey:
    source: str  # e.g. "salesforce:7": a connection, opaque to the CDP
    object: str  # e.g. "Contact"
    external_id: str

    def problem(self) -> str:
        source, obj, external_id = self.source, self.object, self.external_id
        if (
            type(source) is str
            and type(obj) is str
            and type(external_id) is str
            and 0 < len(source) <= 100
            and 0 < len(obj) <= 100
            and 0 < len(external_id) <= 255
            and not source.isspace()
            and not obj.isspace()
            and not external_id.isspace()
        ):
            return ""  # the common case, without the loop below
        for name, limit in (("source", 100), ("object", 100), ("external_id", 255)):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                return f"identity key has an empty {name}"
            if len(value) > limit:
                return f"identity key {name} is longer than {limit} characters"
        return ""


@dataclass(frozen=True)
class PersonRow:
    key: IdentityKey | None
    fields: dict[str, object]
    organization_key: IdentityKey | None = None
    extra_keys: tuple[IdentityKey, ...] = ()
    # The row's place among the records of its source that describe one person (0 first); None: no order.
    precedence: int | None = None


@dataclass(frozen=True)
class OrganizationRow:
    key: IdentityKey | None
    fields: dict[str, object]
    extra_keys: tuple[IdentityKey, ...] = ()
    precedence: int | None = None


@dataclass(frozen=True)
class MergeResult:
    status: Literal["created", "merged", "ignored", "invalid"]
    record_id: int | None
    reason: str = ""
    changed_fields: tuple[str, ...] = ()
