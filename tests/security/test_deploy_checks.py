"""Finding 8: a malformed ENCRYPTION_KEYS passed `check --deploy` and failed only at the first connect."""

from __future__ import annotations

import pytest

from tests.test_health_and_settings import PRODUCTION_ENV, _manage

GOOD = PRODUCTION_ENV["ENCRYPTION_KEYS"]


def test_check_deploy_is_clean_with_production_like_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "keys, entry",
    [("not-a-fernet-key", "1 (of 1)"), (f"{GOOD},tooShort0123==", "2 (of 2)"), (GOOD[:-2], "1 (of 1)")],
)
def test_check_deploy_fails_on_a_malformed_key_without_echoing_it(keys, entry):
    result = _manage("check", "--deploy", env={**PRODUCTION_ENV, "ENCRYPTION_KEYS": keys})
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert f"integrations.E002) ENCRYPTION_KEYS entry {entry} is not a Fernet key" in output
    for key in keys.split(","):
        assert key not in output


def test_check_deploy_warns_when_a_local_sandbox_org_is_allowed():
    env = {**PRODUCTION_ENV, "SALESFORCE_LOCAL_ORIGINS": "http://127.0.0.1:8765"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "integrations.W001" in result.stderr + result.stdout
