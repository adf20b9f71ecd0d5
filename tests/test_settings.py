"""Settings come from the environment, and a bad value stops startup with one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from server.settings import PROJECT_ROOT, Settings, SettingsError


def test_defaults_when_the_environment_is_empty():
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.database_url is None and settings.jwt_secret is None
    assert settings.jwt_ttl_seconds == 3600
    assert settings.parking_timezone == "UTC"
    assert settings.sweep_interval_seconds == 60
    assert settings.booking_writes_per_minute == 30


def test_values_are_read_and_converted():
    settings = Settings.from_env(
        {
            "PORT": "9000",
            "PARKING_TIMEZONE": "Europe/Berlin",
            "SWEEP_INTERVAL_SECONDS": "0.5",
            "ALLOWED_ORIGINS": "https://parking.example.com/, http://localhost:5173",
            "BOOKING_WRITES_PER_MINUTE": "5",
        }
    )
    assert settings.port == 9000
    assert settings.tz.key == "Europe/Berlin"
    assert settings.sweep_interval_seconds == 0.5
    assert settings.allowed_origins == ("https://parking.example.com", "http://localhost:5173")
    assert settings.booking_writes_per_minute == 5


@pytest.mark.parametrize(
    "name, value",
    [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("JWT_TTL_SECONDS", "-5"),
        ("PARKING_TIMEZONE", "Mars/Olympus"),
        ("SWEEP_INTERVAL_SECONDS", "soon"),
        ("ALLOWED_ORIGINS", "parking.example.com"),
        ("BOOKING_WRITES_PER_MINUTE", "0"),
        ("SMTP_PORT", "0"),
        ("SMTP_TLS", "ssl"),
        ("MAIL_FROM", "nobody"),
        ("PUBLIC_URL", "parking.example.com"),
    ],
)
def test_a_bad_value_names_its_variable(name, value):
    with pytest.raises(SettingsError, match=f"^{name}="):
        Settings.from_env({name: value})


def test_mail_is_off_until_smtp_host_is_set_and_the_rest_has_defaults():
    settings = Settings.from_env({})
    assert settings.smtp_host is None
    assert (settings.smtp_port, settings.smtp_tls) == (587, "starttls")
    assert settings.base_url == "http://127.0.0.1:8080"
    configured = Settings.from_env(
        {
            "SMTP_HOST": "mail.example.com",
            "SMTP_PORT": "2525",
            "SMTP_TLS": "none",
            "SMTP_USERNAME": "parking",
            "SMTP_PASSWORD": "s3cret-password",
            "MAIL_FROM": "Lot <lot@example.com>",
            "PUBLIC_URL": "https://parking.example.com/",
        }
    )
    assert (configured.smtp_host, configured.smtp_port, configured.smtp_tls) == (
        "mail.example.com", 2525, "none",
    )
    assert configured.base_url == "https://parking.example.com"
    assert "s3cret-password" not in repr(configured)


def test_a_short_jwt_secret_is_refused_without_echoing_it():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"JWT_SECRET": "hunter2"})
    assert "hunter2" not in str(caught.value)


def test_server_exits_at_once_with_one_clear_line_on_a_bad_port():
    result = subprocess.run(
        [sys.executable, "-m", "server"],
        cwd=PROJECT_ROOT,
        env={"PORT": "abc", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "Configuration error: PORT='abc' is invalid: must be an integer"


def test_a_retired_variable_is_ignored_with_a_warning(caplog):
    caplog.set_level("WARNING", logger="server.settings")
    assert Settings.from_env({"BOOKING_HORIZON_DAYS": "10"}) == Settings.from_env({})
    assert any(
        "BOOKING_HORIZON_DAYS is no longer read" in message and "PUT /admin/rules" in message
        for message in caplog.messages
    )


def test_operations_settings_are_read_and_checked():
    settings = Settings.from_env(
        {"DRAIN_SECONDS": "0", "METRICS_TOKEN": "m" * 16, "LOG_FORMAT": "json"}
    )
    assert (settings.drain_seconds, settings.metrics_token, settings.log_format) == (0, "m" * 16, "json")
    assert "m" * 16 not in repr(settings)
    defaults = Settings.from_env({})
    assert (defaults.drain_seconds, defaults.metrics_token, defaults.log_format) == (None, None, "text")


@pytest.mark.parametrize(
    "name, value",
    [("DRAIN_SECONDS", "-1"), ("DRAIN_SECONDS", "inf"), ("LOG_FORMAT", "xml"), ("METRICS_TOKEN", "short")],
)
def test_a_bad_operations_setting_names_its_variable(name, value):
    with pytest.raises(SettingsError, match=f"^{name}=") as caught:
        Settings.from_env({name: value})
    if name == "METRICS_TOKEN":
        assert value not in str(caught.value)
