from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_healthz_reports_database_and_version(client, settings):
    settings.HEALTHZ_TOKEN = "monitor-token"  # noqa: S105 - a test token
    response = client.get(reverse("healthz"), HTTP_AUTHORIZATION="Bearer monitor-token")

    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["version"]
    assert body["cluster"]["status"] in {"ok", "no-cluster"}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    inherited = (
        "SECURE_",
        "SESSION_",
        "CSRF_",
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "ENCRYPTION_KEYS",
        "DJANGO_",
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "production-like-secret-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "inflow.example.com",
    "ENCRYPTION_KEYS": "q2r0yHkV7b9Q6v2Yk1Hk3u8m2bU2pGz6mW0lq9c5w7E=",
    "STATIC_MANIFEST": "1",
    "ENV_FILE": "/nonexistent/.env",
}


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_required_setting(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in result.stderr
