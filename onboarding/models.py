from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from cdp.models import Workspace
from onboarding.countries import COUNTRIES

HEX_COLOUR = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", "Enter a colour as # followed by six hex digits, e.g. #3b5bdb."
)


class WorkspaceProfile(models.Model):
    """What the onboarding learns about a workspace, and how far its owner got.

    Progress lives here rather than in the session so a user who leaves resumes at the step they
    reached, on any device (STYLE practice 6).
    """

    class BusinessType(models.TextChoices):
        B2B = "b2b", "B2B — I sell to businesses"
        B2C = "b2c", "B2C — I sell to consumers"

    class Crm(models.TextChoices):
        SALESFORCE = "salesforce", "Salesforce"
        OTHER = "other", "Another CRM, or none yet"

    class Font(models.TextChoices):
        SYSTEM = "system", "System (Helvetica, Arial)"
        GEORGIA = "georgia", "Georgia (serif)"
        VERDANA = "verdana", "Verdana"
        TREBUCHET = "trebuchet", "Trebuchet MS"
        COURIER = "courier", "Courier (monospace)"

    class ButtonStyle(models.TextChoices):
        ROUNDED = "rounded", "Rounded"
        SQUARE = "square", "Square"
        PILL = "pill", "Pill"
        OUTLINE = "outline", "Outline"

    class Plan(models.TextChoices):
        FREE = "free", "Free"
        PREMIUM_TRIAL = "premium_trial", "Premium (14-day trial)"

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )

    # Progress: keys of the steps the user has confirmed, and unsaved input kept when they go Back.
    completed_steps = models.JSONField(default=list, blank=True)
    drafts = models.JSONField(default=dict, blank=True)
    current_step = models.CharField(max_length=40, blank=True)
    launched_at = models.DateTimeField(null=True, blank=True)

    business_type = models.CharField(max_length=3, choices=BusinessType.choices, blank=True)
    crm = models.CharField(max_length=20, choices=Crm.choices, blank=True)

    address_line1 = models.CharField("Street address", max_length=200, blank=True)
    address_line2 = models.CharField("Apartment, suite, floor", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("State / region", max_length=100, blank=True)
    postal_code = models.CharField("Postal code", max_length=20, blank=True)
    country = models.CharField(max_length=2, choices=COUNTRIES, blank=True)

    sender_name = models.CharField(max_length=100, blank=True)
    sender_email = models.EmailField(blank=True)
    reply_to = models.EmailField("Reply-to address", blank=True)

    logo = models.ImageField(upload_to="brand-logos/%Y/%m/", blank=True)
    primary_color = models.CharField(max_length=7, default="#3b5bdb", validators=[HEX_COLOUR])
    background_color = models.CharField(max_length=7, default="#f4f5f7", validators=[HEX_COLOUR])
    text_color = models.CharField(max_length=7, default="#212529", validators=[HEX_COLOUR])
    font = models.CharField(max_length=20, choices=Font.choices, default=Font.SYSTEM)
    button_style = models.CharField(max_length=20, choices=ButtonStyle.choices, default=ButtonStyle.ROUNDED)

    website_url = models.URLField("Website", blank=True)
    facebook_url = models.URLField("Facebook", blank=True)
    x_url = models.URLField("X (Twitter)", blank=True)
    linkedin_url = models.URLField("LinkedIn", blank=True)
    instagram_url = models.URLField("Instagram", blank=True)
    youtube_url = models.URLField("YouTube", blank=True)

    plan = models.CharField(max_length=20, choices=Plan.choices, blank=True)
    trial_ends_at = models.DateTimeField(null=True, blank=True)

    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of {self.workspace}"

    @property
    def uses_salesforce(self) -> bool:
        return self.business_type == self.BusinessType.B2B and self.crm == self.Crm.SALESFORCE

    @property
    def has_address(self) -> bool:
        return bool(self.address_line1 and self.city and self.postal_code and self.country)

    @property
    def has_email_setup(self) -> bool:
        return bool(self.sender_name and self.sender_email)

    @property
    def country_name(self) -> str:
        return self.get_country_display() if self.country else ""
