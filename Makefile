# The two commands of the README: `make run` (the product with demo data) and `make test` (the suite).
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
export UV_LINK_MODE ?= copy

.PHONY: install run test lint format check bench stop clean

install:  ## install uv from PyPI when missing, then the locked dependencies
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
		|| $(PYTHON) -m pip install --quiet uv || $(PYTHON) -m pip install --quiet --break-system-packages uv
	@$(UV) sync --frozen --quiet

run: install  ## embedded PostgreSQL + Redis, migrations, demo data, web on :8000, Celery worker and beat
	@$(UV) run --frozen python -m bsc.devstack

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: install
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

check: install
	BSC_DATA_DIR=$${BSC_DATA_DIR:-.data/test} $(UV) run --frozen python manage.py check
	BSC_DATA_DIR=$${BSC_DATA_DIR:-.data/test} $(UV) run --frozen python manage.py makemigrations --check --dry-run

test: lint check  ## ruff, manage.py check, makemigrations --check, then pytest on the real stack
	$(UV) run --frozen pytest $(PYTEST_ARGS)

bench: install  ## benchmarks as ratios against a baseline measured in the same run (CASE=name for one)
	$(UV) run --frozen python -m bench $(if $(CASE),--case $(CASE))

stop:  ## stop the embedded servers of development and tests
	BSC_DATA_DIR=.data/dev $(UV) run --frozen python -m bsc.embedded stop
	BSC_DATA_DIR=.data/test $(UV) run --frozen python -m bsc.embedded stop

clean: stop
	rm -rf .data staticfiles tests/screenshots
