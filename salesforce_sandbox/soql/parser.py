"""SOQL text -> `Query`, with Salesforce's MALFORMED_QUERY messages for everything it cannot read.

The grammar lives in `grammar.py`; Lark's LALR parser runs the transformer below inline (no parse tree),
which keeps a 100 KB query fast and never recurses, so hostile nesting cannot reach RecursionError.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from .dates import FIXED_NAMES, N_NAMES
from .grammar import GRAMMAR
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

MALFORMED = "MALFORMED_QUERY"
# Salesforce: "By default, SOQL statements can't exceed 100,000 characters."
MAX_QUERY_LENGTH = 100_000
# Boolean nesting (AND/OR/NOT levels, and parentheses) beyond this is refused: nobody writes it, and every
# consumer of the tree (matching, printing, comparing) recurses over it.
MAX_DEPTH = 100
# Salesforce refuses OFFSET beyond 2,000 rows (NUMBER_OUTSIDE_VALID_RANGE).
MAX_OFFSET = 2000
# Longest source line quoted in full in a caret message; longer lines are shown as a window around the error.
_CARET_LINE = 200
_CARET_WINDOW = 80


def caret_message(text: str, line: int, column: int, detail: str) -> str:
    """Salesforce's error layout: the query line, a caret under the column, the position, the detail."""
    lines = text.split("\n")
    source = lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""
    offset = max(column - 1, 0)
    if len(source) > _CARET_LINE:
        start = max(offset - _CARET_WINDOW, 0)
        source = source[start : offset + _CARET_WINDOW]
        offset -= start
    return f"\n{source}\n{' ' * offset}^\nERROR at Row:{line}:Column:{column}\n{detail}"


def malformed(text: str, line: int, column: int, detail: str) -> SoqlError:
    return SoqlError(MALFORMED, caret_message(text, line, column, detail))


def _shown(value: str, limit: int = 100) -> str:
    value = value if len(value) <= limit else value[:limit] + "..."
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in value)


class _Literal:
    """A value as written, kept with its token until the comparison knows its operator."""

    __slots__ = ("kind", "value", "token")

    def __init__(self, kind: str, value, token: Token):
        self.kind = kind
        self.value = value
        self.token = token


class _Failure(Exception):
    """Raised inside the transformer with a position; `parse` turns it into a caret message."""

    def __init__(self, token: Token, detail: str):
        super().__init__(detail)
        self.token = token
        self.detail = detail


_SIMPLE_ESCAPES = {
    "n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t",
    "b": "\b", "B": "\b", "f": "\f", "F": "\f", '"': '"', "'": "'", "\\": "\\",
}  # fmt: skip
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)


def _decode_string(token: Token, *, like: bool) -> str:
    """Decode SOQL escapes. In a LIKE pattern ``\\%``, ``\\_`` and ``\\\\`` stay escaped for the matcher."""
    body = token.value[1:-1]
    if "\\" not in body:
        return body

    def replace(match: re.Match) -> str:
        code = match.group(1)
        if like and code in ("%", "_", "\\"):
            return "\\" + code
        if code in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[code]
        if len(code) == 5 and code != "u0000":
            return chr(int(code[1:], 16))
        raise _Failure(
            token,
            f"Invalid string literal {_shown(token.value)}. "
            f"Illegal character sequence '\\{_shown(code)}' in string literal.",
        )

    decoded = _ESCAPE.sub(replace, body)
    try:
        # \uD83D\uDE00 is how a Java client writes one emoji: join surrogate pairs, refuse lone halves.
        return decoded.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeError:
        raise _Failure(token, f"Invalid string literal {_shown(token.value)}. Illegal unicode escape.")


_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))", re.I
)


def _parse_datetime(token: Token) -> dt.datetime:
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = _DATETIME.fullmatch(
        token.value
    ).groups()
    try:
        micro = int((fraction or "").ljust(6, "0")[:6])  # 9 digits allowed; Python keeps 6
        offset = dt.timedelta(0)
        if not zulu:
            offset = dt.timedelta(hours=int(off_h), minutes=int(off_m))
            if offset >= dt.timedelta(hours=24):
                raise ValueError("offset out of range")
            offset = -offset if sign == "-" else offset
        value = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
            tzinfo=dt.timezone(offset),
        )  # fmt: skip
        return value.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise _Failure(token, f"unexpected token: '{token.value}'")


