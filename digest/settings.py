"""Configuration, read from the environment (prefix ``DIGEST_``) or a ``.env`` file.

Read it once with :func:`get_settings` at a door (CLI, worker, web) and pass the object
down; services never read the environment themselves, and tests build their own
``Settings(...)`` instead of patching.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from digest import resource
from digest.bounces.providers.sendgrid import public_key

#: The longest local part a bounce address may have (see digest.bounces.verp).
MAX_BASE_LOCAL = 19

PLACEHOLDER_SECRET = "dev-insecure-change-me"
EXAMPLE_PUBLIC_URL = "https://digest.example.com"
EXAMPLE_FROM_EMAIL = "The Daily Digest <digest@example.com>"


class Settings(BaseSettings):
    # A refused setting's error must not print the others' values (passwords, the secret key).
    model_config = SettingsConfigDict(env_prefix="DIGEST_", env_file=".env", extra="ignore",
                                      hide_input_in_errors=True)

    # Production (the default) refuses the placeholder secret and the example public URL and
    # sender; "development" (`make demo`, the tests) accepts them.
    environment: Literal["development", "production"] = "production"
    secret_key: str = PLACEHOLDER_SECRET

    # Working files of the embedded mode (sample feeds, previews), under the working directory.
    data_dir: Path = Path("var")
    # SQLite under ./var/ works on a fresh machine; deploy with postgresql+psycopg://...
    database_url: str = "sqlite:///./var/digest.db"
    # Unset: every command runs in-process. Set (redis://...): commands enqueue Celery tasks.
    broker_url: str | None = None
    # The Celery queue this deployment's tasks go to (lets several deployments share a broker).
    celery_queue: str = "digest"

    mail_backend: Literal["smtp", "outbox", "memory"] = "outbox"
    outbox_dir: Path = Path("var") / "outbox"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout: float = 30.0
    # Connections to the relay per worker process, used at once by a batch and kept open
    # between batches: a relay 40 ms away carries one message a round trip per connection.
    smtp_connections: int = Field(default=16, ge=1, le=256)
    # Connections to the relay from all workers together (counted in Redis when there is
    # one). Postfix allows one client 50 at once by default (smtpd_client_connection_count_limit).
    smtp_max_connections: int = Field(default=50, ge=1)

    # Base of every link in a mail (unsubscribe, preferences, view in browser).
    public_url: str = EXAMPLE_PUBLIC_URL
    from_email: str = EXAMPLE_FROM_EMAIL
    # Postal address shown in every mail footer (CAN-SPAM and friends require one).
    postal_address: str = "Example News Ltd, 1 Example Street, Springfield"
    brand_name: str = "The Daily Digest"
    # Mail look: accent colour (section labels, links, top rule) for light and dark mode, as
    # #rrggbb since it goes into CSS, and an optional https logo drawn at width x height px.
    brand_color: str = "#1d4ed8"
    brand_color_dark: str = "#93c5fd"
    brand_logo_url: str | None = None
    brand_logo_width: int = Field(default=160, ge=16, le=536)
    brand_logo_height: int = Field(default=40, ge=16, le=300)
    # Which inliner moves CSS onto elements, once per edition variant: premailer (pure Python,
    # ~70 ms a digest) or css-inline (Rust, ~2 ms). The output differs in form, not in effect.
    css_inliner: Literal["premailer", "css-inline"] = "premailer"

    templates_dir: Path = resource("templates") / "email"
    # Subscribers per batch task: big enough that each of the process's connections carries
    # dozens of messages (a batch's first message on a connection costs an extra round trip),
    # small enough that a batch finishes well inside the broker's visibility timeout.
    batch_size: int = Field(default=1000, ge=1, le=5000)
    # No story twice: a story that reached a reader in another list's edition within this many
    # days is left out of their copy (0: off), with up to `no_repeat_reserves` spare stories
    # to take the places, in at most `max_variants` renderings per edition.
    no_repeat_days: float = Field(default=7, ge=0)
    no_repeat_reserves: int = Field(default=5, ge=0, le=50)
    max_variants: int = Field(default=50, ge=1, le=10000)
    # The subject test: the share of readers that gets each subject, and how long the rest
    # wait for the clicks before they get the better one.
    subject_test_share: float = Field(default=0.10, gt=0, le=0.5)
    subject_test_minutes: float = Field(default=60, ge=0)
    # How long a batch may hold its claimed rows before the reconciler takes them back.
    # Keep it, like every countdown, below the broker's visibility timeout.
    delivery_lease_seconds: int = Field(default=300, ge=1, le=3000)
    # A deferred (temporarily refused) delivery is retried with backoff for this long, then expires.
    retry_window_hours: float = 24.0
    # First retry delay of a deferred delivery; it doubles per attempt up to an hour.
    retry_base_seconds: float = Field(default=60.0, gt=0, le=3600)
    # After a temporary SMTP failure a batch pauses this long (doubling per consecutive
    # failure) before its next message: the server asked us to slow down.
    smtp_backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    # A batch that meets this many temporary failures in a row stops and leaves its rows
    # to a later batch (the reconciler re-queues them).
    smtp_max_consecutive_failures: int = Field(default=5, ge=1)
    # This many policy refusals in a row (5.7.x, relay access denied, spam, a refused
    # sender) pause the send: the relay refuses our mail, and ops are told why.
    smtp_max_consecutive_refusals: int = Field(default=5, ge=1)
    # This many hard bounces in a row also pause the send (each one suppresses an address):
    # a real list does not lose that many mailboxes in a row, a misread relay refusal does.
    smtp_max_consecutive_bounces: int = Field(default=100, ge=1)

    # Global sending rate shared by all workers (through Redis when DIGEST_BROKER_URL is a
    # redis:// URL, else within the process). 0 means no limit.
    send_rate_per_second: float = Field(default=0, ge=0)
    send_rate_per_hour: int = Field(default=0, ge=0)

    # Optional mailto: address for List-Unsubscribe beside the https link (RFC 2369).
    list_unsubscribe_mailto: str | None = None
    # Optional Feedback-ID header prefix (Gmail's feedback loop), e.g. "digest:example".
    feedback_id: str | None = None
    # DKIM signing: all three set turns it on. The key is a PEM RSA private key file.
    dkim_key_path: Path | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None

    # Bounces (docs/deliverability.md). Set, each message's envelope sender is this address
    # with a signed token naming the delivery (bounces+<token>@domain); unset, the From
    # address. Its local part has room for the token within 64 octets.
    bounce_address: str | None = None
    # Soft bounces (full mailbox, policy, expired in a queue) of one address: this many
    # within this many days suppress it.
    soft_bounce_limit: int = Field(default=3, ge=1)
    soft_bounce_days: float = Field(default=15, gt=0)
    # An IMAP mailbox that receives the bounces, read by `digest bounces poll` and beat.
    bounce_imap_host: str | None = None
    bounce_imap_port: int | None = None     # 993 with SSL, else 143
    bounce_imap_user: str | None = None
    bounce_imap_password: str | None = None
    bounce_imap_folder: str = "INBOX"
    bounce_imap_ssl: bool = True
    # Processed mails are moved here; unset, they are deleted.
    bounce_imap_done_folder: str | None = None

    # Click tracking (docs/deliverability.md#clicks): story links in digests go through a
    # signed redirect that counts one click per reader and story; each list can turn it off.
    track_clicks: bool = True
    # Clicks this soon after the message was sent are link scanners, not readers.
    click_ignore_seconds: int = Field(default=60, ge=0, le=24 * 3600)

    # A scheduled slot that is more than this late is not sent automatically (ops are told).
    max_lateness_minutes: int = Field(default=120, ge=0)

    # Feed and page fetching. Addresses that are loopback, private, link-local or otherwise
    # not public are refused (the fetcher must not become a proxy into our network) unless
    # allowed here: everything (a trusted lab), or named hosts, comma-separated in the env.
    fetch_allow_private: bool = False
    fetch_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Per connect/read timeout, and a deadline for the whole fetch (a body trickling in a
    # byte at a time never trips a read timeout).
    fetch_timeout_seconds: float = Field(default=10.0, gt=0)
    fetch_deadline_seconds: float = Field(default=30.0, gt=0)
    # Largest body accepted, counted after gzip decompression.
    fetch_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    fetch_max_redirects: int = Field(default=5, ge=0, le=20)
    # Fetch the article page when a feed gives only a title or a one-line description.
    fetch_articles: bool = False

    @field_validator("fetch_allowed_hosts", mode="before")
    @classmethod
    def _hosts_from_comma_list(cls, value: object) -> object:
        items = _comma_list(value)
        return [host.lower().rstrip(".") for host in items] if isinstance(items, list) else items

    # Redis for the web's sign-up rate limits (shared by every web process). Unset: the
    # broker URL if that is Redis, else in-process memory (fine for one web process).
    redis_url: str | None = None
    # Sign-up abuse limits, in the `limits` notation ("N per minute/hour/day").
    # Staff console: how long a login lasts, and failed logins allowed: per account from one
    # client (an IP, or a browser the account signed in from before, which nothing else
    # limits), per IP whatever the account, and per account from all other browsers together.
    staff_session_hours: int = Field(default=12, ge=1, le=24 * 7)
    staff_login_limit: str = "10 per 15 minutes"
    staff_login_limit_per_ip: str = "30 per 15 minutes"
    staff_login_limit_per_account: str = "100 per hour"
    signup_limit_per_ip: str = "20 per hour"
    signup_limit_per_address: str = "5 per hour"
    # Sites allowed to host a sign-up form (origins such as https://news.example.com,
    # comma-separated in the env): the JSON sign-up grants them CORS, and the embeddable
    # form's endpoint then accepts posts only from them (and this app's own pages).
    # Empty: no CORS at all, and the embeddable form works from any site.
    signup_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("signup_origins", mode="before")
    @classmethod
    def _origins_from_comma_list(cls, value: object) -> object:
        items = _comma_list(value)
        return [_origin(item) for item in items] if isinstance(items, list) else items

    # Confirmation mails one pending subscription may get per day, however often it signs up;
    # one that never went out (queue full, relay refusing or down for good) does not count.
    confirmations_per_day: int = Field(default=3, ge=1, le=20)
    # Send a short "you are unsubscribed" mail after an unsubscribe (never after one-click).
    send_goodbye: bool = False
    # Provider webhooks under /hooks/ (docs/deliverability.md). A provider whose secret is
    # unset has no door: its hook answers 404.
    # SES through SNS: the topic ARNs whose messages are taken (comma-separated in the env).
    # Anyone can point a topic of their own AWS account at the hook, and AWS signs its
    # messages too, so the topic is what proves they are about our mail.
    ses_topic_arns: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # SendGrid's signed Event Webhook: its verification key (base64, as SendGrid shows it).
    sendgrid_webhook_key: str | None = None
    # Postmark signs nothing: its webhook URL carries these HTTP Basic credentials.
    postmark_webhook_user: str | None = None
    postmark_webhook_password: str | None = None
    # Mailgun's HTTP webhook signing key.
    mailgun_webhook_key: str | None = None

    @field_validator("ses_topic_arns", mode="before")
    @classmethod
    def _arns_from_comma_list(cls, value: object) -> object:
        items = _comma_list(value)
        if isinstance(items, list):
            for arn in items:
                if not re.fullmatch(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+", arn):
                    raise ValueError(f"{arn!r} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
        return items

    @field_validator("sendgrid_webhook_key")
    @classmethod
    def _sendgrid_key_loads(cls, value: str | None) -> str | None:
        if value:
            public_key(value)  # raises ValueError naming what is wrong
        return value or None

    @model_validator(mode="after")
    def _postmark_credentials_together(self) -> Settings:
        if bool(self.postmark_webhook_user) != bool(self.postmark_webhook_password):
            raise ValueError("Postmark's webhook needs DIGEST_POSTMARK_WEBHOOK_USER and "
                             "DIGEST_POSTMARK_WEBHOOK_PASSWORD together")
        return self

    # Where `digest serve` listens; put a TLS-terminating proxy in front of it.
    web_host: str = "127.0.0.1"
    web_port: int = 8000

    # Prometheus metrics: /metrics on the web port, and each worker pool process's own at
    # worker_metrics_port + its index (unset: workers serve none). With a token set, a
    # scrape must send "Authorization: Bearer TOKEN" (both places).
    metrics_token: str | None = None
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    @field_validator("public_url")
    @classmethod
    def _public_url_is_http(cls, value: str) -> str:
        # Only URL characters: personalised links are spliced into rendered HTML by a plain
        # escape that must agree with how the CSS inliner serialises attributes.
        if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?", value):
            raise ValueError("must be an absolute http(s) URL: scheme, host, optional port and path")
        return value.rstrip("/")

    @field_validator("brand_color", "brand_color_dark")
    @classmethod
    def _colour_is_hex(cls, value: str) -> str:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError("must be a colour such as #1d4ed8")
        return value.lower()

    @field_validator("brand_logo_url")
    @classmethod
    def _logo_is_https(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https://[^\s\"'<>]+", value):
            raise ValueError("must be an absolute https URL (mail clients block others)")
        return value or None

    @field_validator("from_email")
    @classmethod
    def _from_has_address(cls, value: str) -> str:
        if "@" not in parseaddr(value)[1] or any(c in value for c in "\r\n"):
            raise ValueError("must be an address such as 'Name <news@example.com>'")
        return value

    @model_validator(mode="after")
    def _no_examples_outside_development(self) -> Settings:
        # A public placeholder key lets anyone forge a subscriber's links; an example URL or
        # sender would go into every mail. Only an explicit development setting accepts them.
        if self.environment == "development":
            return self
        problems = []
        if self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32:
            problems.append("DIGEST_SECRET_KEY (a random string of at least 32 characters: "
                            "python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        if self.public_url == EXAMPLE_PUBLIC_URL:
            problems.append(f"DIGEST_PUBLIC_URL (still {EXAMPLE_PUBLIC_URL})")
        if self.from_email == EXAMPLE_FROM_EMAIL:
            problems.append(f"DIGEST_FROM_EMAIL (still {EXAMPLE_FROM_EMAIL})")
        if problems:
            raise ValueError("set " + "; ".join(problems)
                             + ", or DIGEST_ENVIRONMENT=development to try the service out")
        return self

    @field_validator("list_unsubscribe_mailto", "feedback_id", "dkim_selector", "dkim_domain")
    @classmethod
    def _header_value_is_one_line(cls, value: str | None) -> str | None:
        if value is not None and (any(c in value for c in "\r\n<>") or not value.strip()):
            raise ValueError("must be a non-empty single line without < or >")
        return value

    @field_validator("bounce_address")
    @classmethod
    def _bounce_address_has_room_for_a_token(cls, value: str | None) -> str | None:
        if not value:
            return None
        local, _, domain = value.rpartition("@")
        # Letters, digits and a few safe symbols only: the address goes into MAIL FROM as is.
        if not re.fullmatch(r"[A-Za-z0-9._-]+", local) or not re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}", domain):
            raise ValueError("must be a plain address such as bounces@news.example.org (no '+')")
        if len(local) > MAX_BASE_LOCAL:
            raise ValueError(f"its local part must be at most {MAX_BASE_LOCAL} characters, "
                             "to leave room for the return path's token")
        return value.lower()

    @model_validator(mode="after")
    def _dkim_is_all_or_nothing(self) -> Settings:
        given = [self.dkim_key_path, self.dkim_selector, self.dkim_domain]
        if any(given) and not all(given):
            raise ValueError("DKIM needs DIGEST_DKIM_KEY_PATH, DIGEST_DKIM_SELECTOR and "
                             "DIGEST_DKIM_DOMAIN together")
        return self

    @property
    def shared_redis_url(self) -> str | None:
        """The Redis that every process of the deployment shares, if there is one."""
        for url in (self.redis_url, self.broker_url):
            if url and url.startswith(("redis://", "rediss://")):
                return url
        return None

    @property
    def rate_limit_storage(self) -> str:
        """The `limits` storage URI for the web's rate limits."""
        return self.shared_redis_url or "memory://"

    @property
    def mail_domain(self) -> str:
        """The domain of the From address, used for Message-IDs and List-Id."""
        return parseaddr(self.from_email)[1].rpartition("@")[2].lower()


def _comma_list(value: object) -> object:
    """A list setting from the env's comma-separated string (or a list), blanks dropped."""
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, list | tuple | set):
        return [str(item).strip() for item in value if str(item).strip()]
    return value


def origin_of(url: str) -> str | None:
    """The origin (scheme://host[:port], lower case, no default port) of an http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port not in (None, default) else "")


def _origin(value: str) -> str:
    # An origin, not a page: a path, a query or a user would never match a browser's Origin.
    parts = urlsplit(value)
    origin = origin_of(value)
    if origin is None or parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"{value!r} is not an origin such as https://news.example.com")
    return origin


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once. Doors call this; services take the object."""
    return Settings()
