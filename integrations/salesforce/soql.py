"""Every SOQL query a sync sends: field lists, the watermark window, reconcile and count queries, and the
selective sync criteria rendered as a WHERE clause. API names and values are checked or escaped here, so a
query is never built from unchecked text."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from integrations.salesforce import objects

# Always read, whatever the user selected (identity, watermark, deletes).
ALWAYS_FIELDS = objects.SYSTEM_FIELDS


def soql_fields(
    object_name: str, selected: Iterable[str], available: Iterable[str] | None = None
) -> list[str]:
    """Selected + engine fields, de-duplicated in a stable order, limited to what the describe offers."""
    spec = objects.spec_for(object_name)
    wanted = [*ALWAYS_FIELDS, *(spec.engine_fields if spec else ()), *selected]
    avail = set(available) if available is not None else None
    out: list[str] = []
    seen: set[str] = set()
    for name in wanted:
        if name in seen or (avail is not None and name not in avail):
            continue
        seen.add(name)
        out.append(name)
    return out


def soql_datetime(value: dt.datetime) -> str:
    """A SOQL dateTime literal (unquoted, UTC, milliseconds)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def build_soql(
    object_name: str,
    fields: Sequence[str],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    ordered: bool = True,
    criteria: str = "",
) -> str:
    """The one function that builds a sync query: fields, the watermark window, the object's selective
    sync criteria (`criteria_where`) and the cursor order."""
    where = [f"({criteria})"] if criteria else []
    if since is not None:
        where.append(f"SystemModstamp >= {soql_datetime(since)}")
    if until is not None:
        where.append(f"SystemModstamp < {soql_datetime(until)}")
    _check_names(object_name, fields)
    soql = f"SELECT {', '.join(fields)} FROM {object_name}"  # noqa: S608 - names checked, SOQL not SQL
    if where:
        soql += " WHERE " + " AND ".join(where)
    if ordered:
        soql += " ORDER BY SystemModstamp, Id"
    return soql


_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")


ID_RE = re.compile(r"^[A-Za-z0-9]{15,18}$")


def is_api_name(name: str) -> bool:
    return isinstance(name, str) and bool(_NAME_RE.match(name))


def _check_names(object_name: str, fields: Iterable[str]) -> None:
    """API names come from describes, but a query is never built from anything else."""
    for name in (object_name, *fields):
        if not _NAME_RE.match(name):
            raise ValueError(f"{name!r} is not a Salesforce API name")


def build_ids_soql(object_name: str, fields: Sequence[str], ids: Sequence[str]) -> str:
    """`SELECT fields FROM X WHERE Id IN (...)`: reconcile fetching rows a cursor missed."""
    _check_names(object_name, fields)
    bad = [i for i in ids if not ID_RE.match(i)]
    if bad:
        raise ValueError(f"not Salesforce ids: {bad[:3]}")
    quoted = ", ".join(f"'{i}'" for i in ids)
    return f"SELECT {', '.join(fields)} FROM {object_name} WHERE Id IN ({quoted})"  # noqa: S608 - ids checked


def build_unmatched_ids_soql(object_name: str, criteria: str, *, since: dt.datetime | None = None) -> str:
    """`SELECT Id FROM X WHERE NOT (criteria)`: the records that do not match an object's selective sync
    criteria (changed since `since`), so those Inflow holds can be archived or kept."""
    _check_names(object_name, ())
    soql = f"SELECT Id FROM {object_name} WHERE NOT ({criteria})"  # noqa: S608 - rendered by criteria_where
    if since is not None:
        soql += f" AND SystemModstamp >= {soql_datetime(since)}"
    return soql


def build_count_soql(object_name: str, *, since: dt.datetime | None = None, criteria: str = "") -> str:
    _check_names(object_name, ())
    soql = f"SELECT COUNT() FROM {object_name}"  # noqa: S608 - names checked, SOQL not SQL
    where = [f"({criteria})"] if criteria else []
    if since is not None:
        where.append(f"SystemModstamp >= {soql_datetime(since)}")
    if where:
        soql += " WHERE " + " AND ".join(where)
    return soql