def _parse_date(token: Token) -> dt.date:
    try:
        return dt.date.fromisoformat(token.value)
    except ValueError:
        raise _Failure(token, f"unexpected token: '{token.value}'")


def _parse_int(token: Token) -> int:
    if len(token.value) > 18:  # beyond a Java long, and beyond Python's safe str->int size too
        raise _Failure(token, f"unexpected token: '{_shown(token.value)}'")
    return int(token.value)


# SOQL's reserved words can never name an object or a field ("SELECT FROM Account" is an error at FROM).
RESERVED = frozenset(
    "AND ASC DESC EXCLUDES FIRST FROM GROUP HAVING IN INCLUDES LAST LIKE LIMIT NOT NULL NULLS OR SELECT WHERE WITH".split()
)


def _refuse_reserved(name: Token) -> Token:
    """Lexer callback: a NAME the parser could not take as a keyword here is an unexpected keyword."""
    if name.value.upper() in RESERVED:
        raise _Failure(name, f"unexpected token: '{name.value}'")
    return name


@v_args(inline=True)
class _ToQuery(Transformer):
    """Builds the `nodes` objects as LALR reduces; stateless, so one instance serves every thread."""

    def start(self, *clauses):
        parts = dict(clauses)
        return Query(
            select=parts["select"],
            sobject=parts["from"],
            where=parts.get("where"),
            order_by=parts.get("order", []),
            limit=parts.get("limit"),
            offset=parts.get("offset"),
        )

    def select_clause(self, *items):
        counts = [item for item in items if isinstance(item, Token)]
        if counts and len(items) > 1:
            raise _Failure(counts[0], "COUNT() must be the only element in the SELECT list.")
        return ("select", [CountAll()] if counts else list(items))

    def count_all(self, token):
        return token  # the COUNT keyword, so select_clause can point at it

    def field_path(self, *names):
        return FieldRef(tuple(str(name) for name in names), names[0].line, names[0].column)

    def from_clause(self, name):
        return ("from", SObjectRef(str(name), name.line, name.column))

    def where_clause(self, condition):
        return ("where", condition)

    def or_condition(self, *items):
        return Or(items)

    def and_condition(self, *items):
        return And(items)

    def not_condition(self, _not, item):
        return Not(item)

    def scalar_op(self, token):
        op = token.value.upper()
        return "!=" if op == "<>" else op

    def list_op(self, *tokens):
        return " ".join(token.value.upper() for token in tokens)

    def comparison(self, field, op, literal):
        value = self._value(literal, like=op == "LIKE")
        return Comparison(field, op, value, literal.token.line, literal.token.column)

    def list_comparison(self, field, op, *literals):
        values = [self._value(literal, like=False) for literal in literals]
        first = literals[0].token
        return Comparison(field, op, values, first.line, first.column)

    @staticmethod
    def _value(literal: _Literal, *, like: bool):
        if literal.kind == "string":
            return _decode_string(literal.token, like=like)
        return literal.value

    def string(self, token):
        return _Literal("string", None, token)

    def number(self, token):
        text = token.value
        if "." in text:
            try:
                return _Literal("number", Decimal(text), token)
            except InvalidOperation:
                raise _Failure(token, f"unexpected token: '{_shown(text)}'")
        digits = text.lstrip("+-")
        if len(digits) > 18:
            # Still a valid number, just wider than an int: keep it exact.
            return _Literal("number", Decimal(text), token)
        return _Literal("number", int(text), token)

    def datetime(self, token):
        return _Literal("datetime", _parse_datetime(token), token)

    def date(self, token):
        return _Literal("date", _parse_date(token), token)

    def null(self, token):
        return _Literal("null", None, token)

    def true(self, token):
        return _Literal("boolean", True, token)

    def false(self, token):
        return _Literal("boolean", False, token)

    def date_literal(self, token):
        name, _, n = token.value.upper().partition(":")
        if n:
            if name not in N_NAMES or len(n) > 9:
                raise _Failure(token, f"unexpected token: '{_shown(token.value)}'")
            return _Literal("date_literal", DateLiteral(name, int(n)), token)
        if name not in FIXED_NAMES:
            raise _Failure(token, f"unexpected token: '{_shown(token.value)}'")
        return _Literal("date_literal", DateLiteral(name), token)

    def order_clause(self, *items):
        return ("order", list(items))

    def order_item(self, field, *tokens):
        words = [token.value.upper() for token in tokens]
        descending = "DESC" in words
        if "NULLS" in words:
            nulls_last = words[-1] == "LAST"
        else:
            nulls_last = descending
        return OrderItem(field, descending, nulls_last)

    def limit_clause(self, token):
        return ("limit", _parse_int(token))

    def offset_clause(self, token):
        offset = _parse_int(token)
        if offset > MAX_OFFSET:
            raise SoqlError("NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}")
        return ("offset", offset)


