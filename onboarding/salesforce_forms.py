"""Forms for the Salesforce steps; the data source's settings pages reuse them unchanged (their Schedule
and Data retention forms, which no step has, are in `integrations.source_forms`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from integrations.catalog_offers import PERMISSION_FIELD_TYPES, ObjectOffer
from integrations.connection_settings import merge_settings_problem
from integrations.models import Connection, FieldSelection, SyncedObject
from integrations.models.sync import MAX_ACTIVE_FIELDS_PER_OBJECT
from integrations.salesforce import permissions
from integrations.salesforce.filters import MAX_CONDITIONS, OPERATOR_LABELS
from integrations.sync_settings import FilterChoice


def _field_key(api_name: str) -> str:
    return f"fields__{api_name}"


def _object_key(api_name: str) -> str:
    return f"object__{api_name}"


def rule_keys(api_name: str, field_name: str) -> tuple[str, str, str]:
    """The names of a field's "maps to", "order" and "rule" inputs in the picker."""
    return (
        f"target__{api_name}__{field_name}",
        f"order__{api_name}__{field_name}",
        f"mode__{api_name}__{field_name}",
    )


UPDATE_MODES = [(value, label) for value, label in FieldSelection.UpdateMode.choices]


class FieldPickerForm(forms.Form):
    """Objects with their fields, each object limited to 50 fields (the service checks again under a lock)."""

    def __init__(self, *args, offers: list[ObjectOffer], locked: tuple[str, ...] = ("Contact",), **kwargs):
        super().__init__(*args, **kwargs)
        self.offers = offers
        self.locked = locked
        for offer in offers:
            self.fields[_object_key(offer.api_name)] = forms.BooleanField(
                label=f"Sync {offer.label}",
                required=False,
                initial=offer.selected,
                disabled=offer.api_name in locked,
            )
            self.fields[_field_key(offer.api_name)] = forms.MultipleChoiceField(
                label=f"{offer.label} fields",
                required=False,
                choices=[(f.name, f.label) for f in offer.fields],
                initial=[f.name for f in offer.fields if f.selected],
                widget=forms.CheckboxSelectMultiple,
            )

    def clean(self):
        data = super().clean()
        self.rules: dict[str, dict[str, dict[str, Any]]] = {}
        for offer in self.offers:
            chosen = data.get(_field_key(offer.api_name)) or []
            self.rules[offer.api_name] = self._rules(offer, chosen)
            selected = offer.api_name in self.locked or data.get(_object_key(offer.api_name))
            if selected and len(chosen) > MAX_ACTIVE_FIELDS_PER_OBJECT:
                self.add_error(
                    _field_key(offer.api_name),
                    f"{offer.label} has {len(chosen)} fields selected, but at most {MAX_ACTIVE_FIELDS_PER_OBJECT} "
                    f"can sync. Deselect {len(chosen) - MAX_ACTIVE_FIELDS_PER_OBJECT} to continue.",
                )
            if selected and not chosen:
                self.add_error(
                    _field_key(offer.api_name),
                    f"Choose at least one {offer.label} field, or stop syncing it.",
                )
        return data

    def _rules(self, offer: ObjectOffer, chosen: list[str]) -> dict[str, dict[str, Any]]:
        """Each ticked field's CDP field, order and rule, as posted (missing inputs keep what the offer says).
        Only the CDP fields the picker offered for that field are accepted."""
        rules: dict[str, dict[str, Any]] = {}
        modes = dict(UPDATE_MODES)
        for name in chosen:
            field = offer.field(name)
            if field is None:
                continue
            target_key, order_key, mode_key = rule_keys(offer.api_name, name)
            target = self.data.get(target_key, field.target_field)
            if target not in {choice for choice, _ in field.target_choices} | {field.target_field}:
                self.add_error(_field_key(offer.api_name), f"{field.label} cannot feed that CDP field.")
                continue
            raw_order = (self.data.get(order_key) or "").strip()
            order = field.target_order
            if raw_order:
                if not raw_order.isdigit() or not 1 <= int(raw_order) <= 50:
                    self.add_error(
                        _field_key(offer.api_name),
                        f"{field.label}: the order is a whole number from 1 to 50.",
                    )
                    continue
                order = int(raw_order)
            elif order_key in self.data:
                order = 0
            mode = self.data.get(mode_key, field.update_mode)
            if mode not in modes:
                self.add_error(_field_key(offer.api_name), f"{field.label}: choose one of the offered rules.")
                continue
            rules[name] = {"target_field": target, "target_order": order, "update_mode": mode}
        return rules

    def choices(self) -> list[tuple[ObjectOffer, bool, list[dict[str, Any]]]]:
        """(object, selected?, fields with their CDP field, order and rule) for every object on the form."""
        out = []
        for offer in self.offers:
            selected = offer.api_name in self.locked or bool(
                self.cleaned_data.get(_object_key(offer.api_name))
            )
            rules = self.rules.get(offer.api_name, {})
            fields = []
            for name in self.cleaned_data.get(_field_key(offer.api_name)) or []:
                field = offer.field(name)
                if field is not None:
                    fields.append(
                        {
                            "name": name,
                            "type": field.type,
                            "label": field.label,
                            "calculated": field.calculated,
                            **rules.get(name, {}),
                        }
                    )
            out.append((offer, selected, fields))
        return out

    def rows(self) -> list[dict[str, Any]]:
        """What the template needs per object: the bound fields and which fields are ticked now."""
        rows = []
        for offer in self.offers:
            object_field = self[_object_key(offer.api_name)]
            fields_field = self[_field_key(offer.api_name)]
            ticked = {str(v) for v in (fields_field.value() or [])}
            selected = offer.api_name in self.locked or bool(object_field.value())
            shared: dict[str, list[str]] = {}
            for f in sorted(offer.fields, key=lambda f: f.target_order):
                if f.name in ticked and f.update_mode != "skip":
                    shared.setdefault(f.target_field, []).append(f.label)
            names = {choice: label for f in offer.fields for choice, label in f.target_choices}
            rows.append(
                {
                    "offer": offer,
                    "object_field": object_field,
                    "fields_field": fields_field,
                    "ticked": ticked,
                    "selected": selected,
                    "count": len(ticked),
                    "locked": offer.api_name in self.locked,
                    # "Phone number: Business Phone, then Mobile Phone" for every CDP field fed twice.
                    "coalesced": [
                        {"target": names.get(target, target), "sources": labels}
                        for target, labels in shared.items()
                        if len(labels) > 1
                    ],
                    "shared_targets": {t for t, labels in shared.items() if len(labels) > 1},
                }
            )
        return rows


