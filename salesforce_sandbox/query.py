"""Running SOQL against the record table: planning, paging with locators, and rendering records.

Filters and orders on the indexed columns (Id, SystemModstamp, LastModifiedDate, CreatedDate, IsDeleted)
run in SQL; the rest of the WHERE clause is evaluated in Python with the SOQL evaluator while rows stream
by. When the whole query runs in SQL, pages continue by keyset (the last row's sort key, kept with the
locator), so the millionth row costs what the first does. Otherwise the matching rows' ids are computed
once, in order, and kept with the locator.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from dataclasses import dataclass

import orjson
from django.db.models import Q

from .ids import BASE62, checksum, to_18
from .models import QueryCursor, Record
from .routers import db
from .schema import Schema, SObjectType
from .services import org
from .services.records import defaults_for
from .soql_bridge import (
    And,
    Comparison,
    DateLiteral,
    ObjectSchema,
    Query,
    SoqlError,
    conjuncts,
    matches,
    parse,
    sort_key,
    validate,
)
from .wire import UTC, now, sf_datetime

MAX_SOQL_LENGTH = 100_000
DEFAULT_BATCH = 2000
MIN_BATCH = 200
SCAN_CHUNK = 2000
ROW_COLUMNS = ("id", "sf_id", "created_date", "last_modified_date", "system_modstamp", "is_deleted", "data")
DATETIME_COLUMNS = {
    "SystemModstamp": "system_modstamp",
    "LastModifiedDate": "last_modified_date",
    "CreatedDate": "created_date",
}
ORDER_COLUMNS = {**DATETIME_COLUMNS, "Id": "sf_id"}
KEPT_POSITIONS = 4


def describe_for(schema: Schema):
    cache: dict[str, ObjectSchema | None] = {}

    def describe(name: str) -> ObjectSchema | None:
        key = name.lower()
        if key not in cache:
            t = schema.get(name)
            if t is None:
                cache[key] = None
            else:
                relationships = {}
                for f in t.fields:
                    if f["type"] == "reference" and f["relationshipName"]:
                        targets = [r for r in f["referenceTo"] if schema.get(r)]
                        if targets:
                            relationships[f["relationshipName"]] = targets[0]
                cache[key] = ObjectSchema(
                    t.name,
                    {f["name"]: f["type"] for f in t.fields},
                    relationships,
                    frozenset(f["name"] for f in t.fields if f.get("filterable") is False),
                )
        return cache[key]

    return describe


def parse_and_validate(schema: Schema, soql: str) -> Query:
    if len(soql) > MAX_SOQL_LENGTH:
        raise SoqlError("MALFORMED_QUERY", "SOQL statements cannot be longer than 100,000 characters.")
    return validate(parse(soql), describe=describe_for(schema))


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _push(c, moment: dt.datetime) -> Q | None:
    """The SQL filter equivalent to comparison `c`, or None when it must run in Python."""
    if not isinstance(c, Comparison) or len(c.field.path) != 1:
        return None
    name, op, value = c.field.path[0], c.op, c.value
    if name == "IsDeleted" and op in ("=", "!=") and isinstance(value, bool):
        return Q(is_deleted=value) if op == "=" else ~Q(is_deleted=value)
    if name in DATETIME_COLUMNS:
        col = DATETIME_COLUMNS[name]
        if isinstance(value, DateLiteral):
            start, end = value.range(moment)
            start, end = _aware(start), _aware(end)
            ranges = {
                "=": Q(**{f"{col}__gte": start, f"{col}__lt": end}),
                "<": Q(**{f"{col}__lt": start}),
                "<=": Q(**{f"{col}__lt": end}),
                ">": Q(**{f"{col}__gte": end}),
                ">=": Q(**{f"{col}__gte": start}),
            }
            return ranges.get(op)
        if isinstance(value, dt.datetime):
            value = _aware(value)
            lookups = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
            if op in lookups:
                return Q(**{f"{col}__{lookups[op]}": value})
            if op == "!=":
                return ~Q(**{col: value})
        return None
    if name == "Id":
        if op in ("=", "!=") and isinstance(value, str):
            full = to_18(value)
            if full is None:
                return None
            return Q(sf_id=full) if op == "=" else ~Q(sf_id=full)
        if op in ("IN", "NOT IN") and isinstance(value, list) and 0 < len(value) <= 1000:
            ids = [to_18(v) if isinstance(v, str) else None for v in value]
            if any(i is None for i in ids):
                return None
            return Q(sf_id__in=ids) if op == "IN" else ~Q(sf_id__in=ids)
    return None


@dataclass
class Plan:
    t: SObjectType
    query: Query
    include_deleted: bool
    sql_filter: Q
    residual: object | None
    order: list[tuple[str, bool]] | None  # SQL columns with descending flags, or None (sort in Python)

    @property
    def keyset(self) -> bool:
        return self.residual is None and self.order is not None


def make_plan(schema: Schema, query: Query, *, include_deleted: bool, moment: dt.datetime) -> Plan:
    t = schema.get(query.sobject.name)
    # Purged rows are always deleted ones, so live queries need only is_deleted (index-only counts).
    # `__in=[False]` renders `col IN (0)`, an equality the indexes serve; `=False` renders `NOT col`, which
    # SQLite's planner cannot match to an index column.
    sql = Q(sobject=t.name) & (Q(purged__in=[False]) if include_deleted else Q(is_deleted__in=[False]))
    residual = []
    range_column = None
    for c in conjuncts(query.where):
        pushed = _push(c, moment)
        if pushed is None:
            residual.append(c)
        else:
            sql &= pushed
            if len(c.field.path) == 1 and c.field.path[0] in DATETIME_COLUMNS and c.op != "!=":
                range_column = range_column or DATETIME_COLUMNS[c.field.path[0]]
    order: list[tuple[str, bool]] | None = []
    if not query.order_by and range_column:
        # No order asked for (Salesforce promises none): walk the index the date range is on, not the Ids.
        order.append((range_column, False))
    for item in query.order_by:
        path = item.field.path
        if len(path) == 1 and path[0] in ORDER_COLUMNS:
            order.append((ORDER_COLUMNS[path[0]], item.descending))
        else:
            order = None
            break
    if order is not None and not any(col == "sf_id" for col, _ in order):
        order.append(("sf_id", False))
    residual_expr = None if not residual else (residual[0] if len(residual) == 1 else And(residual))
    return Plan(t, query, include_deleted, sql, residual_expr, order)


def _order_by(order: list[tuple[str, bool]]) -> list[str]:
    return [f"-{col}" if desc else col for col, desc in order]


def _after(order: list[tuple[str, bool]], values: list) -> Q:
    """Rows strictly after `values` in `order` (keyset continuation), led by a range on the first column."""
    first_col, first_desc = order[0]
    lead = Q(**{f"{first_col}__{'lte' if first_desc else 'gte'}": values[0]})
    disjunction = Q()
    for i, (col, desc) in enumerate(order):
        equal = {order[j][0]: values[j] for j in range(i)}
        disjunction |= Q(**equal, **{f"{col}__{'lt' if desc else 'gt'}": values[i]})
    return lead & disjunction


def _position(row: dict, order) -> list:
    out = []
    for col, _ in order:
        value = row[col]
        out.append(value.isoformat() if isinstance(value, dt.datetime) else value)
    return out


def _position_values(order, stored: list) -> list:
    return [
        dt.datetime.fromisoformat(v) if col != "sf_id" else v
        for (col, _), v in zip(order, stored, strict=True)
    ]


# ---- rendering ---------------------------------------------------------------------------------------


def base_record(t: SObjectType, row: dict) -> dict:
    data = orjson.loads(row["data"])
    data["Id"] = row["sf_id"]
    data["IsDeleted"] = row["is_deleted"]
    data["CreatedDate"] = sf_datetime(row["created_date"])
    data["LastModifiedDate"] = sf_datetime(row["last_modified_date"])
    data["SystemModstamp"] = sf_datetime(row["system_modstamp"])
    data["__type"] = t.name
    return data


def _relationship_paths(paths) -> set[tuple[str, ...]]:
    return {tuple(p[:-1]) for p in paths if len(p) > 1}


def attach_parents(
    schema: Schema, t: SObjectType, records: list[dict], rel_paths: set[tuple[str, ...]]
) -> None:
    """Put each parent record (or None) under its relationship name, level by level (Account, Account.Owner)."""
    by_first: dict[str, set] = defaultdict(set)
    for path in rel_paths:
        if path:
            by_first[path[0]].add(path[1:])
    for rel, rests in by_first.items():
        f = t.relationships.get(rel.lower())
        if f is None:
            continue
        ids = {r.get(f["name"]) for r in records} - {None}
        parents: dict[str, dict] = {}
        if ids:
            rows = (
                Record.objects.using(db())
                .filter(sf_id__in=list(ids), is_deleted=False)
                .values(*ROW_COLUMNS, "sobject")
            )
            for row in rows:
                pt = schema.get(row["sobject"])
                if pt is not None and pt.name in f["referenceTo"]:
                    parents[row["sf_id"]] = base_record(pt, row)
        for r in records:
            r[rel] = parents.get(r.get(f["name"]))
        deeper = {rest for rest in rests if rest}
        if deeper and parents:
            groups: dict[str, list] = defaultdict(list)
            for p in parents.values():
                groups[p["__type"]].append(p)
            for type_name, group in groups.items():
                attach_parents(schema, schema.get(type_name), group, deeper)


class Renderer:
    def __init__(
        self, schema: Schema, t: SObjectType, paths: list[tuple[str, ...]], version: str, wrong_type: set[str]
    ):
        self.schema = schema
        self.t = t
        self.paths = paths
        self.version = version
        self.wrong_type = wrong_type
        self._plan = self._simple_plan()
        self._url_base = f"/services/data/v{version}/sobjects/{t.name}/"

    def value(self, t: SObjectType, record: dict, name: str):
        f = t.field(name)
        if f is not None and f["type"] == "address":
            parts = t.address_parts(name)
            values = {key: record.get(part) for key, part in parts.items()}
            value = values if any(v is not None for v in values.values()) else None
        else:
            value = record.get(name)
            if value is None:
                value = defaults_for(t).get(name)
        if self.wrong_type and f"{t.name}.{name}" in self.wrong_type:
            value = _wrong(value)
        return value

    def attributes(self, t: SObjectType, sf_id: str) -> dict:
        return {"type": t.name, "url": f"/services/data/v{self.version}/sobjects/{t.name}/{sf_id}"}

    def _simple_plan(self) -> list:
        """Per selected path: (name, default) for plain fields of the queried object, else None."""
        plan = []
        defaults = defaults_for(self.t)
        for path in self.paths:
            f = self.t.field(path[0]) if len(path) == 1 else None
            if f is None or f["type"] == "address" or f"{self.t.name}.{path[0]}" in self.wrong_type:
                plan.append(None)
            else:
                plan.append((path[0], defaults.get(path[0])))
        return plan

    def render(self, record: dict) -> dict:
        out = {"attributes": {"type": self.t.name, "url": f"{self._url_base}{record['Id']}"}}
        for path, simple in zip(self.paths, self._plan, strict=True):
            if simple is not None:
                value = record.get(simple[0])
                out[simple[0]] = simple[1] if value is None else value
                continue
            if len(path) == 1:
                out[path[0]] = self.value(self.t, record, path[0])
                continue
            target, source, t = out, record, self.t
            for rel in path[:-1]:
                parent = source.get(rel) if source is not None else None
                if rel not in target:
                    if parent is None:
                        target[rel] = None
                    else:
                        pt = self.schema.get(parent["__type"])
                        target[rel] = {"attributes": self.attributes(pt, parent["Id"])}
                target, source = target[rel], parent
                if target is None:
                    break
                t = self.schema.get(source["__type"])
            if target is not None:
                target[path[-1]] = self.value(t, source, path[-1])
        return out


def _wrong(value):
    """A value of the wrong JSON type, for the wrong-typed-values fault."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return "not-a-number"
    if isinstance(value, str):
        return 12345
    return {"unexpected": True}


