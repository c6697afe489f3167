"""Forms of the Data sources › Salesforce pages that are not onboarding steps: Schedule, Data retention and
Sync health."""

from __future__ import annotations

from django import forms

from integrations.models import Connection, SyncError
from integrations.salesforce import objects


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
        ids = self.fields["ids"]
        assert isinstance(ids, forms.TypedMultipleChoiceField)
        ids.valid_value = lambda value: str(value).isdigit()  # type: ignore[method-assign]

    def clean_one(self):
        value = self.cleaned_data.get("one") or ""
        if not value:
            return None
        action, _, pk = value.partition(":")
        if action not in ("retry", "ignore") or not pk.isdigit():
            raise forms.ValidationError("Unknown action.")
        return action, int(pk)

    def clean(self):
        cleaned = super().clean() or {}
        if not cleaned.get("one") and not cleaned.get("action") and not self.errors:
            raise forms.ValidationError("Choose Retry, Ignore or Export.")
        return cleaned


class ScheduleForm(forms.Form):
    schedule_interval_minutes = forms.TypedChoiceField(
        label="Sync changes from Salesforce",
        choices=Connection.ScheduleInterval.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    api_budget_percent = forms.IntegerField(
        label="API budget (% of the org's daily API requests)",
        min_value=1,
        max_value=100,
        help_text="Inflow pauses syncing when it has used this share of the org's daily requests.",
    )
    streaming_enabled = forms.BooleanField(
        label="Live updates",
        required=False,
        help_text="Apply each Salesforce change within seconds (Change Data Capture). The schedule above "
        "still runs and catches anything the stream missed.",
    )


class RetentionForm(forms.Form):
    activity_retention = forms.ChoiceField(
        label="Activity data to store",
        choices=Connection.ActivityRetention.choices,
        widget=forms.RadioSelect,
    )
    activity_retention_days = forms.IntegerField(
        label="Time frame (days)",
        min_value=1,
        max_value=36500,
        required=False,
        help_text="Used with “Keep a time frame I choose”: activities older than this are not stored.",
    )
    activity_kinds = forms.MultipleChoiceField(
        label="Activities to store",
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one kind of activity to store."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = self.fields["activity_kinds"]
        assert isinstance(kinds, forms.MultipleChoiceField)
        kinds.choices = [(a.id, a.name) for a in objects.ACTIVITIES.values()]

    def clean(self):
        data = super().clean() or {}
        if data.get("activity_retention") == Connection.ActivityRetention.WINDOW and not data.get(
            "activity_retention_days"
        ):
            self.add_error("activity_retention_days", "Give the time frame in days.")
        return data
