"""Every page a marketer opens after the onboarding, checked as they would read it: no internal ids,
the same numbers everywhere, axe-core (served from static/, never a CDN) with no critical or serious
violation, no sideways scroll on a 390 px phone, and a screenshot at 1280 and 390 px of each."""

from __future__ import annotations

import re

from tests.browser import screenshot_dir

AXE = "/static/vendor/axe-core/axe.min.js"
# Internal ids a person must never read: field ids, the engine's source string, Salesforce record ids.
FORBIDDEN = [
    re.compile(r"\b(?:str|bol|cur|dtz|tme|int|dec|lnk|phn|sst):[a-z]*:[a-z]"),
    re.compile(r"\bsalesforce:\d+\b"),
    re.compile(r"\bNamespace [a-z]+\b"),
    # 15/18-character Salesforce ids: a key prefix (003 Contact, 00Q Lead, 001 Account, 006, 005 User, 701,
    # custom a0…) and at least one more digit.
    re.compile(
        r"\b(?:00[0-9A-Za-z]|701|a0[0-9A-Za-z])(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?\b"
    ),
]


def _axe(page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE)
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'critical' || v.impact === 'serious')
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 4).map(n => n.target.join(' '))}))"""
    )


def _visible_text(page) -> str:
    return page.locator("body").inner_text()


def _int(text: str) -> int:
    return int(text.replace(",", "").strip())


def check_every_page(page, base: str, connection) -> None:
    from cdp.models import CustomObject, Organization, Person

    source = f"/sources/salesforce/{connection.pk}"
    person = Person.objects.filter(archived_at__isnull=True).exclude(activities=None).order_by("pk").first()
    archived = Person.objects.filter(archived_at__isnull=False).order_by("pk").first()
    organization = Organization.objects.filter(archived_at__isnull=True).exclude(people=None).first()
    custom_object = CustomObject.objects.order_by("pk").first()
    pages = [
        ("home", "/dashboard/", True),
        ("people", "/people/", True),
        ("people-archived", "/people/?status=archived", True),
        ("person", f"/people/{person.pk}/", True),
        ("organizations", "/organizations/", True),
        ("organization", f"/organizations/{organization.pk}/", True),
        ("activities", "/activities/", True),
        ("objects", "/objects/", True),
        ("fields", "/fields/", False),  # the catalogue page shows field ids on purpose
        ("data-sources", "/sources/", True),
        ("source-overview", f"{source}/", True),
        ("source-fields", f"{source}/fields/", False),  # the picker names Salesforce's API names
        ("source-permissions", f"{source}/permissions/", False),
        ("source-custom-objects", f"{source}/custom-objects/", False),
        ("source-identifiers", f"{source}/identifiers/", False),
        ("source-merge", f"{source}/merge/", True),
        ("source-selective-sync", f"{source}/filters/", False),  # the field lists name Salesforce's API names
        ("source-schedule", f"{source}/schedule/", True),
        ("source-data-retention", f"{source}/retention/", True),
        ("sync-health", f"{source}/health/", True),
        ("settings", "/settings/", True),
    ]
    if archived is not None:
        pages.append(("person-archived", f"/people/{archived.pk}/", True))
    if custom_object is not None:
        pages.append(("custom-object-records", f"/objects/{custom_object.pk}/", True))
    assert len(pages) >= 15

    problems: list[str] = []
    for name, path, plain in pages:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        text = _visible_text(page)
        if plain:
            for pattern in FORBIDDEN:
                found = pattern.search(text)
                if found:
                    problems.append(f"{name}: shows {found.group(0)!r}")
        for violation in _axe(page):
            problems.append(f"{name}: axe {violation['impact']} {violation['id']} at {violation['nodes']}")
        page.screenshot(path=str(screenshot_dir() / f"page-{name}-1280.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(100)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 390:
            problems.append(f"{name}: {width} px wide on a 390 px phone")
        page.screenshot(path=str(screenshot_dir() / f"page-{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert problems == [], "\n".join(problems)

    # One set of numbers: the home page, the source's Overview and People agree.
    page.goto(base + "/dashboard/")
    home_people = _int(page.locator('[data-count="people"]').inner_text())
    home_orgs = _int(page.locator('[data-count="organizations"]').inner_text())
    page.goto(base + f"{source}/")
    assert _int(page.locator('[data-stat="people"]').inner_text()) == home_people
    assert _int(page.locator('[data-stat="organizations"]').inner_text()) == home_orgs
    page.goto(base + "/people/")
    assert _int(page.locator('[data-count="people"]').inner_text()) == home_people
    assert home_people == Person.objects.filter(archived_at__isnull=True).count() > 0
    # The run table's error counts agree with the open errors Sync health lists.
    page.goto(base + f"{source}/health/")
    from integrations.models import SyncError

    open_errors = SyncError.objects.filter(connection=connection, resolved=False).count()
    assert _int(page.locator("[data-open-errors]").inner_text()) == open_errors
