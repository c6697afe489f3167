# Fixtures for every test. Use them by name: importing one into a conftest or test module defines a second
# copy of it, and of a session-scoped one (the shared sandbox org) a second instance.
pytest_plugins = ["tests.fixtures", "tests.sandbox_org", "tests.browser"]

# The files that take longest (measured with --junitxml, seconds on one worker of `make test`), longest first.
# They run first, so the run does not end waiting on one of them while the other workers sit idle; xdist hands
# out files in collection order with `--no-loadscope-reorder` (the Makefile's `test` target).
SLOW_FILES = (
    "tests/integrations/sync/test_streaming_sandbox.py",  # 119 s
    "tests/integrations/sync/test_faults_sandbox.py",  # 103 s
    "tests/e2e/test_onboarding.py",  # 73 s
    "tests/integrations/sync/test_writeback_sandbox.py",  # 54 s
    "tests/integrations/sync/test_drills.py",  # 48 s
    "tests/truth/test_truth.py",  # 41 s
    "tests/security/test_login_limits.py",  # 40 s
    "tests/e2e/test_scheduled_sync.py",  # 37 s
    "tests/integrations/sync/test_sync_sandbox.py",  # 32 s
    "tests/sandbox/test_oauth.py",  # 25 s
    "tests/integrations/sync/test_filters_sandbox.py",  # 23 s
    "tests/integrations/sync/test_churn_sandbox.py",  # 21 s
    "tests/security/test_hostile_params.py",  # 20 s
    "tests/sandbox/test_security.py",  # 20 s
    "tests/integrations/connection/test_sandbox_org.py",  # 19 s
    "tests/sandbox/test_orgs.py",  # 19 s
    "tests/integrations/sync/test_processes.py",  # 19 s
    "tests/sandbox/test_churn_seed.py",  # 18 s
    "tests/cdp/test_merge.py",  # 18 s
)


def pytest_collection_modifyitems(config, items):
    """The slow files first, longest first; every other file after them in its usual order."""
    rank = {path: n for n, path in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(SLOW_FILES)))
