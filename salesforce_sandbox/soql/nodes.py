"""The parsed form of a SOQL query: plain frozen dataclasses, no behaviour beyond small helpers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "LIKE", "IN", "NOT IN", "INCLUDES", "EXCLUDES")
LIST_OPERATORS = ("IN", "NOT IN", "INCLUDES", "EXCLUDES")


class SoqlError(Exception):
    """A query Salesforce would refuse; `error_code` and `message` go into the REST error array as they are."""

    def __init__(self, error_code: str, message: str):
        super().__init__(message)
        self.error_code = error_code
        self.message = message

    def __repr__(self) -> str:
        return f"SoqlError({self.error_code!r}, {self.message!r})"


@dataclass(frozen=True)
class FieldRef:
    path: tuple[str, ...]
    line: int = field(default=1, compare=False)
    column: int = field(default=1, compare=False)
    # The describe type (``string``, ``id``, ``datetime``...), filled in by `validate`; None before.
    sf_type: str | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        """The dotted path as written (or canonical after `validate`), e.g. ``Account.Name``."""
        return ".".join(self.path)

    @property
    def is_id(self) -> bool:
        """Ids compare and sort case-sensitively (15-character Ids differ only by case).

        Before `validate` knows the type, a field named ``Id`` is taken to be one.
        """
        if self.sf_type is None:
            return self.path[-1].casefold() == "id"
        return self.sf_type in ("id", "reference")


@dataclass(frozen=True)
class CountAll:
    """``SELECT COUNT() FROM X``: the executor returns no records and `totalSize` = the count."""


@dataclass(frozen=True)
class SObjectRef:
    name: str
    line: int = field(default=1, compare=False)
    column: int = field(default=1, compare=False)


@dataclass(frozen=True)
class OrderItem:
    field: FieldRef
    descending: bool = False
    # SOQL's default is ASC NULLS FIRST and DESC NULLS LAST; the parser fills it in when not written.
    nulls_last: bool = False


@dataclass(frozen=True)
class DateLiteral:
    """A relative range such as ``TODAY`` or ``LAST_N_DAYS:30``; resolved against a clock by `range`."""

    name: str
    n: int | None = None

    def range(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        from .dates import date_literal_range

        return date_literal_range(self, now)

    def __str__(self) -> str:
        return self.name if self.n is None else f"{self.name}:{self.n}"


Scalar = str | int | Decimal | bool | None | dt.date | dt.datetime | DateLiteral
Value = Scalar | list


@dataclass(frozen=True)
class Comparison:
    field: FieldRef
    op: str
    value: Any
    # Where the value starts, for Salesforce's caret messages about a value of the wrong type.
    line: int = field(default=1, compare=False, repr=False)
    column: int = field(default=1, compare=False, repr=False)


@dataclass(frozen=True)
class And:
    items: tuple

    def __post_init__(self):
        object.__setattr__(self, "items", tuple(self.items))


@dataclass(frozen=True)
class Or:
    items: tuple

    def __post_init__(self):
        object.__setattr__(self, "items", tuple(self.items))


@dataclass(frozen=True)
class Not:
    item: Any


Expr = And | Or | Not | Comparison
SelectItem = FieldRef | CountAll


@dataclass(frozen=True)
class Query:
    select: list
    sobject: SObjectRef
    where: Expr | None = None
    order_by: list = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    text: str = field(default="", compare=False)

    @property
    def is_count(self) -> bool:
        return any(isinstance(item, CountAll) for item in self.select)

    @property
    def fields(self) -> list[FieldRef]:
        return [item for item in self.select if isinstance(item, FieldRef)]

    def referenced_fields(self) -> list[FieldRef]:
        """Every field the query reads (SELECT, then WHERE, then ORDER BY), repeats included, in text order."""
        out = list(self.fields)
        stack = [self.where] if self.where is not None else []
        where = []
        while stack:
            node = stack.pop()
            if isinstance(node, Comparison):
                where.append(node.field)
            elif isinstance(node, Not):
                stack.append(node.item)
            else:
                stack.extend(reversed(node.items))
        return out + where + [item.field for item in self.order_by]
