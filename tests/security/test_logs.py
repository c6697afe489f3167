"""Finding 8: the OAuth callback's `?code=` reached the access log. gunicorn's access log (config/gunicorn.py,
as the Procfile runs it) and Django's log handler both scrub it, and the state with it."""

from __future__ import annotations

import io
import logging

import pytest
import requests

from config.logscrub import ScrubSecretsFilter
from tests.security.test_login_limits import running_gunicorn

CODE = "aPrx4Ks9.SECRET-CODE-0123456789"
STATE = "SECRET-STATE-abcdefghijklmnop"


@pytest.mark.django_db(transaction=True)
def test_the_access_log_holds_no_code_or_state(tmp_path):
    with running_gunicorn(tmp_path) as (base, log_path):
        url = f"{base}/integrations/salesforce/callback/?code={CODE}&state={STATE}"
        requests.get(url, headers={"Referer": url}, timeout=30, allow_redirects=False)
        requests.get(f"{base}/people/?q=ada", timeout=30, allow_redirects=False)
    log = log_path.read_text()
    assert "/integrations/salesforce/callback/?code=[scrubbed]&state=[scrubbed]" in log
    assert "/people/?q=ada" in log  # other parameters are kept
    assert "SECRET" not in log


def test_django_log_lines_hold_no_code_or_state():
    [handler] = [
        h for h in logging.getLogger().handlers if any(isinstance(f, ScrubSecretsFilter) for f in h.filters)
    ]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        logging.getLogger("django.request").warning(
            "Bad Request: %s", f"/integrations/salesforce/callback/?code={CODE}&state={STATE}"
        )
        try:
            raise ValueError(f"refused https://login.salesforce.com/services/oauth2/token?code={CODE}")
        except ValueError:
            logging.getLogger("integrations").exception("token exchange failed")
    finally:
        handler.setStream(previous)
    written = stream.getvalue()
    assert "callback/?code=[scrubbed]&state=[scrubbed]" in written
    assert "token exchange failed" in written and "ValueError" in written
    assert "SECRET" not in written
