"""The sandbox org keeps its rows in its own database: it is another system, not part of Inflow.

One sandbox process can host several orgs, each in a database of its own (alias `sandbox` for the
default org, `sandbox__<name>` for the others). The org a request, command or thread works on is a
context variable set from the log-in, the access token or `--org`; `db()` names its database alias.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

SANDBOX_APP = "salesforce_sandbox"
SANDBOX_DB = "sandbox"
ORG_ALIAS_PREFIX = "sandbox__"
DEFAULT_ORG_NAME = "default"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class OrgRef:
    """Which org: its name and number (1 is the default org). Everything else derives from these."""

    name: str
    number: int

    @property
    def alias(self) -> str:
        return SANDBOX_DB if self.number == 1 else f"{ORG_ALIAS_PREFIX}{self.name}"

    @property
    def id_infix(self) -> str:
        """The character after the instance in every record Id, so two orgs never mint the same Id."""
        return _BASE62[(self.number - 1) % 62]

    @property
    def org_id(self) -> str:
        from .ids import checksum

        digits = []
        number = self.number
        for _ in range(10):
            number, rem = divmod(number, 62)
            digits.append(_BASE62[rem])
        id15 = "00DDw" + "".join(reversed(digits))
        return id15 + checksum(id15)


DEFAULT_ORG = OrgRef(DEFAULT_ORG_NAME, 1)
_current: ContextVar[OrgRef] = ContextVar("sandbox_org", default=DEFAULT_ORG)


def current_org() -> OrgRef:
    return _current.get()


def db() -> str:
    """The database alias of the org this request or command works on."""
    return _current.get().alias


def activate(org: OrgRef):
    """Make `org` current; returns the token for `deactivate`."""
    return _current.set(org)


def deactivate(token) -> None:
    _current.reset(token)


def is_sandbox_alias(alias: str) -> bool:
    return alias == SANDBOX_DB or alias.startswith(ORG_ALIAS_PREFIX)


class SandboxRouter:
    def _alias(self, hints) -> str:
        instance = hints.get("instance")
        if instance is not None and instance._state.db and is_sandbox_alias(instance._state.db):
            return instance._state.db
        return db()

    def db_for_read(self, model, **hints):
        return self._alias(hints) if model._meta.app_label == SANDBOX_APP else None

    def db_for_write(self, model, **hints):
        return self._alias(hints) if model._meta.app_label == SANDBOX_APP else None

    def allow_relation(self, obj1, obj2, **hints):
        in_sandbox = {obj1._meta.app_label == SANDBOX_APP, obj2._meta.app_label == SANDBOX_APP}
        return None if in_sandbox == {False} else len(in_sandbox) == 1

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == SANDBOX_APP:
            return is_sandbox_alias(db)
        return not is_sandbox_alias(db)