# Operator -> (SOQL operator for one value, for several values). Several values of one condition are OR
# (Ortto/Autopilot: "commas meant OR"); conditions are AND.
CRITERIA_OPERATORS = {
    "equals": ("=", "IN"),
    "not_equals": ("!=", "NOT IN"),
    "contains": ("LIKE", None),
    "starts_with": ("LIKE", None),
    "less_than": ("<", None),
    "greater_than": (">", None),
    "at_most": ("<=", None),
    "at_least": (">=", None),
}


CRITERIA_TEXT_TYPES = frozenset(
    {
        "string",
        "picklist",
        "combobox",
        "email",
        "phone",
        "url",
        "textarea",
        "id",
        "reference",
        "encryptedstring",
    }
)


CRITERIA_NUMBER_TYPES = frozenset({"int", "long", "double", "percent", "currency"})


CRITERIA_TYPES = CRITERIA_TEXT_TYPES | CRITERIA_NUMBER_TYPES | {"boolean", "date", "datetime"}


_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def soql_string(value: str, *, like: str = "") -> str:
    """A quoted SOQL string literal with every special character escaped (WIRE §3.4). `like` = "contains"
    or "starts_with" also escapes the LIKE wildcards in the user's text and adds its own."""
    text = "".join(_SOQL_ESCAPES.get(ch, ch) for ch in str(value))
    if like:
        text = text.replace("%", "\\%").replace("_", "\\_")
        text = f"%{text}%" if like == "contains" else f"{text}%"
    return f"'{text}'"


def _criteria_literal(value: Any, sf_type: str, operator: str) -> str:
    """One value as a SOQL literal of the field's type. Values were validated when the criteria were saved;
    anything else is refused here too, so a tampered row can never reach Salesforce as text."""
    if operator in ("contains", "starts_with"):
        if sf_type not in CRITERIA_TEXT_TYPES:
            raise ValueError(f"{operator} needs a text field, not {sf_type}")
        return soql_string(value, like=operator)
    if sf_type in CRITERIA_TEXT_TYPES:
        return soql_string(value)
    if sf_type == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        return "true" if value else "false"
    if sf_type in CRITERIA_NUMBER_TYPES:
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a number")
        return format(number, "f")
    if sf_type == "date":
        return dt.date.fromisoformat(str(value)).isoformat()
    if sf_type == "datetime":
        moment = dt.datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return soql_datetime(moment)
    raise ValueError(f"fields of type {sf_type} cannot be filtered on")


def criteria_where(criteria: Sequence[Mapping[str, Any]]) -> str:
    """The SOQL condition for stored criteria (AND of conditions, a condition's values OR), "" for none.
    Field paths are checked as API names and every value is rendered as a literal of its field's type."""
    parts = []
    for condition in criteria:
        path = str(condition.get("field", ""))
        names = path.split(".")
        if len(names) > 2 or not all(_NAME_RE.match(n) for n in names):
            raise ValueError(f"{path!r} is not a Salesforce field path")
        operator = condition.get("operator")
        if operator not in CRITERIA_OPERATORS:
            raise ValueError(f"{operator!r} is not a filter operator")
        sf_type = str(condition.get("type", ""))
        values = list(condition.get("values") or [])
        if not values:
            raise ValueError(f"the condition on {path} has no value")
        one, several = CRITERIA_OPERATORS[operator]
        literals = [_criteria_literal(v, sf_type, operator) for v in values]
        if len(literals) == 1:
            parts.append(f"{path} {one} {literals[0]}")
        elif several is not None:
            parts.append(f"{path} {several} ({', '.join(literals)})")
        else:
            parts.append("(" + " OR ".join(f"{path} {one} {lit}" for lit in literals) + ")")
    return " AND ".join(parts)
