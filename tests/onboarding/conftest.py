from __future__ import annotations

import io

import pytest
from PIL import Image

from onboarding.services import profile_update


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def png_bytes():
    def make(*, size=(64, 32), colour=(59, 91, 219), image_format="PNG") -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", size, colour).save(buffer, format=image_format)
        return buffer.getvalue()

    return make


@pytest.fixture
def b2c_workspace(workspace):
    """A workspace past "About your business" on the path without Salesforce."""
    profile_update(workspace=workspace, data={"business_type": "b2c", "crm": "other"})
    return workspace


ADDRESS = {
    "address_line1": "1 Market Street",
    "address_line2": "Suite 400",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
}
EMAIL = {"sender_name": "Acme Team", "sender_email": "hello@acme.example", "reply_to": "support@acme.example"}
BRAND = {
    "primary_color": "#ff6600",
    "background_color": "#ffffff",
    "text_color": "#111111",
    "font": "georgia",
    "button_style": "pill",
}
LINKS = {
    "website_url": "https://acme.example",
    "facebook_url": "https://facebook.com/acme",
    "x_url": "",
    "linkedin_url": "https://www.linkedin.com/company/acme",
    "instagram_url": "",
    "youtube_url": "",
}
