# riskmap — two commands: `make run` and `make test`. Everything else is set up on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
ADDRESS ?= localhost

.PHONY: run test bench setup setup-dev assets demo system-deps lint clean help

help:
	@echo "make run    set up on first use, build the demo store if missing, serve http://$(ADDRESS):$(PORT)"
	@echo "make test   set up (incl. Chromium for browser tests), run every test"
	@echo "make bench  run the benchmarks, write bench/results.json"

# --- Python environment -------------------------------------------------------------------------
$(VENV)/.runtime-stamp: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "riskmap needs Python >= 3.11 (set PYTHON=python3.11)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.dev-stamp: $(VENV)/.runtime-stamp requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# --- Front-end assets (Leaflet and plugins from the npm registry, served by the app) ------------
node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

dashboard/static/vendor/MANIFEST.json: node_modules/.install-stamp dashboard/vendor_assets.py dashboard/assets.py $(VENV)/.runtime-stamp
	$(PY) -m dashboard.vendor_assets

assets: dashboard/static/vendor/MANIFEST.json

setup: $(VENV)/.runtime-stamp assets
setup-dev: setup $(VENV)/.dev-stamp system-deps

# --- System packages the tests need (Chromium, CJK fonts; PostgreSQL + PostGIS) --------------------
system-deps:
	bash scripts/ensure-system-deps.sh
	bash scripts/ensure-postgis.sh

# --- Store ---------------------------------------------------------------------------------------
demo: setup
	$(VENV)/bin/riskmap demo

run: setup
	$(VENV)/bin/riskmap demo
	$(VENV)/bin/riskmap serve --port $(PORT) --address $(ADDRESS)

# PostGIS store tests run on a throw-away cluster the tests start and stop (tests/conftest.py);
# PostGIS is installed above, so its absence fails the run instead of skipping those tests.
test: setup-dev
	$(VENV)/bin/ruff check .
	REQUIRE_POSTGIS=1 $(PY) -m pytest

bench: setup-dev
	$(PY) -m bench

lint: setup-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) node_modules dashboard/static/vendor tests/artifacts
