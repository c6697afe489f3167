"""Workspace Settings reuse the onboarding's steps (same form, same service), one section per step."""

from __future__ import annotations

from dataclasses import dataclass

from onboarding.steps import STEPS_BY_KEY, Step


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    step_key: str

    @property
    def step(self) -> Step:
        return STEPS_BY_KEY[self.step_key]


SECTIONS: tuple[Section, ...] = (
    Section("address", "Business address", "address"),
    Section("email", "Email setup", "email"),
    Section("brand", "Brand", "brand"),
    Section("links", "Links and social", "links"),
    Section("plan", "Plan", "plan"),
)
SECTIONS_BY_KEY = {section.key: section for section in SECTIONS}
