# The two commands of README.md: `make run` (Buzón on http://127.0.0.1:8000, no configuration needed)
# and `make test` (the whole test suite against real services). Each creates and fills .venv itself.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# `make run PORT=8001` serves on another port (default: web.bind, 127.0.0.1:8000 without a configuration file).
PORT ?=

run: $(STAMP)
	$(BIN)/buzon init
	$(BIN)/buzon serve $(if $(PORT),--port $(PORT))

test: $(STAMP)
	./scripts/install-test-services
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(STAMP)
	for script in benchmarks/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache *.egg-info
