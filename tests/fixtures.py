"""Shared fixtures. Factories are fixtures that return callables."""

from __future__ import annotations

import itertools

import pytest

_counter = itertools.count(1)


@pytest.fixture
def make_user(django_user_model):
    def make(*, email: str | None = None, password: str = "correct-horse-battery-9", **extra):
        email = email or f"user{next(_counter)}@example.com"
        user = django_user_model.objects.create_user(username=email, email=email, password=password, **extra)
        user.raw_password = password
        return user

    return make


@pytest.fixture
def make_workspace(make_user):
    from cdp.services import workspace_create

    def make(*, name: str = "Acme", owner=None):
        owner = owner or make_user()
        return workspace_create(owner=owner, name=name)

    return make


@pytest.fixture
def workspace(make_workspace):
    return make_workspace(name="Acme")


@pytest.fixture
def owner(workspace):
    return workspace.memberships.get().user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client
