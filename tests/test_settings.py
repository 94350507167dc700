import pytest
from pydantic import ValidationError

from digest.settings import PLACEHOLDER_SECRET, Settings


def test_development_accepts_the_placeholder_secret():
    assert Settings(_env_file=None, environment="development").secret_key == PLACEHOLDER_SECRET


@pytest.mark.parametrize("secret", [PLACEHOLDER_SECRET, "short"])
def test_production_refuses_a_placeholder_or_short_secret(secret):
    with pytest.raises(ValidationError, match="DIGEST_SECRET_KEY"):
        Settings(_env_file=None, environment="production", secret_key=secret)


def test_production_accepts_a_real_secret():
    settings = Settings(_env_file=None, environment="production", secret_key="x" * 40)
    assert settings.environment == "production"


def test_settings_come_from_the_environment_with_the_prefix(monkeypatch):
    monkeypatch.setenv("DIGEST_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("DIGEST_SMTP_PORT", "2525")
    settings = Settings(_env_file=None)
    assert (settings.mail_backend, settings.smtp_port) == ("smtp", 2525)


@pytest.mark.parametrize("field, value", [
    ("public_url", "ftp://example.com"),
    ("from_email", "no address here"),
    ("from_email", "A <a@example.com>\r\nBcc: x@y"),
    ("mail_backend", "carrier-pigeon"),
])
def test_bad_values_are_refused_naming_the_field(field, value):
    with pytest.raises(ValidationError, match=field):
        Settings(_env_file=None, **{field: value})


def test_mail_domain_comes_from_the_from_address():
    assert Settings(_env_file=None, from_email="News <News@Mail.Example.ORG>").mail_domain == "mail.example.org"
