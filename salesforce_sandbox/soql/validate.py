"""Check a parsed query against the org's schema, the way Salesforce does before it runs one.

Names resolve case-insensitively to their canonical spelling; unknown objects are INVALID_TYPE, unknown
fields and relationship paths INVALID_FIELD, a literal of the wrong type for its field INVALID_FIELD, and a
malformed Id literal INVALID_QUERY_FILTER_OPERATOR, each with Salesforce's caret message. Id and reference
literals come back as canonical 18-character Ids, the form the org stores.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from .nodes import And, Comparison, DateLiteral, FieldRef, Not, Or, OrderItem, Query, SObjectRef, SoqlError
from .parser import caret_message

INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
INVALID_QUERY_FILTER_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"

_REFERENCE_NOTE = "Please reference your WSDL or the describe call for the appropriate names."


@dataclass(frozen=True)
class ObjectSchema:
    """What `validate` needs to know of one object.

    `fields` maps each canonical field name to its describe `type` (``string``, ``datetime``, ``reference``,
    ...); `relationships` maps each canonical relationshipName (``Account``, ``Loan__r``) to the name of the
    object it points at; `unfilterable` names the fields whose describe says `filterable: false` (long text
    areas), which Salesforce refuses in a WHERE clause. Lookups are case-insensitive.
    """

    name: str
    fields: Mapping[str, str]
    relationships: Mapping[str, str] = dataclasses.field(default_factory=dict)
    unfilterable: frozenset[str] = frozenset()

    def __post_init__(self):
        object.__setattr__(self, "_fields", {name.casefold(): name for name in self.fields})
        object.__setattr__(self, "_relationships", {name.casefold(): name for name in self.relationships})

    def field(self, name: str) -> tuple[str, str] | None:
        """(canonical name, type), or None."""
        canonical = self._fields.get(name.casefold())
        return None if canonical is None else (canonical, self.fields[canonical])

    def relationship(self, name: str) -> tuple[str, str] | None:
        """(canonical relationshipName, target object name), or None."""
        canonical = self._relationships.get(name.casefold())
        return None if canonical is None else (canonical, self.relationships[canonical])


_ID = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-5]{3})?")
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def to_18(value: str) -> str | None:
    """The canonical 18-character Id for a 15- or 18-character one (whose suffix restores the case), or None."""
    if not _ID.fullmatch(value):
        return None
    if len(value) == 18:
        # The suffix encodes which of the first 15 characters are upper case, so a lower-cased
        # 18-character Id still names one record.
        suffix = value[15:].upper()
        if any(char not in _CHECKSUM_ALPHABET for char in suffix):
            return None
        flags = "".join(f"{_CHECKSUM_ALPHABET.index(char):05b}"[::-1] for char in suffix)
        id15 = "".join(
            char.upper() if flag == "1" else char.lower() if char.isalpha() else char
            for char, flag in zip(value[:15], flags, strict=True)
        )
        if any(flag == "1" and not char.isalpha() for char, flag in zip(value[:15], flags, strict=True)):
            return None
    else:
        id15 = value
    return id15 + _checksum(id15)


def _checksum(id15: str) -> str:
    out = []
    for start in (0, 5, 10):
        bits = sum(1 << index for index, char in enumerate(id15[start : start + 5]) if "A" <= char <= "Z")
        out.append(_CHECKSUM_ALPHABET[bits])
    return "".join(out)


Describe = Callable[[str], ObjectSchema | None]

# The Python types a literal may have for each describe type. Salesforce refuses the others.
_TEXT = (str,)
_NUMBER = (int, Decimal)
_ACCEPTS: dict[str, tuple[tuple[type, ...], str]] = {
    "boolean": ((bool,), "boolean"),
    "int": (_NUMBER, "integer"),
    "double": (_NUMBER, "double"),
    "currency": (_NUMBER, "double"),
    "percent": (_NUMBER, "double"),
    "date": ((dt.date, DateLiteral), "date"),
    "datetime": ((dt.datetime, DateLiteral), "dateTime"),
}
_TEXT_TYPES = frozenset(
    "string id reference picklist multipicklist textarea email phone url combobox encryptedstring".split()
)


def validate(query: Query, *, describe: Describe) -> Query:
    """Resolve `query` against the schema `describe(name)` returns (None for an unknown object).

    `describe` must find objects case-insensitively. Returns a new `Query` with canonical names.
    """
    text = query.text
    schema = describe(query.sobject.name)
    if schema is None:
        raise SoqlError(
            INVALID_TYPE,
            caret_message(
                text,
                query.sobject.line,
                query.sobject.column,
                f"sObject type '{query.sobject.name}' is not supported. If you are attempting to use a custom "
                f"object, be sure to append the '__c' after the entity name. {_REFERENCE_NOTE}",
            ),
        )
    resolver = _Resolver(text, schema, describe)
    select = [resolver.field(item)[0] if isinstance(item, FieldRef) else item for item in query.select]
    where = None if query.where is None else resolver.expr(query.where)
    order_by = [
        OrderItem(resolver.field(item.field)[0], item.descending, item.nulls_last) for item in query.order_by
    ]
    return Query(
        select=select,
        sobject=SObjectRef(schema.name, query.sobject.line, query.sobject.column),
        where=where,
        order_by=order_by,
        limit=query.limit,
        offset=query.offset,
        text=text,
    )


class _Resolver:
    def __init__(self, text: str, schema: ObjectSchema, describe: Describe):
        self.text = text
        self.schema = schema
        self.describe = describe

    def _error(self, line: int, column: int, detail: str) -> SoqlError:
        return SoqlError(INVALID_FIELD, caret_message(self.text, line, column, detail))

    def field(self, ref: FieldRef) -> tuple[FieldRef, str]:
        """The canonical `ref` and its field type."""
        schema, canonical = self.schema, []
        for part in ref.path[:-1]:
            found = schema.relationship(part)
            target = self.describe(found[1]) if found else None
            if target is None:
                raise self._error(
                    ref.line,
                    ref.column,
                    f"Didn't understand relationship '{part}' in field path. If you are attempting to use a "
                    f"custom relationship, be sure to append the '__r' after the custom relationship name. "
                    f"{_REFERENCE_NOTE}",
                )
            canonical.append(found[0])
            schema = target
        found = schema.field(ref.path[-1])
        if found is None:
            raise self._error(
                ref.line,
                ref.column,
                f"No such column '{ref.path[-1]}' on entity '{schema.name}'. If you are attempting to use a "
                f"custom field, be sure to append the '__c' after the custom field name. {_REFERENCE_NOTE}",
            )
        canonical.append(found[0])
        return FieldRef(tuple(canonical), ref.line, ref.column, found[1]), found[1]

    def _unfilterable(self, ref: FieldRef) -> frozenset[str]:
        schema = self.schema
        for part in ref.path[:-1]:
            schema = self.describe(schema.relationship(part)[1])
        return schema.unfilterable

    def expr(self, node):
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, And):
            return And([self.expr(item) for item in node.items])
        if isinstance(node, Or):
            return Or([self.expr(item) for item in node.items])
        return Not(self.expr(node.item))

    def comparison(self, node: Comparison) -> Comparison:
        ref, field_type = self.field(node.field)
        if ref.path[-1] in self._unfilterable(ref):
            raise self._error(
                node.field.line,
                node.field.column,
                f"field '{ref.path[-1]}' can not be filtered in a query call",
            )
        if node.op in ("INCLUDES", "EXCLUDES") and field_type != "multipicklist":
            raise self._error(
                node.field.line,
                node.field.column,
                "includes or excludes operator only valid on multipicklist field",
            )
        values = node.value if isinstance(node.value, list) else [node.value]
        for value in values:
            self.check_value(node, field_type, value)
        value = node.value
        if field_type in ("id", "reference") and node.op != "LIKE":
            value = (
                [self.id18(node, item) for item in values]
                if isinstance(value, list)
                else self.id18(node, value)
            )
        return Comparison(ref, node.op, value, node.line, node.column)

    def id18(self, node: Comparison, value):
        """Salesforce takes 15- and 18-character Ids in filters; the org stores the 18-character form."""
        if not isinstance(value, str) or value == "":
            return value
        canonical = to_18(value)
        if canonical is None:
            raise SoqlError(
                INVALID_QUERY_FILTER_OPERATOR,
                caret_message(self.text, node.line, node.column, f"invalid ID field: {value}"),
            )
        return canonical

    def check_value(self, node: Comparison, field_type: str, value) -> None:
        if value is None:
            return
        name = node.field.name
        if field_type in _TEXT_TYPES:
            if not isinstance(value, _TEXT):
                raise self._error(
                    node.line,
                    node.column,
                    f"value of filter criterion for field '{name}' must be of type string and should be "
                    f"enclosed in quotes",
                )
            return
        accepted = _ACCEPTS.get(field_type)
        if accepted is None:
            return  # time, address, location, base64, anyType: not filtered on by any client we serve
        types, label = accepted
        ok = isinstance(value, types)
        if ok and field_type != "boolean" and isinstance(value, bool):
            ok = False  # bool is an int in Python, never in SOQL
        if ok and field_type == "date" and isinstance(value, dt.datetime):
            ok = False  # datetime is a date in Python, never in SOQL
        if ok and field_type == "int" and isinstance(value, Decimal) and value != value.to_integral_value():
            ok = False
        if not ok:
            raise self._error(
                node.line,
                node.column,
                f"value of filter criterion for field '{name}' must be of type {label} and should not be "
                f"enclosed in quotes",
            )
