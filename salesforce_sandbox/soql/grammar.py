"""The SOQL grammar, in Lark's EBNF; kept in Python so it ships wherever the package does."""

GRAMMAR = r"""
// SOQL as the sandbox org accepts it: the subset real clients (Inflow, simple-salesforce) send.
// LALR(1); keywords are case-insensitive; AND and OR never mix without parentheses, as in Salesforce.

start: select_clause from_clause where_clause? order_clause? limit_clause? offset_clause?

select_clause: "SELECT"i select_item ("," select_item)*
?select_item: field_path
            | COUNT "(" ")"                             -> count_all

field_path: NAME ("." NAME)*

from_clause: "FROM"i NAME

where_clause: "WHERE"i condition

?condition: or_condition
          | and_condition
          | unary

or_condition: unary ("OR"i unary)+
and_condition: unary ("AND"i unary)+

?unary: NOT_KW unary                                   -> not_condition
      | "(" condition ")"
      | comparison

comparison: field_path scalar_op value
          | field_path list_op "(" value ("," value)* ")"  -> list_comparison

scalar_op: SCALAR_OP | LIKE
list_op: IN | NOT_KW IN | INCLUDES | EXCLUDES

?value: STRING                                         -> string
      | NUMBER                                         -> number
      | DATETIME                                       -> datetime
      | DATE                                           -> date
      | NULL                                           -> null
      | TRUE                                           -> true
      | FALSE                                          -> false
      | DATE_LITERAL_N                                 -> date_literal
      | NAME                                           -> date_literal

order_clause: "ORDER"i "BY"i order_item ("," order_item)*
order_item: field_path DIRECTION? (NULLS FIRST_LAST)?

limit_clause: "LIMIT"i INT
offset_clause: "OFFSET"i INT

SCALAR_OP: "=" | "!=" | "<>" | "<=" | ">=" | "<" | ">"
LIKE: "LIKE"i
COUNT: "COUNT"i
IN: "IN"i
NOT_KW: "NOT"i
INCLUDES: "INCLUDES"i
EXCLUDES: "EXCLUDES"i
NULL: "NULL"i
TRUE: "TRUE"i
FALSE: "FALSE"i
NULLS: "NULLS"i
DIRECTION: "ASC"i | "DESC"i
FIRST_LAST: "FIRST"i | "LAST"i

NAME: /[a-z_][a-z0-9_]*/i
DATE_LITERAL_N.2: /[a-z_][a-z0-9_]*:[0-9]+/i
// A string runs to the next unescaped quote; escapes are checked (and decoded) by the transformer.
STRING: /'(?:[^'\\]|\\.)*'/s
DATETIME.4: /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:?[0-9]{2})/i
DATE.3: /[0-9]{4}-[0-9]{2}-[0-9]{2}/
NUMBER.2: /[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+)/
INT: /[0-9]+/

%ignore /[ \t\r\n\f]+/
"""
