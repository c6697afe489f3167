"""Re-encrypt every stored Salesforce token with the first key of ENCRYPTION_KEYS.

Rotation: put a new key first in ENCRYPTION_KEYS (keep the old ones after it), deploy, run this
command, then drop the old keys.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations import crypto
from integrations.services import connection_rotate_encryption


class Command(BaseCommand):
    help = "Re-encrypt stored tokens with the newest encryption key (the first in ENCRYPTION_KEYS)."

    def handle(self, *args, **options):
        try:
            rewritten = connection_rotate_encryption()
        except crypto.DecryptionError as exc:
            raise CommandError(
                f"{exc} Put the old key back into ENCRYPTION_KEYS (after the new one)."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted the tokens of {rewritten} connection(s) with key {crypto.primary_key_fingerprint()}."
            )
        )
