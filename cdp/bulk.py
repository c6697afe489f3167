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
    if value is None or isinstance(field, models.JSONField):
        return value  # JSON travels nested; the database reads it back as json(b) / JSON text
    if isinstance(field, models.DateTimeField) and connection.vendor == "sqlite":
        return connection.ops.adapt_datetimefield_value(value)  # SQLite stores naive UTC text
    return value  # str, int, bool, date: JSON (and _json_default) carry them as they are


class AnyLookup(models.Lookup):
    """`field__any=[...]`: `= ANY(%s)` with one array parameter on PostgreSQL, `IN (...)` elsewhere.

    A 2,000-item `__in` costs psycopg a noticeable share of a merge just to splice the parameters in.
    """

    lookup_name = "any"
    prepare_rhs = False  # the rhs is a list of already-plain values, not one value of the field

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            return "1 = 0", []
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


models.Field.register_lookup(AnyLookup)


def bulk_update_rows(
    model: type[models.Model], rows: list[dict], columns: list[str], *, unless_changed: str | None = None
) -> int:
    """Set `columns` of each row identified by `row["id"]`; returns the number of rows updated.

    With `unless_changed="updated_at"`, each row carries the value it was read with under
    `row["expected_updated_at"]` and is only updated if the column still holds it: optimistic concurrency,
    so readers take no row locks and a caller that updated fewer rows than it sent knows it lost a race.
    """
    if not rows:
        return 0
    fields = [model._meta.get_field(name) for name in columns]
    guard = model._meta.get_field(unless_changed) if unless_changed else None
    expected = f"expected_{guard.column}" if guard else ""

    def encode(row):
        data = {"id": row["id"], **{f.column: _prepared(f, row[f.attname]) for f in fields}}
        if guard:
            data[expected] = _prepared(guard, row[expected])
        return data

    payload = json.dumps([encode(row) for row in rows], default=_json_default)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
    if connection.vendor == "postgresql":
        declared = [f"{quote(f.column)} {f.db_type(connection)}" for f in fields]
        if guard:
            declared.append(f"{quote(expected)} {guard.db_type(connection)}")
        condition = f' AND t.{quote(guard.column)} = v.{quote(expected)}' if guard else ""
        sql = (
            f"UPDATE {table} AS t SET {assignments} "  # noqa: S608 - identifiers come from model metadata
            f'FROM jsonb_to_recordset(%s::jsonb) AS v("id" bigint, {", ".join(declared)}) '
            f'WHERE t."id" = v."id"{condition}'
        )
    elif connection.vendor == "sqlite":
        names = [f.column for f in fields] + ([expected] if guard else [])
        extracts = ", ".join(f"json_extract(value, '$.\"{name}\"') AS {quote(name)}" for name in names)
        condition = f" AND {table}.{quote(guard.column)} = v.{quote(expected)}" if guard else ""
        sql = (
            f"UPDATE {table} SET {assignments} "  # noqa: S608 - identifiers come from model metadata
            f"FROM (SELECT json_extract(value, '$.id') AS id, {extracts} FROM json_each(%s)) AS v "
            f'WHERE {table}."id" = v.id{condition}'
        )
    else:  # pragma: no cover - Inflow supports PostgreSQL and SQLite
        objs = [model(**{"pk": row["id"], **{c: row[c] for c in columns}}) for row in rows]
        return model.objects.bulk_update(objs, columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])
        return cursor.rowcount


def bulk_insert(model: type[models.Model], objs: list[models.Model], *, ignore_conflicts: bool = False) -> None:
    """Insert `objs` in one statement whatever their number, setting their pks (unless ignoring conflicts).

    On PostgreSQL Django's `bulk_create` already sends one statement. On SQLite Django splits inserts into
    batches of 999 parameters, so here the rows travel as one JSON document read by `json_each`, with pks
    assigned above the current maximum (SQLite has one writer at a time; a clash raises IntegrityError,
    which the engine's retry handles).
    """
    if not objs:
        return
    if connection.vendor == "postgresql":
        _bulk_insert_postgresql(model, objs, ignore_conflicts=ignore_conflicts)
        return
    if connection.vendor != "sqlite":  # pragma: no cover - Inflow supports PostgreSQL and SQLite
        model.objects.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM {table}')  # noqa: S608 - model metadata
        (base,) = cursor.fetchone()
        for offset, obj in enumerate(objs, start=1):
            obj.pk = base + offset
        payload = json.dumps(
            [
                {"id": obj.pk, **{f.column: _prepared(f, f.pre_save(obj, True)) for f in fields}}
                for obj in objs
            ],
            default=_json_default,
        )
        names = ['"id"', *(quote(f.column) for f in fields)]
        extracts = ", ".join(
            ["json_extract(value, '$.id')", *(f"json_extract(value, '$.\"{f.column}\"')" for f in fields)]
        )
        verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
        cursor.execute(
            f"{verb} INTO {table} ({', '.join(names)}) SELECT {extracts} FROM json_each(%s)",  # noqa: S608
            [payload],
        )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = "default"


def _bulk_insert_postgresql(model, objs, *, ignore_conflicts: bool) -> None:
    """Pks from the sequence first (one query), then one INSERT ... SELECT FROM jsonb_to_recordset."""
    quote = connection.ops.quote_name
    table = model._meta.db_table
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(objs)]
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
        payload = json.dumps(
            [{"id": obj.pk, **{f.column: _prepared(f, f.pre_save(obj, True)) for f in fields}} for obj in objs],
            default=_json_default,
        )
        names = ", ".join(['"id"', *(quote(f.column) for f in fields)])
        types = ", ".join(['"id" bigint', *(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)])
        conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        cursor.execute(
            f"INSERT INTO {quote(table)} ({names}) SELECT {names} "  # noqa: S608 - model metadata
            f"FROM jsonb_to_recordset(%s::jsonb) AS v({types}){conflict}",
            [payload],
        )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = "default"