# ---- paging ------------------------------------------------------------------------------------------


def new_locator() -> str:
    body = "01gDw0" + "".join(secrets.choice(BASE62) for _ in range(9))
    return body + checksum(body)


def batch_size_from(header: str | None) -> int:
    size = DEFAULT_BATCH
    for part in (header or "").split(","):
        key, _, value = part.partition("=")
        if key.strip().lower() == "batchsize":
            try:
                size = int(value.strip())
            except ValueError:
                size = DEFAULT_BATCH
    return max(MIN_BATCH, min(DEFAULT_BATCH, size))


def _page_cap(plan: Plan, batch: int, state) -> int:
    long_text = sum(
        1
        for path in (f.path for f in plan.query.fields)
        if len(path) == 1
        and (f := plan.t.field(path[0])) is not None
        and f["type"] == "textarea"
        and f["custom"]
        and f["length"] > 255
    )
    if long_text >= 2:
        batch = min(batch, 200)
    if state.short_page_size:
        batch = min(batch, max(1, state.short_page_size))
    return batch


def _scan_matching(plan: Plan, schema: Schema, moment: dt.datetime) -> list[int]:
    """Ids of the rows matching the whole WHERE clause, in the query's order (Python-side evaluation)."""
    where_paths = _relationship_paths(c.field.path for c in _comparisons(plan.query.where))
    order_paths = _relationship_paths(item.field.path for item in plan.query.order_by)
    rel_paths = where_paths | order_paths
    matched: list[tuple] = []
    last = 0
    qs = Record.objects.using(db()).filter(plan.sql_filter)
    python_sort = plan.order is None
    while True:
        rows = list(qs.filter(id__gt=last).order_by("id").values(*ROW_COLUMNS)[:SCAN_CHUNK])
        if not rows:
            break
        last = rows[-1]["id"]
        records = [base_record(plan.t, row) for row in rows]
        if rel_paths:
            attach_parents(schema, plan.t, records, rel_paths)
        for row, record in zip(rows, records, strict=True):
            if plan.residual is None or matches(plan.residual, record, now=moment):
                if python_sort:
                    matched.append((sort_key(plan.query.order_by, record), row["sf_id"], row["id"]))
                else:
                    matched.append((tuple(row[col] for col, _ in plan.order), row["sf_id"], row["id"]))
    if python_sort:
        matched.sort(key=lambda m: (m[0], m[1]))
    else:
        for index in range(len(plan.order) - 1, -1, -1):
            matched.sort(key=lambda m, i=index: m[0][i], reverse=plan.order[index][1])
    return [m[2] for m in matched]


