"""The onboarding's workspace steps: validation, resuming, Back, tampered URLs and double submits."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from onboarding.models import WorkspaceProfile
from onboarding.services import profile_update
from tests.onboarding.conftest import ADDRESS, BRAND, EMAIL, LINKS

pytestmark = pytest.mark.django_db


def _profile(workspace) -> WorkspaceProfile:
    return WorkspaceProfile.objects.get(workspace=workspace)


def _errors(response, field: str) -> list[str]:
    return response.context["form"].errors.get(field, [])


def test_start_sends_a_new_workspace_to_about_your_business(owner_client):
    response = owner_client.get("/onboarding/")

    assert response.status_code == 302
    assert response["Location"] == "/onboarding/business/"
    page = owner_client.get("/onboarding/business/")
    assert page.status_code == 200
    assert "About your business" in page.content.decode()
    assert "Step 1 of" in page.content.decode()


def test_business_step_requires_both_answers_and_writes_nothing(owner_client, workspace):
    response = owner_client.post("/onboarding/business/", {"business_type": "b2b"})

    assert response.status_code == 200
    assert _errors(response, "crm") == ["Choose where your customer records live."]
    assert not WorkspaceProfile.objects.filter(workspace=workspace, business_type="b2b").exists()


def test_b2b_on_salesforce_goes_to_connect_to_salesforce(owner_client, workspace):
    response = owner_client.post("/onboarding/business/", {"business_type": "b2b", "crm": "salesforce"})

    assert response["Location"] == "/onboarding/salesforce-connect/"
    assert _profile(workspace).uses_salesforce is True
    page = owner_client.get("/onboarding/salesforce-connect/")
    assert "Connect to Salesforce" in page.content.decode()


def test_b2c_skips_the_salesforce_steps(owner_client, workspace):
    response = owner_client.post("/onboarding/business/", {"business_type": "b2c", "crm": "other"})

    assert response["Location"] == "/onboarding/address/"
    assert owner_client.get("/onboarding/salesforce-fields/")["Location"] == "/onboarding/address/"


def test_address_is_validated_field_by_field_and_keeps_the_rest(owner_client, b2c_workspace):
    response = owner_client.post("/onboarding/address/", {**ADDRESS, "country": "XX", "postal_code": "!!"})

    assert response.status_code == 200
    assert _errors(response, "country") == ["Choose a country from the list."]
    assert _errors(response, "postal_code") == ["Enter a postal code of letters, digits, spaces or dashes."]
    html = response.content.decode()
    assert 'value="1 Market Street"' in html and 'value="San Francisco"' in html
    assert _profile(b2c_workspace).address_line1 == ""


def test_address_saved_then_next_step(owner_client, b2c_workspace):
    response = owner_client.post("/onboarding/address/", {**ADDRESS, "postal_code": "94105 "})

    assert response["Location"] == "/onboarding/email/"
    profile = _profile(b2c_workspace)
    assert (profile.address_line1, profile.city, profile.postal_code, profile.country) == (
        "1 Market Street",
        "San Francisco",
        "94105",
        "US",
    )
    assert profile.country_name == "United States"


def test_country_list_is_the_full_iso_3166_list():
    from onboarding.countries import COUNTRIES, COUNTRY_NAMES

    assert len(COUNTRIES) == 249
    assert COUNTRY_NAMES["DE"] == "Germany"
    assert COUNTRY_NAMES["NZ"] == "New Zealand"


@pytest.fixture
def at_email(owner_client, b2c_workspace):
    owner_client.post("/onboarding/address/", ADDRESS)
    return owner_client


def test_email_setup_rejects_bad_addresses(at_email, b2c_workspace):
    response = at_email.post(
        "/onboarding/email/", {"sender_name": "Acme", "sender_email": "not-an-email", "reply_to": "also@bad"}
    )

    dotted = "Enter a full email address with a dotted domain, e.g. maria@example.com."
    assert _errors(response, "sender_email") == [dotted]
    assert _errors(response, "reply_to") == [dotted]
    assert 'value="Acme"' in response.content.decode()
    assert _profile(b2c_workspace).sender_email == ""


def test_email_setup_refuses_header_injection_in_the_name(at_email, b2c_workspace):
    response = at_email.post("/onboarding/email/", {**EMAIL, "sender_name": "Acme <evil@x.example>"})

    assert _errors(response, "sender_name") == [
        "Use letters, digits and ordinary punctuation (no quotes or < >)."
    ]
    assert _profile(b2c_workspace).sender_name == ""


def test_email_setup_suggests_the_workspace_name_and_user_email(at_email, owner):
    html = at_email.get("/onboarding/email/").content.decode()

    assert 'value="Acme"' in html
    assert f'value="{owner.email}"' in html


@pytest.fixture
def at_brand(at_email):
    at_email.post("/onboarding/email/", EMAIL)
    return at_email


def test_brand_rejects_a_non_image_logo(at_brand, b2c_workspace):
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>not a png</svg>", content_type="image/png")

    response = at_brand.post("/onboarding/brand/", {**BRAND, "logo": fake})

    assert response.status_code == 200
    assert _errors(response, "logo")[0].startswith("Upload a valid image.") or _errors(response, "logo") == [
        "That file is not an image we can read. Upload a PNG, JPEG, GIF or WebP."
    ]
    assert not _profile(b2c_workspace).logo


def test_brand_rejects_a_20_mb_logo(at_brand, b2c_workspace, png_bytes):
    big = png_bytes() + b"\0" * (20 * 1024 * 1024)
    upload = SimpleUploadedFile("logo.png", big, content_type="image/png")

    response = at_brand.post("/onboarding/brand/", {**BRAND, "logo": upload})

    assert _errors(response, "logo") == ["That file is 20.0 MB; the logo can be at most 2 MB."]
    assert not _profile(b2c_workspace).logo
    assert _profile(b2c_workspace).primary_color == "#3b5bdb"


def test_brand_rejects_colours_that_are_not_colours(at_brand, b2c_workspace):
    response = at_brand.post(
        "/onboarding/brand/", {**BRAND, "primary_color": "blue", "text_color": "#12345g"}
    )

    message = "Enter a colour as # followed by six hex digits, e.g. #3b5bdb."
    assert _errors(response, "primary_color") == [message]
    assert _errors(response, "text_color") == [message]
    assert _profile(b2c_workspace).font == "system"


def test_brand_saves_a_real_logo_and_options(at_brand, b2c_workspace, png_bytes):
    upload = SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")

    response = at_brand.post("/onboarding/brand/", {**BRAND, "logo": upload})

    assert response["Location"] == "/onboarding/links/"
    profile = _profile(b2c_workspace)
    assert profile.logo.name.startswith("brand-logos/") and profile.logo.name.endswith(".png")
    assert (profile.primary_color, profile.font, profile.button_style) == ("#ff6600", "georgia", "pill")


def test_brand_preview_uses_the_address_and_sender(at_brand):
    html = at_brand.get("/onboarding/brand/").content.decode()

    assert "Preview of a sample email" in html
    assert "1 Market Street, Suite 400, San Francisco, CA 94105, United States" in html
    assert "Acme Team &lt;hello@acme.example&gt;" in html
    assert "js/onboarding_brand.js" in html


@pytest.fixture
def at_links(at_brand):
    at_brand.post("/onboarding/brand/", BRAND)
    return at_brand


def test_links_reject_bad_urls_and_wrong_networks(at_links, b2c_workspace):
    response = at_links.post(
        "/onboarding/links/",
        {**LINKS, "website_url": "not a url", "facebook_url": "https://evil.example/acme"},
    )

    assert _errors(response, "website_url") == [
        "Enter a full web address starting with https:// or http://, e.g. https://example.com/page."
    ]
    assert _errors(response, "facebook_url") == [
        "That is not a Facebook address: it should be on facebook.com."
    ]
    assert 'value="https://www.linkedin.com/company/acme"' in response.content.decode()
    assert _profile(b2c_workspace).website_url == ""


def test_links_then_plan_then_launch(at_links, b2c_workspace):
    assert at_links.post("/onboarding/links/", LINKS)["Location"] == "/onboarding/plan/"
    page = at_links.get("/onboarding/plan/").content.decode()
    assert "Premium trial" in page and "Up to 10,000 people" in page

    bad = at_links.post("/onboarding/plan/", {"plan": "enterprise"})
    assert _errors(bad, "plan") == ["Choose one of the plans shown."]

    assert at_links.post("/onboarding/plan/", {"plan": "premium_trial"})["Location"] == "/onboarding/launch/"
    profile = _profile(b2c_workspace)
    assert profile.plan == "premium_trial" and profile.trial_ends_at is not None
    trial_end = profile.trial_ends_at

    launch = at_links.get("/onboarding/launch/").content.decode()
    assert "Acme Team &lt;hello@acme.example&gt;" in launch
    assert at_links.post("/onboarding/launch/", {})["Location"] == "/dashboard/"
    profile = _profile(b2c_workspace)
    assert profile.launched_at is not None
    # Choosing the trial again later does not extend it.
    profile_update(workspace=b2c_workspace, data={"plan": "premium_trial"})
    assert _profile(b2c_workspace).trial_ends_at == trial_end
    # "Connect Salesforce" later, after onboarding without it: back to the first answer to change it.
    assert at_links.get("/onboarding/")["Location"] == "/onboarding/business/"
    at_links.post("/onboarding/business/", {"business_type": "b2b", "crm": "salesforce"})
    assert at_links.get("/onboarding/")["Location"] == "/onboarding/salesforce-connect/"


def test_tampered_step_in_the_url_goes_back_to_the_right_step(at_email, b2c_workspace):
    response = at_email.get("/onboarding/plan/")
    assert response["Location"] == "/onboarding/email/"

    post = at_email.post("/onboarding/plan/", {"plan": "free"})
    assert post["Location"] == "/onboarding/email/"
    assert _profile(b2c_workspace).plan == ""
    assert at_email.get("/onboarding/no-such-step/").status_code == 404


def test_resume_on_another_device_lands_on_the_step_reached(at_email, owner, client):
    from django.test import Client

    other_device = Client()
    other_device.force_login(owner)

    assert other_device.get("/onboarding/")["Location"] == "/onboarding/email/"


def test_back_keeps_what_was_entered(at_email, b2c_workspace):
    response = at_email.post(
        "/onboarding/email/", {"sender_name": "Half typed", "sender_email": "nope", "_back": "1"}
    )

    assert response["Location"] == "/onboarding/address/"
    address_page = at_email.get("/onboarding/address/").content.decode()
    assert 'value="1 Market Street"' in address_page
    # The unsaved, even invalid, input is shown again when they come forward.
    email_page = at_email.get("/onboarding/email/").content.decode()
    assert 'value="Half typed"' in email_page and 'value="nope"' in email_page
    assert _profile(b2c_workspace).sender_name == ""


def test_double_submit_creates_one_profile_and_one_completion(at_email, b2c_workspace):
    first = at_email.post("/onboarding/email/", EMAIL)
    second = at_email.post("/onboarding/email/", EMAIL)

    assert first["Location"] == second["Location"] == "/onboarding/brand/"
    assert WorkspaceProfile.objects.filter(workspace=b2c_workspace).count() == 1
    assert _profile(b2c_workspace).completed_steps.count("email") == 1


def test_step_indicator_marks_done_current_and_locked_steps(at_email):
    html = at_email.get("/onboarding/email/").content.decode()

    assert 'href="/onboarding/address/"' in html  # done: a link back
    assert 'aria-current="step"' in html
    assert 'href="/onboarding/plan/"' not in html  # not reached: no link


def test_onboarding_requires_login(client):
    response = client.get("/onboarding/business/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_settings_reuse_the_forms(owner_client, workspace):
    response = owner_client.post("/settings/address/", {**ADDRESS, "country": "ZZ"})
    assert _errors(response, "country") == ["Choose a country from the list."]

    response = owner_client.post("/settings/address/", {**ADDRESS, "country": "NZ", "city": "Wellington"})
    assert response["Location"] == "/settings/address/"
    assert _profile(workspace).country == "NZ"
    page = owner_client.get("/settings/").content.decode()
    assert "Business address" in page and 'value="Wellington"' in page
    assert owner_client.get("/settings/brand/").status_code == 200
    assert owner_client.get("/settings/nope/").status_code == 404


def test_each_workspace_sees_only_its_own_profile(owner_client, make_workspace, make_user):
    other = make_workspace(name="Other Co")
    profile_update(workspace=other, data={"city": "Secret City"})

    assert "Secret City" not in owner_client.get("/settings/address/").content.decode()


def test_a_logo_with_a_misleading_name_is_stored_under_its_real_type_and_served(
    at_brand, b2c_workspace, png_bytes, client, media_root
):
    upload = SimpleUploadedFile("logo.jpg", png_bytes(), content_type="image/jpeg")  # a PNG named .jpg

    at_brand.post("/onboarding/brand/", {**BRAND, "logo": upload})

    logo = _profile(b2c_workspace).logo
    assert logo.name.startswith("brand-logos/") and logo.name.endswith(".png")
    assert "logo" not in logo.name.rsplit("/", 1)[-1]  # a random name, not the uploaded one
    served = client.get(logo.url)  # anonymous: a logo goes into emails
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png_bytes()
    assert "sandbox" in served["Content-Security-Policy"]
    # Anything else under MEDIA_ROOT is never public by its address.
    (media_root / "private.txt").write_text("secret")
    assert client.get("/media/private.txt").status_code == 404
    assert client.get("/media/brand-logos/../private.txt").status_code == 404


def test_the_settings_page_shows_the_current_logo_and_can_remove_it(at_brand, b2c_workspace, png_bytes):
    at_brand.post(
        "/onboarding/brand/",
        {**BRAND, "logo": SimpleUploadedFile("l.png", png_bytes(), content_type="image/png")},
    )
    html = at_brand.get("/settings/brand/").content.decode()
    assert 'alt="Your current logo"' in html and "Currently:" not in html and "Remove the logo" in html

    at_brand.post("/settings/brand/", {**BRAND, "remove_logo": "1"})

    assert not _profile(b2c_workspace).logo


def test_emails_need_a_dotted_domain(at_email):
    bad = at_email.post("/onboarding/email/", {**EMAIL, "sender_email": "maria@localhost"})
    assert _errors(bad, "sender_email") == [
        "Enter a full email address with a dotted domain, e.g. maria@example.com."
    ]


def test_links_must_be_web_addresses(at_links):
    bad = at_links.post("/onboarding/links/", {**LINKS, "website_url": "ftp://files.acme.example/"})
    assert _errors(bad, "website_url") == [
        "Enter a full web address starting with https:// or http://, e.g. https://example.com/page."
    ]
