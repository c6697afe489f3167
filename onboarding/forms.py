"""Forms for the workspace steps of the onboarding; the Settings pages reuse them unchanged.

The Salesforce steps' forms live in `onboarding/salesforce_forms.py`.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from PIL import Image, UnidentifiedImageError

from cdp.forms import DOTTED_EMAIL
from onboarding.countries import COUNTRIES
from onboarding.models import HEX_COLOUR, WorkspaceProfile
from onboarding.plans import PLANS

LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS = 4000
# SVG is refused on purpose: it can carry script, and mail clients render it inconsistently.
LOGO_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "GIF", "WEBP": "WebP"}
LOGO_EXTENSIONS = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif", "WEBP": "webp"}

POSTAL_CODE = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,11}$", "Enter a postal code of letters, digits, spaces or dashes."
)


class BusinessForm(forms.Form):
    business_type = forms.ChoiceField(
        label="Who are your customers?",
        choices=WorkspaceProfile.BusinessType.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who your customers are."},
    )
    crm = forms.ChoiceField(
        label="Where do your customer records live?",
        choices=WorkspaceProfile.Crm.choices,
        widget=forms.RadioSelect,
        help_text="Pick Salesforce to bring your contacts, leads, accounts and opportunities into Inflow.",
        error_messages={"required": "Choose where your customer records live."},
    )


class AddressForm(forms.ModelForm):
    country = forms.ChoiceField(
        choices=[("", "Choose a country…"), *COUNTRIES],
        error_messages={
            "required": "Choose the country your business is in.",
            "invalid_choice": "Choose a country from the list.",
        },
    )

    class Meta:
        model = WorkspaceProfile
        fields = ["address_line1", "address_line2", "city", "region", "postal_code", "country"]
        help_texts = {
            "address_line1": "Anti-spam laws require a physical address in the footer of marketing email.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, message in (
            ("address_line1", "Enter the street address of your business."),
            ("city", "Enter the city."),
            ("postal_code", "Enter the postal code."),
        ):
            self.fields[name].required = True
            self.fields[name].error_messages["required"] = message
        self.fields["postal_code"].validators.append(POSTAL_CODE)
        self.fields["address_line1"].widget.attrs["autocomplete"] = "address-line1"
        self.fields["address_line2"].widget.attrs["autocomplete"] = "address-line2"
        self.fields["city"].widget.attrs["autocomplete"] = "address-level2"
        self.fields["region"].widget.attrs["autocomplete"] = "address-level1"
        self.fields["postal_code"].widget.attrs["autocomplete"] = "postal-code"
        self.fields["country"].widget.attrs["autocomplete"] = "country"

    def clean_postal_code(self) -> str:
        return self.cleaned_data["postal_code"].strip().upper()


WEB_URL = URLValidator(
    schemes=["http", "https"], message="Enter a web address starting with http:// or https://."
)


class EmailSetupForm(forms.ModelForm):
    class Meta:
        model = WorkspaceProfile
        fields = ["sender_name", "sender_email", "reply_to"]
        labels = {"sender_name": "Sender name", "sender_email": "Sender email"}
        help_texts = {
            "sender_name": "Who your email comes from, e.g. your company or a person's name.",
            "sender_email": "The From address. Use an address on a domain you own.",
            "reply_to": "Where replies go. Leave blank to use the sender email.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sender_name"].required = True
        self.fields["sender_name"].error_messages["required"] = "Enter the name your email comes from."
        self.fields["sender_email"].required = True
        self.fields["sender_email"].error_messages["required"] = "Enter the address your email comes from."
        self.fields["sender_email"].widget.attrs["autocomplete"] = "email"
        for name in ("sender_email", "reply_to"):
            self.fields[name].validators = [DOTTED_EMAIL]
            self.fields[name].error_messages["invalid"] = DOTTED_EMAIL.message

    def clean_sender_name(self) -> str:
        name = self.cleaned_data["sender_name"].strip()
        # A newline or angle bracket in a display name can inject headers or break the From line.
        if any(ch in name for ch in '<>\r\n"') or not any(ch.isalnum() for ch in name):
            raise ValidationError("Use letters, digits and ordinary punctuation (no quotes or < >).")
        return name


class ColourInput(forms.TextInput):
    input_type = "color"


class BrandForm(forms.ModelForm):
    class Meta:
        model = WorkspaceProfile
        fields = ["logo", "primary_color", "background_color", "text_color", "font", "button_style"]
        labels = {
            "primary_color": "Buttons & links",
            "background_color": "Background",
            "text_color": "Text",
        }
        widgets = {
            "primary_color": ColourInput(attrs={"class": "form-control form-control-color"}),
            "background_color": ColourInput(attrs={"class": "form-control form-control-color"}),
            "text_color": ColourInput(attrs={"class": "form-control form-control-color"}),
            # A plain file input: the current logo is shown as an image beside it, with its own remove box.
            "logo": forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
        }
        help_texts = {"logo": "PNG, JPEG, GIF or WebP, at most 2 MB. Shown at the top of every email."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("primary_color", "background_color", "text_color"):
            self.fields[name].validators = [HEX_COLOUR]
            self.fields[name].error_messages["invalid"] = HEX_COLOUR.message

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if not logo or not hasattr(logo, "content_type"):
            return logo  # unchanged or cleared
        if logo.size > LOGO_MAX_BYTES:
            raise ValidationError(
                f"That file is {logo.size / 1024 / 1024:.1f} MB; the logo can be at most 2 MB.",
                code="too_big",
            )
        logo.seek(0)
        try:
            with Image.open(logo) as image:
                image_format = image.format
                width, height = image.size
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ValidationError("That file is not an image we can read. Upload a PNG, JPEG, GIF or WebP.")
        finally:
            logo.seek(0)
        if image_format not in LOGO_FORMATS:
            raise ValidationError("Upload a PNG, JPEG, GIF or WebP image.")
        if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
            raise ValidationError(f"The logo can be at most {LOGO_MAX_PIXELS} pixels wide and high.")
        # Stored under its real type (a PNG named logo.jpg is saved as .png, and served as a PNG) and a
        # random name, so a logo's address cannot be guessed from the file the user uploaded.
        logo.name = f"{secrets.token_urlsafe(18)}.{LOGO_EXTENSIONS[image_format]}"
        logo.content_type = f"image/{LOGO_EXTENSIONS[image_format]}"
        return logo

    def clean(self):
        data = super().clean()
        # "Remove the logo" without a new file clears it; a new file wins over the box.
        if self.data.get("remove_logo") and not self.files.get("logo") and "logo" in data:
            data["logo"] = False
        background, text = data.get("background_color"), data.get("text_color")
        if background and text and background.lower() == text.lower():
            self.add_error(
                "text_color", "Pick a text colour that differs from the background, or nobody can read it."
            )
        return data


SOCIAL_HOSTS = {
    "facebook_url": ("facebook.com", "fb.com"),
    "x_url": ("x.com", "twitter.com"),
    "linkedin_url": ("linkedin.com",),
    "instagram_url": ("instagram.com",),
    "youtube_url": ("youtube.com", "youtu.be"),
}


class HttpsURLField(forms.URLField):
    """A web address: http(s) only (Django's URLField also takes ftp://)."""

    default_validators = [WEB_URL]

    def __init__(self, **kwargs):
        kwargs["assume_scheme"] = "https"
        super().__init__(**kwargs)


LINK_FIELDS = ["website_url", "facebook_url", "x_url", "linkedin_url", "instagram_url", "youtube_url"]


class LinksForm(forms.ModelForm):
    class Meta:
        model = WorkspaceProfile
        fields = LINK_FIELDS
        field_classes = dict.fromkeys(LINK_FIELDS, HttpsURLField)
        help_texts = {"website_url": "Linked from the logo and footer of your email."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["website_url"].required = True
        for name, field in self.fields.items():
            field.widget = forms.URLInput(attrs={"placeholder": _placeholder(name), "inputmode": "url"})
            field.error_messages["invalid"] = (
                "Enter a full web address starting with https:// or http://, e.g. https://example.com/page."
            )

    def clean(self):
        data = super().clean()
        for name, hosts in SOCIAL_HOSTS.items():
            url = data.get(name)
            if not url:
                continue
            host = (urlsplit(url).hostname or "").lower()
            if not any(host == h or host.endswith("." + h) for h in hosts):
                label = self.fields[name].label
                self.add_error(name, f"That is not a {label} address: it should be on {hosts[0]}.")
        return data


def _placeholder(name: str) -> str:
    return {
        "website_url": "https://www.example.com",
        "facebook_url": "https://facebook.com/yourpage",
        "x_url": "https://x.com/yourhandle",
        "linkedin_url": "https://www.linkedin.com/company/yourcompany",
        "instagram_url": "https://instagram.com/yourhandle",
        "youtube_url": "https://youtube.com/@yourchannel",
    }[name]


class PlanForm(forms.Form):
    plan = forms.ChoiceField(
        label="Choose a plan",
        choices=[(plan.key, plan.name) for plan in PLANS],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a plan to continue.",
            "invalid_choice": "Choose one of the plans shown.",
        },
    )


class LaunchForm(forms.Form):
    """Nothing to fill in: the button confirms."""
