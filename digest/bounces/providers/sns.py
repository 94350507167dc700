"""Amazon SNS messages: their signature checked, subscriptions confirmed.

SNS signs the canonical string of a message's fields (the AWS guide "Verifying the
signatures of Amazon SNS messages") with the key of a certificate it names by URL. The
URL comes in the message itself, so it is trusted only on an SNS host of AWS over https;
anything else would let a forger sign with a key of their own. Certificates are fetched
with a timeout and a size cap, and kept, since SNS signs with few of them.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from digest.bounces.providers import Malformed, Refused, Unreachable, text

_SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
_CERTIFICATE_PATH = re.compile(r"/SimpleNotificationService-[A-Za-z0-9_-]+\.pem")
_CERTIFICATE_MAX_BYTES = 64 * 1024
_CACHE_SIZE = 32

# The fields each message type signs, in the order they are signed; Subject only if present.
_SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"),
}
_SIGNED["UnsubscribeConfirmation"] = _SIGNED["SubscriptionConfirmation"]
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}


def string_to_sign(message: dict) -> bytes:
    kind = message.get("Type")
    if kind not in _SIGNED:
        raise Malformed(f"SNS message: unknown Type {kind!r}")
    lines = []
    for name in _SIGNED[kind]:
        if name == "Subject" and message.get(name) is None:
            continue
        lines += [name, text(message, name, "SNS message")]
    return ("\n".join(lines) + "\n").encode()


def sns_url(url: str, *, certificate: bool = False) -> str:
    """`url` if it is https on an SNS host of AWS (and, for a certificate, names a .pem file
    of SNS), else Refused: the message names it, and a forger writes the message."""
    parts = urlsplit(url)
    if (parts.scheme != "https" or parts.username or parts.password or parts.port
            or not _SNS_HOST.fullmatch(parts.hostname or "")):
        raise Refused(f"{url!r} is not an https URL on an SNS host (sns.REGION.amazonaws.com)")
    # Only SNS's certificate files: any other answer of the host (an error page echoing a
    # query, say) could carry a PEM block that a forger wrote.
    if certificate and (parts.query or parts.fragment or not _CERTIFICATE_PATH.fullmatch(parts.path)):
        raise Refused(f"{url!r} is not an SNS signing certificate (/SimpleNotificationService-ID.pem)")
    return url


class Sns:
    """Verifies messages and confirms subscriptions; one per web app, shared by its threads."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=5.0, follow_redirects=False)
        #: Signing certificates by URL, each fetched once.
        self.certificates: dict[str, x509.Certificate] = {}
        self._lock = threading.Lock()

    def verify(self, message: dict) -> None:
        """Refused unless SNS signed `message`."""
        version = message.get("SignatureVersion")
        if version not in _HASHES:
            raise Refused(f"SNS message: SignatureVersion {version!r} is not 1 or 2")
        try:
            signature = base64.b64decode(message.get("Signature") or "", validate=True)
        except (binascii.Error, TypeError):
            raise Refused("SNS message: the Signature is not base64") from None
        if not signature:
            raise Refused("SNS message: no Signature")
        url = message.get("SigningCertURL")
        if not isinstance(url, str):
            raise Refused("SNS message: no SigningCertURL")
        key = self.certificate(url).public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise Refused("SNS message: the signing certificate has no RSA key")
        try:
            key.verify(signature, string_to_sign(message), padding.PKCS1v15(), _HASHES[version]())
        except InvalidSignature:
            raise Refused("SNS message: the signature does not match") from None
        except Malformed as exc:  # a field it signs is missing: it cannot have been signed
            raise Refused(str(exc)) from None

    def certificate(self, url: str) -> x509.Certificate:
        with self._lock:
            known = self.certificates.get(url)
        if known is None:
            known = self._fetch(sns_url(url, certificate=True))
            with self._lock:
                if len(self.certificates) >= _CACHE_SIZE:
                    self.certificates.clear()
                self.certificates[url] = known
        now = datetime.now(UTC)
        if not known.not_valid_before_utc <= now <= known.not_valid_after_utc:
            raise Refused(f"SNS message: the certificate at {url} is not valid now")
        return known

    def _fetch(self, url: str) -> x509.Certificate:
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise Refused(f"SNS message: {url} answered {response.status_code}")
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > _CERTIFICATE_MAX_BYTES:
                        raise Refused(f"SNS message: {url} is too large for a certificate")
        except httpx.HTTPError as exc:
            raise Unreachable(f"SNS message: cannot fetch {url}: {exc}") from None
        try:
            return x509.load_pem_x509_certificate(body)
        except ValueError:
            raise Refused(f"SNS message: {url} holds no PEM certificate") from None

    def confirm(self, message: dict) -> None:
        """Visit the SubscribeURL of a verified SubscriptionConfirmation."""
        url = sns_url(text(message, "SubscribeURL", "SNS subscription confirmation"))
        try:
            response = self.client.get(url)
        except httpx.HTTPError as exc:
            raise Unreachable(f"cannot confirm the SNS subscription: {exc}") from None
        if response.status_code != 200:
            raise Unreachable(f"confirming the SNS subscription: SNS answered {response.status_code}")
