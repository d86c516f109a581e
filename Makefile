# The two commands of the README:
#   make serve   create or reuse .venv, seed the default workspace, serve the dashboards
#   make test    create or reuse .venv with the test extra, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8866
PYTEST_ARGS ?=

.PHONY: serve test install install-test lock clean-venv

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "creator_kit needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt pins every package to the versions the test suite last
# passed with, so a new release on PyPI cannot break a fresh clone; `make lock`
# refreshes it. The stamp files make a second run skip pip when neither
# pyproject.toml nor constraints.txt has changed.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

serve: install
	$(BIN)/creator-kit serve --port $(PORT)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Upgrade every package to the newest release pyproject.toml allows and pin the
# result. Run `make test` afterwards and commit constraints.txt only if it passes.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^#' > constraints.txt

clean-venv:
	rm -rf $(VENV)
