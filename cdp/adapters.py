"""allauth's account adapter: Inflow's rules on sign-up input, and where a new user lands."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError
from django.urls import reverse

from cdp.forms import DOTTED_EMAIL


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        try:
            DOTTED_EMAIL(email)
        except ValidationError as error:
            raise ValidationError(DOTTED_EMAIL.message, code="invalid") from error
        return email

    def get_signup_redirect_url(self, request) -> str:
        # A new workspace has nothing to show yet: the onboarding is where a new user starts.
        return reverse("onboarding:start")
