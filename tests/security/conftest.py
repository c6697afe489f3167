"""The security findings' tests reuse the operator console's fixtures (staff, connections)."""

from tests.admin.conftest import connection, make_connection, staff, staff_client  # noqa: F401 - fixtures
