"""Regenerates `recorded.json` from a folder of describes recorded from real orgs (the DIR argument).

The sandbox's schema reuses real field and object describes verbatim wherever a real org was recorded
(CumulusCI cassettes, BSD-3-Clause, Copyright Salesforce.com, Inc.), so the keys, their order and the
per-type values are a real org's, not our guess. Run: `python -m salesforce_sandbox.schema.vendor_recorded DIR`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OBJECTS = ("Account", "Contact", "Lead", "Opportunity", "OpportunityContactRole", "Event", "Custom__c")
GLOBAL_ONLY = ("Campaign", "CampaignMember", "User")


def build(source: Path) -> dict:
    out: dict = {"objects": {}, "global": {}}
    describe_global = json.loads((source / "describeGlobal.json").read_text())
    out["encoding"] = describe_global["encoding"]
    out["maxBatchSize"] = describe_global["maxBatchSize"]
    for entry in describe_global["sobjects"]:
        if entry["name"] in OBJECTS + GLOBAL_ONLY:
            out["global"][entry["name"]] = {k: v for k, v in entry.items() if k != "urls"}
    for name in OBJECTS:
        describe = json.loads((source / f"describe_{name}.json").read_text())
        out["objects"][name] = {
            "object": {
                k: v for k, v in describe.items() if k not in ("fields", "childRelationships", "urls")
            },
            "fields": describe["fields"],
            "childRelationships": describe["childRelationships"],
        }
    return out


if __name__ == "__main__":
    data = build(Path(sys.argv[1]))
    target = Path(__file__).with_name("recorded.json")
    target.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False))
    print(f"wrote {target} ({target.stat().st_size} bytes)")
