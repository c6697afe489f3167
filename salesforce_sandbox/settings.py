"""Settings for the sandbox org process (`manage.py runsandbox`): Inflow's settings, served as Salesforce.

It is another system on the same machine, so it keeps its own cookies (names differ from Inflow's, which
shares the host), serves Salesforce's paths at the root, and never redirects to HTTPS by itself.
"""

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR, env

ROOT_URLCONF = "salesforce_sandbox.urls"
WSGI_APPLICATION = "salesforce_sandbox.wsgi.application"
# Never a debug page or traceback, whatever the developer's DEBUG: bad input gets Salesforce's errors.
DEBUG = False
ALLOWED_HOSTS = env.list("SANDBOX_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "salesforce_sandbox",
]
MIDDLEWARE = [
    "salesforce_sandbox.middleware.GzipMiddleware",
    "salesforce_sandbox.middleware.BodyLimitMiddleware",
    "salesforce_sandbox.middleware.UriLengthMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session: a log-in page's org is the logged-in user's.
    "salesforce_sandbox.middleware.OrgMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # CSRF is applied per view (csrf_protect) to the sandbox's own HTML forms, not to the API.
]
INSTALLED_APPS.append("django.contrib.sessions")
# Another system: nothing of Inflow's cache (whose table lives in Inflow's database).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_NAME = "sbx_sid"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_NAME = "sbx_csrftoken"
CSRF_COOKIE_SECURE = False
CSRF_TRUSTED_ORIGINS = env.list("SANDBOX_CSRF_TRUSTED_ORIGINS", default=[])
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # files come from the finders: the sandbox never runs collectstatic
WHITENOISE_AUTOREFRESH = False

# The sandbox's own knobs.
SANDBOX_STATE_DIR = env.str("SANDBOX_STATE_DIR", default=str(BASE_DIR / "var" / "sandbox"))
SANDBOX_LOCATOR_IDLE_SECONDS = env.int("SANDBOX_LOCATOR_IDLE_SECONDS", default=900)
# Failed log-ins (log-in page and password grant) allowed per username and per client address in a window.
SANDBOX_LOGIN_FAILURES_PER_USER = env.int("SANDBOX_LOGIN_FAILURES_PER_USER", default=10)
SANDBOX_LOGIN_FAILURES_PER_ADDRESS = env.int("SANDBOX_LOGIN_FAILURES_PER_ADDRESS", default=50)
SANDBOX_LOGIN_WINDOW_SECONDS = env.int("SANDBOX_LOGIN_WINDOW_SECONDS", default=900)
# Local-only control endpoints (/_sandbox/...) answer only these client addresses.
SANDBOX_CONTROL_ADDRESSES = env.list("SANDBOX_CONTROL_ADDRESSES", default=["127.0.0.1", "::1"])
# Streaming API: the long poll's advice timeout (Salesforce: 110 s), when an idle client is forgotten,
# how often a waiting poll looks for events, and how long change events are kept (72 hours).
SANDBOX_COMETD_TIMEOUT_SECONDS = env.float("SANDBOX_COMETD_TIMEOUT_SECONDS", default=110)
SANDBOX_COMETD_CLIENT_TIMEOUT_SECONDS = env.float("SANDBOX_COMETD_CLIENT_TIMEOUT_SECONDS", default=40)
SANDBOX_COMETD_POLL_MS = env.int("SANDBOX_COMETD_POLL_MS", default=50)
SANDBOX_EVENT_RETENTION_SECONDS = env.int("SANDBOX_EVENT_RETENTION_SECONDS", default=72 * 3600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    # A 400 for hostile input is expected here: keep request warnings (which carry URLs) out of the log.
    "loggers": {"django.request": {"level": "ERROR"}, "django.security": {"level": "ERROR"}},
}
