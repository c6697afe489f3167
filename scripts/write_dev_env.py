"""Writes a local development .env with fresh secrets, once. Never overwrites an existing file."""

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

path = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
if path.exists():
    sys.exit(0)
path.write_text(
    "# Local development settings, written by `make run`. Not committed; see .env.example.\n"
    "DEBUG=1\n"
    f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
    f"ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
    "# The local sandbox org's documented connected app (docs/architecture.md); use a real one in production.\n"
    "SALESFORCE_CLIENT_ID=inflow-local-dev\n"
    "SALESFORCE_CLIENT_SECRET=inflow-local-dev-secret\n"
)
path.chmod(0o600)
print(f"wrote {path}")
