"""Small forms of the Data sources › Salesforce pages that are not onboarding steps."""

from __future__ import annotations

from django import forms

from integrations.models import SyncError


class HealthFilterForm(forms.Form):
    type = forms.ChoiceField(required=False, choices=[("", "All types"), *SyncError.Type.choices])
    page = forms.IntegerField(required=False, min_value=1)


class ErrorBulkForm(forms.Form):
    ACTIONS = [("retry", "Retry"), ("ignore", "Ignore"), ("export", "Export CSV")]

    action = forms.ChoiceField(required=False, choices=ACTIONS)
    # A row's own button: "retry:12" or "ignore:12".
    one = forms.CharField(required=False, max_length=40)
    ids = forms.TypedMultipleChoiceField(required=False, coerce=int, choices=())
    every = forms.BooleanField(required=False)
    error_type = forms.ChoiceField(required=False, choices=[("", ""), *SyncError.Type.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any integer is a valid id here; the selector keeps only the connection's open errors.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()

    def clean_one(self):
        value = self.cleaned_data.get("one") or ""
        if not value:
            return None
        action, _, pk = value.partition(":")
        if action not in ("retry", "ignore") or not pk.isdigit():
            raise forms.ValidationError("Unknown action.")
        return action, int(pk)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("one") and not cleaned.get("action") and not self.errors:
            raise forms.ValidationError("Choose Retry, Ignore or Export.")
        return cleaned
