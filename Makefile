# The README's two commands: `make run` and `make test`. Everything else is set up from here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WEB_PORT ?= 8000
SANDBOX_PORT ?= 8765
# The local sandbox org is the one non-Salesforce login host `make run` lets the app accept (never implied by
# DEBUG); only the processes `make run` starts get it, so tests and `check --deploy` see a production default.
SALESFORCE_LOCAL_ORIGINS ?= http://127.0.0.1:$(SANDBOX_PORT)
export WEB_PORT SANDBOX_PORT

.PHONY: run test lint install setup migrate seed browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# A local .env with a generated SECRET_KEY and encryption key, written once, never committed.
.env: | $(VENV)/.installed
	$(BIN)/python scripts/write_dev_env.py .env

setup: install .env
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py createcachetable
	DEBUG=1 $(BIN)/python manage.py migrate --no-input --database sandbox
	DEBUG=1 DJANGO_SETTINGS_MODULE=salesforce_sandbox.settings $(BIN)/python manage.py sandbox_seed --if-empty --contacts 2000 --seed 1
	DEBUG=1 $(BIN)/python manage.py collectstatic --no-input --verbosity 0
	DEBUG=1 $(BIN)/python manage.py sync_schedules
	DEBUG=1 $(BIN)/python manage.py ops_schedules

run: setup
	DEBUG=1 SALESFORCE_LOCAL_ORIGINS=$(SALESFORCE_LOCAL_ORIGINS) $(BIN)/honcho start -f Procfile

# Chromium for the browser tests comes from Debian's package (never `playwright install`).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: browser tests will be skipped"; \
	  else echo "chromium is not installed (apt-get install chromium): browser tests will be skipped"; fi; }

# In parallel: one pytest-xdist worker per core (TEST_WORKERS=0: no workers, this process), each with its own test
# databases and sandbox orgs; a file's tests stay on one worker, so a module-scoped org starts once.
TEST_WORKERS ?= auto
test: install browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check config cdp integrations onboarding salesforce_sandbox tests bench
	$(BIN)/lint-imports
	DEBUG=1 $(BIN)/mypy

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
