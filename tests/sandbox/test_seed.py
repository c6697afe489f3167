"""sandbox_seed: the same seed gives the same org, and the data is as messy as promised."""

from __future__ import annotations

import uuid

import pytest

from tests.sandbox_org import SandboxOrg, _postgres_admin, _postgres_server, _postgres_url


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """Two orgs seeded alike (SQLite files, or PostgreSQL databases when the run uses PostgreSQL)."""
    server = _postgres_server()
    orgs, databases = [], []
    for name in ("a", "b"):
        workdir = tmp_path_factory.mktemp(f"seed-{name}")
        if server:
            database = f"sbx_seed_{uuid.uuid4().hex[:8]}"
            _postgres_admin(server, f'CREATE DATABASE "{database}"')
            databases.append(database)
            org = SandboxOrg(workdir, database_url=_postgres_url(server, database))
        else:
            org = SandboxOrg(workdir)
        org.manage("migrate", "--database", "sandbox", "--no-input", "-v", "0")
        org.manage("sandbox_seed", "--contacts", "1000", "--seed", "42")
        orgs.append(org)
    yield orgs
    for database in databases:
        _postgres_admin(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_same_seed_same_org(seeded):
    first, second = seeded
    for sobject in ("Contact", "Lead", "Account", "Opportunity", "Task", "Instalment__c"):
        assert first.records(sobject, include_deleted=True) == second.records(sobject, include_deleted=True)


def test_messy_realistic_data(seeded):
    org = seeded[0]
    contacts = org.records("Contact", include_deleted=True)
    leads = org.records("Lead")
    emails = [c.get("Email") for c in contacts]
    assert sum(e is None for e in emails) > 20  # missing
    assert any(
        e and (" at " in e or "@@" in e or e.endswith("@") or " " in e.strip()) for e in emails
    )  # invalid
    assert any(e and e != e.strip() for e in emails)  # stray whitespace
    assert any(c.get("LastName") and not c["LastName"].isascii() for c in contacts)  # unicode names
    assert any(len(c.get("Description") or "") > 10_000 for c in contacts)  # very long texts
    # Every 97th contact is deleted on its own; the contacts of deleted accounts went with them.
    deleted_accounts = {a["Id"] for a in org.records("Account", include_deleted=True) if a["IsDeleted"]}
    assert deleted_accounts
    assert {c["Id"] for c in contacts if c["IsDeleted"]} == {
        c["Id"] for i, c in enumerate(contacts) if i % 97 == 13 or c.get("AccountId") in deleted_accounts
    }
    contact_emails = {e for e in emails if e}
    assert sum(1 for lead in leads if lead.get("Email") in contact_emails) > len(leads) // 5
    converted = [lead for lead in leads if lead.get("IsConverted")]
    assert converted and all(
        lead["Status"] == "Closed - Converted" and lead["ConvertedContactId"] for lead in converted
    )
    stages = {o["StageName"] for o in org.records("Opportunity")}
    assert len(stages) == 10
    assert all(o["IsWon"] == (o["StageName"] == "Closed Won") for o in org.records("Opportunity"))
    statuses = {m["Status"] for m in org.records("CampaignMember")}
    assert {"Sent", "Responded", "Attended"} <= statuses
    tasks = org.records("Task")
    assert any(t["IsClosed"] for t in tasks) and any(not t["IsClosed"] for t in tasks)
    stamps = [c["SystemModstamp"] for c in contacts]
    assert len(set(stamps)) < len(stamps)  # several records share one SystemModstamp
    assert len(org.records("Contact")) + sum(c["IsDeleted"] for c in contacts) == 1000


def test_reseeding_needs_reset(seeded):
    org = seeded[0]
    with pytest.raises(RuntimeError, match="The org already has records: use --reset to replace them."):
        org.manage("sandbox_seed", "--contacts", "10")
    assert "not seeding" in org.manage("sandbox_seed", "--if-empty", "--contacts", "10").stdout
