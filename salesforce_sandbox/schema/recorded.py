"""Access to the vendored real describes (see vendor_recorded.py)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path


@cache
def recorded() -> dict:
    return json.loads(Path(__file__).with_name("recorded.json").read_text())


def recorded_object(name: str) -> dict:
    return recorded()["objects"][name]


def recorded_field(obj: str, name: str) -> dict:
    for field in recorded_object(obj)["fields"]:
        if field["name"] == name:
            return copy.deepcopy(field)
    raise KeyError(f"{obj}.{name} is not in the recorded describes")


def recorded_global(name: str) -> dict | None:
    entry = recorded()["global"].get(name)
    return copy.deepcopy(entry) if entry else None
