"""WHERE and ORDER BY semantics of SOQL, applied to plain record dicts.

Records are mappings keyed by canonical field names. A parent path such as ``Account.Name`` is looked up
as nested dicts first (``record["Account"]["Name"]``, the shape REST returns; a ``None`` parent makes every
parent field null) and then as a flattened key ``record["Account.Name"]``. A name missing from the record
is null; an exact key is tried before a case-insensitive one, so unvalidated queries still work.

Values may be the Python types the parser produces (str, int, Decimal, float, bool, date, aware or naive
datetime, naive meaning UTC) or the REST JSON strings for dates and datetimes
(``2024-01-31``, ``2024-01-31T17:05:00.000+0000``). An empty string is null: Salesforce stores none.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from .dates import utc
from .nodes import And, Comparison, DateLiteral, FieldRef, Not, Or, OrderItem

_MISSING = object()
_MIDNIGHT = dt.time()


def conjuncts(expr) -> list:
    """The top-level AND items (nested ANDs flattened), so an executor can push indexable ones to SQL."""
    if expr is None:
        return []
    out, stack = [], [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, And):
            stack.extend(reversed(node.items))
        else:
            out.append(node)
    return out


def field_value(record: Mapping[str, Any], path: Sequence[str]) -> Any:
    """The value at `path` (see the module docstring for the lookup rules); null when absent."""
    current: Any = record
    for index, part in enumerate(path):
        if not isinstance(current, Mapping):
            return None
        value = _get(current, part)
        if value is _MISSING:
            if index == 0 and len(path) > 1:
                flat = _get(record, ".".join(path))
                return None if flat is _MISSING else flat
            return None
        current = value
        if current is None:
            return None
    return current


def _get(mapping: Mapping[str, Any], key: str) -> Any:
    value = mapping.get(key, _MISSING)
    if value is not _MISSING:
        return value
    folded = key.casefold()
    for candidate, value in mapping.items():
        if isinstance(candidate, str) and candidate.casefold() == folded:
            return value
    return _MISSING


def matches(expr, record: Mapping[str, Any], *, now: dt.datetime) -> bool:
    """Whether `record` satisfies the WHERE clause `expr` (None matches everything)."""
    if expr is None:
        return True
    if isinstance(expr, Comparison):
        return _comparison(expr, field_value(record, expr.field.path), now)
    if isinstance(expr, And):
        return all(matches(item, record, now=now) for item in expr.items)
    if isinstance(expr, Or):
        return any(matches(item, record, now=now) for item in expr.items)
    if isinstance(expr, Not):
        return not matches(expr.item, record, now=now)
    raise TypeError(f"not a SOQL expression: {expr!r}")


def _is_null(value: Any) -> bool:
    return value is None or value == ""


def _fold(field: FieldRef) -> Callable[[str], str]:
    """Text compares case-insensitively, except Ids (see `FieldRef.is_id`)."""
    return _same if field.is_id else str.casefold


def _same(text: str) -> str:
    return text


def _comparison(node: Comparison, actual: Any, now: dt.datetime) -> bool:
    op, expected = node.op, node.value
    fold = _fold(node.field)
    if expected == "" and op != "LIKE":
        expected = None  # Salesforce stores no empty strings: = '' is = null
    if node.field.sf_type == "multipicklist" and op in ("=", "!=", "IN", "NOT IN"):
        # "MSP1__c = 'AAA;BBB'" is an exact match of the selection, in any order.
        selected = _picks(actual)
        wanted = expected if isinstance(expected, list) else [expected]
        found = any(_picks(item) == selected for item in wanted)
        return found if op in ("=", "IN") else not found
    if op in ("IN", "NOT IN"):
        found = any(_equal(actual, item, now, fold) for item in expected)
        return found if op == "IN" else not found
    if op in ("INCLUDES", "EXCLUDES"):
        found = _includes(actual, expected)
        return found if op == "INCLUDES" else not found
    if op == "LIKE":
        return isinstance(expected, str) and not _is_null(actual) and _like_match(expected, str(actual))
    if op == "=":
        return _equal(actual, expected, now, fold)
    if op == "!=":
        # SOQL, unlike SQL, counts a null field as "not equal" to a value.
        return not _equal(actual, expected, now, fold)
    if _is_null(actual) or expected is None:
        return False
    order = _order(actual, expected, now, fold)
    if order is None:
        return False
    return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]


def _equal(actual: Any, expected: Any, now: dt.datetime, fold: Callable[[str], str]) -> bool:
    # A boolean is never null in Salesforce: "WHERE Test__c = null is equivalent to WHERE Test__c = false".
    if expected is None or expected == "":
        return actual is False or _is_null(actual)
    if isinstance(expected, bool) and actual is None:
        actual = False
    if _is_null(actual):
        return False
    return _order(actual, expected, now, fold) == 0


def _sign(a, b) -> int:
    return (a > b) - (a < b)


def _order(actual: Any, expected: Any, now: dt.datetime, fold: Callable[[str], str]) -> int | None:
    """-1/0/1 comparing a record value with a literal, or None when they cannot be compared."""
    if isinstance(expected, DateLiteral):
        start, end = expected.range(now)
        point = _as_temporal(actual)
        if isinstance(point, dt.datetime):
            return -1 if point < start else (0 if point < end else 1)
        if isinstance(point, dt.date):
            return -1 if point < start.date() else (0 if point < end.date() else 1)
        return None
    if isinstance(expected, bool):
        return (0 if actual == expected else None) if isinstance(actual, bool) else None
    if isinstance(expected, str):
        if isinstance(actual, str):
            return _sign(fold(actual), fold(expected))
        if isinstance(actual, bool | int | float | Decimal):
            return None
        return _sign(fold(str(actual)), fold(expected))
    if isinstance(expected, int | Decimal | float):
        number = _as_number(actual)
        return None if number is None else _sign(number, expected)
    if isinstance(expected, dt.datetime):
        point = _as_temporal(actual)
        if isinstance(point, dt.datetime):
            return _sign(point, utc(expected))
        if isinstance(point, dt.date):  # a date is its midnight, UTC
            return _sign(dt.datetime.combine(point, _MIDNIGHT, tzinfo=dt.UTC), utc(expected))
        return None
    if isinstance(expected, dt.date):
        point = _as_temporal(actual)
        if isinstance(point, dt.datetime):
            point = point.date()
        return _sign(point, expected) if isinstance(point, dt.date) else None
    return None


def _as_number(value: Any) -> int | float | Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


_REST_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})?$")


def _as_temporal(value: Any) -> dt.date | dt.datetime | None:
    if isinstance(value, dt.datetime):
        return utc(value)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return _parse_temporal(value)
    return None


@functools.lru_cache(maxsize=4096)
def _parse_temporal(text: str) -> dt.date | dt.datetime | None:
    text = text.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        match = _REST_DATETIME.match(text)
        if not match:
            return None
        stamp, zone = match.groups()
        if zone in (None, "Z", "z"):
            zone = "+00:00"
        elif ":" not in zone:
            zone = f"{zone[:3]}:{zone[3:]}"  # REST's +0000
        if "." in stamp:
            head, fraction = stamp.split(".")
            stamp = f"{head}.{fraction[:6].ljust(6, '0')}"
        return utc(dt.datetime.fromisoformat(stamp + zone))
    except ValueError:
        return None


@functools.lru_cache(maxsize=1024)
def _like(pattern: str) -> tuple[tuple[str | None, ...], ...]:
    """SOQL LIKE: % any run, _ one character, backslash escapes the next; case-insensitive.

    The pattern becomes its runs between `%`s, each a tuple of lower-cased characters (None for `_`).
    """
    segments: list[tuple[str | None, ...]] = []
    current: list[str | None] = []
    escaped = False
    for char in pattern:
        if escaped:
            current.append(char.lower())
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            segments.append(tuple(current))
            current = []
        elif char == "_":
            current.append(None)
        else:
            current.append(char.lower())
    if escaped:
        current.append("\\")
    segments.append(tuple(current))
    return tuple(segments)


def _like_match(pattern: str, text: str) -> bool:
    """Match without backtracking: anchor the first and last runs, then take each middle run at its
    leftmost place (always right for `%` and `_`). Time is bounded by len(text) × len(pattern), so no
    pattern can stall the process as a backtracking regex would (`%a%a%a%a%b`)."""
    segments = _like(pattern)
    chars = [c.lower() for c in text]

    def fits(run: tuple[str | None, ...], at: int) -> bool:
        return all(want is None or want == chars[at + i] for i, want in enumerate(run))

    first, last = segments[0], segments[-1]
    if len(segments) == 1:
        return len(chars) == len(first) and fits(first, 0)
    end = len(chars) - len(last)
    if end < len(first) or not fits(first, 0) or not fits(last, end):
        return False
    position = len(first)
    for run in segments[1:-1]:
        for at in range(position, end - len(run) + 1):
            if fits(run, at):
                position = at + len(run)
                break
        else:
            return False
    return True


def _picks(value: Any) -> set[str]:
    if isinstance(value, str):
        items = value.split(";")
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    else:
        return set()
    return {str(item).strip().casefold() for item in items if str(item).strip()}


def _includes(actual: Any, expected: list) -> bool:
    """INCLUDES ('A;B', 'C'): A and B both selected, or C selected."""
    selected = _picks(actual)
    if not selected:
        return False
    return any((wanted := _picks(item)) and wanted <= selected for item in expected)


# ORDER BY ------------------------------------------------------------------------------------------------


def _sortable(value: Any, fold: Callable[[str], str]) -> tuple | None:
    """A key that orders like Salesforce within one column: strings case-insensitively, nulls apart."""
    if _is_null(value):
        return None
    if isinstance(value, bool):
        return (0, value)
    if isinstance(value, int | float | Decimal):
        return (1, value)
    if isinstance(value, dt.datetime):
        return (2, utc(value))
    if isinstance(value, dt.date):
        return (2, dt.datetime.combine(value, _MIDNIGHT, tzinfo=dt.UTC))
    if isinstance(value, str):
        return (3, fold(value))
    return (4, str(value))


class _SortValue:
    __slots__ = ("key", "descending", "nulls_last")

    def __init__(self, value: Any, descending: bool, nulls_last: bool, fold: Callable[[str], str]):
        self.key = _sortable(value, fold)
        self.descending = descending
        self.nulls_last = nulls_last

    def __eq__(self, other) -> bool:
        return isinstance(other, _SortValue) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: _SortValue) -> bool:
        mine, theirs = self.key, other.key
        if mine is None or theirs is None:
            if mine is None and theirs is None:
                return False
            return (mine is None) != self.nulls_last
        return theirs < mine if self.descending else mine < theirs

    def __repr__(self) -> str:
        return f"_SortValue({self.key!r}, descending={self.descending}, nulls_last={self.nulls_last})"


def sort_key(order_by: Sequence[OrderItem], record: Mapping[str, Any]) -> tuple:
    """A key for `sorted` honouring each item's ASC/DESC and NULLS FIRST/LAST."""
    return tuple(
        _SortValue(field_value(record, item.field.path), item.descending, item.nulls_last, _fold(item.field))
        for item in order_by
    )
