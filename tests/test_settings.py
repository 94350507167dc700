import re

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


def test_signup_origins_are_read_as_origins():
    settings = Settings(_env_file=None, signup_origins=" https://News.Example.com/, http://localhost:8080,"
                                                         "https://a.example:443,, http://[::1]:9000")
    assert settings.signup_origins == ["https://news.example.com", "http://localhost:8080",
                                       "https://a.example", "http://[::1]:9000"]
    assert Settings(_env_file=None).signup_origins == []


@pytest.mark.parametrize("value", ["*", "news.example.com", "https://news.example.com/signup",
                                   "ftp://news.example.com", "https://user@news.example.com",
                                   "https://news.example.com:99999"])
def test_a_signup_origin_that_is_not_an_origin_is_refused_by_name(value):
    with pytest.raises(ValidationError, match=f"signup_origins(.|\n)*{re.escape(repr(value))} is not an origin"):
        Settings(_env_file=None, signup_origins=value)


def test_signup_origins_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DIGEST_SIGNUP_ORIGINS", "https://news.example.com,https://blog.example.com")
    assert Settings(_env_file=None).signup_origins == ["https://news.example.com", "https://blog.example.com"]
