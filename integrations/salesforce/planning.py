"""The order a run syncs its objects in: parents before the records that point at them.

Account before Contact (Contact.AccountId links the person to its organization); Contact and Lead before
everything that reaches people (OpportunityContactRole, CampaignMember, Task, custom objects); Campaign
before CampaignMember (its name goes on the activity); Opportunity before OpportunityContactRole; a custom
object after its parent in an identifier chain, and after a junction it is reached through.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from integrations.salesforce import objects

# Custom objects come after every standard object, then in the order of their own chains.
CUSTOM_RANK = 100


def _dependencies(obj: Any, names: set[str]) -> set[str]:
    """Objects `obj` must come after, among the selected `names`."""
    deps: set[str] = set()
    name = obj.api_name
    rank = objects.rank_for(name)
    if rank is not None:
        deps |= {other for other in names if (r := objects.rank_for(other)) is not None and r < rank}
    else:
        deps |= {other for other in names if objects.rank_for(other) is not None}
    config = obj.identifier_config or {}
    if obj.identifier_kind == "parent" and config.get("parent_object") in names:
        deps.add(config["parent_object"])
    if obj.identifier_kind == "junction" and config.get("junction_object") in names:
        deps.add(config["junction_object"])
    deps.discard(name)
    return deps


def _rank(name: str) -> int:
    rank = objects.rank_for(name)
    return CUSTOM_RANK if rank is None else rank


def plan_order(items: Iterable[Any]) -> list[Any]:
    """Topological order (stable: standard rank, then API name). A cycle, which the identifier-rule service
    refuses, would fall back to the stable order rather than dropping objects."""
    objs = sorted(items, key=lambda o: (_rank(o.api_name), o.api_name))
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
