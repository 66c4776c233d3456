"""Production settings: `manage.py check --deploy` is clean with the variables docker-compose.yml sets,
and a mistyped variable stops the process with a message naming it."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.conftest import PROJECT_DIR


def database_url() -> str:
    """The test server's PostgreSQL as a URL; HOST may be a unix socket folder, so it is percent-encoded."""
    db = settings.DATABASES["default"]
    user = quote(db["USER"], safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = quote(str(db["HOST"]), safe="")
    return f"postgresql://{user}{password}@{host}:{db['PORT']}/{quote(db['NAME'], safe='')}"


def production_env(**overrides: str) -> dict[str, str]:
    alphabet = string.ascii_letters + string.digits + string.punctuation
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "BSC_DATABASE", "SECURE_", "DEBUG", "PYTEST_"))
    }
    env.update(
        DEBUG="false",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(60)),
        ALLOWED_HOSTS="scorecard.example.com",
        CSRF_TRUSTED_ORIGINS="https://scorecard.example.com",
        SITE_URL="https://scorecard.example.com",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_reports_nothing_with_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", "--database", "default", env=production_env())

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "System check identified no issues (0 silenced)." in output


def test_the_deploy_check_would_catch_an_insecure_setting():
    # The check above can fail: turning off the HTTPS redirect makes it warn (security.W008).
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(SECURE_SSL_REDIRECT="false"))

    assert result.returncode == 1
    assert "security.W008" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "yes", "DEBUG must be 'true' or 'false', not 'yes'"),
        ("SECURE_SSL_REDIRECT", "1", "SECURE_SSL_REDIRECT must be 'true' or 'false', not '1'"),
        ("EMAIL_PORT", "smtp", "EMAIL_PORT must be an integer, not 'smtp'"),
        ("SECRET_KEY", "", "SECRET_KEY must be set when DEBUG is false"),
    ],
)
def test_a_mistyped_variable_stops_the_process_naming_it(name, value, message):
    result = manage("check", env=production_env(**{name: value}))

    assert result.returncode == 1
    assert f"django.core.exceptions.ImproperlyConfigured: {message}" in result.stderr
