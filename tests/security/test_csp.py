"""Finding 8: no Content-Security-Policy. Every page now carries a strict one (no inline script or style),
and no page has an inline script, style element or style attribute for it to refuse. (The browser tests
check the same in Chromium: tests/browser.py fails a test whose page logged a refusal.)"""

from __future__ import annotations

import re

import pytest

from tests.cdp.test_pages import data  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle=", re.I),
    re.compile(r"\son[a-z]+=", re.I),
    re.compile(r"javascript:", re.I),
]


def test_every_page_sends_a_strict_policy(client, owner_client, data):  # noqa: F811
    for url in ["/", "/accounts/login/", "/dashboard/", "/people/", "/sources/"]:
        policy = owner_client.get(url)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["default-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in policy


def test_the_pages_hold_no_inline_script_or_style(owner_client, data):  # noqa: F811
    ada = data["ada"]
    urls = [
        "/dashboard/",
        "/people/",
        f"/people/{ada.pk}/",
        f"/organizations/{data['org_id']}/",
        "/organizations/",
        "/activities/",
        "/objects/",
        f"/objects/{data['subscription'].pk}/",
        "/fields/",
        "/sources/",
        "/settings/",
        "/onboarding/",
    ]
    found = []
    for url in urls:
        response = owner_client.get(url, follow=True)
        assert response.status_code == 200, url
        html = response.content.decode()
        found += [f"{url}: {m.group(0)}" for pattern in INLINE for m in pattern.finditer(html)]
    assert found == []


def test_no_template_holds_inline_script_or_style():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = []
    for template in sorted((root / "templates").rglob("*.html")):
        text = template.read_text()
        found += [f"{template.relative_to(root)}: {m.group(0)}" for p in INLINE for m in p.finditer(text)]
    assert found == []


def test_an_uploaded_file_keeps_its_own_sandboxed_policy(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "brand-logos").mkdir()
    (tmp_path / "brand-logos" / "x.png").write_bytes(b"\x89PNG\r\n")
    assert client.get("/media/brand-logos/x.png")["Content-Security-Policy"] == "default-src 'none'; sandbox"
