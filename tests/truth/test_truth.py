"""The truth suite: after a backfill, and after the org changes and an incremental sync, the CDP equals the
org under the documented rules (tests/truth/oracle.py reads the org's own tables, never Inflow's mapping).

One configuration per merge strategy, and one that is exactly what the onboarding saves when a user keeps
every default. `TRUTH_CONTACTS` sets the org's size (default 400 contacts, about 1,500 records).
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from django.utils import timezone

from integrations.connection_settings import connection_settings_update
from integrations.models import SyncRun
from tests.integrations.sync.conftest import connect, run_inline
from tests.truth.oracle import CdpState, OrgState, check

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.slow]

CONTACTS = int(os.environ.get("TRUTH_CONTACTS", "400"))
CHURN = {
    "seed": 7,
    "updates": 120,
    "creates": 30,
    "deletes": 25,
    "undeletes": 5,
    "convert_leads": 12,
    "advance_opportunities": 20,
    "complete_tasks": 10,
    "objects": "Account,Contact,Lead",
}


def configure_like_the_onboarding(workspace, connection) -> None:
    """What the Fields step saves when the user keeps every default (default objects, default fields)."""
    from integrations import catalog_offers
    from onboarding import services as onboarding_services

    offers = catalog_offers.object_offers(workspace=workspace, connection=connection)
    choices = [(o, o.default, [f.name for f in o.fields if f.default_selected]) for o in offers]
    onboarding_services.salesforce_objects_save(connection=connection, choices=choices)


def change_permissions_in_inflow(workspace, connection, cdp: CdpState, org: OrgState) -> int:
    """Unsubscribe 20 subscribed people and subscribe 10 unsubscribed ones in Inflow (as a person page does),
    with Contact and Lead set to keep both in sync; returns how many were changed."""
    from cdp.services import person_permission_set
    from integrations import sync_settings
    from integrations.models import SyncedObject

    for synced in SyncedObject.objects.filter(connection=connection, api_name__in=("Contact", "Lead")):
        sync_settings.permission_rules_set(
            synced_object=synced,
            email={**synced.email_permission, "direction": "both"},
            sms=synced.sms_permission or None,
        )

    def writable(person_id: int) -> bool:
        records = cdp.records_of_person.get(person_id, [])
        return bool(records) and all(
            name == "Contact"
            or (name == "Lead" and not org.records["Lead"].get(sf_id, {}).get("IsConverted"))
            for name, sf_id in records
        )

    live = [p for p in sorted(cdp.people) if cdp.people[p].archived_at is None and writable(p)]
    unsubscribe = [p for p in live if cdp.people[p].email_permission][:20]
    subscribe = [p for p in live if not cdp.people[p].email_permission][:10]
    for person_id, value in [*((p, False) for p in unsubscribe), *((p, True) for p in subscribe)]:
        person_permission_set(
            workspace=workspace, person_id=person_id, field_id="bol::p", value=value, actor=None
        )
    return len(unsubscribe) + len(subscribe)


def report_line(config: str, phase: str, report) -> str:
    summary = {name: {"checked": c, "violations": v} for name, (c, v) in report.summary().items()}
    return json.dumps({"config": config, "phase": phase, "invariants": summary})


@pytest.mark.parametrize("config", ["defaults", "overwrite", "append", "ignore"])
def test_the_cdp_equals_the_org_after_backfill_and_after_changes(
    config, make_sandbox_org, sf_settings, workspace, capsys
):
    org = make_sandbox_org(contacts=CONTACTS, seed=1)
    connection = connect(workspace, org)
    configure_like_the_onboarding(workspace, connection)
    strategy = "overwrite" if config == "defaults" else config
    if config != "defaults":
        connection_settings_update(connection=connection, merge_strategy=strategy)
    source = f"salesforce:{connection.pk}"

    run = run_inline(connection)
    assert (run.state, run.state_reason) == (SyncRun.State.SUCCEEDED, "")
    before = OrgState.read(org)
    backfill = check(before, CdpState.read(workspace, source), strategy=strategy, now=timezone.now())
    print(report_line(config, "backfill", backfill))
    assert backfill.violations == [], "\n".join(backfill.violations[:20])
    if config == "defaults":
        # The defaults produce opportunity and campaign activities (their junctions come along).
        checked = backfill.summary()
        assert checked["an activity for every contact role"][0] > 0
        assert checked["an activity for every campaign member"][0] > 0

    if config != "defaults":
        # Both directions on: people changed in Inflow are written to every linked record in the next run.
        changed = change_permissions_in_inflow(
            workspace, connection, CdpState.read(workspace, source), before
        )
        run = run_inline(connection)
        assert (run.state, run.state_reason) == (SyncRun.State.SUCCEEDED, "")
        written = check(
            OrgState.read(org),
            CdpState.read(workspace, source),
            strategy=strategy,
            before=before,
            now=timezone.now(),
            written_back=True,
        )
        print(report_line(config, "after write-back", written))
        assert written.violations == [], "\n".join(written.violations[:20])
        assert written.summary()["write-back: the org's field equals the CDP permission"][0] >= changed

    org.churn(**CHURN)
    run = run_inline(connection)
    assert (run.state, run.state_reason) == (SyncRun.State.SUCCEEDED, "")
    after = check(
        OrgState.read(org),
        CdpState.read(workspace, source),
        strategy=strategy,
        before=before,
        now=timezone.now() + dt.timedelta(seconds=1),
    )
    print(report_line(config, "after churn", after))
    assert after.violations == [], "\n".join(after.violations[:20])
    with capsys.disabled():
        if os.environ.get("TRUTH_REPORT"):
            with open(os.environ["TRUTH_REPORT"], "a") as out:
                out.write(report_line(config, "backfill", backfill) + "\n")
                out.write(report_line(config, "after churn", after) + "\n")


FILTERS = {
    "Contact": (
        {"field": "LeadSource", "operator": "equals", "values": ["Web", "Phone Inquiry"]},
        {"field": "Account.Industry", "operator": "not_equals", "values": ["Banking"]},
    ),
    "Lead": ({"field": "LeadSource", "operator": "equals", "values": ["Web", "Partner Referral"]},),
    "Account": ({"field": "Industry", "operator": "not_equals", "values": ["Banking"]},),
}
CHANGED_CONTACT_FILTER = (
    {"field": "LeadSource", "operator": "equals", "values": ["Other", "Purchased List"]},
)


def _set_filters(connection, filters) -> dict[str, list[dict]]:
    """Save the filters as the Selective sync step does; returns them as stored (what the oracle evaluates)."""
    from integrations import sync_settings
    from integrations.models import SyncedObject

    sync_settings.selective_sync_set(
        connection=connection,
        choices=[
            sync_settings.FilterChoice(name, "matching", criteria) for name, criteria in filters.items()
        ],
    )
    return {
        o.api_name: o.filter_criteria
        for o in SyncedObject.objects.filter(connection=connection, sync_filter="matching")
    }


def test_a_filtered_connection_holds_exactly_the_matching_records(
    make_sandbox_org, sf_settings, workspace, capsys
):
    """The onboarding defaults plus selective sync on Contact (with a lookup), Lead and Account, archive
    chosen: after the backfill, after the org changed, and after the criteria changed, every invariant holds
    over the org as the filter scopes it, every live CDP record from a filtered object matches, and every
    matching record is present."""
    from tests.truth.oracle import check_filters, scoped

    org = make_sandbox_org(contacts=CONTACTS, seed=1)
    connection = connect(workspace, org)
    configure_like_the_onboarding(workspace, connection)
    filters = _set_filters(connection, FILTERS)
    source = f"salesforce:{connection.pk}"
    before = None
    lines = []
    for phase in ("backfill", "after churn", "after a criteria change"):
        if phase == "after churn":
            org.churn(**CHURN)
        elif phase == "after a criteria change":
            filters = _set_filters(connection, {**FILTERS, "Contact": CHANGED_CONTACT_FILTER})
        run = run_inline(connection)
        assert (run.state, run.state_reason) == (SyncRun.State.SUCCEEDED, "")
        state = OrgState.read(org)
        cdp = CdpState.read(workspace, source)
        report = check(
            scoped(state, filters),
            cdp,
            strategy="overwrite",
            before=before,
            now=timezone.now() + dt.timedelta(seconds=1),
        )
        check_filters(state, cdp, filters, report)
        assert report.summary()["every matching record is present"][0] > 0
        lines.append(report_line("filtered", phase, report))
        print(lines[-1])
        assert report.violations == [], phase + ":\n" + "\n".join(report.violations[:20])
        before = scoped(state, filters)
    with capsys.disabled():
        if os.environ.get("TRUTH_REPORT"):
            with open(os.environ["TRUTH_REPORT"], "a") as out:
                out.write("\n".join(lines) + "\n")
