"""Address normalisation: the cached fast path agrees with email-validator itself."""

import pytest
from email_validator import EmailNotValidError, validate_email

from digest.subscribers.addresses import BadAddress, clean_name, normalise_email

ADDRESSES = [
    "Ann@Example.ORG", "  bob.smith+news@example.co.uk ", "o'neil@example.ie", "x@bücher.de",
    "user@xn--bcher-kva.de", "ünïcode@example.org", '"quoted local"@example.org', "a..b@example.org",
    ".a@example.org", "a@example", "a@-example.org", "a@exa_mple.org", "a@@example.org", "@example.org",
    "a@", "plain", "Bob <bob@example.org>", "a@localhost", "a@example.org.", "x" * 65 + "@example.org",
    "a@" + "b" * 250 + ".org", "a@[127.0.0.1]", "a b@example.org", "a@example.invalid",
]


@pytest.mark.parametrize("raw", ADDRESSES)
def test_the_fast_path_agrees_with_email_validator(raw):
    try:
        expected = validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        with pytest.raises(BadAddress):
            normalise_email(raw)
    else:
        assert normalise_email(raw) == expected


def test_names_lose_control_characters():
    assert clean_name("Bob\r\nBcc: x@y\t") == "Bob Bcc: x@y"
    assert clean_name(" \n ") is None
    assert len(clean_name("n" * 500)) == 200