def _comparisons(expr):
    if expr is None:
        return
    if isinstance(expr, Comparison):
        yield expr
        return
    for child in getattr(expr, "items", None) or [getattr(expr, "item", None)]:
        if child is not None:
            yield from _comparisons(child)


@dataclass
class Page:
    total_size: int
    done: bool
    records: list
    next_records_url: str | None

    def as_json(self) -> dict:
        body = {"totalSize": self.total_size, "done": self.done}
        if self.next_records_url:
            body["nextRecordsUrl"] = self.next_records_url
        body["records"] = self.records
        return body


def _check_timeout(plan: Plan, state) -> None:
    if org.query_times_out(plan.t.name, state):
        raise SoqlError("QUERY_TIMEOUT", "Your query request was running for too long.")


def _fetch_rows(plan: Plan, *, position: list | None, sql_offset: int, count: int) -> list[dict]:
    qs = Record.objects.using(db()).filter(plan.sql_filter)
    if position is not None:
        qs = qs.filter(_after(plan.order, _position_values(plan.order, position)))
    qs = qs.order_by(*_order_by(plan.order)).values(*ROW_COLUMNS)
    return list(qs[sql_offset : sql_offset + count])


def _rows_by_ids(ids: list[int]) -> list[dict]:
    rows = {row["id"]: row for row in Record.objects.using(db()).filter(id__in=ids).values(*ROW_COLUMNS)}
    return [rows[i] for i in ids if i in rows]


