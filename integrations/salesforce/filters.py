"""Selective sync: which fields an object can be filtered on, checking criteria against the describe, and
the `COUNT()` preview of how many records they match (Ortto's selective sync step).

Criteria are structured data stored on `SyncedObject.filter_criteria`: a list of conditions
`{"field", "type", "operator", "values"}` combined with AND, a condition's several values combined with OR.
A field is the object's own (`LeadSource`) or one reached through a lookup (`Account.Industry`), one
level deep, as SOQL allows. `soql.criteria_where` renders them into the WHERE clause of every read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from integrations.salesforce import objects, soql

OPERATOR_LABELS = {
    "equals": "equals",
    "not_equals": "does not equal",
    "contains": "contains",
    "starts_with": "starts with",
    "less_than": "is less than",
    "greater_than": "is greater than",
    "at_most": "is at most",
    "at_least": "is at least",
}
ORDERED_OPERATORS = ("less_than", "greater_than", "at_most", "at_least")
TEXT_OPERATORS = ("contains", "starts_with")
MAX_CONDITIONS = 10
MAX_VALUES = 100


@dataclass(frozen=True)
class FilterField:
    path: str  # "LeadSource" or "Account.Industry"
    label: str
    type: str
    filterable: bool
    picklist_values: tuple[str, ...] = ()

    def operators(self) -> tuple[str, ...]:
        if self.type in soql.CRITERIA_TEXT_TYPES:
            plain = ("equals", "not_equals")
            return plain if self.type in ("id", "reference", "picklist") else (*plain, *TEXT_OPERATORS)
        if self.type == "boolean":
            return ("equals", "not_equals")
        return ("equals", "not_equals", *ORDERED_OPERATORS)


def _field(raw: Mapping[str, Any], prefix: str = "", parent_label: str = "") -> FilterField:
    name = str(raw.get("name"))
    label = str(raw.get("label") or name)
    return FilterField(
        path=f"{prefix}{name}",
        label=f"{parent_label} › {label}" if parent_label else label,
        type=str(raw.get("type") or "string"),
        filterable=bool(raw.get("filterable", True)),
        picklist_values=tuple(
            str(v.get("value"))
            for v in raw.get("picklistValues") or ()
            if isinstance(v, dict) and v.get("active", True)
        ),
    )


def filter_fields(client, object_name: str) -> dict[str, FilterField]:
    """Every field of the object, and of the organization its single-target lookups point at (Contact ›
    Account, Opportunity › Account), by path. Non-filterable fields are listed too, so a condition on one is
    refused by name rather than as "unknown"."""
    describe = client.describe(object_name)
    out: dict[str, FilterField] = {}
    lookups = []
    for raw in describe.get("fields", []):
        if not isinstance(raw, dict) or not raw.get("name"):
            continue
        out[raw["name"]] = _field(raw)
        targets = raw.get("referenceTo") or []
        if raw.get("type") == "reference" and raw.get("relationshipName") and len(targets) == 1:
            spec = objects.spec_for(targets[0])
            # Lookups to the organization (Contact › Account): what users filter people by.
            if spec is not None and spec.becomes == objects.ORGANIZATION:
                lookups.append((raw["relationshipName"], targets[0], str(raw.get("label") or raw["name"])))
    for relationship, target, label in lookups:
        parent = client.describe(target)
        for raw in parent.get("fields", []):
            if isinstance(raw, dict) and raw.get("name"):
                field = _field(raw, prefix=f"{relationship}.", parent_label=label.removesuffix(" ID"))
                out[field.path] = field
    return out


def _typed(raw: Any, field: FilterField) -> Any:
    """A value as the field's type, or ValueError with what was expected."""
    text = str(raw).strip()
    if field.type in soql.CRITERIA_TEXT_TYPES:
        if field.type in ("id", "reference") and not (
            len(text) in (15, 18) and text.isalnum() and text.isascii()
        ):
            raise ValueError("a Salesforce record id (15 or 18 letters and digits)")
        return text
    if field.type == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "checked"):
            return True
        if lowered in ("false", "no", "0", "unchecked"):
            return False
        raise ValueError("true or false")
    if field.type in soql.CRITERIA_NUMBER_TYPES:
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise ValueError("a number") from None
        if not number.is_finite():
            raise ValueError("a number")
        if field.type in ("int", "long"):
            if number != number.to_integral_value():
                raise ValueError("a whole number")
            return int(number)
        return str(number)
    if field.type == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError("a date such as 2026-01-31") from None
    if field.type == "datetime":
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("a date and time such as 2026-01-31T09:00:00Z") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).isoformat()
    raise ValueError(f"a type Inflow can filter on ({field.type} cannot be)")


