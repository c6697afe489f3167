"""WSGI entry point of the sandbox org (gunicorn salesforce_sandbox.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesforce_sandbox.settings")

application = get_wsgi_application()
