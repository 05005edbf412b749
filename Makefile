# CredEx: `make run` starts the embedded stack with demo data (loaded on the first run;
# `make run SEED=1` reloads it); `make test` runs the suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Django 6.0 needs Python >= 3.12: take the first suitable interpreter on PATH or in pyenv.
PYTHON ?= $(shell for p in python3.13 python3.12 python3 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then command -v $$p; break; fi; done)

.PHONY: install system-deps run test test-external lint format migrations-check bench vendor screenshots clean-data

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "CredEx needs Python 3.12 or newer (Django 6.0). Install it, or set PYTHON=/path/to/python3.12."; exit 1; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

run: install
	@bash scripts/system_deps.sh run
	$(PY) -m credex.devstack$(if $(filter 1 yes true,$(SEED)), --seed)

system-deps:
	@bash scripts/system_deps.sh

test: install system-deps
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

bench: install
	@for script in benchmarks/*.py; do [ -e "$$script" ] || continue; echo "== $$script"; $(PY) $$script || exit 1; done

# Front-end libraries come from the npm registry; their built files are committed under
# static/vendor/ with version and licence (no build step on a fresh machine).
vendor:
	bash scripts/vendor.sh

# Screenshots of the main pages at desktop and phone widths (needs a running `make run`).
screenshots: install
	$(PY) scripts/screenshots.py --base-url $${BASE_URL:-http://127.0.0.1:8000} --tour

clean-data:
	$(PY) -c "from credex import embedded; embedded.stop_redis(); embedded.stop_postgres()" || true
	rm -rf .data