def _render_page(plan: Plan, schema: Schema, rows: list[dict], version: str, state) -> list[dict]:
    paths = [f.path for f in plan.query.fields]
    records = [base_record(plan.t, row) for row in rows]
    rel_paths = _relationship_paths(paths)
    if rel_paths and records:
        attach_parents(schema, plan.t, records, rel_paths)
    wrong = set(org.json_list(state.wrong_type_fields))
    renderer = Renderer(schema, plan.t, paths, version, wrong)
    return [renderer.render(r) for r in records]


def run_query(
    *, schema: Schema, soql: str, include_deleted: bool, batch_header: str | None, version: str, state
) -> Page:
    moment = now()
    query = parse_and_validate(schema, soql)
    plan = make_plan(schema, query, include_deleted=include_deleted, moment=moment)
    _check_timeout(plan, state)
    skip = query.offset or 0
    limit = query.limit
    row_ids: list[int] | None = None
    if plan.keyset:
        count = Record.objects.using(db()).filter(plan.sql_filter).count()
    else:
        row_ids = _scan_matching(plan, schema, moment)
        count = len(row_ids)
    total = max(0, count - skip)
    if limit is not None:
        total = min(total, limit)
    if query.is_count:
        return Page(total, True, [], None)
    batch = _page_cap(plan, batch_size_from(batch_header), state)
    size = min(batch, total)
    if plan.keyset:
        rows = _fetch_rows(plan, position=None, sql_offset=skip, count=size)
    else:
        row_ids = row_ids[skip : skip + total]
        rows = _rows_by_ids(row_ids[:size])
    records = _render_page(plan, schema, rows, version, state)
    if size >= total:
        return Page(total, True, records, None)
    locator = new_locator()
    positions = {str(size): _position(rows[-1], plan.order)} if plan.keyset and rows else {}
    QueryCursor.objects.using(db()).filter(last_used_at__lt=moment - org.locator_idle_timeout()).delete()
    QueryCursor.objects.using(db()).create(
        locator=locator,
        soql=soql,
        include_deleted=include_deleted,
        batch_size=batch,
        total_size=total,
        positions=orjson.dumps(positions).decode(),
        row_ids="" if plan.keyset else orjson.dumps(row_ids).decode(),
        created_at=moment,
        last_used_at=moment,
    )
    return Page(total, False, records, f"/services/data/v{version}/query/{locator}-{size}")


