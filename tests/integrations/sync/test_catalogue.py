"""The catalogue of Salesforce objects (integrations/salesforce/objects.py) is complete and is the one source.

Each standard object's spec names only fields the object has (checked against describes recorded from a
real org where the repository has one, and against the sandbox org's schema for every object), every
activity has a handler and a definition, and docs/sync.md's table is what the table says.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from integrations.salesforce import activities, objects, planning, target_fields
from salesforce_sandbox.schema import build_schema
from tests.integrations.connection.conftest import recorded

ROOT = Path(__file__).resolve().parents[3]
RECORDED = {"Account", "Contact", "Lead", "Opportunity"}


def describe_fields(name: str) -> set[str]:
    """The object's fields in a real org's recorded describe (where field-level security hid some, such as
    Contact.HasOptedOutOfEmail, the sandbox org's full schema) or in the sandbox org's schema."""
    sandbox = build_schema().get(name)
    assert sandbox is not None, f"the sandbox org has no {name}"
    fields = set(sandbox.field_names())
    if name in RECORDED:
        fields |= {f["name"] for f in recorded(f"describe_{name}")["fields"]}
    return fields


@pytest.mark.parametrize("spec", objects.OBJECTS, ids=lambda spec: spec.name)
def test_every_standard_object_spec_is_complete(spec):
    fields = describe_fields(spec.name)
    assert spec.label and spec.summary
    assert spec.becomes in (objects.PERSON, objects.ORGANIZATION, objects.ACTIVITY_SOURCE)
    assert re.fullmatch(r"[a-z]{3}", spec.namespace) and re.fullmatch(r"[a-z]{3}", spec.custom_namespace)
    named = {
        *spec.builtin_targets,
        *spec.organization_targets,
        *spec.default_fields,
        *spec.recommended_fields,
        *spec.engine_fields,
        *(f for fs in spec.coalesce.values() for f in fs),
    }
    if spec.person_account is not None:
        # Person Accounts' fields exist when the org has the feature on (sandbox_seed --person-accounts).
        from salesforce_sandbox.services.person_accounts import PERSON_FIELDS

        fields |= {f["name"] for f in PERSON_FIELDS}
        person_named = {*spec.person_account.person_targets, *spec.person_account.engine_fields}
        assert set(spec.person_account.person_targets.values()) <= {
            "str::email",
            "str::first",
            "str::last",
            "phn::phone",
            "geo::city",
            "geo::region",
            "geo::country",
            "str::postal",
            "dtz::b",
        }
        assert person_named <= fields
    assert named <= fields, f"{spec.name} names fields it does not have: {sorted(named - fields)}"
    assert len(spec.selected_by_default) <= 50
    for target, sources in spec.coalesce.items():
        assert {spec.builtin_targets[s] for s in sources} == {target}
    shared = {t for t in spec.builtin_targets.values() if list(spec.builtin_targets.values()).count(t) > 1}
    assert shared <= set(spec.coalesce), f"{spec.name}: {shared} fed twice without a stated order"
    assert set(spec.companions) <= set(objects.SPECS)
    if spec.ref_field:
        assert spec.ref_field in spec.engine_fields
    for activity in spec.activities:
        assert activity.id.startswith(("act:" + spec.namespace + ":", "act:sfp:")) and activity.name
        assert all(
            re.fullmatch(r"[a-z]{3}:[a-z]{3}:[a-z-]+", field_id) for field_id, _ in activity.attributes
        )
    if spec.activities:
        assert spec.name in activities.ACTIVITY_HANDLERS
        assert spec.keeps_payload  # activities are differences against the previous payload


def test_every_activity_handler_belongs_to_a_spec_that_lists_its_activities():
    assert set(activities.ACTIVITY_HANDLERS) == {s.name for s in objects.OBJECTS if s.activities}


def test_ranks_and_precedence_are_consistent():
    ranks = [spec.rank for spec in objects.OBJECTS]
    assert len(set(ranks)) == len(ranks)
    # Parents come first: an object's companions are synced after it.
    for spec in objects.OBJECTS:
        for companion in spec.companions:
            assert objects.SPECS[companion].rank > spec.rank
    for entity, names in objects.DEFAULT_PRECEDENCE.items():
        assert len(set(names)) == len(names)
        for name in names:
            spec = objects.SPECS[name]
            assert spec.becomes == entity or (entity == objects.ORGANIZATION and spec.organization_targets)
    order = planning.plan_order(
        [
            type("Obj", (), {"api_name": s.name, "identifier_kind": "automatic", "identifier_config": {}})
            for s in objects.OBJECTS[::-1]
        ]
    )
    assert [o.api_name for o in order] == [s.name for s in sorted(objects.OBJECTS, key=lambda s: s.rank)]


def test_the_mapping_and_the_catalogue_agree_on_every_default_field():
    from integrations.salesforce import catalog

    for name in RECORDED:
        entry = catalog.catalog_object(recorded(f"describe_{name}"))
        for field in entry.fields:
            assert field.cdp_field == target_fields.default_target_field(
                name, field.name, field.type, becomes=entry.kind
            )


def catalogue_table() -> str:
    rows = [
        "| Salesforce | becomes | namespaces | default | order | comes with | what it does |",
        "|---|---|---|---|---|---|---|",
    ]
    words = {"person": "person", "organization": "organization", "activity_source": "activities"}
    for spec in objects.OBJECTS:
        rows.append(
            f"| {spec.name} | {words[spec.becomes]} | `{spec.namespace}` / `{spec.custom_namespace}` | "
            f"{'yes' if spec.default else ''} | {spec.rank} | {', '.join(spec.companions)} | {spec.summary} |"
        )
    return "\n".join(rows)


def test_the_docs_table_is_the_catalogue():
    text = (ROOT / "docs" / "sync.md").read_text()
    table = text.split("<!-- catalogue-table:start -->\n")[1].split("\n<!-- catalogue-table:end -->")[0]
    assert table == catalogue_table(), "regenerate docs/sync.md's table from objects.OBJECTS"
