"""System checks (`manage.py check`, `check --deploy`): settings that would fail only later, at the first
connect or sync, fail the check instead."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from integrations import crypto


@checks.register(checks.Tags.security)
def encryption_keys_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every ENCRYPTION_KEYS entry must be a Fernet key: a malformed one used to pass and fail only when the
    first connection stored its tokens. The message never echoes key material."""

    keys = crypto._keys()
    if not keys:
        if settings.DEBUG:
            return []
        return [
            checks.Error(
                "ENCRYPTION_KEYS is empty: Salesforce tokens cannot be stored.", id="integrations.E001"
            )
        ]
    bad = []
    for position, key in enumerate(keys, start=1):
        try:
            crypto._multifernet((key,))
        except ImproperlyConfigured:
            bad.append(position)
    if not bad:
        return []
    return [
        checks.Error(
            f"ENCRYPTION_KEYS entry {', '.join(map(str, bad))} (of {len(keys)}) is not a Fernet key "
            "(32 url-safe base64-encoded bytes).",
            hint='Generate one with `python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"`.',
            id="integrations.E002",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def local_salesforce_origins_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if not settings.SALESFORCE_LOCAL_ORIGINS:
        return []
    return [
        checks.Warning(
            "SALESFORCE_LOCAL_ORIGINS is set: the client secret and authorization codes may be sent to "
            f"{', '.join(settings.SALESFORCE_LOCAL_ORIGINS)}, which are not Salesforce hosts.",
            hint="Leave it empty in production; it is for a local sandbox org.",
            id="integrations.W001",
        )
    ]
