"""docs/sandbox.md states figures of the schema: they are generated from it and checked here."""

from __future__ import annotations

import re

from salesforce_sandbox.schema import build_schema
from salesforce_sandbox.schema.doc_table import DOC, rewrite


def test_the_schema_table_in_the_doc_is_the_schema():
    text = DOC.read_text()
    assert rewrite(text) == text, "run: python -m salesforce_sandbox.schema.doc_table --write"


def test_every_field_count_the_doc_states_is_the_schemas():
    text = DOC.read_text()
    schema = build_schema(())
    stated = re.findall(r"\b([A-Z][A-Za-z_]+) has (\d+) fields", text)
    assert stated, "the doc states no field count"
    for name, count in stated:
        assert len(schema.get(name).fields) == int(count), f"{name} has {len(schema.get(name).fields)} fields"
