"""Settings profiles: production refuses unsafe defaults; `check --deploy` is clean when configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cloudkida.settings import PRODUCTION_REQUIRED, check_production

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "Zx9!" * 10
GOOD_ENV = {
    "DJANGO_SECRET_KEY": GOOD_KEY,
    "DJANGO_ALLOWED_HOSTS": ".cloudkida.example",
    "CLOUDKIDA_BASE_DOMAIN": "cloudkida.example",
    "CLOUDKIDA_RESOURCE_PREFIX": "cloudkida-prod",
    "CLOUDKIDA_SENDER_EMAIL": "no-reply@cloudkida.example",
    "DATABASE_URL": "sqlite:////tmp/cloudkida-check.sqlite3",
}


def test_a_fully_configured_production_passes():
    check_production(GOOD_ENV, GOOD_KEY, debug=False, endpoint=None)


@pytest.mark.parametrize("missing", PRODUCTION_REQUIRED)
def test_production_refuses_a_missing_required_setting(missing):
    env = {k: v for k, v in GOOD_ENV.items() if k != missing}
    with pytest.raises(ImproperlyConfigured, match=missing):
        check_production(env, GOOD_KEY, debug=False, endpoint=None)


@pytest.mark.parametrize(
    ("key", "debug", "endpoint", "problem"),
    [
        (GOOD_KEY, True, None, "DEBUG must be off"),
        ("django-insecure-" + "x" * 60, False, None, "DJANGO_SECRET_KEY"),
        ("short", False, None, "DJANGO_SECRET_KEY"),
        (GOOD_KEY, False, "http://127.0.0.1:5000", "emulator"),
    ],
)
def test_production_refuses_unsafe_values(key, debug, endpoint, problem):
    with pytest.raises(ImproperlyConfigured, match=problem):
        check_production(GOOD_ENV, key, debug=debug, endpoint=endpoint)


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLOUDKIDA_"))}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_process_will_not_start_with_defaults():
    result = _manage("check", env={"CLOUDKIDA_ENV": "production"})
    assert result.returncode != 0
    assert "Refusing to start in production" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env={"CLOUDKIDA_ENV": "production", **GOOD_ENV})
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_unknown_profile_is_refused():
    result = _manage("check", env={"CLOUDKIDA_ENV": "staging"})
    assert result.returncode != 0
    assert "CLOUDKIDA_ENV must be local, test or production" in result.stderr
