"""The rendering settings refuse values that would break the CSS, the links or the inliner."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from digest.settings import Settings


@pytest.mark.parametrize("field, value, message", [
    ("brand_color", "red; } body { display: none", "colour such as #1d4ed8"),
    ("brand_color_dark", "#fff", "colour such as #1d4ed8"),
    ("brand_logo_url", "http://cdn.example.org/logo.png", "absolute https URL"),
    ("brand_logo_url", 'https://cdn.example.org/"logo.png', "absolute https URL"),
    ("public_url", 'https://news.example.org/a"b', "scheme, host, optional port and path"),
    ("public_url", "https://news.example.org/?x=1&y=2", "scheme, host, optional port and path"),
    ("css_inliner", "tidy", "premailer"),
])
def test_a_bad_rendering_setting_is_refused_by_name(field, value, message):
    with pytest.raises(ValidationError, match=message) as error:
        Settings(_env_file=None, **{field: value})
    assert field in str(error.value)


def test_the_rendering_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DIGEST_BRAND_COLOR", "#0F766E")
    monkeypatch.setenv("DIGEST_BRAND_LOGO_URL", "https://cdn.example.org/logo.png")
    monkeypatch.setenv("DIGEST_CSS_INLINER", "css-inline")
    monkeypatch.setenv("DIGEST_PUBLIC_URL", "https://news.example.org:8443/digest/")
    monkeypatch.setenv("DIGEST_ENVIRONMENT", "development")
    settings = Settings(_env_file=None)
    assert settings.brand_color == "#0f766e" and settings.css_inliner == "css-inline"
    assert settings.brand_logo_url == "https://cdn.example.org/logo.png"
    assert settings.public_url == "https://news.example.org:8443/digest"
