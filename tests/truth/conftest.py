"""The truth suite runs real sandbox org processes (fresh ones, since it changes their data)."""

from __future__ import annotations

# The sandbox org process fixtures (a real org over HTTP) and the Salesforce settings of the sync tests.
from tests.integrations.sync.conftest import sf_settings  # noqa: F401
from tests.sandbox_org import _sandbox_org_session, _sandbox_templates, make_sandbox_org, sandbox_org  # noqa: F401