def criteria_clean(
    criteria: Iterable[Mapping[str, Any]], fields: Mapping[str, FilterField], *, object_label: str
) -> list[dict[str, Any]]:
    """Check conditions against the describe and return them normalised (typed values, the field's type and
    canonical name). Raises ValidationError naming every bad condition."""
    by_lower = {path.lower(): f for path, f in fields.items()}
    errors: list[str] = []
    out: list[dict[str, Any]] = []
    conditions = list(criteria)
    if len(conditions) > MAX_CONDITIONS:
        raise ValidationError(f"{object_label}: at most {MAX_CONDITIONS} conditions.")
    for number, condition in enumerate(conditions, start=1):
        where = f"{object_label}, condition {number}"
        path = str(condition.get("field") or "").strip()
        field = by_lower.get(path.lower())
        if field is None:
            errors.append(f"{where}: {object_label} has no field “{path}” Inflow can filter on.")
            continue
        if not field.filterable:
            errors.append(
                f"{where}: Salesforce cannot filter on “{field.label}” ({field.path}, a long text field)."
            )
            continue
        if field.type not in soql.CRITERIA_TYPES:
            errors.append(f"{where}: “{field.label}” is a {field.type} field; Inflow cannot filter on those.")
            continue
        operator = condition.get("operator")
        if operator not in field.operators():
            allowed = ", ".join(OPERATOR_LABELS[o] for o in field.operators())
            errors.append(f"{where}: “{field.label}” can be compared with: {allowed}.")
            continue
        raw_values = [v for v in condition.get("values") or () if str(v).strip() != ""]
        if not raw_values:
            errors.append(f"{where}: give a value for “{field.label}”.")
            continue
        if len(raw_values) > MAX_VALUES:
            errors.append(f"{where}: at most {MAX_VALUES} values.")
            continue
        if len(raw_values) > 1 and operator in ORDERED_OPERATORS:
            errors.append(f"{where}: “{OPERATOR_LABELS[operator]}” takes one value.")
            continue
        values = []
        for raw in raw_values:
            try:
                values.append(_typed(raw, field))
            except ValueError as expected:
                errors.append(
                    f"{where}: “{raw}” is not {expected} (“{field.label}” is a {field.type} field)."
                )
                break
        else:
            out.append({"field": field.path, "type": field.type, "operator": operator, "values": values})
    if errors:
        raise ValidationError(errors)
    return out


def matching_count(client, object_name: str, sync_filter: str, criteria: list[dict[str, Any]]) -> int:
    """How many records the choice would sync now: `SELECT COUNT() FROM X WHERE ...` (0 for "none")."""
    if sync_filter == "none":
        return 0
    where = soql.criteria_where(criteria) if sync_filter == "matching" else ""
    return client.count(soql.build_count_soql(object_name, criteria=where))


def read_criteria(synced_object) -> str:
    """The WHERE condition the engine reads the object with ("" = every record)."""
    if synced_object.sync_filter == "matching" and synced_object.filter_criteria:
        return soql.criteria_where(synced_object.filter_criteria)
    return ""
