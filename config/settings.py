"""Inflow settings: one module, read from the environment, failing closed.

Every setting is documented in docs/configuration.md and .env.example.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env (written by `make run` on first start) is read when present; real environment wins.
env_file = env.str("ENV_FILE", default=str(BASE_DIR / ".env"))
if Path(env_file).is_file():
    environ.Env.read_env(env_file, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
VERSION = "0.1.0"

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-insecure-" + secrets.token_urlsafe(40)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Fernet keys, comma-separated: the first encrypts, every one decrypts (key rotation).
ENCRYPTION_KEYS = env.list("ENCRYPTION_KEYS", default=[])
if not ENCRYPTION_KEYS and not DEBUG:
    raise ImproperlyConfigured("ENCRYPTION_KEYS must be set when DEBUG is off.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "crispy_forms",
    "crispy_bootstrap5",
    "cdp",
    "integrations",
    "onboarding",
    "salesforce_sandbox",
    # After integrations, whose `qcluster` command (graceful SIGTERM, docs/operations.md) wraps django-q's.
    "django_q",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.IdleSessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "cdp.middleware.CurrentWorkspaceMiddleware",
    "integrations.middleware.PageTimeCallsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cdp.context_processors.workspace",
                "integrations.context_processors.workspace_banners",
            ],
        },
    },
]


def _private_file(name: str) -> None:
    """A SQLite database file readable by this user only (it holds every workspace's customer data and
    the encrypted tokens): created 0600 before SQLite opens it, and tightened if an older one is wider.
    SQLite gives its -wal and -shm files the database file's mode."""
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if not path.parent.is_dir():
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)


