"""Several orgs in one sandbox process: the registry, each org's database, and finding a request's org.

The default org lives in the `sandbox` database as it always has. Every other org (`sandbox_seed --org
NAME`) gets a database of its own beside it — `<file>.org-NAME.sqlite3`, or the PostgreSQL database
`<name>_org_NAME` — with the same tables, so its users, connected apps, records, limits and faults are
its own. The registry (`OrgEntry`) is kept in the default org's database, which every process reads, so
an org created by a command is found by a running server on its next miss.

A request's org comes from what it carries: the org Id at the start of an access token (as on
Salesforce), of an authorization code or a refresh token; the user's org at log-in (usernames are unique
across orgs, as on Salesforce); the org Id in an identity URL; `?org=NAME` on the local control pages.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import IntegrityError, connections

from ..models import OrgEntry, OrgUser
from ..routers import DEFAULT_ORG, DEFAULT_ORG_NAME, SANDBOX_DB, OrgRef, activate, deactivate

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
MAX_ORGS = 62  # one Id character per org
_lock = threading.Lock()
_known: dict[str, OrgRef] = {DEFAULT_ORG_NAME: DEFAULT_ORG}


class OrgNotFound(LookupError):
    pass


def _database_name(base: dict, name: str) -> str:
    if base["ENGINE"].endswith("sqlite3"):
        path = str(base["NAME"])
        if path == ":memory:" or path.startswith("file:"):
            raise ValueError("Another org needs the sandbox database in a file or on PostgreSQL")
        file = Path(path)
        return str(file.with_name(f"{file.stem}.org-{name}{file.suffix}"))
    return f"{base['NAME']}_org_{name}"


def connect(org: OrgRef) -> None:
    """Make the org's database alias known to this process (settings derived from the default org's)."""
    if org.alias in connections.settings:
        return
    with _lock:
        if org.alias in connections.settings:
            return
        settings = copy.deepcopy(connections.settings[SANDBOX_DB])
        settings["NAME"] = _database_name(connections.settings[SANDBOX_DB], org.name)
        settings.setdefault("TEST", {})["NAME"] = None
        connections.settings[org.alias] = settings


@contextmanager
def activated(org: OrgRef) -> Iterator[OrgRef]:
    """Work on `org` inside the block (its database, its Ids, its org Id)."""
    connect(org)
    token = activate(org)
    try:
        yield org
    finally:
        deactivate(token)


def _refresh() -> None:
    rows = OrgEntry.objects.using(SANDBOX_DB).values_list("name", "number")
    with _lock:
        for name, number in rows:
            _known[name] = OrgRef(name, number)


def all_orgs() -> list[OrgRef]:
    _refresh()
    return sorted(_known.values(), key=lambda org: org.number)


def by_name(name: str | None) -> OrgRef | None:
    if not name or name == DEFAULT_ORG_NAME:
        return DEFAULT_ORG
    if not NAME_PATTERN.match(name):
        return None
    if name not in _known:
        _refresh()
    return _known.get(name)


def by_org_id(org_id: str) -> OrgRef | None:
    """The org whose 15- or 18-character Id is `org_id` (None when no org has it)."""
    wanted = (org_id or "")[:15]
    if len(wanted) != 15 or not wanted.startswith("00D"):
        return None
    for attempt in range(2):
        for org in list(_known.values()):
            if org.org_id[:15] == wanted:
                return org
        if attempt == 0:
            _refresh()
    return None


def by_token(raw: str, *, prefix: str = "") -> OrgRef | None:
    """The org that issued a token or code: its org Id follows `prefix` (access tokens: `00D...!`)."""
    if not raw or not raw.startswith(prefix):
        return None
    return by_org_id(raw[len(prefix) : len(prefix) + 15])


def for_username(username: str) -> OrgRef | None:
    """The org of the user with this username (usernames are unique across orgs)."""
    wanted = (username or "").strip()
    if not wanted or len(wanted) > 80:
        return None
    for org in all_orgs():
        connect(org)
        if OrgUser.objects.using(org.alias).filter(username__iexact=wanted).exists():
            return org
    return None


def _create_database(org: OrgRef) -> None:
    connection = connections[org.alias]
    if connection.vendor != "postgresql":
        return  # SQLite creates the file on first connection
    name = connection.settings_dict["NAME"]
    with connections[SANDBOX_DB].cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")


def org_create(*, name: str) -> OrgRef:
    """Register org `name` (or find it), create and migrate its database. Idempotent."""
    from django.core.management import call_command

    if name == DEFAULT_ORG_NAME:
        return DEFAULT_ORG
    if not NAME_PATTERN.match(name or ""):
        raise ValueError(
            "An org name is 1-30 lower-case letters, digits or underscores, starting with a letter"
        )
    org = by_name(name)
    if org is None:
        for _ in range(3):
            numbers = OrgEntry.objects.using(SANDBOX_DB).values_list("number", flat=True)
            number = max([1, *numbers]) + 1
            if number > MAX_ORGS:
                raise ValueError(f"One sandbox hosts at most {MAX_ORGS} orgs")
            try:
                OrgEntry.objects.using(SANDBOX_DB).create(name=name, number=number)
                break
            except IntegrityError:  # another command took the number or the name first
                if by_name(name) is not None:
                    break
        org = by_name(name)
        if org is None:
            raise ValueError(f"Could not register org {name!r}")
    connect(org)
    _create_database(org)
    call_command("migrate", "salesforce_sandbox", database=org.alias, verbosity=0, interactive=False)
    return org


def migrate_all() -> None:
    """Bring every registered org's database up to date (runsandbox, after the default org's)."""
    from django.core.management import call_command

    for org in all_orgs():
        if org.number != 1:
            connect(org)
            call_command("migrate", "salesforce_sandbox", database=org.alias, verbosity=0, interactive=False)


def resolve(name: str | None) -> OrgRef:
    """The org a command's `--org NAME` names; OrgNotFound when there is none."""
    org = by_name(name)
    if org is None:
        raise OrgNotFound(f"No org named {name!r}: create it with `sandbox_seed --org {name}`")
    return org
