# chainclub — `make run` and `make test` each set themselves up on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROTOS := $(shell find protos -name '*.proto')

.PHONY: messages install protos protos-check run test unit integration e2e browser chromium lint bench k8s clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

protos: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -I protos --python_out=protos --pyi_out=protos \
		--grpc_python_out=protos $(PROTOS)

# CI: regenerating the committed code must change nothing.
protos-check: protos
	git diff --exit-code -- protos || (echo "generated protos are stale: run 'make protos' and commit" && exit 1)
	test -z "$$(git status --porcelain -- protos)" || (git status --porcelain -- protos; echo "untracked generated files"; exit 1)

run: $(STAMP)
	$(BIN)/chainclub dev

# The pages' messages: re-extract them from the templates and page code and merge them into
# the catalogs (services/gateway/web/locale); then translate the new, empty ones (tests/web checks).
messages: $(STAMP)
	mkdir -p .run
	$(BIN)/pybabel extract -F services/gateway/web/babel.cfg -k _ -k gettext:2 -k N_ \
		--no-location --omit-header --no-wrap -o .run/messages.pot .
	$(BIN)/pybabel update -i .run/messages.pot -d services/gateway/web/locale -D messages \
		--no-wrap --ignore-obsolete --no-fuzzy-matching

# The browser tier needs a Chromium: found, else installed (tests/browser/ensure_chromium.py).
chromium: $(STAMP)
	$(BIN)/python tests/browser/ensure_chromium.py

# Two workers (pytest-xdist), whole files to each: every worker is a test session of its own
# with its own PostgreSQL and NATS (kit/testing.py), so the tiers run side by side.
test: $(STAMP) chromium
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

unit: $(STAMP)
	$(BIN)/python -m pytest -q -m unit

integration: $(STAMP)
	$(BIN)/python -m pytest -q -m integration

e2e: $(STAMP)
	$(BIN)/python -m pytest -q -m e2e

browser: $(STAMP) chromium
	$(BIN)/python -m pytest -q -m browser

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench

# The Kubernetes manifests of every overlay (or one: `make k8s OVERLAY=prod`) to stdout.
OVERLAY ?= $(notdir $(wildcard deploy/k8s/overlays/*))
k8s: $(STAMP)
	@for overlay in $(OVERLAY); do \
		echo "# ---- deploy/k8s/overlays/$$overlay"; echo "---"; \
		$(BIN)/kubectl kustomize deploy/k8s/overlays/$$overlay || exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache
