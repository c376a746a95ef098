# 一表通 / YiBiaoTong — developer tasks.  Everything runs from the project's own .venv.
#
#   make test                 all tests, on SQLite and on a throw-away PostgreSQL server
#   make test PYTEST_ARGS='--db sqlite -x'   one backend, stop at the first failure
#   make run                  migrate, seed a demo data set if empty, serve on http://127.0.0.1:5000
#   make lint | bench | clean

PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv test run lint bench clean

help:
	@echo "make venv   create $(VENV) and install the project with its dev extras"
	@echo "make test   run the whole test suite (SQLite and PostgreSQL); PYTEST_ARGS='...' to add options"
	@echo "make run    migrate, seed demo data if the database is empty, serve on 127.0.0.1:5000"
	@echo "make lint   ruff check"
	@echo "make bench  run the benchmarks in bench/"
	@echo "make clean  remove $(VENV) and the SQLite databases in instance/"

venv: $(STAMP)

# Re-installs whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# ruff first (a finding fails the run); the test suite says at its start and end when the browser
# tests are skipped (no /usr/bin/chromium), so a skipped browser run is never mistaken for a pass.
test: venv
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

run: venv
	$(BIN)/ybt db upgrade
	$(BIN)/ybt seed-demo --if-empty --persons 20000 --seed 1
	@echo "Demo logins:"
	@$(BIN)/ybt users demo-logins
	$(BIN)/flask --app app run --host 127.0.0.1 --port 5000

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python bench/run_all.py

# The SQLite databases only (with their -wal/-shm side files); instance/config.py etc. stay.
clean:
	rm -rf $(VENV)
	rm -f instance/*.sqlite3 instance/*.sqlite3-wal instance/*.sqlite3-shm
