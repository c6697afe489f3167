"""Every list, search and filter parameter (and every id in a path) under hostile values: a page or a
404, never a server error. Finding 3: `q=U+10FFFF` on People and `until=9999-12-31` on Activities were 500s.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.cdp.test_pages import data  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

# Values a signed-in user can put in a URL, as they arrive after percent-decoding.
HOSTILE = [
    "",
    " ",
    "a",
    "Ada",
    "%",
    "_",
    "\\",
    "'",
    '"',
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\x00",
    "a\x00b",
    "\r\n",
    "\U0010ffff",
    "a\U0010ffff",
    "\U0010ffff\U0010ffff",
    "\ud7ff",
    "\ufffd",
    "\U0001f600",
    "x" * 5000,
    "-1",
    "0",
    "1",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "9999-12-31",
    "0001-01-01",
    "0000-00-00",
    "2026-02-30",
    "10000-01-01",
    "../../etc/passwd",
    "archived",
    "subscribed",
    "act:sfp:opportunity-won",
]
# Raw query strings whose bytes are not UTF-8 (the server decodes them with replacement characters).
RAW = ["%FF", "%F4%8F%BF%BF", "%ED%A0%80", "%C0%AF", "%00", "%25%00"]

# Page: its parameters. `{org}`, `{obj}` and `{conn}` are real ids of the signed-in user's workspace.
PAGES = {
    "/people/": ["q", "source", "permission", "status", "organization", "after"],
    "/organizations/": ["q", "status", "after"],
    "/organizations/{org}/": ["after"],
    "/activities/": ["type", "since", "until", "after"],
    "/objects/{obj}/": ["after"],
    "/sources/salesforce/{conn}/health/": ["type", "page"],
    "/sources/salesforce/connect/": ["login", "domain", "next"],
    "/integrations/salesforce/callback/": ["code", "state", "error", "error_description"],
}
# Paths whose id is hostile: only integers reach the view (the URL converter), so only huge ones.
ID_PATHS = [
    "/people/{id}/",
    "/organizations/{id}/",
    "/objects/{id}/",
    "/sources/salesforce/{id}/",
    "/sources/salesforce/{id}/health/",
    "/sources/salesforce/{id}/progress.json",
    "/sources/salesforce/{id}/authorization/",
]
HUGE_IDS = ["0", "2147483648", "9223372036854775808", "9" * 30]

CASES = [(page, param, value) for page, params in PAGES.items() for param in params for value in HOSTILE]
RAW_CASES = [(page, param, raw) for page, params in PAGES.items() for param in params for raw in RAW]
ID_CASES = [(path, value) for path in ID_PATHS for value in HUGE_IDS]
# Also per page: every parameter at once for each value, and each parameter given twice.
CASE_COUNT = (
    len(CASES)
    + len(RAW_CASES)
    + len(ID_CASES)
    + len(PAGES) * len(HOSTILE)
    + sum(len(params) for params in PAGES.values())
)


@pytest.fixture
def ids(data, workspace):  # noqa: F811 - the imported fixture
    from integrations.models import Connection

    conn = Connection(
        workspace=workspace,
        org_id="00D000000000001AAA",
        sf_user_id="005000000000001AAA",
        username="admin@acme.example",
        instance_url="https://acme.my.salesforce.com",
        login_url="https://login.salesforce.com",
        api_version="62.0",
    )
    conn.set_tokens(access_token="access-token", refresh_token="refresh-token")
    conn.save()
    return {"org": data["org_id"], "obj": data["subscription"].pk, "conn": conn.pk}


def _failures(client, urls) -> list[str]:
    failures = []
    for url in urls:
        try:
            response = client.get(url)
        except Exception as error:  # noqa: BLE001 - every failure is reported, not just the first
            failures.append(f"{url[:120]!r}: {type(error).__name__}: {str(error)[:120]}")
            continue
        if response.status_code >= 500:
            failures.append(f"{url[:120]!r}: {response.status_code}")
    return failures


@pytest.mark.parametrize("page", list(PAGES))
def test_hostile_parameter_values_never_fail_a_page(owner_client, ids, page):
    path = page.format(**ids)
    urls = [f"{path}?{param}={quote(value, safe='')}" for p, param, value in CASES if p == page]
    urls += [f"{path}?{param}={raw}" for p, param, raw in RAW_CASES if p == page]
    # Every parameter at once, and each twice.
    urls += [
        f"{path}?" + "&".join(f"{param}={quote(value, safe='')}" for param in PAGES[page])
        for value in HOSTILE
    ]
    urls += [f"{path}?{param}=a&{param}=%F4%8F%BF%BF" for param in PAGES[page]]
    assert _failures(owner_client, urls) == []


def test_hostile_ids_in_paths_are_not_found(owner_client, ids):
    urls = [path.format(id=value) for path, value in ID_CASES]
    assert _failures(owner_client, urls) == []


def test_the_two_reported_urls_show_their_pages(owner_client, ids):
    people = owner_client.get("/people/?q=%F4%8F%BF%BF")
    assert people.status_code == 200
    assert "No people match these filters" in people.content.decode()
    activities = owner_client.get("/activities/?until=9999-12-31")
    assert activities.status_code == 200
    assert "Opportunity won" in activities.content.decode()


def test_case_count():
    """The figure the docs quote; a shrinking list would be a weaker test."""
    assert CASE_COUNT >= 500, CASE_COUNT
