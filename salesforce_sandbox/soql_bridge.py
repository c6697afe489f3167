"""The one place the sandbox imports the SOQL package from (parser, validator, evaluator)."""

from .soql import (  # noqa: F401
    And,
    Comparison,
    CountAll,
    DateLiteral,
    FieldRef,
    ObjectSchema,
    OrderItem,
    Query,
    SoqlError,
    conjuncts,
    matches,
    parse,
    sort_key,
    validate,
)
