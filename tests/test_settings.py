import re

import pytest
from pydantic import ValidationError

from digest.settings import EXAMPLE_FROM_EMAIL, EXAMPLE_PUBLIC_URL, PLACEHOLDER_SECRET, Settings

REAL = dict(secret_key="x" * 40, public_url="https://news.example.org",
            from_email="Example Daily <daily@news.example.org>")


def test_development_accepts_the_placeholder_secret_and_the_examples():
    settings = Settings(_env_file=None, environment="development")
    assert (settings.secret_key, settings.public_url, settings.from_email) == (
        PLACEHOLDER_SECRET, EXAMPLE_PUBLIC_URL, EXAMPLE_FROM_EMAIL)


def test_production_is_the_default_and_refuses_every_example_left_in_one_error(monkeypatch):
    monkeypatch.delenv("DIGEST_ENVIRONMENT", raising=False)
    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None)
    message = str(error.value)
    for name in ("DIGEST_SECRET_KEY", "DIGEST_PUBLIC_URL", "DIGEST_FROM_EMAIL", "DIGEST_ENVIRONMENT=development"):
        assert name in message
    assert len(error.value.errors()) == 1


def test_a_refused_secret_is_not_printed(monkeypatch):
    monkeypatch.delenv("DIGEST_ENVIRONMENT")
    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None, secret_key="hunter2")
    assert "DIGEST_SECRET_KEY" in str(error.value) and "hunter2" not in str(error.value)


@pytest.mark.parametrize("secret", [PLACEHOLDER_SECRET, "short"])
def test_production_refuses_a_placeholder_or_short_secret(secret):
    with pytest.raises(ValidationError, match="DIGEST_SECRET_KEY") as error:
        Settings(_env_file=None, environment="production", **{**REAL, "secret_key": secret})
    assert "DIGEST_PUBLIC_URL" not in str(error.value)


@pytest.mark.parametrize("field, name", [("public_url", "DIGEST_PUBLIC_URL"), ("from_email", "DIGEST_FROM_EMAIL")])
def test_production_refuses_an_example_public_url_or_sender(field, name):
    values = {**REAL}
    del values[field]
    with pytest.raises(ValidationError, match=name) as error:
        Settings(_env_file=None, environment="production", **values)
    assert "DIGEST_SECRET_KEY" not in str(error.value)


def test_production_accepts_real_values():
    settings = Settings(_env_file=None, environment="production", **REAL)
    assert settings.environment == "production"


def test_settings_come_from_the_environment_with_the_prefix(monkeypatch):
    monkeypatch.setenv("DIGEST_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("DIGEST_SMTP_PORT", "2525")
    monkeypatch.setenv("DIGEST_ENVIRONMENT", "development")
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
    settings = Settings(_env_file=None, environment="development", from_email="News <News@Mail.Example.ORG>")
    assert settings.mail_domain == "mail.example.org"


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
