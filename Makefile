# CloudKida: the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run dev test bench lint fmt lock reset-local venv browser clean

# The virtualenv, rebuilt whenever a requirements file changes.
$(STAMP): requirements/runtime.txt requirements/dev.txt requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt
	touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@test -x /usr/bin/chromium || { \
	  echo "Installing Debian's chromium for browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: $(STAMP)
	./scripts/run-local.sh

# Like run, with Django's development server reloading on every edit instead of gunicorn.
dev: $(STAMP)
	CLOUDKIDA_DEV_SERVER=runserver ./scripts/run-local.sh

test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	CLOUDKIDA_ENV=test $(VENV)/bin/pytest

bench: $(STAMP)
	CLOUDKIDA_ENV=test $(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Regenerate the full pin set after changing requirements/*.txt.
lock:
	rm -rf /tmp/cloudkida-lock && $(PYTHON) -m venv /tmp/cloudkida-lock
	/tmp/cloudkida-lock/bin/pip install --quiet -r requirements/dev.txt
	(echo "# Full transitive pin set, regenerated with 'make lock'. Installs use it as -c."; \
	  /tmp/cloudkida-lock/bin/pip freeze) > requirements/constraints.txt

# Forget all local data (the moto recording, the admin database, the demo credentials).
reset-local:
	rm -rf .local

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
