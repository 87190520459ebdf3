# FinScore: `make run` starts everything locally, `make test` runs every suite. Both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export UV_PYTHON_DOWNLOADS := never

TOOLS := .tools
UV_VERSION := 0.13.8
UV ?= $(shell command -v uv 2>/dev/null)
ifeq ($(strip $(UV)),)
UV := $(TOOLS)/bin/uv
endif
export UV
PYTHON := .venv/bin/python
SERVING_LAYER := build/layers/serving/.stamp

.PHONY: help install bytecode dashboard run test test-unit test-integration test-infra test-e2e bench synth openapi requirements clean

help:
	@echo "make run    start the embedded AWS, train or restore models, serve the API on 127.0.0.1:3000"
	@echo "make test   run every test suite (unit, integration, infra, e2e)"
	@echo "make bench  print the benchmark table beside the SPEC budgets"
	@echo "make synth  synthesize the CDK app with cdk-nag into cdk.out/"
	@echo "make requirements  rewrite the image functions' requirements.txt from uv.lock"

$(TOOLS)/bin/uv:
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

# Bytecode is compiled at install, as Lambda gets it from the layers' build: a read-only /opt, like a
# shell with PYTHONDONTWRITEBYTECODE set, would otherwise compile every imported module at every cold
# start. The Makefile is a prerequisite because the sync's options live here.
.venv/.synced: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --python 3.11 --compile-bytecode
	@touch $@

# The project's own packages are imported from the source tree (an editable install): their bytecode
# is checked against each file's timestamp, so an edited module is compiled afresh, never run stale.
bytecode: .venv/.synced
	$(PYTHON) -m compileall -q -j 0 layers/shared/python functions local

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The dashboard: its own npm project (Vite, TypeScript, ECharts), built to dashboard/dist, which the local
# gateway serves and the CDK site construct deploys; rebuilt whenever one of its sources changed.
DASHBOARD_SOURCES := $(shell find dashboard/src dashboard/public -type f 2>/dev/null) dashboard/index.html \
	dashboard/vite.config.ts dashboard/tsconfig.json
dashboard/node_modules/.installed: dashboard/package.json dashboard/package-lock.json
	npm ci --prefix dashboard --no-audit --no-fund --loglevel=error
	@touch $@

dashboard/dist/index.html: dashboard/node_modules/.installed $(DASHBOARD_SOURCES)
	npm run --prefix dashboard --silent build

dashboard: dashboard/dist/index.html

$(SERVING_LAYER): uv.lock .venv/.synced
	$(PYTHON) layers/serving/build.py

# The browser suite drives Debian's Chromium (Playwright's own browser download is not used), with a
# Devanagari font so that Hindi messages read in its screenshots; a fresh machine or CI gets them here.
CHROMIUM := /usr/bin/chromium
BROWSER_PACKAGES := chromium fonts-lohit-deva
$(CHROMIUM):
	apt-get install -y --no-install-recommends $(BROWSER_PACKAGES) || \
		(apt-get update && apt-get install -y --no-install-recommends $(BROWSER_PACKAGES))

install: .venv/.synced node_modules/.installed dashboard bytecode

run: .venv/.synced bytecode dashboard
	.venv/bin/finscore run

test test-e2e: $(CHROMIUM)

test: install $(SERVING_LAYER)
	$(PYTHON) -m pytest tests -p no:cacheprovider

test-unit test-integration test-infra test-e2e: install $(SERVING_LAYER)
	$(PYTHON) -m pytest tests/$(subst test-,,$@) -p no:cacheprovider

bench: install $(SERVING_LAYER)
	$(PYTHON) benchmarks/bench.py

synth: install $(SERVING_LAYER)
	node_modules/.bin/cdk synth --quiet

requirements: install
	$(PYTHON) -m infra.image_requirements

openapi: install
	.venv/bin/finscore openapi

clean:
	rm -rf cdk.out build .finscore
