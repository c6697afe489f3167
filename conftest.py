# Fixtures for every test. Use them by name: importing one into a conftest or test module defines a second
# copy of it, and of a session-scoped one (the shared sandbox org) a second instance.
pytest_plugins = ["tests.fixtures", "tests.sandbox_org", "tests.browser"]