def _database(url: str, *, name_for_sqlite: str) -> dict:
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        _private_file(config["NAME"])
        # Web, worker cluster and sandbox share the file: WAL lets readers run beside a writer,
        # the busy timeout and IMMEDIATE transactions make writers queue instead of failing
        # with "database is locked".
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
        }
        config["TEST"] = {"NAME": env.str(f"{name_for_sqlite}_TEST_NAME", default="") or None}
    elif config["ENGINE"] in ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"):
        config["ENGINE"] = "django.db.backends.postgresql"
        config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {
    "default": _database(
        env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), name_for_sqlite="DATABASE"
    ),
    # The sandbox org is another system: its rows never live in the app's database.
    "sandbox": _database(
        env.str("SANDBOX_DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'sandbox.sqlite3'}"),
        name_for_sqlite="SANDBOX_DATABASE",
    ),
}
DATABASE_ROUTERS = ["salesforce_sandbox.routers.SandboxRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Uploads are this user's only: public ones are served by the app (config.views.media), never by
# another process reading the directory.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# The currency an amount is shown in when its record names none (ISO 4217 code).
CDP_DEFAULT_CURRENCY = env.str("CDP_DEFAULT_CURRENCY", default="USD")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production; plain files in development and tests.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not env.bool("STATIC_MANIFEST", default=not DEBUG)

# --- Accounts (django-allauth): email is the login, no usernames -------------------------------
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Mandatory verification is what lets sign-up keep who is registered private (allauth's enumeration
# prevention): a taken address gets the same "check your email" page, and its owner an email saying so.
# The link in the email signs the new user in (the same browser) and leads into the onboarding.
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SIGNUP_FORM_CLASS = "cdp.forms.SignupWorkspaceForm"
ACCOUNT_ADAPTER = "cdp.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Inflow <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security: secure defaults whenever DEBUG is off, each switchable off explicitly -----------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# A session ends after SESSION_IDLE_SECONDS without a request (config.middleware), and lasts at most
# SESSION_COOKIE_AGE after the last minute it was used (Django's default, two weeks, is too long).
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=60 * 60)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)
X_FRAME_OPTIONS = "DENY"
# /healthz is probed by load balancers over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Task queue (django-q2) and the shared cache -------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# One cache for every process: the rate limits (sign-in, sign-up, password reset, the admin, which signs in
# through the same page) must count every web worker's attempts, not each worker's own. The database
# cache by default (its table is made by `migrate`), Redis when REDIS_URL is set.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="inflow"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "inflow_cache",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }
Q_CLUSTER = {
    # One queue per deployment (and per test run sharing a Redis): the broker key is django_q:<name>:q.
    "name": env.str("Q_NAME", default="inflow"),
    "workers": env.int("Q_WORKERS", default=2),
    # A task may run at most `timeout` seconds; the broker re-delivers after `retry` seconds,
    # so timeout < retry keeps a slow task from being run twice at once.
    "timeout": env.int("Q_TIMEOUT", default=1800),
    "retry": env.int("Q_RETRY", default=2100),
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 500,
    "ack_failures": True,
    "label": "Task queue",
    "poll": 0.5,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Salesforce ------------------------------------------------------------------------------
# Credentials default to "" and are checked where used (integrations.salesforce.oauth).
SALESFORCE_CLIENT_ID = env.str("SALESFORCE_CLIENT_ID", default="")
SALESFORCE_CLIENT_SECRET = env.str("SALESFORCE_CLIENT_SECRET", default="")
SALESFORCE_API_VERSION = env.str("SALESFORCE_API_VERSION", default="62.0")
SALESFORCE_SCOPES = env.list("SALESFORCE_SCOPES", default=["api", "refresh_token", "id"])
# The login host offered by default on the connect page; in development the local sandbox org.
SALESFORCE_DEFAULT_LOGIN_URL = env.str(
    "SALESFORCE_DEFAULT_LOGIN_URL",
    default=f"http://127.0.0.1:{env.int('SANDBOX_PORT', default=8765)}"
    if DEBUG
    else "https://login.salesforce.com",
)
# Local sandbox orgs allowed as login hosts besides Salesforce's own (plain http too), e.g.
# http://127.0.0.1:8765. Empty by default in every mode; `make run` names its own sandbox org.
SALESFORCE_LOCAL_ORIGINS = env.list("SALESFORCE_LOCAL_ORIGINS", default=[])
# The OAuth callback registered in the connected app; empty means this site's own callback URL.
SALESFORCE_CALLBACK_URL = env.str("SALESFORCE_CALLBACK_URL", default="")

# --- Sync engine knobs (integrations.salesforce.engine reads SYNC_<NAME>) ---------------------
SYNC_BULK_THRESHOLD = env.int("SYNC_BULK_THRESHOLD", default=10_000)
SYNC_BULK_MAX_RECORDS = env.int("SYNC_BULK_MAX_RECORDS", default=10_000)
SYNC_ACTIVITY_BACKFILL_DAYS = env.int("SYNC_ACTIVITY_BACKFILL_DAYS", default=90)
# A running run's lease: its heartbeat every SYNC_HEARTBEAT_SECONDS; expired after STALE seconds.
SYNC_HEARTBEAT_SECONDS = env.int("SYNC_HEARTBEAT_SECONDS", default=10)
SYNC_HEARTBEAT_STALE_SECONDS = env.int("SYNC_HEARTBEAT_STALE_SECONDS", default=60)
SYNC_REQUERY_ATTEMPTS = env.int("SYNC_REQUERY_ATTEMPTS", default=3)
# First wait before a write-back that got no answer is tried again (then doubling, up to an hour).
SYNC_WRITEBACK_RETRY_SECONDS = env.int("SYNC_WRITEBACK_RETRY_SECONDS", default=30)
SYNC_BUDGET_RETRY_MINUTES = env.int("SYNC_BUDGET_RETRY_MINUTES", default=60)
# --- Live updates (integrations.salesforce.listener reads STREAMING_<NAME>) ----------------------------
STREAMING_LEASE_SECONDS = env.float("STREAMING_LEASE_SECONDS", default=30)
STREAMING_RETRY_SECONDS = env.float("STREAMING_RETRY_SECONDS", default=5)
STREAMING_SCAN_SECONDS = env.float("STREAMING_SCAN_SECONDS", default=5)
STREAMING_CONTEXT_SECONDS = env.float("STREAMING_CONTEXT_SECONDS", default=300)
# Outages (docs/operations.md): Salesforce calls retry for this long before the run pauses, and a paused
# run's next tick waits this long; QUERY_TIMEOUT bursts are waited out this long before the run pauses.
SYNC_OUTAGE_RETRY_SECONDS = env.int("SYNC_OUTAGE_RETRY_SECONDS", default=60)
SYNC_OUTAGE_PAUSE_SECONDS = env.int("SYNC_OUTAGE_PAUSE_SECONDS", default=60)
SYNC_QUERY_TIMEOUT_WAIT_SECONDS = env.int("SYNC_QUERY_TIMEOUT_WAIT_SECONDS", default=120)
# A queued run whose task is not in the broker this long after it was enqueued is enqueued again; one
# queued longer than SYNC_QUEUED_STALE_SECONDS is reported (and re-enqueued if the broker cannot tell).
SYNC_QUEUED_GRACE_SECONDS = env.int("SYNC_QUEUED_GRACE_SECONDS", default=10)
SYNC_QUEUED_STALE_SECONDS = env.int("SYNC_QUEUED_STALE_SECONDS", default=600)
# A worker that lost the database waits this long for it (per outage) and retries its page.
SYNC_DB_WAIT_SECONDS = env.int("SYNC_DB_WAIT_SECONDS", default=300)
SYNC_DB_RETRY_ATTEMPTS = env.int("SYNC_DB_RETRY_ATTEMPTS", default=5)
# On SIGTERM a worker leaves its run at a checkpoint within this many seconds (below the process
# manager's grace period, e.g. systemd TimeoutStopSec=30).
SYNC_SHUTDOWN_GRACE_SECONDS = env.int("SYNC_SHUTDOWN_GRACE_SECONDS", default=25)

# Where the sandbox org process is reached and what it calls itself (its instance_url).
SANDBOX_PORT = env.int("SANDBOX_PORT", default=8765)
SANDBOX_ORIGIN = env.str("SANDBOX_ORIGIN", default=f"http://127.0.0.1:{SANDBOX_PORT}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # The OAuth callback's code and state (and any token in a URL) are scrubbed from every line.
    "filters": {"scrub": {"()": "config.logscrub.ScrubSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # urllib3 logs full request URLs at DEBUG, which can carry tokens in a query string.
        "urllib3": {"level": "WARNING"},
        "requests_oauthlib": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
    },
}

# A monitor sending `Authorization: Bearer <HEALTHZ_TOKEN>` reads /healthz's detail (staff do when signed
# in); everyone else reads the status only. Empty: no token is accepted.
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")
# Callables whose dicts are merged into /healthz (see config/health.py).
HEALTH_CHECKS: list[str] = [
    "integrations.health.salesforce_connections",
    "integrations.sync_health.stuck_sync_runs",
]
# Absolute links in operator emails (integrations.alerts), e.g. https://inflow.example.com.
SITE_URL = env.str("SITE_URL", default="")
