"""Forms of the Salesforce connection pages: the login-host choice and the OAuth callback's input."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlsplit

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings

from integrations.models import Connection
from integrations.salesforce import oauth
from integrations.salesforce.errors import SalesforceOAuthError

LOGIN_HOSTS = {
    Connection.LoginKind.PRODUCTION: oauth.PRODUCTION_LOGIN_URL,
    Connection.LoginKind.SANDBOX: oauth.SANDBOX_LOGIN_URL,
}


# The form's choice for the local sandbox org; the connection records it as a login host of its own
# (login_kind "my_domain" with the sandbox's URL), so nothing else needs to know the choice.
LOCAL = "local"
LOGIN_KIND_CHOICES = [
    (Connection.LoginKind.PRODUCTION, "Production (login.salesforce.com)"),
    (Connection.LoginKind.SANDBOX, "Sandbox (test.salesforce.com)"),
    (Connection.LoginKind.MY_DOMAIN, "My Domain (your own login URL)"),
]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def local_login_url() -> str:
    """SALESFORCE_DEFAULT_LOGIN_URL when it is a local sandbox org on this machine named in
    SALESFORCE_LOCAL_ORIGINS (development), else ""."""
    default = (settings.SALESFORCE_DEFAULT_LOGIN_URL or "").rstrip("/")
    host = urlsplit(default).hostname or ""
    return default if default and host in LOCAL_HOSTS and oauth.local_origin_allowed(default) else ""


def default_login_choice() -> dict[str, str]:
    """Initial values from SALESFORCE_DEFAULT_LOGIN_URL (the local sandbox org in development)."""
    if local_login_url():
        return {"login_kind": LOCAL, "my_domain_url": ""}
    default = (settings.SALESFORCE_DEFAULT_LOGIN_URL or oauth.PRODUCTION_LOGIN_URL).rstrip("/")
    for kind, url in LOGIN_HOSTS.items():
        if default == url:
            return {"login_kind": kind, "my_domain_url": ""}
    return {"login_kind": Connection.LoginKind.MY_DOMAIN, "my_domain_url": default}


class ConnectForm(forms.Form):
    login_kind = forms.ChoiceField(
        label="Salesforce environment",
        choices=LOGIN_KIND_CHOICES,
        widget=forms.RadioSelect,
    )
    my_domain_url = forms.CharField(
        label="My Domain URL",
        required=False,
        max_length=255,
        help_text="For example https://yourcompany.my.salesforce.com — only used with “My Domain”.",
        widget=forms.TextInput(
            attrs={"placeholder": "https://yourcompany.my.salesforce.com", "inputmode": "url"}
        ),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)

    def __init__(self, *args, submit_label: str = "Continue to Salesforce", **kwargs):
        super().__init__(*args, **kwargs)
        local = local_login_url()
        if local:
            cast(forms.ChoiceField, self.fields["login_kind"]).choices = [
                (LOCAL, f"Local sandbox org (Inflow's test org at {urlsplit(local).netloc})"),
                *LOGIN_KIND_CHOICES,
            ]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", submit_label))

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        kind = cleaned.get("login_kind")
        if kind == Connection.LoginKind.MY_DOMAIN:
            raw = (cleaned.get("my_domain_url") or "").strip()
            if not raw:
                self.add_error("my_domain_url", "Enter your My Domain URL, or choose Production or Sandbox.")
                return cleaned
            if "://" not in raw:
                raw = "https://" + raw
            try:
                cleaned["login_url"] = oauth.validate_salesforce_url(raw, what="My Domain URL")
            except SalesforceOAuthError as exc:
                self.add_error("my_domain_url", exc.description)
        elif kind in LOGIN_HOSTS:
            cleaned["login_url"] = LOGIN_HOSTS[kind]
        elif kind == LOCAL:
            cleaned["login_url"] = oauth.validate_salesforce_url(local_login_url(), what="Sandbox org URL")
            cleaned["login_kind"] = Connection.LoginKind.MY_DOMAIN
        return cleaned


class CallbackForm(forms.Form):
    """What Salesforce appends to the callback URL: a code and our state, or an error and its description."""

    state = forms.CharField(max_length=200)
    code = forms.CharField(required=False, max_length=2000)
    error = forms.CharField(required=False, max_length=200)
    error_description = forms.CharField(required=False, max_length=2000)

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors and not cleaned.get("code") and not cleaned.get("error"):
            raise forms.ValidationError("Salesforce's answer has neither an authorization code nor an error.")
        return cleaned


class ConfirmDeleteForm(forms.Form):
    confirm = forms.CharField(
        label="Type the org id to confirm",
        max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, connection: Connection, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.fields["confirm"].help_text = f"Type {connection.org_id} to delete this connection."

    def clean_confirm(self):
        value = self.cleaned_data["confirm"].strip()
        if value != self.connection.org_id:
            raise forms.ValidationError("That is not this connection's org id; nothing was deleted.")
        return value
