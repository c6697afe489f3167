r"""SOQL for the sandbox org: parse, validate against the org's schema, and evaluate on record dicts.

Pure Python (Lark LALR grammar in `grammar.py`), no Django. The executor's path for one query::

    query = validate(parse(text), describe=schema_for)      # SoqlError -> the REST error array, HTTP 400
    for item in conjuncts(query.where): ...                  # push Id / SystemModstamp / ... filters to SQL
    rows = [r for r in candidates if matches(query.where, r, now=now)]
    rows.sort(key=lambda r: sort_key(query.order_by, r))

* `parse(text) -> Query` raises `SoqlError("MALFORMED_QUERY", <Salesforce's caret message>)` (or
  NUMBER_OUTSIDE_VALID_RANGE for OFFSET > 2000) and nothing else, whatever the input (100 KB, NUL bytes,
  nesting deeper than 100 levels, unbalanced quotes). `Query.referenced_fields()` lists every field read.
* `validate(query, describe=...)`: `describe(name)` returns an `ObjectSchema` (or None), case-insensitively.
  It returns the query with canonical names, each `FieldRef.sf_type` set, and Id / reference literals turned
  into canonical 18-character Ids. Errors: INVALID_TYPE (unknown object), INVALID_FIELD (unknown field or
  relationship, value of the wrong type for its field, INCLUDES on a non-multipicklist),
  INVALID_QUERY_FILTER_OPERATOR (malformed Id literal).
* Values: str, int, Decimal, bool, None, date, aware UTC datetime, `DateLiteral` (`.range(now)` gives the
  half-open UTC range), or a list of those for IN / NOT IN / INCLUDES / EXCLUDES. "<>" arrives as "!=".
  A LIKE pattern keeps SOQL's ``\%``, ``\_`` and ``\\`` escapes for the matcher.
* `matches` / `sort_key`: see `evaluate.py` for record shapes (parent paths as nested dicts or flattened
  "Account.Name" keys). Text compares case-insensitively, Ids case-sensitively; '' is null; a null field is
  "!=" any value; a boolean is never null (= null means = false); date literals are ranges; datetimes
  compare in UTC.
"""

from .evaluate import conjuncts, field_value, matches, sort_key
from .nodes import (
    And,
    Comparison,
    CountAll,
    DateLiteral,
    FieldRef,
    Not,
    Or,
    OrderItem,
    Query,
    SObjectRef,
    SoqlError,
)
from .parser import parse
from .validate import ObjectSchema, validate

__all__ = [
    "And",
    "Comparison",
    "CountAll",
    "DateLiteral",
    "FieldRef",
    "Not",
    "ObjectSchema",
    "Or",
    "OrderItem",
    "Query",
    "SObjectRef",
    "SoqlError",
    "conjuncts",
    "field_value",
    "matches",
    "parse",
    "sort_key",
    "validate",
]