def invalid_locator() -> SoqlError:
    return SoqlError("INVALID_QUERY_LOCATOR", "invalid query locator")


def continue_query(*, schema: Schema, locator_path: str, version: str, state) -> Page:
    locator, _, offset_text = locator_path.partition("-")
    if len(locator) not in (15, 18) or not offset_text.isdigit() or len(offset_text) > 9:
        raise invalid_locator()
    offset = int(offset_text)
    moment = now()
    cursor = QueryCursor.objects.using(db()).filter(locator=locator).first()
    if (
        cursor is None
        or cursor.last_used_at + org.locator_idle_timeout() <= moment
        or (state.locators_expired_before is not None and cursor.created_at <= state.locators_expired_before)
        or offset >= cursor.total_size
        or offset <= 0
    ):
        raise invalid_locator()
    query = parse_and_validate(schema, cursor.soql)
    plan = make_plan(schema, query, include_deleted=cursor.include_deleted, moment=cursor.created_at)
    _check_timeout(plan, state)
    batch = _page_cap(plan, cursor.batch_size, state)
    size = min(batch, cursor.total_size - offset)
    positions = orjson.loads(cursor.positions)
    if plan.keyset:
        position = positions.get(str(offset))
        if position is not None:
            rows = _fetch_rows(plan, position=position, sql_offset=0, count=size)
        else:  # an offset this locator never handed out: correct, but paid for with an OFFSET scan
            rows = _fetch_rows(plan, position=None, sql_offset=(query.offset or 0) + offset, count=size)
    else:
        row_ids = orjson.loads(cursor.row_ids)
        rows = _rows_by_ids(row_ids[offset : offset + size])
    records = _render_page(plan, schema, rows, version, state)
    next_offset = offset + size
    done = next_offset >= cursor.total_size
    update = {"last_used_at": moment}
    if plan.keyset and rows and not done:
        positions[str(next_offset)] = _position(rows[-1], plan.order)
        keep = sorted(positions, key=int)[-KEPT_POSITIONS:]
        update["positions"] = orjson.dumps({k: positions[k] for k in keep}).decode()
    QueryCursor.objects.using(db()).filter(locator=locator).update(**update)
    next_url = None if done else f"/services/data/v{version}/query/{locator}-{next_offset}"
    return Page(cursor.total_size, done, records, next_url)


def ordered_ids(plan: Plan, schema: Schema, moment: dt.datetime) -> list[int]:
    """Ids of every matching row in the query's order (unordered queries: storage order, like PK chunks)."""
    if plan.keyset:
        qs = Record.objects.using(db()).filter(plan.sql_filter)
        qs = qs.order_by(*_order_by(plan.order)) if plan.query.order_by else qs.order_by("id")
        return list(qs.values_list("id", flat=True))
    return _scan_matching(plan, schema, moment)
