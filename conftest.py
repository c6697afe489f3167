pytest_plugins = ["tests.fixtures", "tests.sandbox_org", "tests.browser"]
