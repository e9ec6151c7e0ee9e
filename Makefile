# Quick start: `make demo` runs the product, `make test` runs the tests (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
RUNTIME_STAMP := $(VENV)/.runtime-$(shell cat requirements.txt | cksum | cut -d' ' -f1)

.PHONY: demo test lint typecheck bench services migrate clean venv runtime

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

# the demo needs only the runtime requirements (tests and tools come with `make test` / `make lint`)
$(RUNTIME_STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	rm -f $(VENV)/.runtime-* && touch $@

runtime: $(RUNTIME_STAMP)

migrate: venv
	$(PY) manage.py migrate --noinput

## demo: install the runtime requirements, migrate, load the bundled data, start web + worker + beat, replay
## 1–8 September 2022 on real data (removing an earlier demo replay first, so every run gives the same figures),
## print the summary as a table and leave the dashboard up on http://127.0.0.1:8000
demo: runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_programs
	$(PY) manage.py load_bundled_data
	bin/run-demo --replay --reset --start 2022-09-01 --days 8 --json var/replay-summary.json

## test: the whole suite against PostgreSQL and Redis (started, or installed, by bin/services), in
## PYTEST_WORKERS parallel processes (pytest-xdist; default 2, each with its own test database and Redis database)
PYTEST_WORKERS ?= 2
test: venv
	@eval "$$(bin/services)" && export CI=$${CI:-} && \
	  $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy apps vpp forecasting flexibility

## bench: the benchmarks at full size (figures in benchmarks/*/README.md and the closing notes)
bench: venv
	@eval "$$(bin/services)" && $(PY) manage.py migrate -v0 && \
	  $(PY) manage.py bench_telemetry --rows 1000000 && \
	  $(PY) -m flexibility bench && \
	  $(PY) manage.py bench_dispatch --sites 1000 --repeats 5

services:
	bin/services

clean:
	rm -rf var db.sqlite3 staticfiles
