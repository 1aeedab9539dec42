# vulndesk: `make run` serves the app on the embedded default; `make test` runs every check.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
LOCK ?= requirements/base.txt
STAMP := $(VENV)/.installed-$(notdir $(LOCK))

.PHONY: install install-dev csaf-validator run test lint typecheck pytest axe lock bench clean

# `make install` only creates .venv and installs the hash-pinned lock into it.
install: $(STAMP)

$(STAMP): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps --only-binary=:all: -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --no-index -e .
	rm -f $(VENV)/.installed-*
	touch $@

install-dev:
	$(MAKE) install LOCK=requirements/dev.txt

# BSI's secvisogram CSAF validator, which the tests run over the CSAF exports: installed from the
# lock in tests/csaf-validator/ into an ignored folder, once (the stamp), so later runs need no network.
CSAF_VALIDATOR := .cache/npm/csaf-validator
CSAF_VALIDATOR_STAMP := $(CSAF_VALIDATOR)/.installed

csaf-validator:
	@if command -v npm >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(CSAF_VALIDATOR_STAMP); \
	else \
	  echo "npm not found: the tests skip BSI's secvisogram CSAF validator"; \
	fi

$(CSAF_VALIDATOR_STAMP): tests/csaf-validator/package.json tests/csaf-validator/package-lock.json
	mkdir -p $(CSAF_VALIDATOR)
	cp tests/csaf-validator/package.json tests/csaf-validator/package-lock.json $(CSAF_VALIDATOR)/
	cd $(CSAF_VALIDATOR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

run: install
	$(BIN)/vulndesk setup
	$(BIN)/vulndesk serve

test: install-dev csaf-validator
	$(MAKE) lint typecheck pytest

lint:
	$(BIN)/ruff check vulndesk tests bench
	$(BIN)/ruff format --check vulndesk tests bench
	$(BIN)/bandit --quiet --recursive --severity-level medium --exclude '*/migrations/*' vulndesk
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy vulndesk tests bench

# axe-core for the browser tests' accessibility checks (tests/test_axe.py), from the lock in tests/axe/,
# once per lock change; without npm those checks skip.
AXE_STAMP := tests/axe/node_modules/.installed
axe: $(AXE_STAMP)
$(AXE_STAMP): tests/axe/package.json tests/axe/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/axe --no-audit --no-fund && touch $@; \
	else echo "npm is not installed: the axe-core checks will skip"; fi

# SQLite always; PostgreSQL too when VULNDESK_TEST_DATABASE_URL is set.
pytest: axe
	$(BIN)/pytest -n 2 --dist loadfile
	@if [ -n "$$VULNDESK_TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL =="; \
	  DATABASE_URL="$$VULNDESK_TEST_DATABASE_URL" $(BIN)/pytest -n 2 --dist loadfile; \
	fi

# Benchmarks (bench/README.md): SCALE=tiny|small|full, DB=sqlite|postgres|both.
SCALE ?= full
DB ?= both
bench: install-dev
	$(BIN)/python -m bench.run --scale $(SCALE) --db $(DB)

# Re-resolve the locks (needs network access to the package index).
lock:
	uv pip compile --python-version 3.11 --generate-hashes --no-header requirements/base.in -o requirements/base.txt
	uv pip compile --python-version 3.11 --generate-hashes --no-header requirements/dev.in -o requirements/dev.txt

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