_PARSER = Lark(
    GRAMMAR,
    parser="lalr",
    lexer="contextual",
    transformer=_ToQuery(),
    maybe_placeholders=False,
    lexer_callbacks={"NAME": _refuse_reserved},
)

# Strings first so parentheses inside them do not count.
_NESTING = re.compile(r"'(?:[^'\\]|\\.)*'?|[()]", re.S)


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _check_input(text: str) -> None:
    if len(text) > MAX_QUERY_LENGTH:
        raise SoqlError(MALFORMED, f"SOQL statements cannot be longer than {MAX_QUERY_LENGTH:,} characters.")
    nul = text.find("\x00")
    if nul >= 0:
        line, column = _position(text, nul)
        raise SoqlError(MALFORMED, f"line {line}:{column - 1} no viable alternative at character '\\u0000'")
    depth = 0
    for match in _NESTING.finditer(text):
        piece = match.group()
        if piece == "(":
            depth += 1
            if depth > MAX_DEPTH:
                line, column = _position(text, match.start())
                raise malformed(
                    text, line, column, f"expression nested too deeply (more than {MAX_DEPTH} levels)"
                )
        elif piece == ")":
            depth -= 1


def _check_depth(text: str, expr) -> None:
    """NOT NOT NOT ... builds depth without parentheses; walk the tree without recursing to bound it."""
    stack = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Comparison):
            if depth > MAX_DEPTH:
                raise malformed(
                    text, node.field.line, node.field.column,
                    f"expression nested too deeply (more than {MAX_DEPTH} levels)",
                )  # fmt: skip
            continue
        children = (node.item,) if isinstance(node, Not) else node.items
        stack.extend((child, depth + 1) for child in children)


def parse(text: str) -> Query:
    """Parse one SOQL statement; raises `SoqlError` (MALFORMED_QUERY, or NUMBER_OUTSIDE_VALID_RANGE) only."""
    if not isinstance(text, str):
        raise SoqlError(MALFORMED, f"A SOQL statement is text, not {type(text).__name__}.")
    _check_input(text)
    try:
        query = _PARSER.parse(text)
    except _Failure as failure:
        raise malformed(text, failure.token.line, failure.token.column, failure.detail)
    except SoqlError:
        raise
    except UnexpectedCharacters as error:
        raise _lexer_error(text, error)
    except (UnexpectedToken, UnexpectedEOF) as error:
        raise _parser_error(text, error)
    except (LarkError, RecursionError, ValueError, OverflowError) as error:
        # Not expected from this grammar; still a refusal, never a 500.
        raise SoqlError(MALFORMED, f"unexpected token: {_shown(str(error))}")
    if query.where is not None:
        _check_depth(text, query.where)
    return Query(
        select=query.select,
        sobject=query.sobject,
        where=query.where,
        order_by=query.order_by,
        limit=query.limit,
        offset=query.offset,
        text=text,
    )


def _end_position(text: str) -> tuple[int, int]:
    return _position(text, len(text))


def _lexer_error(text: str, error: UnexpectedCharacters) -> SoqlError:
    # Salesforce's lexer (ANTLR) reports these without the caret block, with a 0-based column.
    char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
    if char == "'":
        line, column = _end_position(text)
        return SoqlError(MALFORMED, f"line {line}:{column - 1} mismatched character '<EOF>' expecting '''")
    return SoqlError(
        MALFORMED, f"line {error.line}:{error.column - 1} no viable alternative at character '{_shown(char)}'"
    )


def _parser_error(text: str, error: UnexpectedToken | UnexpectedEOF) -> SoqlError:
    token = getattr(error, "token", None)
    if token is None or token.type == "$END":
        line, column = _end_position(text)
        return malformed(text, line, column, "unexpected token: <EOF>")
    return malformed(text, token.line, token.column, f"unexpected token: '{_shown(token.value)}'")
