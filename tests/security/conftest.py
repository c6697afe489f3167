"""The security findings' tests reuse the operator console's fixtures (staff)."""

from tests.admin.conftest import staff, staff_client  # noqa: F401 - fixtures
