"""The schema figures docs/sandbox.md shows, generated from the schema so the page cannot drift.

    python -m salesforce_sandbox.schema.doc_table           # print the table
    python -m salesforce_sandbox.schema.doc_table --write   # rewrite it in docs/sandbox.md

tests/sandbox/test_docs.py fails when the page and the schema disagree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from . import build_schema

START, END = "<!-- schema-table:start -->", "<!-- schema-table:end -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"


def table() -> str:
    lines = [
        "| Object | Key prefix | Fields | Custom fields | Child relationships |",
        "|---|---|---:|---:|---:|",
    ]
    schema = build_schema(())
    for t in sorted(schema, key=lambda t: (t.custom, t.name)):
        custom = sum(1 for f in t.fields if f.get("custom"))
        children = len(schema.child_relationships(t))
        lines.append(f"| {t.name} | `{t.key_prefix}` | {len(t.fields)} | {custom} | {children} |")
    return "\n".join(lines)


def rewrite(text: str) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    return pattern.sub(lambda _: f"{START}\n{table()}\n{END}", text)


if __name__ == "__main__":
    if "--write" in sys.argv:
        DOC.write_text(rewrite(DOC.read_text()))
    else:
        print(table())
