"""The activities a record brings: one handler per catalogued object that has activities, registered in
`ACTIVITY_HANDLERS` by the object's API name. `objects.ObjectSpec.activities` lists the activity ids each
object's handler emits; a handler compares the record with its previous payload and emits an event with a
deterministic source key, so the same change seen twice is stored once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from integrations.salesforce.mapped_page import ActivityOut, Key, MapContext, PageResult, RecordError
from integrations.salesforce.values import date_or_datetime_or_none, datetime_or_none, decimal_safe, is_true

if TYPE_CHECKING:
    # Only for annotations: the mapper module imports this registry.
    from integrations.salesforce.mapping import ObjectMapper

ActivityHandler = Callable[["ObjectMapper", str, Mapping[str, Any], Any, MapContext, PageResult], None]


def emit(
    mapper: ObjectMapper,
    result: PageResult,
    activity_id: str,
    person_key: Key | None,
    occurred_at: dt.datetime | None,
    attributes: dict[str, Any],
    source_key: str,
    organization_key: Key | None = None,
) -> None:
    if person_key is None or occurred_at is None:
        return
    if mapper.activity_since is not None and occurred_at < mapper.activity_since:
        return  # only the retention window is recorded (Ortto: 90 days by default)
    if mapper.activity_kinds is not None and activity_id not in mapper.activity_kinds:
        return  # a kind the user chose not to store
    clean = {k: v for k, v in attributes.items() if v not in (None, "")}
    result.activities.append(
        ActivityOut(
            activity_id,
            person_key,
            occurred_at,
            clean,
            f"sf:{mapper.connection_id}:{source_key}",
            organization_key,
        )
    )


def person_activities(
    mapper: ObjectMapper, sf_id, payload, prev, context: MapContext, result: PageResult
) -> None:
    key = mapper.key(mapper.object_name, sf_id)
    modstamp = payload.get("SystemModstamp")
    if mapper.object_name == "Contact":
        if prev is None:
            emit(
                mapper,
                result,
                "act:sfc:contact-created",
                key,
                datetime_or_none(payload.get("CreatedDate")),
                {},
                f"{sf_id}:created",
            )
        return
    status = payload.get("Status")
    if prev is None:
        emit(
            mapper,
            result,
            "act:sfl:lead-created",
            key,
            datetime_or_none(payload.get("CreatedDate")),
            {"str:sfl:status": status},
            f"{sf_id}:created",
        )
    elif prev.get("Status") != status and status:
        emit(
            mapper,
            result,
            "act:sfl:lead-status-changed",
            key,
            datetime_or_none(modstamp),
            {"str:sfl:status": status, "str:sfl:previous-status": prev.get("Status")},
            f"{sf_id}:status:{status}:{modstamp}",
        )
    if is_true(payload.get("IsConverted")) and (prev is None or not is_true(prev.get("IsConverted"))):
        when = date_or_datetime_or_none(payload.get("ConvertedDate")) or datetime_or_none(modstamp)
        emit(
            mapper,
            result,
            "act:sfl:lead-converted",
            key,
            when,
            {"str:sfl:converted-contact-id": payload.get("ConvertedContactId")},
            f"{sf_id}:converted",
        )


def opportunity_events(
    mapper: ObjectMapper, opp_id, payload, prev, person_key: Key, primary: bool, result, suffix: str
) -> None:
    attrs = {
        "str:sfp:name": payload.get("Name"),
        "str:sfp:stage": payload.get("StageName"),
        "cur:sfp:amount": decimal_safe(payload.get("Amount")),
        "bol:sfp:primary-contact": primary,
    }
    modstamp = payload.get("SystemModstamp")
    if prev is None:
        emit(
            mapper,
            result,
            "act:sfp:opportunity-created",
            person_key,
            datetime_or_none(payload.get("CreatedDate")),
            attrs,
            f"{opp_id}:created{suffix}",
        )
    elif prev.get("StageName") != payload.get("StageName") and payload.get("StageName"):
        emit(
            mapper,
            result,
            "act:sfp:opportunity-stage-changed",
            person_key,
            datetime_or_none(modstamp),
            {**attrs, "str:sfp:previous-stage": prev.get("StageName")},
            f"{opp_id}:stage:{payload.get('StageName')}:{modstamp}{suffix}",
        )
    closed = is_true(payload.get("IsClosed"))
    was_closed = prev is not None and is_true(prev.get("IsClosed"))
    if closed and not was_closed:
        won = is_true(payload.get("IsWon"))
        when = stage_changed_at(mapper, payload, prev)
        emit(
            mapper,
            result,
            "act:sfp:opportunity-won" if won else "act:sfp:opportunity-lost",
            person_key,
            when,
            attrs,
            f"{opp_id}:{'won' if won else 'lost'}{suffix}",
        )


def stage_changed_at(mapper: ObjectMapper, payload, prev) -> dt.datetime | None:
    """When the opportunity reached its stage: Salesforce's LastStageChangeDate, else (first read) the
    earlier of its close date and its last change, else when the change was seen; never in the future.
    CloseDate alone is a forecast: for 58 of 85 closed opportunities of a seeded org it lay ahead."""
    when = datetime_or_none(payload.get("LastStageChangeDate"))
    if when is None and prev is None:
        close = date_or_datetime_or_none(payload.get("CloseDate"))
        changed = datetime_or_none(payload.get("LastModifiedDate")) or datetime_or_none(
            payload.get("SystemModstamp")
        )
        when = min(d for d in (close, changed) if d is not None) if (close or changed) else None
    when = when or datetime_or_none(payload.get("SystemModstamp"))
    now = mapper.now or dt.datetime.now(dt.UTC)
    return min(when, now) if when is not None else None


def opportunity_activities(
    mapper: ObjectMapper, sf_id, payload, prev, context: MapContext, result: PageResult
) -> None:
    for contact_id, primary in context.opportunity_contacts.get(sf_id, ()):
        opportunity_events(
            mapper, sf_id, payload, prev, mapper.key("Contact", contact_id), primary, result, f":{contact_id}"
        )


def contact_role_activities(mapper: ObjectMapper, sf_id, payload, prev, context: MapContext, result) -> None:
    # A contact role that appears after its opportunity brings the opportunity's history to that person.
    if prev is not None:
        return
    opp_id, contact_id = payload.get("OpportunityId"), payload.get("ContactId")
    opp = context.opportunities.get(opp_id or "")
    if not opp or not contact_id:
        return
    primary = is_true(payload.get("IsPrimary"))
    opportunity_events(
        mapper, opp_id, opp, None, mapper.key("Contact", contact_id), primary, result, f":{contact_id}"
    )


def campaign_member_activities(
    mapper: ObjectMapper, sf_id, payload, prev, context: MapContext, result: PageResult
) -> None:
    person = mapper.person_key_for_id(payload.get("ContactId")) or mapper.person_key_for_id(
        payload.get("LeadId")
    )
    if person is None:
        result.errors.append(
            RecordError(
                sf_id,
                "unlinked",
                f"Campaign member {sf_id} has neither a contact nor a lead, so it has no person.",
                fix="No action needed; it is linked when Salesforce gives it a contact or lead.",
                retryable=False,
            )
        )
        return
    campaign_id = payload.get("CampaignId")
    attrs = {
        "str:sfk:campaign": context.campaign_names.get(campaign_id or "", "") or campaign_id,
        "str:sfk:status": payload.get("Status"),
    }
    modstamp = payload.get("SystemModstamp")
    member_of = payload.get("ContactId") or payload.get("LeadId")
    # A member that now names another person (its lead converted; a contact that now matches the
    # selective sync while its lead does not) brings "added" to that person; the source key keeps it
    # once when the first person already has it.
    moved = prev is not None and (prev.get("ContactId") or prev.get("LeadId")) != member_of
    if prev is None or moved:
        emit(
            mapper,
            result,
            "act:sfk:added-to-campaign",
            person,
            datetime_or_none(payload.get("CreatedDate")),
            attrs,
            f"{sf_id}:added",
        )
    elif prev.get("Status") != payload.get("Status") and payload.get("Status"):
        emit(
            mapper,
            result,
            "act:sfk:campaign-member-status-changed",
            person,
            datetime_or_none(modstamp),
            {**attrs, "str:sfk:previous-status": prev.get("Status")},
            f"{sf_id}:status:{payload.get('Status')}:{modstamp}",
        )
    if is_true(payload.get("HasResponded")) and (prev is None or not is_true(prev.get("HasResponded"))):
        when = (
            datetime_or_none(modstamp) if prev is not None else datetime_or_none(payload.get("CreatedDate"))
        )
        emit(mapper, result, "act:sfk:campaign-responded", person, when, attrs, f"{sf_id}:responded")


def task_activities(
    mapper: ObjectMapper, sf_id, payload, prev, context: MapContext, result: PageResult
) -> None:
    person = mapper.person_key_for_id(payload.get("WhoId"))
    if person is None:
        return  # a task on an account or opportunity only: nothing happened to a person
    attrs = {"str:sft:subject": payload.get("Subject"), "str:sft:status": payload.get("Status")}
    if prev is None:
        emit(
            mapper,
            result,
            "act:sft:task-created",
            person,
            datetime_or_none(payload.get("CreatedDate")),
            attrs,
            f"{sf_id}:created",
        )
    if is_true(payload.get("IsClosed")) and (prev is None or not is_true(prev.get("IsClosed"))):
        when = datetime_or_none(payload.get("CompletedDateTime")) or datetime_or_none(
            payload.get("SystemModstamp")
        )
        emit(mapper, result, "act:sft:task-completed", person, when, attrs, f"{sf_id}:completed")


ACTIVITY_HANDLERS: Mapping[str, ActivityHandler] = {
    "Contact": person_activities,
    "Lead": person_activities,
    "Opportunity": opportunity_activities,
    "OpportunityContactRole": contact_role_activities,
    "CampaignMember": campaign_member_activities,
    "Task": task_activities,
}