PERMISSION_MODES = {
    "email": [
        ("field", "Read it from a Salesforce field"),
        ("default", "Fixed: new contacts are subscribed to email"),
    ],
    "sms": [
        ("field", "Read it from a Salesforce field"),
        ("default", "Fixed: leave SMS permission unset"),
    ],
}


def _parse_value(raw: str, field_type: str) -> Any:
    text = (raw or "").strip()
    if field_type == "boolean":
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "checked"):
            return True
        if lowered in ("false", "0", "no", "unchecked"):
            return False
        raise ValidationError("For a checkbox field, enter true or false.")
    return text


class PermissionsForm(forms.Form):
    """Per person object: the email and SMS permission field and its values, or no rule."""

    sticky_unsubscribe = forms.BooleanField(
        label="Keep unsubscribes sticky",
        required=False,
        help_text="When someone unsubscribes, a later “subscribed” value from Salesforce does not subscribe them again.",
    )

    def __init__(self, *args, objects: list[SyncedObject], field_types: dict[str, dict[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.objects = objects
        self.field_types = field_types
        for obj in objects:
            options = [("", "Choose a field…")] + [
                (name, f"{name} ({ftype})")
                for name, ftype in sorted(field_types.get(obj.api_name, {}).items())
                if ftype in PERMISSION_FIELD_TYPES
            ]
            for channel in ("email", "sms"):
                rule = getattr(obj, f"{channel}_permission") or {}
                prefix = f"{obj.api_name}__{channel}"
                self.fields[f"{prefix}__mode"] = forms.ChoiceField(
                    label=f"{obj.label}: {'email' if channel == 'email' else 'SMS'} permission",
                    choices=PERMISSION_MODES[channel],
                    initial="field" if rule else "default",
                    widget=forms.RadioSelect,
                )
                self.fields[f"{prefix}__field"] = forms.ChoiceField(
                    label="Permission field", choices=options, required=False, initial=rule.get("field", "")
                )
                self.fields[f"{prefix}__subscribed"] = forms.CharField(
                    label="Value meaning subscribed",
                    required=False,
                    max_length=100,
                    initial=_show(rule.get("subscribed")),
                )
                self.fields[f"{prefix}__unsubscribed"] = forms.CharField(
                    label="Value meaning unsubscribed",
                    required=False,
                    max_length=100,
                    initial=_show(rule.get("unsubscribed")),
                )
                self.fields[f"{prefix}__direction"] = forms.ChoiceField(
                    label="Sync direction",
                    choices=list(permissions.DIRECTIONS.items()),
                    initial=permissions.rule_direction(rule),
                    widget=forms.RadioSelect,
                    required=False,
                    help_text="Updating Salesforce writes an unsubscribe (or subscribe) made in Inflow to every "
                    "linked record's field.",
                )

    def clean(self):
        data = super().clean()
        self.rules: dict[str, dict[str, dict]] = {}
        for obj in self.objects:
            self.rules[obj.api_name] = {}
            for channel in ("email", "sms"):
                prefix = f"{obj.api_name}__{channel}"
                if data.get(f"{prefix}__mode") != "field":
                    self.rules[obj.api_name][channel] = {}
                    continue
                field_name = data.get(f"{prefix}__field")
                if not field_name:
                    self.add_error(
                        f"{prefix}__field", "Choose the Salesforce field that holds this permission."
                    )
                    continue
                ftype = self.field_types.get(obj.api_name, {}).get(field_name, "string")
                rule: dict[str, Any] = {"field": field_name}
                for key in ("subscribed", "unsubscribed"):
                    raw = data.get(f"{prefix}__{key}", "")
                    if raw.strip():
                        try:
                            rule[key] = _parse_value(raw, ftype)
                        except ValidationError as error:
                            self.add_error(f"{prefix}__{key}", error)
                if "subscribed" not in rule and "unsubscribed" not in rule:
                    self.add_error(
                        f"{prefix}__unsubscribed", "Give the value meaning subscribed, unsubscribed, or both."
                    )
                elif rule.get("subscribed", object()) == rule.get("unsubscribed", object()):
                    self.add_error(f"{prefix}__unsubscribed", "The two values must differ.")
                direction = data.get(f"{prefix}__direction") or permissions.DIRECTION_FROM_SALESFORCE
                if direction != permissions.DIRECTION_FROM_SALESFORCE:
                    rule["direction"] = direction
                    written = permissions.PermissionRule.of(rule)
                    if written.value_for(True) is None or written.value_for(False) is None:
                        self.add_error(
                            f"{prefix}__subscribed",
                            "To update Salesforce from Inflow, give both the value meaning subscribed and "
                            "the value meaning unsubscribed.",
                        )
                self.rules[obj.api_name][channel] = rule
        return data

    def sections(self) -> list[dict[str, Any]]:
        out = []
        for obj in self.objects:
            channels = []
            for channel, title in (("email", "Email"), ("sms", "SMS")):
                prefix = f"{obj.api_name}__{channel}"
                channels.append(
                    {
                        "key": channel,
                        "title": title,
                        "mode": self[f"{prefix}__mode"],
                        "field": self[f"{prefix}__field"],
                        "subscribed": self[f"{prefix}__subscribed"],
                        "unsubscribed": self[f"{prefix}__unsubscribed"],
                        "direction": self[f"{prefix}__direction"],
                    }
                )
            out.append({"object": obj, "channels": channels})
        return out


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


IDENTIFIER_KINDS = [
    (
        SyncedObject.IdentifierKind.UNIQUE_IDENTIFIER,
        "Unique identifier",
        "A field on this object holds a value such as an email address that matches a person.",
    ),
    (
        SyncedObject.IdentifierKind.PARENT,
        "Relationship to a parent object",
        "A lookup field points to another synced object, which is linked in turn (chains allowed).",
    ),
    (
        SyncedObject.IdentifierKind.REFERENCE_ID,
        "Reference id",
        "A field holds the Salesforce id of a Contact, Lead or Account.",
    ),
    (
        SyncedObject.IdentifierKind.JUNCTION,
        "Junction object",
        "Records link to people through a many-to-many object, like Opportunity Contact Role.",
    ),
]

CDP_MATCH_FIELDS = [
    ("str::email", "Email (people)"),
    ("phn::phone", "Phone number (people)"),
    ("str:o:website", "Website or domain (organizations)"),
    ("str:o:name", "Name (organizations)"),
]
BECOMES_CHOICES = [
    (SyncedObject.Becomes.ORGANIZATION, "Sync as organizations"),
    (SyncedObject.Becomes.PERSON, "Sync as contacts (people)"),
]


class IdentifiersForm(forms.Form):
    """For each object Inflow cannot link by itself: how its records find their person or organization."""

    def __init__(self, *args, objects: list[ObjectOffer], synced_names: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.objects = objects
        for offer in objects:
            obj = offer.synced
            config = obj.identifier_config if obj is not None else {}
            kind = obj.identifier_kind if obj is not None else ""
            p = offer.api_name
            field_choices = [("", "Choose a field…")] + [
                (f.name, f"{f.label} ({f.name})") for f in offer.fields
            ]
            lookup_choices = [("", "Choose a lookup field…")] + [
                (f.name, f"{f.label} ({f.name} → {', '.join(f.reference_to)})")
                for f in offer.fields
                if f.reference_to
            ]
            parents = [("", "Choose the parent object…")] + [(n, n) for n in synced_names if n != p]
            self.fields[f"{p}__kind"] = forms.ChoiceField(
                label=f"Identify {offer.label} by",
                choices=[(k, label) for k, label, _ in IDENTIFIER_KINDS],
                initial=kind if kind != SyncedObject.IdentifierKind.AUTOMATIC else None,
                widget=forms.RadioSelect,
                error_messages={"required": f"Choose how {offer.label} records are identified."},
            )
            self.fields[f"{p}__field"] = forms.ChoiceField(
                label="Object field",
                choices=field_choices,
                required=False,
                initial=config.get("field", "") if kind == "unique_identifier" else "",
            )
            self.fields[f"{p}__cdp_field"] = forms.ChoiceField(
                label="Matches this Inflow field",
                choices=CDP_MATCH_FIELDS,
                required=False,
                initial=config.get("cdp_field", "str::email"),
            )
            self.fields[f"{p}__parent_field"] = forms.ChoiceField(
                label="Lookup field",
                choices=lookup_choices,
                required=False,
                initial=config.get("field", "") if kind == "parent" else "",
            )
            self.fields[f"{p}__parent_object"] = forms.ChoiceField(
                label="Parent object",
                choices=parents,
                required=False,
                initial=config.get("parent_object", ""),
            )
            self.fields[f"{p}__ref_id_field"] = forms.ChoiceField(
                label="Field holding the id",
                choices=field_choices,
                required=False,
                initial=config.get("field", "") if kind == "reference_id" else "",
            )
            self.fields[f"{p}__ref_object"] = forms.ChoiceField(
                label="The id is of a",
                choices=[("Contact", "Contact"), ("Lead", "Lead"), ("Account", "Account")],
                required=False,
                initial=config.get("object", "Contact"),
            )
            self.fields[f"{p}__junction_object"] = forms.CharField(
                label="Junction object",
                required=False,
                max_length=80,
                initial=config.get("junction_object", ""),
                help_text="API name, e.g. OpportunityContactRole.",
            )
            self.fields[f"{p}__ref_field"] = forms.CharField(
                label="Junction field pointing to this object",
                required=False,
                max_length=80,
                initial=config.get("ref_field", ""),
            )
            self.fields[f"{p}__person_field"] = forms.CharField(
                label="Junction field pointing to the contact",
                required=False,
                max_length=80,
                initial=config.get("person_field", ""),
            )
            if offer.organization_like:
                self.fields[f"{p}__becomes"] = forms.ChoiceField(
                    label=f"Sync {offer.label} as",
                    choices=BECOMES_CHOICES,
                    initial=obj.becomes
                    if obj is not None and obj.becomes in dict(BECOMES_CHOICES)
                    else "organization",
                    widget=forms.RadioSelect,
                )

    def clean(self):
        data = super().clean()
        self.rules: dict[str, tuple[str, dict[str, str], str]] = {}
        for offer in self.objects:
            p = offer.api_name
            kind = data.get(f"{p}__kind")
            if not kind:
                continue
            need: dict[str, str]
            if kind == SyncedObject.IdentifierKind.UNIQUE_IDENTIFIER:
                need = {"field": data.get(f"{p}__field", ""), "cdp_field": data.get(f"{p}__cdp_field", "")}
                names = {"field": f"{p}__field", "cdp_field": f"{p}__cdp_field"}
            elif kind == SyncedObject.IdentifierKind.PARENT:
                need = {
                    "field": data.get(f"{p}__parent_field", ""),
                    "parent_object": data.get(f"{p}__parent_object", ""),
                }
                names = {"field": f"{p}__parent_field", "parent_object": f"{p}__parent_object"}
            elif kind == SyncedObject.IdentifierKind.REFERENCE_ID:
                need = {
                    "field": data.get(f"{p}__ref_id_field", ""),
                    "object": data.get(f"{p}__ref_object", ""),
                }
                names = {"field": f"{p}__ref_id_field", "object": f"{p}__ref_object"}
            else:
                need = {
                    "junction_object": (data.get(f"{p}__junction_object") or "").strip(),
                    "ref_field": (data.get(f"{p}__ref_field") or "").strip(),
                    "person_field": (data.get(f"{p}__person_field") or "").strip(),
                }
                names = {k: f"{p}__{k}" for k in need}
            for key, value in need.items():
                if not value:
                    self.add_error(names[key], "Required for this way of identifying records.")
            self.rules[p] = (kind, need, data.get(f"{p}__becomes", ""))
        return data

    def sections(self) -> list[dict[str, Any]]:
        out = []
        for offer in self.objects:
            p = offer.api_name
            out.append(
                {
                    "offer": offer,
                    "kind": self[f"{p}__kind"],
                    "kinds": IDENTIFIER_KINDS,
                    "becomes": self[f"{p}__becomes"] if f"{p}__becomes" in self.fields else None,
                    "unique": [self[f"{p}__field"], self[f"{p}__cdp_field"]],
                    "parent": [self[f"{p}__parent_field"], self[f"{p}__parent_object"]],
                    "reference": [self[f"{p}__ref_id_field"], self[f"{p}__ref_object"]],
                    "junction": [
                        self[f"{p}__junction_object"],
                        self[f"{p}__ref_field"],
                        self[f"{p}__person_field"],
                    ],
                }
            )
        return out


# The seed's labels (step 7) are the model's choices (Connection.MergeStrategy); the help says what each does.
MERGE_HELP = {
    Connection.MergeStrategy.APPEND: (
        "New people are added. For people already in Inflow, only fields that are empty are filled in; "
        "nothing you already have is changed. (Ortto's “Append only”.)"
    ),
    Connection.MergeStrategy.OVERWRITE: (
        "New people are added. For people already in Inflow, Salesforce's values replace the ones you have. "
        "Recommended when Salesforce is your source of truth. (Ortto's “Overwrite existing”.)"
    ),
    Connection.MergeStrategy.IGNORE: (
        "New people are added. People already in Inflow are left exactly as they are. (Ortto's “Ignore”.)"
    ),
}
MERGE_CHOICES = [(value, label, MERGE_HELP[value]) for value, label in Connection.MergeStrategy.choices]
RECORD_SCOPE = [
    ("all", "New and existing records"),
    ("existing", "Existing records only — update people already in Inflow, never add new ones"),
]


class MergeForm(forms.Form):
    merge_strategy = forms.ChoiceField(
        label="How should Salesforce data merge into Inflow?",
        choices=[(value, label) for value, label, _ in MERGE_CHOICES],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how Salesforce data merges into Inflow."},
    )
    record_scope = forms.ChoiceField(
        label="Which records",
        choices=RECORD_SCOPE,
        initial="all",
        widget=forms.RadioSelect,
        help_text="“Existing records only” gives the “… for existing records only” variants of the first two options.",
    )
    find_strategy = forms.ChoiceField(
        label="Merge key strategy",
        choices=Connection.FindStrategy.choices,
        initial=Connection.FindStrategy.ANY,
        widget=forms.RadioSelect,
        help_text="People are found by Salesforce id, then email (unique identifier), then phone (fallback).",
    )
    merge_converted_leads = forms.BooleanField(
        label="Merge a lead that converts into its contact",
        required=False,
        initial=True,
        help_text="Off: the converted lead stays a separate person.",
    )

    def clean(self):
        data = super().clean()
        # The rule lives in the settings service; asked here too so that Preview shows it next to the field.
        problem = merge_settings_problem(
            merge_strategy=data.get("merge_strategy", ""),
            skip_non_existing=data.get("record_scope") == "existing",
        )
        if problem:
            self.add_error("record_scope", problem)
        return data

    def settings(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "merge_strategy": data["merge_strategy"],
            "find_strategy": data["find_strategy"],
            "skip_non_existing": data["record_scope"] == "existing",
            "merge_converted_leads": bool(data.get("merge_converted_leads")),
        }

    def choices_with_help(self):
        return MERGE_CHOICES


# ------------------------------------------------------------------------------------- selective sync

SYNC_FILTER_CHOICES = [
    (SyncedObject.SyncFilter.ALL, "Sync all records"),
    (SyncedObject.SyncFilter.MATCHING, "Sync records matching criteria"),
    (SyncedObject.SyncFilter.NONE, "Sync no records"),
]
UNMATCHED_CHOICES = [
    (SyncedObject.UnmatchedAction.ARCHIVE, "Archive it in Inflow"),
    (SyncedObject.UnmatchedAction.KEEP, "Keep it in Inflow"),
]
MIN_CONDITION_ROWS = 3


def condition_keys(api_name: str, row: int) -> tuple[str, str, str]:
    """The names of a condition row's field, operator and values inputs."""
    return (f"{api_name}__field_{row}", f"{api_name}__operator_{row}", f"{api_name}__values_{row}")


def _show_values(values) -> str:
    return ", ".join(_show(v) for v in values or ())


class SelectiveSyncForm(forms.Form):
    """Per object: all records, records matching criteria (rows of field, operator, values; the rows are
    AND, a row's comma-separated values OR), or none; and what happens to a record that stops matching.
    The field is free text behind a select so an unknown or non-filterable one reaches the service, which
    refuses it by name (integrations.salesforce.filters.criteria_clean)."""

    def __init__(self, *args, objects: list[SyncedObject], fields: dict[str, dict[str, Any]], **kwargs):

        super().__init__(*args, **kwargs)
        self.objects = objects
        self.rows: dict[str, int] = {}
        for obj in objects:
            name = obj.api_name
            self.fields[f"{name}__sync_filter"] = forms.ChoiceField(
                label=obj.label,
                choices=SYNC_FILTER_CHOICES,
                initial=obj.sync_filter,
                widget=forms.RadioSelect,
            )
            self.fields[f"{name}__unmatched_action"] = forms.ChoiceField(
                label="When a record stops matching",
                choices=UNMATCHED_CHOICES,
                initial=obj.unmatched_action,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            )
            options = [("", "Choose a field…")] + [
                (f.path, f"{f.label} ({f.path})")
                for f in sorted(fields.get(name, {}).values(), key=lambda f: (f.path.count("."), f.label))
                if f.filterable
            ]
            criteria = list(obj.filter_criteria or [])
            self.rows[name] = min(MAX_CONDITIONS, max(MIN_CONDITION_ROWS, len(criteria) + 1))
            for row in range(self.rows[name]):
                stored = criteria[row] if row < len(criteria) else {}
                field_key, operator_key, values_key = condition_keys(name, row)
                self.fields[field_key] = forms.CharField(
                    label="Field",
                    required=False,
                    max_length=200,
                    initial=stored.get("field", ""),
                    widget=forms.Select(choices=options),
                )
                self.fields[operator_key] = forms.ChoiceField(
                    label="Operator",
                    required=False,
                    choices=list(OPERATOR_LABELS.items()),
                    initial=stored.get("operator", "equals"),
                )
                self.fields[values_key] = forms.CharField(
                    label="Values",
                    required=False,
                    max_length=4000,
                    initial=_show_values(stored.get("values")),
                )

    def clean(self):

        data = super().clean()
        self.choices: list[FilterChoice] = []
        for obj in self.objects:
            name = obj.api_name
            mode = data.get(f"{name}__sync_filter") or SyncedObject.SyncFilter.ALL
            conditions = []
            for row in range(self.rows[name]):
                field_key, operator_key, values_key = condition_keys(name, row)
                field_name = (data.get(field_key) or "").strip()
                raw = data.get(values_key) or ""
                if not field_name:
                    if raw.strip() and mode == SyncedObject.SyncFilter.MATCHING:
                        self.add_error(field_key, "Choose the field these values are compared with.")
                    continue
                values = [v.strip() for v in raw.split(",")]
                conditions.append(
                    {"field": field_name, "operator": data.get(operator_key) or "equals", "values": values}
                )
            self.choices.append(
                FilterChoice(
                    api_name=name,
                    sync_filter=mode,
                    criteria=tuple(conditions) if mode == SyncedObject.SyncFilter.MATCHING else (),
                    unmatched_action=data.get(f"{name}__unmatched_action")
                    or SyncedObject.UnmatchedAction.ARCHIVE,
                )
            )
        return data

    def sections(self) -> list[dict[str, Any]]:
        out = []
        for obj in self.objects:
            name = obj.api_name
            rows = [
                {
                    key: self[k]
                    for key, k in zip(("field", "operator", "values"), condition_keys(name, row), strict=True)
                }
                for row in range(self.rows[name])
            ]
            out.append(
                {
                    "object": obj,
                    "sync_filter": self[f"{name}__sync_filter"],
                    "unmatched_action": self[f"{name}__unmatched_action"],
                    "rows": rows,
                }
            )
        return out
