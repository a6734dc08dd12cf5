# Backstop — `make help` lists every target.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# Test processes (pytest-xdist): "auto" is one per core; TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto
PORT ?= 5000
SANDBOX_PORT ?= 12111
PYBABEL := $(VENV)/bin/pybabel
# The languages we translate into (English is the source); see docs/languages.md.
LOCALES := de fr es
# Two catalogues: the hosted pages' (app/ and hosted/) and the customers' emails'.
CATALOGUES := app/i18n/translations:babel.cfg emails/translations:emails/babel.cfg
I18N_EXTRACT := --no-wrap --sort-output --add-location=file --add-comments=Translators: \
	--project=Backstop --copyright-holder="Backstop contributors"

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z][a-z0-9-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'
	@echo "  make run PORT=8000 SANDBOX_PORT=12112 moves the web and the sandbox (defaults: 5000, 12111)"

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## create .venv and install Backstop with its dev tools

run: $(VENV)/.installed ## run web, worker, beat and the Stripe sandbox, seeded with a demo workspace and a staff login
	$(PY) -m scripts.dev --port $(PORT) --sandbox-port $(SANDBOX_PORT)

test: $(VENV)/.installed ## run every test (embedded defaults; see README for the services lane)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: $(VENV)/.installed ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed ## ruff format and autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

sandbox: $(VENV)/.installed ## run the local Stripe sandbox alone on 127.0.0.1:SANDBOX_PORT (12111)
	mkdir -p var && $(PY) -m stripe_sandbox --port $(SANDBOX_PORT) --state var/stripe_sandbox.json

bench: $(VENV)/.installed ## run the benchmarks in bench/ (prints ratios against baselines)
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

i18n-extract: $(VENV)/.installed ## collect the customer-facing strings into each messages.pot
	@for pair in $(CATALOGUES); do dir=$${pair%%:*}; cfg=$${pair##*:}; \
	  $(PYBABEL) -q extract -F $$cfg -o $$dir/messages.pot $(I18N_EXTRACT) . || exit 1; done

i18n-update: $(VENV)/.installed ## merge each messages.pot into the de/fr/es catalogues (new strings arrive untranslated)
	@for pair in $(CATALOGUES); do dir=$${pair%%:*}; for lang in $(LOCALES); do \
	  $(PYBABEL) -q update -i $$dir/messages.pot -d $$dir -l $$lang --init-missing --no-wrap \
	    --ignore-obsolete || exit 1; done; done

i18n-compile: $(VENV)/.installed ## compile the catalogues into the .mo files read at run time (committed)
	@for pair in $(CATALOGUES); do $(PYBABEL) compile -d $${pair%%:*} --statistics || exit 1; done

.PHONY: help install run test lint format sandbox bench i18n-extract i18n-update i18n-compile
