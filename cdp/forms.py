from __future__ import annotations

from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from cdp.services import workspace_create

WORKSPACE_NAME_MAX = 100


def add_validation_error(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError on the form: each field's message next to that field, the rest on top."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


class WorkspaceNameField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Workspace name")
        kwargs.setdefault("max_length", WORKSPACE_NAME_MAX)
        kwargs.setdefault("help_text", "Usually your company's name. You can change it later.")
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if any(not ch.isprintable() for ch in value):
            # The name goes into email subjects, where a line break would end the header.
            raise forms.ValidationError(
                "A workspace name cannot hold line breaks, tabs or control characters."
            )
        if not any(ch.isalnum() for ch in value):
            raise forms.ValidationError("Give your workspace a name with at least one letter or digit.")


# An address people can write to has a dotted domain: "maria@localhost" is not one, though Django's
# validator allows it by default.
DOTTED_EMAIL = EmailValidator(
    message="Enter a full email address with a dotted domain, e.g. maria@example.com.", allowlist=[]
)


class SignupWorkspaceForm(forms.Form):
    """Extra fields on allauth's sign-up form: the new user names their workspace."""

    workspace_name = WorkspaceNameField()

    def signup(self, request, user) -> None:
        workspace = workspace_create(owner=user, name=self.cleaned_data["workspace_name"])
        request.session["workspace_id"] = workspace.pk


class WorkspaceCreateForm(forms.Form):
    name = WorkspaceNameField()


class FilterForm(forms.Form):
    """Bootstrap classes on every widget of a GET filter form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class PeopleFilterForm(FilterForm):
    """GET filters of the People page; bad values are dropped, never an error page."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "Name or email", "type": "search"}),
    )
    source = forms.ChoiceField(label="Source", required=False)
    permission = forms.ChoiceField(
        label="Permission",
        required=False,
        choices=[
            ("", "Any permission"),
            ("subscribed", "Email subscribed"),
            ("unsubscribed", "Email unsubscribed"),
            ("sms", "SMS subscribed"),
        ],
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Active"), ("archived", "Archived")]
    )
    organization = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    after = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, sources: dict[str, str], **kwargs):
        """`sources`: {source: the name a person reads}."""
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["source"]).choices = [("", "Any source"), *sources.items()]


class SearchForm(FilterForm):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "Name", "type": "search"}),
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Active"), ("archived", "Archived")]
    )
    after = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)


class PageForm(forms.Form):
    after = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)


class ActivityFilterForm(FilterForm):
    type = forms.ChoiceField(label="Activity", required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        label="To (inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    after = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, definitions, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["type"]).choices = [
            ("", "All activities"),
            *((d.activity_id, d.name) for d in definitions),
        ]

    def clean(self):
        super().clean()
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
        return self.cleaned_data


def cleaned_or_empty(form: forms.Form) -> dict:
    """Filters that validated; invalid ones are ignored so a mangled URL still shows a page."""
    form.is_valid()
    return {
        name: value for name, value in getattr(form, "cleaned_data", {}).items() if name not in form.errors
    }


class MemberInviteForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254, validators=[DOTTED_EMAIL])
    role = forms.ChoiceField(
        label="Role",
        choices=[
            ("member", "Member — reads everything"),
            ("admin", "Admin — also changes settings and syncs"),
            ("owner", "Owner — also manages members"),
        ],
        initial="member",
    )


class MemberRoleForm(forms.Form):
    membership = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    role = forms.ChoiceField(choices=[("owner", "Owner"), ("admin", "Admin"), ("member", "Member")])
