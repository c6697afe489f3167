"""Email and SMS permission rules: which Salesforce value says subscribed or unsubscribed, which way a
rule syncs, and how a record's value changes the person's permissions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from integrations.salesforce.values import parse_datetime

# Which way a permission rule syncs (Ortto's "Sync behavior"), stored as the rule's "direction".
DIRECTION_FROM_SALESFORCE = "from_salesforce"


DIRECTION_TO_SALESFORCE = "to_salesforce"


DIRECTION_BOTH = "both"


DIRECTIONS = {
    DIRECTION_FROM_SALESFORCE: "Update Inflow from Salesforce",
    DIRECTION_TO_SALESFORCE: "Update Salesforce from Inflow",
    DIRECTION_BOTH: "Keep both in sync",
}


def rule_direction(config: Mapping[str, Any] | None) -> str:
    return (config or {}).get("direction") or DIRECTION_FROM_SALESFORCE


def rule_writes_back(config: Mapping[str, Any] | None) -> bool:
    return bool(config and config.get("field")) and rule_direction(config) != DIRECTION_FROM_SALESFORCE


@dataclass(frozen=True)
class PermissionRule:
    field: str
    subscribed: Any = None
    unsubscribed: Any = None
    has_subscribed: bool = False
    has_unsubscribed: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> PermissionRule | None:
        """The rule as the reader applies it: None when there is none or it only writes to Salesforce."""
        if not config or not config.get("field"):
            return None
        if config.get("direction") == DIRECTION_TO_SALESFORCE:
            return None
        return cls.of(config)

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> PermissionRule:
        return cls(
            field=config["field"],
            subscribed=config.get("subscribed"),
            unsubscribed=config.get("unsubscribed"),
            has_subscribed="subscribed" in config,
            has_unsubscribed="unsubscribed" in config,
        )

    def value_for(self, subscribed: bool) -> Any:
        """The Salesforce value that says `subscribed` (None when the rule cannot say it)."""
        if subscribed:
            if self.has_subscribed:
                return self.subscribed
            return (not self.unsubscribed) if isinstance(self.unsubscribed, bool) else None
        if self.has_unsubscribed:
            return self.unsubscribed
        return (not self.subscribed) if isinstance(self.subscribed, bool) else None

    def evaluate(self, record: Mapping[str, Any]) -> bool | None:
        """True/False when the record's value says subscribed/unsubscribed; None = the rule says nothing."""
        if self.field not in record:
            return None
        value = record[self.field]
        if self.has_unsubscribed and same_value(value, self.unsubscribed):
            return False
        if self.has_subscribed and same_value(value, self.subscribed):
            return True
        # A boolean rule with one side given implies the other (HasOptedOutOfEmail false -> subscribed).
        if isinstance(self.unsubscribed, bool) and not self.has_subscribed and isinstance(value, bool):
            return value != self.unsubscribed
        if isinstance(self.subscribed, bool) and not self.has_unsubscribed and isinstance(value, bool):
            return value == self.subscribed
        return None


def same_value(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool):
        return value is expected or (
            isinstance(value, str) and value.strip().lower() == str(expected).lower()
        )
    if isinstance(value, str) and isinstance(expected, str):
        return value.strip().lower() == expected.strip().lower()
    return value == expected


def apply_permissions(
    email_rule: PermissionRule | None,
    sms_rule: PermissionRule | None,
    payload: Mapping[str, Any],
    prev: Mapping[str, Any] | None,
    fields: dict[str, Any],
    echo: tuple[dt.datetime, dict[str, Any]] | None = None,
) -> None:
    """An opt-out always applies. A subscribe applies only when this record itself moves from
    unsubscribed to subscribed (or, for SMS, an opt-in on a new record): a Lead that never opted out
    must not re-subscribe the person its Contact unsubscribed (consent is one-way sticky).
    `echo`: (SystemModstamp, {field: value}) of our own write-back; the record showing exactly that is
    Inflow's change coming back, not a change made in Salesforce."""
    modstamp = parse_datetime(payload.get("SystemModstamp")) if echo is not None else None
    for rule, field_id in ((email_rule, "bol::p"), (sms_rule, "bol::sp")):
        if rule is None:
            continue
        if (
            echo is not None
            and modstamp == echo[0]
            and rule.field in echo[1]
            and same_value(payload.get(rule.field), echo[1][rule.field])
        ):
            continue
        value = rule.evaluate(payload)
        if value is False:
            fields[field_id] = False
        elif value is True:
            was = rule.evaluate(prev) if prev else None
            if was is False or (prev is None and field_id == "bol::sp"):
                fields[field_id] = True
