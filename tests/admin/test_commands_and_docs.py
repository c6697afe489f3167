"""docs/operations.md documents every operator command, each with --help text and an example."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parents[2]
APPS = ("cdp", "integrations", "onboarding", "salesforce_sandbox", "django_q")


def operator_commands() -> list[tuple[str, str]]:
    return sorted((name, app) for name, app in get_commands().items() if app in APPS)


def test_every_command_is_documented_with_help_and_an_example():
    doc = (ROOT / "docs" / "operations.md").read_text()
    commands = operator_commands()
    assert ("ops_schedules", "integrations") in commands
    for name, app in commands:
        assert load_command_class(app, name).help.strip(), f"{name} has no --help text"
        assert f"**`{name}" in doc, f"{name} is not documented in docs/operations.md"
        if app != "django_q":
            assert re.search(rf"^    python manage\.py {name}\b", doc, re.M) or re.search(
                rf"^    \S+=\S+ python manage\.py {name}\b", doc, re.M
            ), f"{name} has no example in docs/operations.md"


def test_a_failing_command_exits_non_zero_with_a_one_line_reason():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "ops_schedules", "--minutes", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "CommandError: --minutes must be between 1 and 1440."


@pytest.mark.django_db
def test_ops_schedules_run_now_sends_pending_alerts(connection, owner, capsys):
    from django.core import mail
    from django.core.management import call_command

    from integrations import services

    services.connection_mark_needs_reauth(connection=connection, reason="invalid_grant")
    call_command("ops_schedules", "--run-now")
    assert "1 reconnect alert(s) sent." in capsys.readouterr().out
    assert [m.to for m in mail.outbox] == [[owner.email]]
