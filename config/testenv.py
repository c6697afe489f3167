"""Test-run environment: fixed, test-only secrets unless the caller set real ones.

Loaded as an early plugin (`-p config.testenv` in pyproject), before pytest-django configures Django.
"""

import os
import tempfile

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
# A fixed Fernet key for tests only (generated for this purpose, protects nothing).
os.environ.setdefault("ENCRYPTION_KEYS", "q2r0yHkV7b9Q6v2Yk1Hk3u8m2bU2pGz6mW0lq9c5w7E=")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# Never read a developer's local .env during tests.
os.environ.setdefault("ENV_FILE", "/nonexistent/.env")

# Tests that run a real `qcluster` worker share the test database with it: on SQLite it must be a file.
os.environ.setdefault(
    "DATABASE_TEST_NAME", os.path.join(tempfile.gettempdir(), f"inflow-test-{os.getpid()}.sqlite3")
)
