"""Each merge strategy (seed step 7) against the sandbox org: an existing CDP person meets its Salesforce contact."""

from __future__ import annotations

import pytest

from cdp import merge as cdp_merge
from cdp.models import Identity, Person
from integrations.connection_settings import connection_settings_update
from tests.integrations.sync.conftest import connect, run_inline, select_objects
from tests.integrations.sync.test_sync_sandbox import valid_email

pytestmark = pytest.mark.django_db


def target_contact(org):
    """A contact whose email no other contact or lead shares (so nothing else merges into its person)."""
    emails = [
        valid_email(r.get("Email")) for n in ("Contact", "Lead") for r in org.records(n, include_deleted=True)
    ]
    for c in org.records("Contact"):
        email = valid_email(c.get("Email"))
        if (
            c.get("FirstName")
            and c.get("MailingCity")
            and email == c["Email"].lower()
            and emails.count(email) == 1
        ):
            return c
    raise AssertionError("the seed has no suitable contact")


@pytest.mark.parametrize(
    ("strategy", "skip_non_existing", "first", "city", "creates"),
    [
        ("overwrite", False, "salesforce", "salesforce", True),
        ("append", False, "Existing", "salesforce", True),
        ("ignore", False, "Existing", "", True),
        ("overwrite", True, "salesforce", "salesforce", False),
        ("append", True, "Existing", "salesforce", False),
    ],
)
def test_merge_strategy(
    sandbox_org, sf_settings, workspace, strategy, skip_non_existing, first, city, creates
):
    contact = target_contact(sandbox_org)
    [existing] = cdp_merge.merge_people(
        workspace=workspace,
        rows=[cdp_merge.PersonRow(None, {"str::email": contact["Email"], "str::first": "Existing"})],
        source="csv",
    )
    connection = connect(workspace, sandbox_org)
    select_objects(connection, ("Contact",))
    connection_settings_update(
        connection=connection, merge_strategy=strategy, skip_non_existing=skip_non_existing
    )

    run = run_inline(connection)

    person = Person.objects.get(pk=existing.record_id)
    assert person.first_name == (contact["FirstName"] if first == "salesforce" else first)
    assert person.city == (contact["MailingCity"] if city == "salesforce" else city)
    if strategy != "ignore":
        assert Identity.objects.get(object="Contact", external_id=contact["Id"]).person_id == person.pk
    others = Person.objects.exclude(pk=person.pk).count()
    if creates:
        assert others > 100 and run.created == others
    else:
        assert others == 0 and run.created == 0
        assert run.ignored > 100  # every contact with no CDP twin is ignored, none created
