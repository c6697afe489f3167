"""Set-based writes Django's ORM does not offer: update many rows, each with its own values, in one statement.

Django's `bulk_update` builds a `CASE WHEN pk=... THEN ...` per column, which grows quadratically and was
measured at 71 rows/s on this machine (../shared/salesforce/PERFORMANCE.md §2.1). Here the rows travel as one
JSON document that the database unpacks (`jsonb_to_recordset` on PostgreSQL, `json_each` on SQLite) and
joins on the primary key: one statement and one parameter per call.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.db import connection, models


def _json_default(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _prepared(field: models.Field, value):
    if isinstance(field, models.JSONField):
        return value  # nested as JSON; the database reads it back as json(b) / JSON text
    return field.get_db_prep_save(value, connection)


def bulk_update_rows(model: type[models.Model], rows: list[dict], columns: list[str]) -> int:
    """Set `columns` of each row identified by `row["id"]`; returns the number of rows updated."""
    if not rows:
        return 0
    fields = [model._meta.get_field(name) for name in columns]
    payload = json.dumps(
        [{"id": row["id"], **{f.column: _prepared(f, row[f.attname]) for f in fields}} for row in rows],
        default=_json_default,
    )
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
    if connection.vendor == "postgresql":
        types = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
        sql = (
            f"UPDATE {table} AS t SET {assignments} "  # noqa: S608 - identifiers come from model metadata
            f'FROM jsonb_to_recordset(%s::jsonb) AS v("id" bigint, {types}) WHERE t."id" = v."id"'
        )
    elif connection.vendor == "sqlite":
        extracts = ", ".join(
            f"json_extract(value, '$.\"{f.column}\"') AS {quote(f.column)}" for f in fields
        )
        sql = (
            f"UPDATE {table} SET {assignments} "  # noqa: S608 - identifiers come from model metadata
            f"FROM (SELECT json_extract(value, '$.id') AS id, {extracts} FROM json_each(%s)) AS v "
            f"WHERE {table}.\"id\" = v.id"
        )
    else:  # pragma: no cover - Inflow supports PostgreSQL and SQLite
        objs = [model(**{"pk": row["id"], **{c: row[c] for c in columns}}) for row in rows]
        return model.objects.bulk_update(objs, columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])
        return cursor.rowcount
