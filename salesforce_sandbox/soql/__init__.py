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
