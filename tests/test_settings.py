"""Configuration: secrets are required, the environment wins over .env, production checks pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _settings_probe(expression: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Evaluate `expression` against freshly loaded settings (`s`) in a new process."""
    script = f"from django.conf import settings as s; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "healthcare.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _bare_env(**extra: str) -> dict[str, str]:
    """The machine's environment without any of the project's variables, and no .env file."""
    project_vars = {
        "DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL",
        "SSN_HASH_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "EMAIL_URL",
    }
    env = {k: v for k, v in os.environ.items() if k not in project_vars}
    env["ENV_FILE"] = "/nonexistent/.env"
    env.update(extra)
    return env


def _production_env(**extra: str) -> dict[str, str]:
    required = {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + Fernet.generate_key().decode(),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    return _bare_env(**{**required, **extra})


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY"])
def test_missing_secret_stops_start_up_with_a_clear_error(missing: str) -> None:
    env = _production_env()
    del env[missing]
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


def test_production_mode_starts_with_only_the_three_required_variables(tmp_path: Path) -> None:
    env = _production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    result = _manage("check", env=env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_deploy_checks_report_nothing_with_production_variables(tmp_path: Path) -> None:
    env = _production_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}", EMAIL_URL="smtp://127.0.0.1:25"
    )
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_checks_fail_when_production_email_would_go_to_the_console(tmp_path: Path) -> None:
    # No EMAIL_URL: the default console backend would print reset links to stdout.
    env = _production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    result = _manage("check", "--deploy", env=env)
    assert result.returncode != 0
    assert "healthcare.E001" in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("debug", "backend", "fails"),
    [
        (False, "django.core.mail.backends.console.EmailBackend", True),
        (False, "django.core.mail.backends.locmem.EmailBackend", True),
        (False, "django.core.mail.backends.smtp.EmailBackend", False),
        (True, "django.core.mail.backends.console.EmailBackend", False),
    ],
)
def test_email_backend_check_refuses_non_delivering_backends_without_debug(
    settings, debug: bool, backend: str, fails: bool
) -> None:
    from accounts.checks import check_email_backend_delivers

    settings.DEBUG = debug
    settings.EMAIL_BACKEND = backend
    assert [m.id for m in check_email_backend_delivers()] == (["healthcare.E001"] if fails else [])


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DEBUG=true\nSECRET_KEY=from-file\n"
        f"FIELD_ENCRYPTION_KEY={Fernet.generate_key().decode()}\nALLOWED_HOSTS=file.example\n"
    )
    env = _bare_env(ENV_FILE=str(env_file), ALLOWED_HOSTS="env.example")
    result = _settings_probe("s.ALLOWED_HOSTS, s.SECRET_KEY, s.DEBUG", env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["['env.example']", "from-file", "True"]


def test_several_encryption_keys_are_read_in_order() -> None:
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env = _production_env(FIELD_ENCRYPTION_KEY=f"{first}, {second}")
    result = _settings_probe("*s.FIELD_ENCRYPTION_KEY", env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [first, second]


def test_defaults_use_sqlite_in_immediate_mode_and_in_memory_channels() -> None:
    env = _production_env()
    result = _settings_probe(
        "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['OPTIONS']['transaction_mode'],"
        "s.CHANNEL_LAYERS['default']['BACKEND'], s.EMAIL_BACKEND",
        env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "IMMEDIATE",
        "channels.layers.InMemoryChannelLayer",
        "django.core.mail.backends.console.EmailBackend",
    ]


def test_redis_url_switches_the_channel_layer_and_database_url_the_database() -> None:
    env = _production_env(REDIS_URL="redis://127.0.0.1:6379/3", DATABASE_URL="postgres://u@db.example:5432/hc")
    # Loading settings does not connect, so an unreachable host is fine here.
    result = _settings_probe("s.CHANNEL_LAYERS['default']['BACKEND'], s.DATABASES['default']['ENGINE']", env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["channels_redis.core.RedisChannelLayer", "django.db.backends.postgresql"]


def test_argon2_is_the_password_hasher() -> None:
    # conftest swaps in a fast hasher for the suite; the configured value is what production uses.
    from django.conf import settings as live

    env = _production_env()
    result = _settings_probe("s.PASSWORD_HASHERS[0]", env)
    assert result.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert live.AUTH_USER_MODEL == "accounts.User"


def test_new_passwords_are_hashed_with_argon2(db, settings) -> None:
    from accounts.models import Role, User

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = User.objects.create_user(email="hash@example.org", password="Lantern-quiet-harbor-7", full_name="H", role=Role.PATIENT)
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("Lantern-quiet-harbor-7")
