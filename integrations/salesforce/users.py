"""Salesforce users' names for the owner ids (005…) a page of records carries, so a person reads
"Owner: Maria Garcia" rather than an id. Names are cached per connection; one bounded query per page reads
the ones not seen yet."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

from integrations.models import Connection, SalesforceUserName
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.soql import build_ids_soql

logger = logging.getLogger(__name__)

USER_ID_RE = re.compile(r"^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")
# SOQL's IN list stays far below the query length limit at this size.
MAX_IDS_PER_QUERY = 200


def user_ids_in(records: Iterable[Mapping], field_names: Iterable[str]) -> set[str]:
    names = list(field_names)
    return {
        value
        for record in records
        if isinstance(record, Mapping)
        for name in names
        if isinstance(value := record.get(name), str) and USER_ID_RE.match(value)
    }


def user_names(*, connection: Connection, client, ids: set[str]) -> dict[str, str]:
    """{user id: name} for `ids`: the cached ones, plus the others read from Salesforce in one query. A
    failed read leaves those ids unnamed (shown as they are) and never fails the sync."""
    if not ids:
        return {}
    names = dict(
        SalesforceUserName.objects.filter(connection=connection, sf_id__in=ids).values_list("sf_id", "name")
    )
    missing = sorted(ids - set(names))[:MAX_IDS_PER_QUERY]
    if not missing or client is None:
        return names
    read: dict[str, str] = {}
    try:
        for page in client.query_pages(build_ids_soql("User", ["Id", "Name"], missing)):
            for row in page.records:
                if isinstance(row, Mapping) and row.get("Id") and row.get("Name"):
                    read[str(row["Id"])] = str(row["Name"])[:255]
    except SalesforceError as exc:
        logger.warning("Could not read user names of connection %s: %s", connection.pk, type(exc).__name__)
        return names
    SalesforceUserName.objects.bulk_create(
        [SalesforceUserName(connection=connection, sf_id=i, name=n) for i, n in read.items()],
        ignore_conflicts=True,
    )
    # A 15-character id in a record and the 18-character one Salesforce answers name the same user.
    for user_id in missing:
        name = read.get(user_id) or next((n for i, n in read.items() if i[:15] == user_id[:15]), None)
        if name:
            names[user_id] = name
    return names
