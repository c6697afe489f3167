# ruff: noqa: S107 - fixed test tokens
"""Fixtures for the operator console: a staff superuser, connections in every state, sync history."""

from __future__ import annotations

import pytest


@pytest.fixture
def staff(make_user):
    return make_user(email="operator@inflow.example", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def changelist(model) -> str:
    from django.urls import reverse

    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def run_action(client, model, action: str, ids, *, follow=True, **extra):
    from django.contrib.admin import helpers

    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(i) for i in ids], "index": "0", **extra}
    return client.post(changelist(model), data, follow=follow)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


from tests.browser import browser, page  # noqa: E402, F401 - fixtures for test_browser.py
