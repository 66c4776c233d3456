# The two commands of the README: `make run` (the product with demo data) and `make test` (the suite).
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
export UV_LINK_MODE ?= copy

.PHONY: install run test test-dates lint format check bench load soak stop clean

install:  ## install uv from PyPI when missing, then the locked dependencies
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
		|| $(PYTHON) -m pip install --quiet uv || $(PYTHON) -m pip install --quiet --break-system-packages uv
	@$(UV) sync --frozen --quiet

run: install  ## embedded PostgreSQL + Redis, migrations, demo data, web on :8000, Celery worker and beat
	@$(UV) run --frozen python -m bsc.project.devstack

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen lint-imports --no-cache  # the layering contract in pyproject.toml (docs/architecture.md)

format: install
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

check: install
	BSC_DATA_DIR=$${BSC_DATA_DIR:-.data/test} $(UV) run --frozen python manage.py check
	BSC_DATA_DIR=$${BSC_DATA_DIR:-.data/test} $(UV) run --frozen python manage.py makemigrations --check --dry-run

# pytest runs in parallel (pytest-xdist): PYTEST_WORKERS test processes, each with its own test database and
# Redis database, every test module kept in one process; PYTEST_WORKERS=0 (or PYTEST_ARGS="-n 0") runs serially.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL = -n $(PYTEST_WORKERS) --dist loadfile
# Run serially after the parallel part: under pytest-xdist schemathesis reports (and runs) one case of its 75.
SERIAL_TESTS = tests/integration/test_api_schema_conformance.py

test: lint check  ## ruff, manage.py check, makemigrations --check, then pytest on the real stack
	$(UV) run --frozen pytest $(PYTEST_PARALLEL) --ignore=$(SERIAL_TESTS) $(PYTEST_ARGS)
	$(UV) run --frozen pytest -n 0 -q $(SERIAL_TESTS)

# The instants `make test-dates` pins the clock to (tests/clock.py), each chosen so that an organization in
# Europe/Berlin or America/New_York sees the boundary: the last and first day of a month, 31 Dec and 1 Jan,
# the first day of a fiscal year starting in April, the two DST change days of each zone, 29 Feb 2028, today.
TEST_DATES ?= 2027-04-30T21:30:00+00:00 2027-05-01T00:30:00+00:00 2026-12-31T22:30:00+00:00 \
	2027-01-01T00:30:00+00:00 2027-04-01T08:00:00+00:00 2027-03-28T01:30:00+00:00 2026-10-25T00:30:00+00:00 \
	2027-03-14T07:30:00+00:00 2026-11-01T05:30:00+00:00 2028-02-29T12:00:00+00:00 today

test-dates: install  ## the date-sensitive tests (marker `dates`) again on each of TEST_DATES
	@for now in $(TEST_DATES); do \
		echo "=== BSC_TEST_NOW=$$now"; \
		BSC_TEST_NOW=$$now $(UV) run --frozen pytest $(PYTEST_PARALLEL) -m dates -q -p no:cacheprovider $(PYTEST_ARGS) || exit 1; \
	done

bench: install  ## benchmarks as ratios against a baseline measured in the same run (CASE=name for one)
	$(UV) run --frozen python -m bench $(if $(CASE),--case $(CASE))

# Not part of `make test`: gunicorn and a Celery worker on the embedded servers of .data/load, driven by locust
# (bench/load/). LOAD_USERS=10 LOAD_SECONDS=30 make a short run while developing; docs/benchmarks.md has the rest.
load: install  ## 50 people for 3 minutes: rps, p50/p95/p99 per kind, errors; fails on a missed target
	$(UV) run --frozen python -m bench.load

# Not part of `make test` (they restart and kill servers, and take minutes): the fault tests of tests/soak, each with
# its own PostgreSQL, Redis, gunicorn, worker and beat in .data/soak-<name> (docs/operations.md). SOAK_* variables
# shorten them for development, e.g. SOAK_REDIS_DOWN_SECONDS=15 SOAK_TWO_BEATS_SECONDS=20.
soak: install  ## fault tests: PostgreSQL restarted, Redis down, beat killed and doubled; prints their figures
	BSC_SOAK=1 BSC_DATA_DIR=.data/soak $(UV) run --frozen pytest -n 0 -q -p no:cacheprovider tests/soak $(PYTEST_ARGS)

stop:  ## stop the embedded servers of development and tests
	BSC_DATA_DIR=.data/dev $(UV) run --frozen python -m bsc.project.embedded stop
	BSC_DATA_DIR=.data/test $(UV) run --frozen python -m bsc.project.embedded stop
	BSC_DATA_DIR=.data/load $(UV) run --frozen python -m bsc.project.embedded stop

clean: stop
	rm -rf .data staticfiles tests/screenshots
