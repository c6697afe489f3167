"""The order a run syncs its objects in: parents before the records that point at them.

Account before Contact (Contact.AccountId links the person to its organization); Contact and Lead before
everything that reaches people (OpportunityContactRole, CampaignMember, Task, custom objects); Campaign
before CampaignMember (its name goes on the activity); Opportunity before OpportunityContactRole; a custom
object after its parent in an identifier chain, and after a junction it is reached through.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

# Rank of the standard objects; custom objects come after all of them, then ordered by their own chains.
STANDARD_RANK = {
    "Account": 0,
    "Contact": 1,
    "Lead": 2,
    "Campaign": 3,
    "Opportunity": 4,
    "OpportunityContactRole": 5,
    "CampaignMember": 6,
    "Task": 7,
}


def _dependencies(obj: Any, names: set[str]) -> set[str]:
    """Objects `obj` must come after, among the selected `names`."""
    deps: set[str] = set()
    name = obj.api_name
    rank = STANDARD_RANK.get(name)
    if rank is not None:
        deps |= {other for other, r in STANDARD_RANK.items() if r < rank and other in names}
    else:
        deps |= {other for other in STANDARD_RANK if other in names}
    config = obj.identifier_config or {}
    if obj.identifier_kind == "parent" and config.get("parent_object") in names:
        deps.add(config["parent_object"])
    if obj.identifier_kind == "junction" and config.get("junction_object") in names:
        deps.add(config["junction_object"])
    deps.discard(name)
    return deps


def plan_order(objects: Iterable[Any]) -> list[Any]:
    """Topological order (stable: standard rank, then API name). A cycle, which the identifier-rule service
    refuses, would fall back to the stable order rather than dropping objects."""
    objs = sorted(objects, key=lambda o: (STANDARD_RANK.get(o.api_name, 100), o.api_name))
    names = {o.api_name for o in objs}
    deps = {o.api_name: _dependencies(o, names) for o in objs}
    ordered: list[Any] = []
    done: set[str] = set()
    remaining = list(objs)
    while remaining:
        progressed = False
        for obj in list(remaining):
            if deps[obj.api_name] <= done:
                ordered.append(obj)
                done.add(obj.api_name)
                remaining.remove(obj)
                progressed = True
                break
        if not progressed:  # a cycle: keep the stable order for what is left
            ordered.extend(remaining)
            break
    return ordered


def parent_chain(objects: Sequence[Any], start: Any) -> list[Any]:
    """[start, parent, grandparent, ...] following `parent` identifier rules among `objects`."""
    by_name = {o.api_name: o for o in objects}
    chain = [start]
    seen = {start.api_name}
    current = start
    while current.identifier_kind == "parent":
        parent = by_name.get((current.identifier_config or {}).get("parent_object", ""))
        if parent is None or parent.api_name in seen:
            break
        chain.append(parent)
        seen.add(parent.api_name)
        current = parent
    return chain
